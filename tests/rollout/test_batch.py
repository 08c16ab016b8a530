"""The batched engine against the per-check model: the very same releases, to the last bit.

The per-check model is the specification (one SimPy event, one window and one policy check per gate
per interval); the batched engine runs releases in rounds with gates that only keep the clock and a
script of known decisions. Any difference in outcome, stage changes, decisions or metric intervals
fails these tests.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.evaluation.engine import draw_mix, variant
from sim.load.loader import load_scenario
from sim.rollout.pipeline import ClockTie, GateRun, clock_checks
from sim.rollout.release import simulate_per_check
from sim.rollout.series import MetricSeries
from sim.rollout.simulate import simulate_releases
from tests.rollout.helpers import release_scenario

ENTROPY = 20251126


def assert_same_release(expected, got) -> None:
    assert repr(got.outcome) == repr(expected.outcome)  # repr: NaN equals NaN, floats to the last bit
    assert repr(got.stages) == repr(expected.stages)
    assert repr(got.decisions) == repr(expected.decisions)
    for field in dataclasses.fields(MetricSeries):
        a, b = getattr(expected.metrics, field.name), getattr(got.metrics, field.name)
        assert np.array_equal(a, b, equal_nan=True) if field.name != "interval" else a == b, field.name


def check_engines_agree(items) -> list:
    expected = [simulate_per_check(scenario, r, ENTROPY) for scenario, r in items]
    got = simulate_releases(items, ENTROPY)
    for e, g in zip(expected, got):
        assert_same_release(e, g)
    return expected


def evaluation_items(path: str, releases: int, overrides=()) -> list:
    scenario = load_scenario(path, overrides).scenario
    return [(variant(scenario, policy, draw_mix(scenario, ENTROPY, r)), r)
            for policy in scenario.evaluation.policies for r in range(releases)]


def test_the_shipped_policies_give_identical_releases():
    """Argo, Flagger and threshold gates over the Slack pipeline, good and bad builds, incidents."""
    expected = check_engines_agree(evaluation_items("scenarios/threshold_policies.yaml", 14))
    outcomes = {r.outcome.outcome for r in expected}
    assert {"promoted", "rolled_back"} <= outcomes  # both a decision-free and a decided release


def test_hotfix_and_push_releases_are_identical():
    """The commander's hotfix path (rollback, revert, new build, pipeline again) over rsync push."""
    scenario = load_scenario("scenarios/slack_2020_pipeline.yaml", ["fleet.hosts=600", "rollout.strategy=rsync-32"]).scenario
    expected = check_engines_agree([(scenario, r) for r in range(4)])
    assert any(r.outcome.outcome == "hotfixed" for r in expected)


@pytest.mark.parametrize("semantics", ["kayenta", "sequential", "flagger-next-check", "argo-count", "latency",
                                       "latency-p99", "argo-conditions", "argo-latency-conditions",
                                       "argo-latency-p99-conditions", "dry-run"])
def test_policies_that_read_whole_windows_or_pass_early_are_identical(semantics):
    gates = {
        "kayenta": {"semantics": "kayenta", "metric": "error_rate", "pass": 90, "marginal": 50, "count": 5,
                    "action_on_fail": "pause"},
        "sequential": {"semantics": "sequential", "alpha": 0.05},
        "flagger-next-check": {"semantics": "flagger", "metric": "error_rate", "max": "0.4%", "threshold": 2,
                               "rollback_on_next_check": True},
        "argo-count": {"semantics": "argo", "metric": "error_rate", "max": "0.6%", "count": 3,
                       "failure_limit": 1},
        "latency": {"semantics": "threshold", "metric": "latency", "max_increase": "20ms", "consecutive": 2},
        "latency-p99": {"semantics": "threshold", "metric": "latency", "quantile": "p99", "max_increase": "60ms",
                        "consecutive": 2},
        "argo-conditions": {"semantics": "argo", "measure": "success_rate", "success_condition": "result[0] >= 0.995",
                            "failure_condition": "result[0] < 0.99", "count": 4, "failure_limit": 1,
                            "inconclusive_limit": 2},
        "argo-latency-conditions": {"semantics": "argo", "measure": "latency_ratio", "count": 3,
                                    "failure_condition": "len(result) > 0 && result[0] > 1.1", "initial_delay": "90s"},
        "argo-latency-p99-conditions": {"semantics": "argo", "measure": "latency_p99", "count": 3,
                                        "failure_condition": "len(result) > 0 && result[0] > 0.45"},
        "dry-run": {"semantics": "argo", "metric": "error_rate", "max": "0.4%", "count": 3, "dry_run": True},
    }
    steps = [{"stage": "dogfood"}, {"set_weight": 5}, {"analysis": {"gates": ["watch"], "duration": "10m"}},
             {"set_weight": 50}, {"pause": "10m"}, {"set_weight": 100}, {"pause": "5m"}]
    items = []
    for r in range(8):
        bad = r % 2 == 0
        scenario = release_scenario(
            steps, gates={"watch": gates[semantics], "background": {"max": "2%", "consecutive": 2}},
            background=["background"],
            build={"bad_probability": 1.0 if bad else 0.0,
                   "bad": {"added_error_rate": f"{0.1 * (r + 1)}%", "added_latency": "30ms"}},
            traffic={"dispersion": 0.1, "error_rate": "0.3%"},
            incidents={"per_day": 6, "error_multiplier": 3},
            commander={"on_failure": "hotfix", "investigate": "5m"},
            schedule={"start": None, "deploys_per_day": 12}, fleet={"tiers": {"canary": "5%", "dogfood": 10}})
        items.append((scenario, r))
    expected = check_engines_agree(items)
    assert any(r.decisions for r in expected)  # the gate under test decided something


