"""Exposure and harm of tiny bad releases, worked out by hand: who serves the bad build when, when its
effect shows (its onset), what the gate sees, detection, mitigation, bad requests, exposure at
detection and error-budget minutes.

The releases use the helper scenario (200 production hosts, 5% canary = 10 hosts, pull, no dispersion)
with flat traffic: 50 requests/s per host, a 0.1% baseline error rate, 60 s metric intervals. The bad
build adds 5% errors to every request of a host past its onset (0.1% + 5% = 5.1%). The build takes
630 s, so a gate started with the first step checks at 690, 750, 810, ... s: 30 s after each interval
ends, reading the intervals that ended since its previous check.

Pull wave times (tests/rollout/test_release_traces.py): key write 10 ms + wake-up 50 ms + transfer +
verify 0.1 s + activation 1 s, where the transfer of 100 MB is 0.16 s for 10 hosts (per-flow cap) and
n x 100 MB / 12.5 GB/s when the origin is the bottleneck: 1.52 s for 190 hosts, 1.6 s for 200.
"""

import numpy as np
import pytest

from sim.commands.evaluate import evaluate
from sim.load.loader import LoadedScenario
from sim.rollout.release import simulate_per_check
from sim.rollout.simulate import simulate_release
from sim.spec.evaluation import Evaluation
from tests.rollout.helpers import release_scenario

BUILD = 630.0
WAVE_200, WAVE_190, WAVE_10 = 2.76, 2.68, 1.32
STEP = 60.0
BASE, SPIKE = 0.001, 0.05
PER_HOST = 50.0  # requests/s
FLAT = {"dispersion": 0, "diurnal": {"amplitude": 0}}
GATE = {"semantics": "argo", "metric": "error_rate", "max": "1%", "failure_limit": 0}
PEOPLE = {"reaction_business_hours": 120, "investigate": 60}  # Tue 10:00 start: business hours


def bad_release(steps, onset, gates=None, commander=None, build=None, **extra):
    build = {"bad_probability": 1, "build_time": f"{BUILD:g}s", "bad": {"added_error_rate": "5%", "onset": onset},
             **(build or {})}
    return release_scenario(steps, gates=gates, background=list(gates or ()), traffic=FLAT, build=build,
                            commander=commander or {}, **extra)


def evaluated(scenario, exposure_limit):
    """The evaluation's row and estimates for the same release (every release bad, the spike fixed at
    5%, one policy: the scenario's own gates)."""
    spec = {"releases": 1, "bad_share": 1, "spike": {"min": "5%", "max": "5%"}, "policies": {"p": scenario.gates},
            "acceptance": {"exposure_limit": exposure_limit}}
    with_evaluation = scenario.model_copy(update={"evaluation": Evaluation.model_validate(spec)})
    loaded = LoadedScenario(scenario=with_evaluation, source="<test>", overrides=())
    run = evaluate(loaded, 1, workers=1, err=None)
    assert len(run.rows) == 1
    return run.rows.iloc[0], run.estimates.set_index("measure")


def interval_rates(m):
    """Each interval's overall error rate (both cohorts)."""
    requests = m.new_requests + m.old_requests
    return (m.new_errors + m.old_errors) / np.maximum(requests, 1)


