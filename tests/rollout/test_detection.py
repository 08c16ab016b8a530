"""Detection, false rollbacks and mitigation: against exact values and on common random numbers."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim import policies
from sim.rollout.simulate import simulate_release
from sim.rollout.traffic import IntervalNoise, draw_many
from sim.spec.rollout import Traffic
from sim.stats.intervals import wilson
from sim.streams import Streams
from tests.rollout.helpers import release_scenario


def test_a_fixed_threshold_detects_as_often_as_the_exact_binomial_tail_says():
    # One interval: requests ~ Poisson(2000), errors ~ Binomial(requests, 1.2%); a threshold at 1.5%
    # fails when errors/requests > 1.5%. Exact: sum over n of Poisson(n) * P(Binomial(n, p) > 0.015 n).
    traffic = Traffic(requests_per_host=1.0, dispersion=0.0, error_rate=0.012, diurnal={"amplitude": 0})
    spec = policies.parse_policy({"semantics": "threshold", "metric": "error_rate", "max": "1.5%"})
    n_intervals = 20_000
    noise = IntervalNoise.draw(traffic, Streams(3, 0)("traffic"), n_intervals)
    ks = np.arange(n_intervals)
    c = draw_many(traffic, noise.rows(ks), np.zeros(n_intervals), np.full((n_intervals, 2), 2000.0),
                  np.zeros(n_intervals), np.zeros(n_intervals, dtype=bool), 1.0, error_multiplier=1.0,
                  added_error_rate=0.0, added_latency=0.0)
    fails = 0
    for k in ks:
        window = policies.window_of(60.0, new=([c.requests[k, 0]], [c.errors[k, 0]]),
                                    old=([c.requests[k, 1]], [c.errors[k, 1]]))
        _, verdict = policies.check(spec, policies.start(spec), window)
        fails += verdict.outcome == "fail"
    n = np.arange(1500, 2500)
    exact = float(np.sum(stats.poisson.pmf(n, 2000) * stats.binom.sf(np.floor(0.015 * n), n, 0.012)))
    low, high = wilson(fails, n_intervals, 0.999)
    assert low <= exact <= high, (fails / n_intervals, exact)
    assert 0.01 < exact < 0.2  # a regime where the check is informative


STEPS = [{"set_weight": 10}, {"pause": "20m"}, {"set_weight": 100}, {"pause": "10m"}]


def bad(scenario_kwargs, added: float, seed: int):
    scenario = release_scenario(STEPS, **scenario_kwargs, build={"bad_probability": 1,
                                "bad": {"added_error_rate": added, "onset": {"dist": "uniform", "low": 0, "high": "5m"}}})
    return simulate_release(scenario, 0, seed).outcome


GATE = {"errors": {"semantics": "argo", "metric": "error_rate", "max": "0.5%", "failure_limit": 1, "min_requests": 100}}


@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**31), small=st.floats(0.0005, 0.01), factor=st.floats(1.0, 5.0))
def test_a_bigger_spike_is_never_detected_later(seed, small, factor):
    kwargs = {"gates": GATE, "background": ["errors"], "traffic": {"dispersion": 0.2}}
    a, b = bad(kwargs, small, seed), bad(kwargs, min(small * factor, 1.0), seed)
    t_a = a.detection_time if a.detected else math.inf
    t_b = b.detection_time if b.detected else math.inf
    assert t_b <= t_a


def good_releases(max_rate: str, seeds: range, **gate):
    scenario = release_scenario(
        STEPS, background=["errors"], incidents={"per_day": 24, "error_multiplier": 4},
        gates={"errors": {"semantics": "threshold", "metric": "error_rate", "max": max_rate, "min_requests": 100, **gate}},
        traffic={"dispersion": 0.3})
    return [simulate_release(scenario, 0, seed).outcome for seed in seeds]


def test_a_higher_threshold_never_rolls_back_more_good_builds_on_the_same_draws():
    seeds = range(30)
    low, high = good_releases("0.3%", seeds), good_releases("0.5%", seeds)
    for a, b in zip(low, high):
        assert not b.false_rollback or a.false_rollback  # high rolled back => low rolled back too
    assert sum(o.false_rollback for o in low) > sum(o.false_rollback for o in high) > 0


def test_incidents_fool_an_absolute_threshold_but_not_a_ratio_to_the_old_build():
    seeds = range(20)
    absolute = good_releases("0.3%", seeds)
    ratio = release_scenario(STEPS, background=["errors"], incidents={"per_day": 24, "error_multiplier": 4},
                             gates={"errors": {"semantics": "threshold", "metric": "error_rate", "max_ratio": 3,
                                               "min_requests": 100, "consecutive": 2}}, traffic={"dispersion": 0.3})
    relative = [simulate_release(ratio, 0, seed).outcome for seed in seeds]
    assert sum(o.false_rollback for o in absolute) >= 5
    assert sum(o.false_rollback for o in relative) == 0


def test_argo_failure_limit_in_a_release_fails_on_the_fourth_failed_measurement():
    gates = {"errors": {"semantics": "argo", "metric": "error_rate", "max": "1%", "failure_limit": 3, "interval": "1m"}}
    scenario = release_scenario(STEPS, gates=gates, background=["errors"],
                                build={"bad_probability": 1, "bad": {"added_error_rate": "20%", "onset": 0}})
    result = simulate_release(scenario, 0, 1)
    failures = [d for d in result.decisions if d.gate == "errors"]
    assert [d.outcome for d in failures] == ["fail"]
    assert "failed (4) > failureLimit (3)" in failures[0].rule
    # the gate starts with the 10% step at 600 s and checks every minute; the bad build is live from
    # ~601 s, so the first interval it fully spoils ends at 660 s... the fourth failure is at 840 s
    assert result.outcome.detection_time == pytest.approx(840.0)


@pytest.mark.parametrize("hosts", [4000])
def test_rollback_under_pull_is_faster_than_under_push_for_a_large_fleet(hosts):
    # The gate runs after the 50% wave has finished, so both strategies roll back the same 2,000 hosts
    # (a background gate would catch push's slow wave early, with fewer hosts to roll back).
    common = dict(gates={"errors": {"semantics": "threshold", "metric": "error_rate", "max": "1%", "min_requests": 100}},
                  fleet={"hosts": hosts},
                  build={"bad_probability": 1, "bad": {"added_error_rate": "10%", "onset": 0}},
                  network={"origin_egress": "400Gbps", "deploy_egress": "10Gbps", "host_download": "1Gbps"},
                  artifact={"size": "500MB", "files": 1000})
    steps = [{"set_weight": 50}, {"analysis": {"gates": ["errors"], "duration": "30m"}}, {"set_weight": 100}]
    pull = simulate_release(release_scenario(steps, strategy="pull", **common), 0, 1)
    push = simulate_release(release_scenario(steps, strategy="push", **common), 0, 1)
    for result in (pull, push):
        assert result.outcome.outcome == "rolled_back" and result.outcome.detected
        assert next(s.share for s in result.stages if s.event == "rollback") == 0.5
    rollback_time = lambda r: next(s.time for s in r.stages if s.event == "rolled-back") - next(
        s.time for s in r.stages if s.event == "rollback")
    assert rollback_time(pull) * 10 < rollback_time(push)
    assert pull.outcome.time_to_mitigate < push.outcome.time_to_mitigate
    assert pull.outcome.bad_requests < push.outcome.bad_requests
