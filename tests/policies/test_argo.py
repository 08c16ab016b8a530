"""Argo Rollouts semantics against argoproj/argo-rollouts analysis/analysis.go and its tests."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sim.policies import argo, parse_policy
from tests.policies.helpers import BAD, GOOD, run, win

ARGO = {"semantics": "argo", "metric": "error_rate", "max": "1%"}


def test_failure_limit_3_fails_on_the_fourth_failure_not_the_third():
    """Code: `result.Failed > failureLimit` (TestAssessMetricStatusFailureLimit: 3 failed with limit 3
    is still Running). The docs' "third" is wrong; the fourth failure fails the metric."""
    verdicts = run({**ARGO, "failure_limit": 3}, [win(BAD)] * 6)
    assert [v.outcome for v in verdicts] == ["continue"] * 3 + ["fail"]
    assert verdicts[2].measurement == "failure" and verdicts[2].outcome == "continue"
    assert verdicts[3].action == "rollback"
    assert "failed (4) > failureLimit (3)" in verdicts[3].rule


def test_failures_need_not_be_consecutive():
    verdicts = run({**ARGO, "failure_limit": 1}, [win(BAD), win(GOOD), win(GOOD), win(BAD)])
    assert [v.outcome for v in verdicts] == ["continue", "continue", "continue", "fail"]


def test_default_failure_limit_0_fails_on_the_first_failure():
    assert run(ARGO, [win(BAD)])[0].outcome == "fail"


def test_inconclusive_limit_0_pauses_on_the_first_inconclusive():
    verdicts = run({**ARGO, "min_requests": 500}, [win(GOOD), win(GOOD, requests=100)])
    assert verdicts[-1].outcome == "inconclusive"
    assert verdicts[-1].action == "pause"
    assert verdicts[-1].measurement == "inconclusive"


def test_inconclusive_limit_1_pauses_on_the_second():
    low = win(GOOD, requests=100)
    verdicts = run({**ARGO, "min_requests": 500, "inconclusive_limit": 1}, [low, low, low])
    assert [v.outcome for v in verdicts] == ["continue", "inconclusive"]


def test_consecutive_errors_must_exceed_the_limit_default_4():
    """No data is a measurement Error; `ConsecutiveError > consecutiveErrorLimit` (4) -> the 5th errors out."""
    verdicts = run(ARGO, [win(None)] * 6)
    assert [v.measurement for v in verdicts] == ["error"] * 5
    assert [v.outcome for v in verdicts] == ["continue"] * 4 + ["fail"]
    assert "consecutiveErrors (5) > consecutiveErrorLimit (4)" in verdicts[-1].rule


def test_a_completed_measurement_resets_consecutive_errors():
    """runMeasurements sets ConsecutiveError = 0 on Successful, Failed and Inconclusive."""
    pattern = [win(None)] * 4 + [win(GOOD)] + [win(None)] * 4 + [win(GOOD)]
    verdicts = run(ARGO, pattern)
    assert all(v.outcome == "continue" for v in verdicts) and len(verdicts) == 10


def test_a_failed_measurement_also_resets_consecutive_errors():
    pattern = [win(None)] * 4 + [win(BAD)] + [win(None)] * 4
    verdicts = run({**ARGO, "failure_limit": 1}, pattern)
    assert all(v.outcome == "continue" for v in verdicts)


def test_count_passes_and_errors_do_not_count_towards_it():
    """Count is incremented for completed measurements only, not for errors."""
    verdicts = run({**ARGO, "count": 3}, [win(GOOD), win(None), win(GOOD), win(GOOD)])
    assert [v.outcome for v in verdicts] == ["continue", "continue", "continue", "pass"]


def test_count_reached_with_failures_under_the_limit_passes():
    verdicts = run({**ARGO, "count": 3, "failure_limit": 2}, [win(BAD), win(BAD), win(GOOD)])
    assert verdicts[-1].outcome == "pass"


def test_no_data_as_failed_follows_the_failure_limit():
    verdicts = run({**ARGO, "no_data": "failed", "failure_limit": 1}, [win(None)] * 3)
    assert [v.outcome for v in verdicts] == ["continue", "fail"]


def test_action_on_fail_pause_is_passed_through():
    assert run({**ARGO, "action_on_fail": "pause"}, [win(BAD)])[0].action == "pause"