def test_onset_delays_the_effect_and_detection_but_not_the_start_of_exposure():
    # One wave to 100%, then a 30 min bake watched by a rollback gate (error rate above 1%).
    # All 200 hosts go live at 630 + 2.76 = 632.76 s; the effect shows 150 s later, at 782.76 s.
    scenario = bad_release([{"set_weight": 100}, {"pause": "30m"}], onset=150, gates={"g": GATE})
    result = simulate_release(scenario, 0, entropy=1)
    o, m = result.outcome, result.metrics
    live = BUILD + WAVE_200  # 632.76
    effect = live + 150  # 782.76

    # Checks at 690, 750, 810 read [600,660), [660,720), [720,780): no host past its onset yet (0.1%).
    # The check at 870 reads [780,840), where the new cohort fails at 0.1% + 5% x 57.24/60 = 4.87%: fail,
    # roll back all 200 hosts (2.76 s).
    detection = 870.0
    assert (o.detected, o.detected_by, o.detection_stage) == (True, "g", "100%")
    assert o.detection_time == detection and o.decision_time == detection
    assert o.detection_delay == pytest.approx(detection - live)  # 237.24 s: from first serving, not from onset
    assert o.mitigated_time == pytest.approx(detection + WAVE_200)
    assert o.time_to_mitigate == pytest.approx(WAVE_200)
    assert (o.outcome, o.rollback_stage, o.ended) == ("rolled_back", "100%", pytest.approx(detection + WAVE_200))
    assert o.horizon == pytest.approx(detection + WAVE_200 + 3600)  # the pipeline's end + 1 h watch
    assert o.served_traffic and not o.bad_serving_at_horizon
    assert repr(simulate_per_check(scenario, 0, entropy=1).outcome) == repr(o)  # both engines

    # Exposure over time: intervals up to the last one ended by the pipeline's end (840 s; 14 intervals).
    assert m.time.tolist() == [STEP * (k + 1) for k in range(14)]
    on_bad = [0.0] * 10 + [(660 - live) / 60, 1.0, 1.0, 1.0]  # share of the fleet's host-seconds on it
    np.testing.assert_allclose(m.bad_share, on_bad, rtol=1e-12, atol=0)
    past_onset = [0.0] * 13 + [(840 - effect) / 60]  # share of the new cohort's host-seconds past onset
    np.testing.assert_allclose(m.new_true_rate, BASE + SPIKE * np.array(past_onset), rtol=1e-12)
    np.testing.assert_allclose(m.old_true_rate, BASE, rtol=1e-12)
    assert o.peak_bad_share == pytest.approx(1.0)

    # Bad requests: only [780,840) has failures beyond the baseline, 5% of the 57.24/60 affected share
    # of its new requests; in expectation 200 hosts x 50 req/s x 57.24 s x 5% = 28,620.
    assert o.bad_requests == pytest.approx(m.new_requests[13] * SPIKE * (840 - effect) / 60, rel=1e-12)
    assert o.bad_requests == pytest.approx(200 * PER_HOST * (840 - effect) * SPIKE, rel=5e-3)  # Poisson: sd 0.13%

    # The evaluation's columns. Exposure at detection: the largest bad share of the intervals up to the
    # one in which detection fell (ending by 870 + 60): 1.0. Error budget (1%): of the intervals ended
    # by the pipeline's end (840 s), only [780,840) burns (4.87%; the others 0.1%): 1 minute.
    assert interval_rates(m)[13] > 0.04 and (interval_rates(m)[:13] < 0.002).all()
    row, estimates = evaluated(scenario, exposure_limit=0.5)
    assert row.detection_time == detection and row.detection_delay == pytest.approx(detection - live)
    assert row.exposure_at_detection == pytest.approx(1.0)
    assert row.error_budget_minutes == 1.0
    assert row.bad_requests == pytest.approx(200 * PER_HOST * (840 - effect) * SPIKE, rel=5e-3)
    assert estimates.loc["error_budget_minutes_mean", "value"] == 1.0
    assert estimates.loc["error_budget_minutes_mean", "unit"] == "minutes"
    assert estimates.loc["detection_delay_p50", "value"] == pytest.approx(detection - live)


