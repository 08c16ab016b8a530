"""Every release ends in exactly one outcome, read at its horizon: each outcome against a hand trace.

The tiny releases below use the helper scenario (200 hosts, 5% canary, pull; build 10 min; no
dispersion). A pull wave of all 200 hosts is origin-bound: key write 10 ms + wake-up 50 ms +
200 x 100 MB / 12.5 GB/s (1.6 s) + verify 0.1 s + activation 1 s = 2.76 s: every host goes live at
602.76 s (fair sharing ends equal flows together). Ten canary hosts (5%) are not origin-bound: 0.16 s
at the per-flow cap, so 1.32 s, live at 601.32 s.
"""

import math

import pytest

from sim.rollout.release import simulate_per_check
from sim.rollout.simulate import simulate_release
from tests.rollout.helpers import release_scenario

LIVE_ALL, LIVE_CANARY, WAVE_ALL = 602.76, 601.32, 2.76

FLAT = {"dispersion": 0, "diurnal": {"amplitude": 0}}
BAKE_AFTER_100 = [{"set_weight": 100}, {"pause": "30m"}]
# fails every check at a 0.1% baseline error rate (so a good build too): the 4th failure exceeds the limit
ALWAYS_BREACHES = {"g": {"semantics": "argo", "metric": "error_rate", "max": "0.05%", "failure_limit": 3}}
BAD = {"bad_probability": 1, "bad": {"added_error_rate": "2%", "onset": 0}}
GOOD = {"bad_probability": 0}
QUICK_PEOPLE = {"reaction_business_hours": 60, "investigate": 60,
                "hotfix": {"find_culprit": 300, "revert_and_cherry_pick": 120}}


@pytest.mark.parametrize("build", [BAD, GOOD], ids=["bad", "good"])
def test_a_build_aborted_by_a_gate_still_watching_after_100_percent_is_rolled_back_not_promoted(build):
    # Background checks at 660, 720, 780, 840 s all fail; the 4th exceeds failureLimit 3: abort at 840 s,
    # 4 minutes after the build reached 100% (602.76 s) and 26 minutes before the bake ends.
    scenario = release_scenario(BAKE_AFTER_100, gates=ALWAYS_BREACHES, background=["g"], traffic=FLAT,
                                build=build)
    o = simulate_release(scenario, 0, entropy=1).outcome
    assert (o.outcome, o.rollback_stage, o.blocked_reason) == ("rolled_back", "100%", "")
    assert o.decision_time == pytest.approx(840.0)
    assert math.isnan(o.lead_time)  # it shipped nothing
    assert o.false_rollback is (build is GOOD)
    assert not o.bad_serving_at_horizon
    if build is BAD:
        assert o.detected and o.detection_stage == "100%" and o.detection_time == pytest.approx(840.0)
        assert o.detection_delay == pytest.approx(840.0 - LIVE_ALL)
        assert o.time_to_mitigate == pytest.approx(WAVE_ALL)  # the rollback wave


def test_a_bad_build_promoted_without_a_bake_keeps_hurting_users_until_the_horizon():
    # No gates, no bake: the pipeline ends once all 200 hosts run the bad build (602.76 s), and the
    # outcome is read one watch period (1 h) later, at 4202.76 s. Metric intervals cover up to 4200 s.
    # Each host serves 50 req/s with 2% extra failures, from its go-live to 4200 s:
    # 0.02 x 50 x 200 x (4200 - 602.76) = 719,448 bad requests (Poisson sd ~0.04% of that).
    scenario = release_scenario([{"set_weight": 100}], traffic=FLAT, build=BAD)
    o = simulate_release(scenario, 0, entropy=1).outcome
    assert o.outcome == "promoted" and o.bad_serving_at_horizon and not o.detected
    assert o.horizon == pytest.approx(LIVE_ALL + 3600) and o.lead_time == pytest.approx(LIVE_ALL)
    assert o.peak_bad_share == pytest.approx(1.0)  # whole intervals with every host on the bad build
    assert o.bad_requests == pytest.approx(0.02 * 50 * 200 * (4200 - LIVE_ALL), rel=2e-3)


def test_the_watch_period_sets_how_long_a_missed_build_is_counted():
    short = release_scenario([{"set_weight": 100}], traffic=FLAT, build=BAD, rollout={"watch": "10m"})
    o = simulate_release(short, 0, entropy=1).outcome
    # horizon 1202.76 s, so intervals up to 1200 s: 0.02 x 50 x 200 x (1200 - 602.76)
    assert o.bad_requests == pytest.approx(0.02 * 50 * 200 * (1200 - LIVE_ALL), rel=3e-3)