def test_an_imported_argo_rollout_gives_identical_releases():
    """Conditions on a success ratio, a background analysis from a starting step with an initial delay,
    an indefinite pause: the per-check model and the batched engine agree."""
    scenario = load_scenario("tests/controllers/data/scenario.yaml", ["build.bad.added_error_rate=3%"]).scenario
    expected = check_engines_agree([(scenario, r) for r in range(10)])
    assert {"promoted", "rolled_back"} <= {r.outcome.outcome for r in expected}


def test_backtest_replays_are_identical():
    items = evaluation_items("scenarios/threshold_policies.yaml", 4,
                             ["traffic.history=data/history_example.csv"])
    check_engines_agree(items)


def test_a_release_does_not_depend_on_its_batch():
    items = evaluation_items("scenarios/threshold_policies.yaml", 6)
    together = simulate_releases(items, ENTROPY)
    for item, release in zip(items, together):
        assert_same_release(simulate_releases([item], ENTROPY)[0], release)


def test_a_waiting_gate_knows_its_checks_and_refuses_a_tie():
    run = GateRun(index=0, gate="errors", start=10.0, checks=None, interval=60.0, stopped=190.5)
    assert clock_checks(run, horizon=1e6) == [70.0, 130.0, 190.0]
    never_stopped = dataclasses.replace(run, stopped=None)
    assert clock_checks(never_stopped, horizon=250.0) == [70.0, 130.0, 190.0]  # the run ends at the horizon
    assert clock_checks(never_stopped, horizon=250.5) == [70.0, 130.0, 190.0, 250.0]
    with pytest.raises(ClockTie):  # stopped at the moment of a check: only SimPy's event order can say
        clock_checks(dataclasses.replace(run, stopped=190.0), horizon=1e6)


def test_sweep_points_that_make_the_same_moves_share_rounds_and_keep_their_own_decisions():
    """A grid of thresholds over the same releases: points whose gates end the same runs at the same
    checks share later rounds too; each release keeps its own verdicts (values, rule texts) and is the
    per-check model's release."""
    base = load_scenario("scenarios/threshold_policies.yaml").scenario
    gates = base.evaluation.policies["ratio-to-baseline"]
    items = []
    for ratio in (1.5, 2.0, 2.5):
        for streak in (1, 2):
            changed = {name: spec.model_copy(update={"max_ratio": ratio, "consecutive": streak})
                       for name, spec in gates.items()}
            scenario = base.model_copy(update={"evaluation": base.evaluation.model_copy(
                update={"policies": {"p": changed}})})
            items += [(variant(scenario, "p", draw_mix(scenario, ENTROPY, r)), r) for r in range(6)]
    expected = check_engines_agree(items)
    rules = {tuple(d.rule for d in r.decisions) for r in expected if r.decisions}
    assert len(rules) > 1  # the verdicts differ between points, even where the moves are the same


def test_releases_blocked_on_a_shared_run_keep_their_own_reasons():
    never = {"semantics": "argo", "metric": "error_rate", "max": "1%"}
    steps = [{"set_weight": 5}, {"analysis": {"gates": ["g"]}}, {"set_weight": 100}]
    people = {"reaction_business_hours": 60, "investigate": 60}
    items = [(release_scenario(steps, gates={"g": {**never, "min_requests": limit}}, commander=people,
                               rollout={"horizon": "1h"}), 2) for limit in (10**8, 10**9)]
    expected = check_engines_agree(items)
    reasons = [r.outcome.blocked_reason for r in expected]
    assert all(r.outcome.outcome == "blocked" for r in expected) and reasons[0] != reasons[1]