@pytest.mark.parametrize("build_time", [630.0, 600.0], ids=["detected-mid-interval", "detected-at-an-interval-end"])
def test_exposure_at_detection_includes_the_interval_in_which_detection_fell(build_time):
    # No onset. All 200 hosts live at build + 2.76 s (632.76 or 602.76). The first check (build + 60 s:
    # 690 or 660) reads [600,660), whose new cohort fails at 5.1%: the gate fails with action `pause`, so
    # the bad build keeps serving while a person reacts (120 s) and investigates (60 s); then it is
    # rolled back (2.76 s).
    gate = {"g": {**GATE, "action_on_fail": "pause"}}
    scenario = bad_release([{"set_weight": 100}, {"pause": "30m"}], onset=0, gates=gate, commander=PEOPLE,
                           build={"build_time": f"{build_time:g}s"})
    result = simulate_release(scenario, 0, entropy=1)
    o, m = result.outcome, result.metrics
    live = build_time + WAVE_200
    detection = build_time + 60  # 690 | 660
    decision = detection + 120 + 60  # 870 | 840
    assert (o.detection_time, o.decision_time) == (detection, decision)
    assert o.detection_delay == pytest.approx(detection - live)  # 57.24 s
    assert o.mitigated_time == pytest.approx(decision + WAVE_200)
    assert o.time_to_mitigate == pytest.approx(decision + WAVE_200 - detection)  # 182.76 s
    assert o.outcome == "rolled_back" and o.ended == pytest.approx(decision + WAVE_200)

    # Intervals to 840 s (the last ended by the pipeline's end, 872.76 | 842.76): [600,660) has the bad
    # build on 27.24 | 57.24 of its 60 s, the next three on all of theirs.
    on_bad = [0.0] * 10 + [(660 - live) / 60, 1.0, 1.0, 1.0]
    np.testing.assert_allclose(m.bad_share, on_bad, rtol=1e-12, atol=0)
    np.testing.assert_allclose(m.new_true_rate[10:], BASE + SPIKE, rtol=1e-12)  # onset 0: every new request
    # Expected bad requests: 200 hosts x 50 req/s x 5% x ((660 - live) + 180) s: 103,620 | 118,620.
    assert o.bad_requests == pytest.approx(SPIKE * m.new_requests[10:].sum(), rel=1e-12)
    assert o.bad_requests == pytest.approx(200 * PER_HOST * SPIKE * ((660 - live) + 180), rel=3e-3)

    # Detection fell while the whole fleet served the bad build: the interval [660,720) (which holds the
    # detection at 690, or starts with it at 660) has bad share 1.0, so exposure at detection is
    # max(0.454 | 0.954, 1.0) = 1.0; the intervals ended by the detection alone would say 0.454 | 0.954.
    # With an exposure limit of 50% the build was NOT caught before exposure.
    row, estimates = evaluated(scenario, exposure_limit=0.5)
    assert row.exposure_at_detection == pytest.approx(1.0, rel=1e-12)
    caught = estimates.loc["caught_before_exposure"]
    assert (caught.value, caught.n) == (0.0, 1)
    # Error budget: [600,660) runs at 0.454 x 5.1% + 0.546 x 0.1% = 2.37% (or 4.9%) and the next three
    # at 5.1%, all above 1%; the ten intervals before the build at 0.1%: 4 minutes.
    assert (interval_rates(m)[10:] > 0.02).all() and (interval_rates(m)[:10] < 0.002).all()
    assert row.error_budget_minutes == 4.0
    assert estimates.loc["error_budget_minutes_mean", "value"] == 4.0