def test_a_bad_build_rolled_back_and_hotfixed_ends_hotfixed_with_the_hotfix_lead_time():
    # The first check (660 s) fails (2% > 1%, failureLimit 0): roll back (2.76 s), page (60 s), find the
    # culprit (300 s), revert and cherry-pick (120 s), build (600 s): the hotfix build starts at
    # 660 + 2.76 + 60 + 300 + 120 + 600 = 1742.76 s and reaches 100% one wave (2.76 s) later.
    gate = {"g": {"semantics": "argo", "metric": "error_rate", "max": "1%", "failure_limit": 0}}
    scenario = release_scenario(BAKE_AFTER_100, gates=gate, background=["g"], traffic=FLAT, build=BAD,
                                commander={**QUICK_PEOPLE, "on_failure": "hotfix"})
    o = simulate_release(scenario, 0, entropy=1).outcome
    assert (o.outcome, o.rollback_stage) == ("hotfixed", "")
    assert o.detection_time == pytest.approx(660.0) and o.rollbacks == 1 and not o.false_rollback
    assert o.lead_time == pytest.approx(1742.76 + WAVE_ALL)
    assert o.horizon == pytest.approx(o.lead_time + 1800 + 3600, abs=0.01)  # bake, then the watch
    assert not o.bad_serving_at_horizon


def test_a_bad_build_caught_in_staging_is_rolled_back_at_staging_and_never_served_users():
    steps = [{"stage": "staging", "smoke_test": {"duration": "10m", "detection": 1}}, {"set_weight": 100}]
    scenario = release_scenario(steps, traffic=FLAT, build=BAD, fleet={"tiers": {"staging": 5, "canary": "5%"}})
    o = simulate_release(scenario, 0, entropy=1).outcome
    assert (o.outcome, o.rollback_stage) == ("rolled_back", "staging")
    assert o.detected_by == "smoke test" and not o.served_traffic and not o.bad_serving_at_horizon
    assert o.bad_requests == 0 and o.peak_bad_share == 0


def test_a_gate_that_never_has_enough_data_blocks_the_release_until_the_horizon():
    # Every check is below min_requests: Argo's Inconclusive pauses the rollout; the commander finds
    # nothing wrong and resumes; the next analysis is inconclusive again, until the 2 h horizon.
    gate = {"g": {"semantics": "argo", "metric": "error_rate", "max": "1%", "min_requests": 10**9}}
    steps = [{"set_weight": 5}, {"analysis": {"gates": ["g"]}}, {"set_weight": 100}]
    scenario = release_scenario(steps, gates=gate, traffic=FLAT, build=GOOD, commander=QUICK_PEOPLE,
                                rollout={"horizon": "2h"})
    o = simulate_release(scenario, 0, entropy=1).outcome
    assert o.outcome == "blocked" and o.horizon == 7200.0
    assert o.blocked_reason.startswith("not enough data: gate g at 5%")
    assert math.isnan(o.lead_time) and not o.false_rollback and o.rollbacks == 0


def test_a_release_waiting_for_approval_at_the_horizon_is_blocked_awaiting_approval():
    steps = [{"set_weight": 5}, {"approval": {"wait": "5h"}}, {"set_weight": 100}]
    scenario = release_scenario(steps, traffic=FLAT, build=GOOD, rollout={"horizon": "2h"})
    o = simulate_release(scenario, 0, entropy=1).outcome
    assert (o.outcome, o.blocked_reason) == ("blocked", "awaiting approval at 5%")


def test_a_bad_build_blocked_at_a_weight_is_still_serving_at_the_horizon_and_counts_as_missed():
    steps = [{"set_weight": 5}, {"approval": {"wait": "5h"}}, {"set_weight": 100}]
    scenario = release_scenario(steps, traffic=FLAT, build=BAD, rollout={"horizon": "2h"})
    o = simulate_release(scenario, 0, entropy=1).outcome
    assert o.outcome == "blocked" and o.bad_serving_at_horizon
    # 10 canary hosts from 601.32 s to the end of the last interval before the horizon (7200 s)
    assert o.bad_requests == pytest.approx(0.02 * 50 * 10 * (7200 - LIVE_CANARY), rel=3e-3)


def test_the_batched_engine_reads_the_same_outcomes_as_the_per_check_model():
    gate = {"g": {"semantics": "argo", "metric": "error_rate", "max": "1%", "failure_limit": 0}}
    cases = [
        release_scenario(BAKE_AFTER_100, gates=ALWAYS_BREACHES, background=["g"], traffic=FLAT, build=GOOD),
        release_scenario(BAKE_AFTER_100, gates=gate, background=["g"], traffic=FLAT, build=BAD,
                         commander={**QUICK_PEOPLE, "on_failure": "hotfix"}),
        release_scenario([{"set_weight": 5}, {"approval": {"wait": "5h"}}, {"set_weight": 100}], traffic=FLAT,
                         build=BAD, rollout={"horizon": "2h"}),
    ]
    for scenario in cases:
        batched, per_check = simulate_release(scenario, 3, 7), simulate_per_check(scenario, 3, 7)
        assert repr(batched.outcome) == repr(per_check.outcome)  # (repr: NaN fields compare equal)
