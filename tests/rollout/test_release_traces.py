"""Exact traces of tiny releases: when each step starts and ends, worked out by hand."""

import numpy as np
import pytest

from sim.rollout.release import simulate_per_check
from sim.rollout.simulate import simulate_release
from tests.rollout.helpers import PULL, release_scenario


def test_a_good_build_walks_the_pipeline_on_schedule():
    # build 10 min; each weight on pull: key write 10 ms + wake 50 ms + 100 MB at the 5 Gb/s per-flow
    # cap (0.16 s) + verify 0.1 s + activation 1 s = 1.32 s (the origin's 100 Gb/s is not a bottleneck).
    # 200 production hosts: 5% is 10 hosts. A pause carries the label of the weight it bakes.
    scenario = release_scenario([{"set_weight": 5}, {"pause": "10m"}, {"set_weight": 100}, {"pause": "5m"}])
    result = simulate_release(scenario, 0, entropy=1)
    events = [(s.step, s.label, s.event, round(s.time, 6), round(s.share, 3)) for s in result.stages]
    wave = 0.010 + 0.050 + 0.16 + 0.1 + 1.0
    # the other 190 hosts at once are origin-bound: 190 x 100 MB / 12.5 GB/s = 1.52 s
    wave2 = 0.010 + 0.050 + 1.52 + 0.1 + 1.0
    assert events == [
        (0, "5%", "start", 600.0, 0.0), (0, "5%", "reached", round(600 + wave, 6), 0.05),
        (1, "5%", "start", round(600 + wave, 6), 0.05), (1, "5%", "reached", round(1200 + wave, 6), 0.05),
        (2, "100%", "start", round(1200 + wave, 6), 0.05), (2, "100%", "reached", round(1200 + wave + wave2, 6), 1.0),
        (3, "100%", "start", round(1200 + wave + wave2, 6), 1.0),
        (3, "100%", "reached", round(1500 + wave + wave2, 6), 1.0),
    ]
    assert result.outcome.outcome == "promoted"
    assert result.outcome.lead_time == pytest.approx(1200 + wave + wave2)
    assert not result.outcome.detected and result.outcome.bad_requests == 0


def test_push_stages_take_as_long_as_their_slots():
    # 5% of 200 production hosts = 10 hosts; push with 8 slots, each host 1 s connect, 100 MB through a
    # 10 Gb/s egress shared by up to 8 flows (each capped at 5 Gb/s per flow), 1 s activation.
    scenario = release_scenario([{"set_weight": 5}, {"set_weight": 100}], strategy="push")
    result = simulate_release(scenario, 0, entropy=1)
    start, reached = result.stages[0].time, result.stages[1].time
    # 8 hosts: 1 s connect, then 8 flows share 1.25 GB/s: 100 MB each take 0.64 s; 1 s activation;
    # the last 2 hosts start at 2.64 s and share the egress two ways (0.16 s): done at 2.64+1+0.16+1.
    assert reached - start == pytest.approx(4.8)


def test_the_lead_time_is_when_production_first_reached_100_percent():
    # a second set_weight 100 after a 10-minute bake moves no host: the build shipped at the first one
    scenario = release_scenario([{"set_weight": 100}, {"pause": "10m"}, {"set_weight": 100}])
    result = simulate_release(scenario, 0, entropy=1)
    reached = [s.time for s in result.stages if s.event == "reached"]
    assert result.outcome.outcome == "promoted" and len(reached) == 3
    assert reached[0] < 610 and reached[2] == pytest.approx(reached[0] + 600)
    assert result.outcome.lead_time == pytest.approx(reached[0])


def test_only_the_first_wave_of_a_release_waits_for_the_publish():
    # pull with a 30 s publish (upload to the origin before the key write): the 5% step pays it, the
    # 100% step finds the build published (the waves as in the first trace, 30 s later)
    scenario = release_scenario([{"set_weight": 5}, {"set_weight": 100}],
                                strategies={"pull": {**PULL, "publish": "30s"}})
    result = simulate_release(scenario, 0, entropy=1)
    wave = 0.010 + 0.050 + 0.16 + 0.1 + 1.0
    wave2 = 0.010 + 0.050 + 1.52 + 0.1 + 1.0
    reached = [round(s.time, 6) for s in result.stages if s.event == "reached"]
    assert reached == [round(600 + 30 + wave, 6), round(600 + 30 + wave + wave2, 6)]


