"""Argo Rollouts semantics against argoproj/argo-rollouts analysis/analysis.go and its tests."""

from __future__ import annotations

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