def test_each_host_shows_the_effect_onset_after_its_own_go_live():
    # Canary (10 hosts) live at 630 + 1.32 = 631.32 s; a 5 min pause; the other 190 hosts live at
    # 931.32 + 2.68 = 934.00 s; a 30 min bake to 2734.00 s, and no gate: the bad build serves to the
    # horizon (2734 + 1 h = 6334 s), so metric intervals run to 6300 s (105 of them).
    # Onset 150 s: the canary fails from 781.32 s, the others from 1084.00 s.
    steps = [{"set_weight": 5}, {"pause": "5m"}, {"set_weight": 100}, {"pause": "30m"}]
    scenario = bad_release(steps, onset=150)
    result = simulate_release(scenario, 0, entropy=1)
    o, m = result.outcome, result.metrics
    canary = BUILD + WAVE_10  # 631.32
    rest = canary + 300 + WAVE_190  # 934.00
    ended = rest + 1800
    assert (o.outcome, o.detected, o.bad_serving_at_horizon) == ("promoted", False, True)
    assert o.ended == pytest.approx(ended) and o.horizon == pytest.approx(ended + 3600)
    assert o.lead_time == pytest.approx(rest)
    assert len(m) == 105 and m.time[-1] == 6300.0

    # host-seconds per interval (a = its start), on the bad build and past onset, written out:
    fleet = 200 * STEP  # 12,000 host-seconds per interval
    live = {600: 10 * (660 - canary), 660: 10 * 60, 720: 10 * 60, 780: 10 * 60, 840: 10 * 60,
            900: 10 * 60 + 190 * (960 - rest)}  # 286.8, 600 ... 600, 5,540; then 12,000
    onset = {780: 10 * (840 - (canary + 150)), 840: 10 * 60, 900: 10 * 60, 960: 10 * 60, 1020: 10 * 60,
             1080: 10 * 60 + 190 * (1140 - (rest + 150))}  # 586.8, 600, ..., 11,240; then 12,000
    starts = STEP * np.arange(105)
    bad_share = np.array([live.get(a, 0.0 if a < 600 else fleet) / fleet for a in starts])
    new_live = np.array([live.get(a, 0.0 if a < 600 else fleet) for a in starts])
    affected = np.array([onset.get(a, 0.0 if a < 1140 else fleet) for a in starts])
    np.testing.assert_allclose(m.bad_share, bad_share, rtol=1e-12, atol=0)
    past_onset = np.divide(affected, new_live, out=np.zeros(105), where=new_live > 0)
    np.testing.assert_allclose(m.new_true_rate, BASE + SPIKE * past_onset, rtol=1e-12)
    assert m.new_true_rate[15] == pytest.approx(BASE + SPIKE * 600 / 5540)  # [900,960): canary only affected

    # Bad requests: 50 req/s x 5% x the affected host-seconds to 6300 s:
    # 10 x (6300 - 781.32) + 190 x (6300 - 1084) = 55,186.8 + 991,040 = 1,046,226.8; x 2.5 = 2,615,567.
    affected_seconds = 10 * (6300 - (canary + 150)) + 190 * (6300 - (rest + 150))
    assert o.bad_requests == pytest.approx(float(np.sum(m.new_requests * SPIKE * past_onset)), rel=1e-12)
    assert o.bad_requests == pytest.approx(PER_HOST * SPIKE * affected_seconds, rel=1e-3)  # Poisson sd 0.02%

    # Error budget (1%) to the pipeline's end (intervals ended by 2734 s: to 2700 s). Overall rate:
    # 0.1% + 5% x affected / 12,000. Before 1080 s at most 0.1% + 5% x 600/12,000 = 0.35%; [1080,1140)
    # 0.1% + 5% x 11,240/12,000 = 4.78%; then 5.1%: [1080,1140) .. [2640,2700) = 27 minutes.
    rates = interval_rates(m)
    assert (rates[18:45] > 0.04).all() and (rates[:18] < 0.005).all()
    row, estimates = evaluated(scenario, exposure_limit=0.5)
    assert row.error_budget_minutes == 27.0
    assert estimates.loc["error_budget_minutes_mean", "value"] == 27.0
    assert np.isnan(row.exposure_at_detection)  # never detected
    assert row.bad_requests == pytest.approx(PER_HOST * SPIKE * affected_seconds, rel=1e-3)


def test_exposure_at_detection_does_not_depend_on_how_soon_the_pipeline_ends():
    # As the `pause` case above (build 630 s, all 200 hosts on the bad build from 632.76 s, detected at
    # 690 s), but the gate rolls back at once and the pipeline stops at 692.76 s. At detection the whole
    # fleet served the bad build, as in the pause case (1.0). The metric intervals stop at 660 s, so a
    # measure read from them would miss the interval holding the detection ([660,720)) and say 0.454.
    scenario = bad_release([{"set_weight": 100}, {"pause": "30m"}], onset=0, gates={"g": GATE})
    row, estimates = evaluated(scenario, exposure_limit=0.5)
    assert row.detection_time == 690.0
    assert row.exposure_at_detection == pytest.approx(1.0, rel=1e-12)


def test_peak_share_is_read_at_each_go_live_and_roll_back_instant():
    from sim.rollout.exposure import FleetExposure
    # 4 hosts weighing 1, 1, 2 and 0 (staging): total 4. Build 2 (bad) goes live on hosts 0-2 at 10, 20
    # and 30 s; hosts 0 and 2 are rolled back at 32 and 35 s.
    fleet = FleetExposure(np.array([1.0, 1.0, 2.0, 0.0]))
    fleet.go_live(2, np.array([0, 1, 2]), np.array([10.0, 20.0, 30.0]), np.zeros(3))
    fleet.go_live(3, np.array([3]), np.array([5.0]), np.zeros(1))  # another build, not counted
    fleet.end(2, np.array([0, 2]), np.array([32.0, 35.0]))
    assert fleet.peak_share({2}, 9.0) == 0.0
    assert fleet.peak_share({2}, 10.0) == 0.25  # live from its start (start <= t)
    assert fleet.peak_share({2}, 29.0) == 0.5
    assert fleet.peak_share({2}, 30.0) == 1.0  # hosts 0, 1, 2: weight 4 of 4
    assert fleet.peak_share({2}, 100.0) == 1.0  # the peak, not the share at the end (0.25)
    assert fleet.peak_share({3}, 100.0) == 0.0  # staging serves no requests
    assert fleet.peak_share(set(), 100.0) == 0.0