def test_consecutive_extension_counts_only_runs_of_breaches():
    verdicts = run({**ARGO, "consecutive": 2}, [win(BAD), win(GOOD), win(BAD), win(BAD)])
    assert [v.outcome for v in verdicts] == ["continue", "continue", "continue", "fail"]
    assert "not counted" in verdicts[0].rule


def test_a_final_verdict_is_sticky():
    from sim.policies import check, parse_policy, start
    spec = parse_policy(ARGO)
    state, first = check(spec, start(spec), win(BAD))
    state, again = check(spec, state, win(GOOD))
    assert again == first


# --- Argo Rollouts v1.8: failureLimit -1 and consecutiveSuccessLimit -------------------------------
# The v1.8 analysis.go was not available to read (see the module docstring): these tests pin the
# semantics described by the feature's docs (commit 21d5716) and proposal (issue #3969), not its code.

LOW = win(GOOD, requests=100)  # below min_requests 500: an Inconclusive measurement


def test_failure_limit_minus_1_with_consecutive_success_limit_waits_for_the_streak():
    """Docs, "Only ConsecutiveSuccessLimit applicable": failures never fail the metric; N successful
    measurements in a row end it Successful."""
    spec = {**ARGO, "failure_limit": -1, "consecutive_success_limit": 3}
    verdicts = run(spec, [win(BAD), win(BAD), win(GOOD), win(BAD), win(GOOD), win(GOOD), win(GOOD)])
    assert [v.outcome for v in verdicts] == ["continue"] * 6 + ["pass"]
    assert "Metric Assessment Result - Successful: ConsecutiveSuccessLimit (3) Reached" in verdicts[-1].rule


def test_both_limits_apply_failures_over_the_limit_still_fail():
    spec = {**ARGO, "failure_limit": 1, "consecutive_success_limit": 3}
    verdicts = run(spec, [win(BAD), win(GOOD), win(GOOD), win(BAD)])
    assert [v.outcome for v in verdicts] == ["continue"] * 3 + ["fail"]
    assert "Metric Assessment Result - Failed: failed (2) > failureLimit (1)" in verdicts[-1].rule


def test_the_success_streak_restarts_on_inconclusive_and_on_error():
    """Assumed (v1.8 code not read): only Successful extends the streak; Failed, Inconclusive and
    Error (no data) reset it, while an Error still does not count towards `count`."""
    spec = {**ARGO, "failure_limit": -1, "consecutive_success_limit": 2, "min_requests": 500,
            "inconclusive_limit": 5}
    verdicts = run(spec, [win(GOOD), LOW, win(GOOD), win(None), win(GOOD), win(GOOD)])
    assert [v.outcome for v in verdicts] == ["continue"] * 5 + ["pass"]


def test_a_breach_not_counted_by_the_consecutive_extension_restarts_the_streak():
    spec = {**ARGO, "consecutive": 2, "consecutive_success_limit": 2}
    verdicts = run(spec, [win(GOOD), win(BAD), win(GOOD), win(GOOD)])
    assert [v.outcome for v in verdicts] == ["continue"] * 3 + ["pass"]


@pytest.mark.parametrize("limits, pattern, outcome, message", [
    # count only (failureLimit applies, default 0): plain Argo, Successful
    ({}, [GOOD] * 3, "pass", "Successful: Count (3) Reached"),
    ({"failure_limit": 2}, [BAD, GOOD, BAD], "pass", "Successful: Count (3) Reached"),
    # count with both limits, the streak not reached: Inconclusive
    ({"failure_limit": 2, "consecutive_success_limit": 3}, [GOOD, GOOD, BAD], "inconclusive",
     "Inconclusive: ConsecutiveSuccessLimit (3) Not Reached and FailureLimit (2) Not Violated"),
    # count with only consecutiveSuccessLimit, the streak not reached: Failed
    ({"failure_limit": -1, "consecutive_success_limit": 2}, [GOOD, BAD, GOOD], "fail",
     "Failed: ConsecutiveSuccessLimit (2) Not Reached"),
    # the streak reached at the very measurement that reaches count: the streak is tested first
    ({"failure_limit": 0, "consecutive_success_limit": 3}, [GOOD] * 3, "pass",
     "Successful: ConsecutiveSuccessLimit (3) Reached"),
    ({"failure_limit": -1, "consecutive_success_limit": 2}, [BAD, GOOD, GOOD], "pass",
     "Successful: ConsecutiveSuccessLimit (2) Reached"),
])
def test_count_reached_with_and_without_each_limit(limits, pattern, outcome, message):
    verdicts = run({**ARGO, "count": 3, **limits}, [win(rate) for rate in pattern])
    assert [v.outcome for v in verdicts] == ["continue"] * 2 + [outcome]
    assert "Metric Assessment Result - " + message in verdicts[-1].rule