def test_each_step_draws_its_own_wakeups():
    # two steps that move 20 hosts each, with wake-ups spread wide: were their draws shared (one stream
    # for every step), the two waves would take exactly as long
    wide = {**PULL, "wakeup": {"dist": "lognormal", "median": "50ms", "p95": "5s"}}
    scenario = release_scenario([{"set_weight": 10}, {"set_weight": 20}, {"set_weight": 100}], strategies={"pull": wide})
    result = simulate_release(scenario, 0, entropy=1)
    times = {(s.step, s.event): s.time for s in result.stages}
    first, second = times[(0, "reached")] - times[(0, "start")], times[(1, "reached")] - times[(1, "start")]
    assert first > 0.5 and second > 0.5 and abs(first - second) > 1e-3, (first, second)


def test_each_step_draws_its_own_onsets():
    # a bad build whose effect starts after a spread-out delay: the 20 hosts of the 10% step and the 20 of
    # the 20% step must not repeat each other's delays (one stream per step)
    bad = {"bad_probability": 1, "bad": {"added_error_rate": 0.02,
                                         "onset": {"dist": "lognormal", "median": "5m", "p95": "30m"}}}
    scenario = release_scenario([{"set_weight": 10}, {"set_weight": 20}, {"set_weight": 100}], build=bad)
    result = simulate_release(scenario, 0, entropy=1)
    first, second = [s.onset for s in result.exposure.segments if len(s.hosts) == 20][:2]
    assert np.isfinite(first).all() and np.isfinite(second).all()
    assert not np.allclose(np.sort(first), np.sort(second)), (first, second)


@pytest.mark.parametrize("engine", [simulate_release, simulate_per_check], ids=["batched", "per-check"])
def test_a_step_that_moves_no_host_takes_no_turn_at_a_tie_with_a_gate_check(engine):
    # Push, 8 slots, 100 s connect: 8 canary hosts live at 600 + 100 + 0.64 + 1 = 701.64 s, the last 2
    # at 701.64 + 100 + 0.16 + 1 = 802.8 s (the 5% wave's end). A background gate (started at 600 s,
    # fails on its first failure) checks at 600 + I and 600 + 2I, with I picked so the second check falls
    # exactly at 802.8 s. Both events fall due then; the main process's timeout was set first (at 600 s,
    # the check's at 701.4 s), so it runs first: the repeated 5% step moves no host and takes no turn
    # (no zero-length wait), the 100% step starts, and only then does the check (its window holds the
    # 8 hosts' first minutes at 0.1% errors, over the 0.05% limit) abort the release at the 100% step.
    interval = 101.39999999999998
    assert (600 + interval) + interval == 802.8  # the floats SimPy's timeouts reach
    push = {"kind": "push", "parallel": 8, "connect": "100s", "scan_per_file": 0, "activation": "1s"}
    gate = {"g": {"semantics": "argo", "metric": "error_rate", "max": "0.05%", "failure_limit": 0,
                  "interval": interval}}
    scenario = release_scenario([{"set_weight": 5}, {"set_weight": 5}, {"set_weight": 100}, {"pause": "30m"}],
                                gates=gate, background=["g"], strategy="push", strategies={"push": push},
                                traffic={"dispersion": 0, "diurnal": {"amplitude": 0}})
    result = engine(scenario, 0, entropy=1)
    events = [(s.step, s.label, s.event, s.time) for s in result.stages][:6]
    assert events == [(0, "5%", "start", 600.0), (0, "5%", "reached", 802.8), (1, "5%", "start", 802.8),
                      (1, "5%", "reached", 802.8), (2, "100%", "start", 802.8), (2, "100%", "rollback", 802.8)]
    assert (result.outcome.outcome, result.outcome.rollback_stage) == ("rolled_back", "100%")
    assert result.outcome.decision_time == 802.8
