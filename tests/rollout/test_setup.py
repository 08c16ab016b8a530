"""What every release of a scenario shares is built once, explicitly, and gives the releases it would
have given without it; a history file is re-read when it changes, never served stale."""

import os

import numpy as np
import pytest

from sim.backtest import read_history
from sim.deploy.fleet import TIERS
from sim.evaluation.engine import ReleaseDraw, variant
from sim.load.loader import load_scenario
from sim.rollout.release import make_context
from sim.rollout.simulate import release_setup, simulate_release, simulate_releases
from tests.rollout.helpers import release_scenario

STEPS = [{"set_weight": 10}, {"pause": "10m"}, {"set_weight": 100}]


def scenario_with_dogfood():
    return release_scenario(STEPS, fleet={"hosts": 40, "tiers": {"staging": 2, "dogfood": 3, "canary": "10%"}},
                            traffic={"requests_per_host": 50, "dogfood_requests_per_host": 5})


def test_the_setup_holds_the_fleet_weights_and_published_strategies_by_hand():
    scenario = scenario_with_dogfood()
    setup = release_setup(scenario)
    tiers = [TIERS[t] for t in setup.layout.tier]
    assert tiers == ["staging"] * 2 + ["dogfood"] * 3 + ["canary"] * 4 + ["production"] * 31  # ceil(10% of 35)
    np.testing.assert_array_equal(setup.weight, [0.0] * 2 + [0.1] * 3 + [1.0] * 35)  # 5/s against 50/s
    np.testing.assert_array_equal(setup.production, np.arange(5, 40))
    np.testing.assert_array_equal(setup.serving_mask, [False] * 2 + [True] * 38)
    pull, published = scenario.strategies["pull"], setup.published["pull"]
    assert published.publish.value == 0.0 and published.model_copy(update={"publish": pull.publish}) == pull
    assert setup.intervals == int(np.ceil(scenario.rollout.horizon / 60.0)) + 2
    for array in (setup.weight, setup.production, setup.production_mask, setup.layout.tier):
        assert not array.flags.writeable  # shared by every release: nobody may write to it


def test_a_given_setup_gives_the_releases_a_fresh_one_gives():
    scenario = scenario_with_dogfood()
    setup = release_setup(scenario)
    for replication in range(3):
        alone, shared = simulate_release(scenario, replication, 5), simulate_release(scenario, replication, 5, setup)
        assert repr(alone.outcome) == repr(shared.outcome) and alone.decisions == shared.decisions  # (NaN fields)


def test_an_evaluations_policies_share_the_setup_of_their_scenario():
    scenario = load_scenario("scenarios/threshold_policies.yaml").scenario
    setup = release_setup(scenario)
    draw = ReleaseDraw(bad=True, spike=0.05)
    variants = [variant(scenario, policy, draw) for policy in scenario.evaluation.policies]
    assert all(setup.fits(v) for v in variants)  # other gates and another build: the same setup
    results = simulate_releases([(v, 0) for v in variants], 3, setup)
    assert [repr(r.outcome) for r in results] == [repr(r.outcome) for r in simulate_releases([(v, 0) for v in variants], 3)]


def test_a_setup_of_another_fleet_is_refused():
    scenario = scenario_with_dogfood()
    other = scenario.model_copy(update={"fleet": scenario.fleet.model_copy(update={"hosts": 41})})
    assert not release_setup(scenario).fits(other)
    with pytest.raises(AssertionError, match="other fleet"):
        make_context(other, 0, 1, release_setup(scenario))


def test_a_changed_history_file_is_read_again(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("timestamp,requests,errors\n0,100,1\n60,100,2\n")
    first = read_history(path)
    assert read_history(path) is first  # unchanged: read once
    path.write_text("timestamp,requests,errors\n0,100,1\n60,100,2\n120,90,0\n")
    os.utime(path, ns=(first_ns := os.stat(path).st_mtime_ns, first_ns + 1_000_000_000))
    assert len(read_history(path)) == 3