@pytest.mark.parametrize("bad, field", [
    ({"failure_limit": -1}, "consecutive_success_limit"),  # neither limit applies
    ({"failure_limit": -2, "consecutive_success_limit": 1}, "failure_limit"),
    ({"inconclusive_limit": -1}, "inconclusive_limit"),
    ({"consecutive_error_limit": -1}, "consecutive_error_limit"),
    ({"consecutive_success_limit": -1}, "consecutive_success_limit"),
])
def test_limits_that_argo_refuses_are_refused(bad, field):
    with pytest.raises(ValidationError) as info:
        parse_policy({**ARGO, **bad})
    assert field in str(info.value)


def test_settles_on_success_whenever_a_run_of_successes_can_end_the_analysis():
    """The batched engine skips judging a run whose every check is a success unless this is True."""
    for extra in ({}, {"count": 5}, {"consecutive_success_limit": 4},
                  {"failure_limit": -1, "consecutive_success_limit": 1}, {"failure_limit": 3}):
        spec = parse_policy({**ARGO, **extra})
        ends = run({**ARGO, **extra}, [win(GOOD)] * 10)[-1].final
        assert argo.settles_on_success(spec) == ends, extra


# --- assessMetricStatus, transcribed from Argo's own tests ------------------------------------------
# Cases from argoproj/argo-rollouts analysis/analysis_test.go at commit 6620c1bd (the newest stored
# copy, before v1.8), not terminating. Argo's metric -> our spec: `Interval: "60s"` without Count is
# `count: None`; a FailureLimit/InconclusiveLimit/Count given is the same field. The MetricResult
# counters are the state. (Argo's `terminating=true` asserts have no counterpart: a stage here ends
# a run by stopping its checks.)

ARGO_ASSESS_CASES = [
    # TestAssessMetricStatusFailureLimit
    ({"failure_limit": 2}, {"failed": 3, "count": 3}, "Failed"),
    ({"failure_limit": 3}, {"failed": 3, "count": 3}, "Running"),
    # TestAssessMetricStatusInconclusiveLimit
    ({"inconclusive_limit": 2}, {"inconclusive": 3, "count": 3}, "Inconclusive"),
    ({"inconclusive_limit": 3}, {"inconclusive": 3, "count": 3}, "Running"),
    # TestAssessMetricStatusConsecutiveErrors (default consecutiveErrorLimit 4; Count 5 without a
    # count limit)
    ({}, {"consecutive_error": 5, "count": 5}, "Error"),
    ({}, {"consecutive_error": 4, "count": 5}, "Running"),
    # TestAssessMetricStatusCountReached (Count: 10, no interval)
    ({"count": 10}, {"count": 10}, "Successful"),
    ({"count": 10}, {"count": 10, "inconclusive": 5}, "Inconclusive"),
]


@pytest.mark.parametrize("limits, counters, phase", ARGO_ASSESS_CASES)
def test_assess_metric_status_cases_from_argo(limits, counters, phase):
    spec = parse_policy({**ARGO, **limits})
    assert argo._assess(spec, argo.ArgoState(**counters))[0] == phase


# From the code, not a test: assessMetricFailureInconclusiveOrError at c9dd7ea checks the three
# limits in turn and a later hit overrides an earlier one (the older early-return code said Failed).
@pytest.mark.parametrize("counters, phase", [
    ({"failed": 1, "inconclusive": 1}, "Inconclusive"),
    ({"failed": 1, "consecutive_error": 5}, "Error"),
    ({"failed": 1, "inconclusive": 1, "consecutive_error": 5}, "Error"),
])
def test_when_several_limits_are_exceeded_the_last_checked_wins(counters, phase):
    spec = parse_policy(ARGO)
    got, message = argo._assess(spec, argo.ArgoState(**counters))
    assert got == phase and message.startswith(f"Metric Assessment Result - {phase}: ")


def test_failure_limit_minus_1_is_never_exceeded():
    spec = parse_policy({**ARGO, "failure_limit": -1, "consecutive_success_limit": 3})
    assert argo._assess(spec, argo.ArgoState(failed=1000, count=1000))[0] == "Running"
