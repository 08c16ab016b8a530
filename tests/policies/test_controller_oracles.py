"""Hand traces of tiny check streams through the Flagger and Argo Rollouts semantics.

Every verdict is written out in full (outcome, action, metric, value, the rule a decision record shows,
and the check's own measurement), computed by hand from the controllers' documented counters:

- Flagger (scheduler.go, scheduler_metrics.go): `val > max` halts advancement, no values (or, here, too
  few requests) is a failed check, `FailedChecks` only ever grows, rollback once it reaches `threshold`;
  promotion after ceil(maxWeight / stepWeight) successful checks.
- Argo (analysis.go runMeasurements / assessMetricStatus): Failed, Inconclusive and Successful bump
  `Count` and reset `ConsecutiveError`; an Error bumps `Error` and `ConsecutiveError` only; a metric
  fails when failed > failureLimit, is Inconclusive when inconclusive > inconclusiveLimit, errors out
  when consecutiveErrors > consecutiveErrorLimit, and succeeds once Count reaches `count`.

The windows come from tests/policies/helpers.py: 10,000 requests per check, GOOD = 10 errors
(0.001, within a 1% ceiling), BAD = 500 errors (0.05, over it); LOW = 100 requests (below
`min_requests: 500`); NONE = no requests on the new build (no data, value NaN).
"""

from __future__ import annotations

import math

import pytest

from sim import policies
from sim.policies import POLICIES, check, parse_policy, start
from sim.policies.argo import ArgoState
from sim.policies.flagger import FlaggerState, checks_to_promote
from sim.policies.verdict import Verdict, failed, keep_measuring, passed, undecided
from tests.policies.helpers import BAD, GOOD, win

NAN = math.nan
G, B, LOW, NONE = win(GOOD), win(BAD), win(GOOD, requests=100), win(None)
WITHIN = "error_rate 0.001 within limits"         # 10 / 10,000
OVER = "error_rate 0.05 > max 0.01"               # 500 / 10,000 against 1%
NO_DATA = "no requests on the new build"
TOO_FEW = "requests 100 < min_requests 500"

FLAGGER = {"semantics": "flagger", "metric": "error_rate", "max": "1%"}
ARGO = {"semantics": "argo", "metric": "error_rate", "max": "1%"}


def trace(spec_data: dict, windows: list):
    """Feed every window (also after a final verdict); returns the verdicts and the states."""
    spec = parse_policy(spec_data)
    state, verdicts, states = start(spec), [], []
    for w in windows:
        state, v = check(spec, state, w)
        verdicts.append(v)
        states.append(state)
    return verdicts, states


def same(verdict: Verdict, expected: tuple) -> bool:
    """The verdict's fields equal (outcome, action, metric, value, rule, measurement); NaN equals NaN."""
    got = (verdict.outcome, verdict.action, verdict.metric, verdict.value, verdict.rule, verdict.measurement)
    value_ok = math.isnan(got[3]) if math.isnan(expected[3]) else got[3] == expected[3]
    return value_ok and type(got[3]) is float and got[:3] == expected[:3] and got[4:] == expected[4:]


def assert_trace(verdicts, expected):
    assert len(verdicts) == len(expected)
    for i, (v, e) in enumerate(zip(verdicts, expected), start=1):
        assert same(v, e), f"check {i}: got {v}, expected {e}"


# --- Flagger -------------------------------------------------------------------------------------------

def test_flagger_trace_failed_checks_accumulate_across_a_success_and_no_data_is_a_failure():
    """threshold 2: BAD (failed 1/2), GOOD (counter kept at 1), NONE (failed 2 >= 2: rollback), then
    the decision stands whatever comes next."""
    verdicts, states = trace({**FLAGGER, "threshold": 2}, [B, G, NONE, G, B])
    rollback = ("fail", "rollback", "error_rate", NAN,
                "no values found (no data counts as a failed check); failed checks 2 >= threshold 2", "failure")
    assert_trace(verdicts, [
        ("continue", "none", "error_rate", 0.05, f"halt advancement: {OVER}; failed checks 1/2", "failure"),
        ("continue", "none", "error_rate", 0.001, f"{WITHIN}; failed checks 1", "success"),
        rollback, rollback, rollback,
    ])
    assert verdicts[3] is verdicts[2] and verdicts[4] is verdicts[2]
    # The state is Flagger's canary status: failedChecks 2 after one success, and the decision.
    assert states[2] == states[4] == FlaggerState(failed_checks=2, successful_checks=1, final=verdicts[2])


def test_flagger_breach_reaching_the_threshold_names_the_broken_rule():
    verdicts, states = trace({**FLAGGER, "threshold": 1, "action_on_fail": "hotfix"}, [B, G])
    expected = ("fail", "hotfix", "error_rate", 0.05, f"{OVER}; failed checks 1 >= threshold 1", "failure")
    assert_trace(verdicts, [expected, expected])
    assert states[-1] == FlaggerState(1, 0, verdicts[0])


def test_flagger_low_traffic_is_a_failed_check_valued_by_its_request_count():
    verdicts, _ = trace({**FLAGGER, "threshold": 3, "min_requests": 500}, [LOW, LOW, LOW])
    why = "no values found (no data counts as a failed check)"
    assert_trace(verdicts, [
        ("continue", "none", "error_rate", 100.0, f"halt advancement: {why}; failed checks 1/3", "failure"),
        ("continue", "none", "error_rate", 100.0, f"halt advancement: {why}; failed checks 2/3", "failure"),
        ("fail", "rollback", "error_rate", 100.0, f"{why}; failed checks 3 >= threshold 3", "failure"),
    ])


def test_flagger_latency_gate_reports_the_latency_metric():
    """A 0.4s mean against a 300ms ceiling: the verdict names `latency` and the measured value."""
    from sim.policies.window import window_of
    slow = window_of(60, new=([100], [0]), old=([100], [0]), latency=([0.4], [0.2]))
    fast = window_of(60, new=([100], [0]), old=([100], [0]), latency=([0.25], [0.2]))
    spec = {"semantics": "flagger", "metric": "latency", "max": "300ms", "threshold": 2,
            "rollback_on_next_check": True}
    verdicts, states = trace(spec, [fast, slow, slow, fast])
    assert_trace(verdicts, [
        ("continue", "none", "latency", 0.25, "latency 0.25 within limits; failed checks 0", "success"),
        ("continue", "none", "latency", 0.4, "halt advancement: latency 0.4 > max 0.3; failed checks 1/2",
         "failure"),
        ("continue", "none", "latency", 0.4, "halt advancement: latency 0.4 > max 0.3; failed checks 2/2",
         "failure"),
        ("fail", "rollback", "latency", NAN, "checked at the next tick; failed checks 2 >= threshold 2", "error"),
    ])
    assert states[-1] == FlaggerState(2, 1, verdicts[-1])


def test_flagger_next_tick_rollback_comes_one_interval_late_and_then_stands():
    """rollback_on_next_check copies the code's lag: the threshold is reached at check 2, the rollback
    is decided at the start of check 3 (before its analysis: value NaN, measurement `error`)."""
    verdicts, states = trace({**FLAGGER, "threshold": 2, "rollback_on_next_check": True}, [B, NONE, G, B, G])
    lag = ("fail", "rollback", "error_rate", NAN, "checked at the next tick; failed checks 2 >= threshold 2",
           "error")
    assert_trace(verdicts, [
        ("continue", "none", "error_rate", 0.05, f"halt advancement: {OVER}; failed checks 1/2", "failure"),
        ("continue", "none", "error_rate", NAN,
         "halt advancement: no values found (no data counts as a failed check); failed checks 2/2", "failure"),
        lag, lag, lag,
    ])
    assert verdicts[3] is verdicts[2] and verdicts[4] is verdicts[2]
    assert states[1] == FlaggerState(2, 0) and states[2] == states[4] == FlaggerState(2, 0, verdicts[2])


def test_flagger_promotes_after_ceil_max_over_step_successes_and_then_stands():
    """step 20, max 50: ceil(50 / 20) = 3 successful checks promote; a failed check in between
    neither resets nor delays the count of successes."""
    spec = {**FLAGGER, "threshold": 2, "step_weight": 20, "max_weight": 50}
    verdicts, states = trace(spec, [G, B, G, G, B, B])
    promoted = ("pass", "none", "error_rate", 0.001, f"{WITHIN}; weight reached max_weight 50", "success")
    assert_trace(verdicts, [
        ("continue", "none", "error_rate", 0.001, f"{WITHIN}; failed checks 0", "success"),
        ("continue", "none", "error_rate", 0.05, f"halt advancement: {OVER}; failed checks 1/2", "failure"),
        ("continue", "none", "error_rate", 0.001, f"{WITHIN}; failed checks 1", "success"),
        promoted, promoted, promoted,
    ])
    assert states[2] == FlaggerState(1, 2) and states[3] == states[5] == FlaggerState(1, 3, verdicts[3])


@pytest.mark.parametrize("max_weight, step_weight, checks", [
    (50, 10, 5), (50, 20, 3), (100, 30, 4), (30, 10, 3), (0.3, 0.1, 3), (100, 100, 1), (10, 3, 4),
])
def test_checks_to_promote_is_max_over_step_rounded_up(max_weight, step_weight, checks):
    """0.3 / 0.1 is 2.9999999999999996 in floating point and 30 / 10 exactly 3: both are 3 steps."""
    assert checks_to_promote(max_weight, step_weight) == checks
    spec = {**FLAGGER, "step_weight": step_weight, "max_weight": max_weight}
    verdicts, _ = trace(spec, [G] * (checks + 1))
    assert [v.outcome for v in verdicts] == ["continue"] * (checks - 1) + ["pass"] * 2


@pytest.mark.parametrize("name, extra", [
    ("flagger", {}), ("flagger", {"threshold": 3}), ("flagger", {"step_weight": 10, "max_weight": 50}),
    ("flagger", {"step_weight": 50, "max_weight": 50}),
    ("threshold", {}), ("threshold", {"count": 4}), ("argo", {}), ("argo", {"count": 3}),
    ("argo", {"consecutive_success_limit": 1}), ("argo", {"failure_limit": -1, "consecutive_success_limit": 1}),
])
def test_settles_on_success_says_whether_successes_alone_end_the_run(name, extra):
    """The batched engine skips judging all-success runs when this is False: it must be True exactly
    when a run of successes ends the analysis."""
    data = {**FLAGGER, **extra, "semantics": name}
    spec = parse_policy(data)
    verdicts, _ = trace(data, [G] * 12)
    assert POLICIES[name].settles_on_success(spec) == verdicts[-1].final


# --- Argo Rollouts ----------------------------------------------------------------------------------

def test_argo_trace_counters_through_every_measurement_phase():
    """failureLimit 1, inconclusiveLimit 1: Failed (1), Inconclusive (1), Error (errors in a row 1),
    Successful (errors in a row back to 0), Failed (2 > 1): the metric fails."""
    spec = {**ARGO, "failure_limit": 1, "inconclusive_limit": 1, "min_requests": 500}
    verdicts, states = trace(spec, [B, LOW, NONE, G, B, G])
    fail = ("fail", "rollback", "error_rate", 0.05,
            f"{OVER}; Metric Assessment Result - Failed: failed (2) > failureLimit (1)", "failure")
    assert_trace(verdicts, [
        ("continue", "none", "error_rate", 0.05, f"{OVER}; failed 1/1, inconclusive 0, errors in a row 0", "failure"),
        ("continue", "none", "error_rate", 100.0, f"{TOO_FEW}; failed 1/1, inconclusive 1, errors in a row 0",
         "inconclusive"),
        ("continue", "none", "error_rate", NAN, f"{NO_DATA}; failed 1/1, inconclusive 1, errors in a row 1", "error"),
        ("continue", "none", "error_rate", 0.001, f"{WITHIN}; failed 1/1, inconclusive 1, errors in a row 0",
         "success"),
        fail, fail,
    ])
    assert verdicts[5] is verdicts[4]
    # MetricResult: Count 4 (the Error not counted), Failed 2, Inconclusive 1, Error 1, ConsecutiveError 0.
    assert states[2] == ArgoState(count=2, failed=1, inconclusive=1, error=1, consecutive_error=1, run=1)
    assert states[3] == ArgoState(count=3, failed=1, inconclusive=1, error=1, consecutive_success=1)
    assert states[5] == ArgoState(count=4, failed=2, inconclusive=1, error=1, consecutive_error=0,
                                  consecutive_success=0, run=1, final=verdicts[4])


def test_argo_success_streak_is_reported_and_reaching_it_passes():
    spec = {**ARGO, "failure_limit": -1, "consecutive_success_limit": 2}
    verdicts, states = trace(spec, [G, B, G, G, B])
    done = ("pass", "none", "error_rate", 0.001,
            f"{WITHIN}; Metric Assessment Result - Successful: ConsecutiveSuccessLimit (2) Reached", "success")
    assert_trace(verdicts, [
        ("continue", "none", "error_rate", 0.001,
         f"{WITHIN}; failed 0/-1, inconclusive 0, errors in a row 0, successes in a row 1/2", "success"),
        ("continue", "none", "error_rate", 0.05,
         f"{OVER}; failed 1/-1, inconclusive 0, errors in a row 0, successes in a row 0/2", "failure"),
        ("continue", "none", "error_rate", 0.001,
         f"{WITHIN}; failed 1/-1, inconclusive 0, errors in a row 0, successes in a row 1/2", "success"),
        done, done,
    ])
    assert states[-1] == ArgoState(count=4, failed=1, consecutive_success=2, final=verdicts[3])


def test_argo_an_error_restarts_the_success_streak():
    """Assumed for v1.8 (see argo.py): an Error is not Successful, so it restarts the streak."""
    spec = {**ARGO, "failure_limit": -1, "consecutive_success_limit": 2}
    verdicts, states = trace(spec, [G, NONE, G, G])
    assert_trace(verdicts[:3], [
        ("continue", "none", "error_rate", 0.001,
         f"{WITHIN}; failed 0/-1, inconclusive 0, errors in a row 0, successes in a row 1/2", "success"),
        ("continue", "none", "error_rate", NAN,
         f"{NO_DATA}; failed 0/-1, inconclusive 0, errors in a row 1, successes in a row 0/2", "error"),
        ("continue", "none", "error_rate", 0.001,
         f"{WITHIN}; failed 0/-1, inconclusive 0, errors in a row 0, successes in a row 1/2", "success"),
    ])
    assert verdicts[3].outcome == "pass"
    assert states[1] == ArgoState(count=1, error=1, consecutive_error=1)


def test_argo_consecutive_extension_trace_uncounted_breach_and_error_keep_the_breach_run():
    """consecutive 2, failureLimit 0: a first breach is Successful for the counters (not counted); an
    Error leaves the breach run alone; the second breach in a row is a Failed measurement: 1 > 0."""
    verdicts, states = trace({**ARGO, "consecutive": 2}, [B, NONE, B, G])
    fail = ("fail", "rollback", "error_rate", 0.05,
            f"{OVER}; Metric Assessment Result - Failed: failed (1) > failureLimit (0)", "failure")
    assert_trace(verdicts, [
        ("continue", "none", "error_rate", 0.05,
         f"{OVER}; failed 0/0, inconclusive 0, errors in a row 0; breach 1/2 in a row, not counted", "failure"),
        ("continue", "none", "error_rate", NAN, f"{NO_DATA}; failed 0/0, inconclusive 0, errors in a row 1", "error"),
        fail, fail,
    ])
    assert states[0] == ArgoState(count=1, run=1)   # counted as Successful, but no success streak
    assert states[1] == ArgoState(count=1, error=1, consecutive_error=1, run=1)
    assert states[-1] == ArgoState(count=2, failed=1, error=1, run=2, final=verdicts[2])


def test_argo_uncounted_breach_with_a_streak_limit_shows_both_notes():
    spec = {**ARGO, "consecutive": 2, "consecutive_success_limit": 2, "count": 3}
    verdicts, _ = trace(spec, [G, B, G, G])
    end = ("inconclusive", "pause", "error_rate", 0.001,
           (f"{WITHIN}; Metric Assessment Result - Inconclusive: ConsecutiveSuccessLimit (2) Not Reached and "
            "FailureLimit (0) Not Violated"), "success")
    assert_trace(verdicts, [
        ("continue", "none", "error_rate", 0.001,
         f"{WITHIN}; failed 0/0, inconclusive 0, errors in a row 0, successes in a row 1/2", "success"),
        ("continue", "none", "error_rate", 0.05,
         (f"{OVER}; failed 0/0, inconclusive 0, errors in a row 0, successes in a row 0/2; "
          "breach 1/2 in a row, not counted"), "failure"),
        end, end,
    ])


@pytest.mark.parametrize("failure_limit, phase, outcome, action, text", [
    # failureLimit 0 applies (only -1 is "not applicable"): count without the streak is Inconclusive
    (0, "Inconclusive", "inconclusive", "pause",
     "ConsecutiveSuccessLimit (3) Not Reached and FailureLimit (0) Not Violated"),
    (1, "Inconclusive", "inconclusive", "pause",
     "ConsecutiveSuccessLimit (3) Not Reached and FailureLimit (1) Not Violated"),
    (-1, "Failed", "fail", "rollback", "ConsecutiveSuccessLimit (3) Not Reached"),
])
def test_argo_count_reached_without_the_streak(failure_limit, phase, outcome, action, text):
    spec = {**ARGO, "failure_limit": failure_limit, "consecutive_success_limit": 3, "count": 2}
    verdicts, _ = trace(spec, [G, G])
    assert_trace(verdicts, [
        ("continue", "none", "error_rate", 0.001,
         f"{WITHIN}; failed 0/{failure_limit}, inconclusive 0, errors in a row 0, successes in a row 1/3",
         "success"),
        (outcome, action, "error_rate", 0.001, f"{WITHIN}; Metric Assessment Result - {phase}: {text}", "success"),
    ])


def test_argo_error_limit_trace_and_errors_do_not_count_towards_count():
    """consecutiveErrorLimit 1: two errors in a row exceed it (action_on_fail pause); with `count: 1`
    the Error before a success does not reach Count."""
    verdicts, states = trace({**ARGO, "consecutive_error_limit": 1, "action_on_fail": "pause"}, [NONE, NONE, G])
    stop = ("fail", "pause", "error_rate", NAN,
            f"{NO_DATA}; Metric Assessment Result - Error: consecutiveErrors (2) > consecutiveErrorLimit (1)", "error")
    assert_trace(verdicts, [
        ("continue", "none", "error_rate", NAN, f"{NO_DATA}; failed 0/0, inconclusive 0, errors in a row 1", "error"),
        stop, stop,
    ])
    assert states[-1] == ArgoState(error=2, consecutive_error=2, final=verdicts[1])

    verdicts, states = trace({**ARGO, "count": 1}, [NONE, G, B])
    done = ("pass", "none", "error_rate", 0.001, f"{WITHIN}; Metric Assessment Result - Successful: Count (1) Reached",
            "success")
    assert_trace(verdicts, [
        ("continue", "none", "error_rate", NAN, f"{NO_DATA}; failed 0/0, inconclusive 0, errors in a row 1", "error"),
        done, done,
    ])
    assert states[-1] == ArgoState(count=1, error=1, consecutive_success=1, final=verdicts[1])


def test_argo_first_inconclusive_pauses_and_stands():
    verdicts, states = trace({**ARGO, "min_requests": 500}, [LOW, G])
    pause = ("inconclusive", "pause", "error_rate", 100.0,
             f"{TOO_FEW}; Metric Assessment Result - Inconclusive: inconclusive (1) > inconclusiveLimit (0)",
             "inconclusive")
    assert_trace(verdicts, [pause, pause])
    assert states[-1] == ArgoState(count=1, inconclusive=1, final=verdicts[0])


@pytest.mark.parametrize("no_data, expected", [
    ("error", ("continue", "none", "error_rate", NAN, f"{NO_DATA}; failed 0/0, inconclusive 0, errors in a row 1",
               "error")),
    ("failed", ("fail", "rollback", "error_rate", NAN,
                f"{NO_DATA}; Metric Assessment Result - Failed: failed (1) > failureLimit (0)", "failure")),
    ("inconclusive", ("inconclusive", "pause", "error_rate", NAN,
                      f"{NO_DATA}; Metric Assessment Result - Inconclusive: inconclusive (1) > inconclusiveLimit (0)",
                      "inconclusive")),
])
def test_argo_no_data_follows_the_no_data_setting(no_data, expected):
    """`failed`: a NaN value fails successCondition at once, whatever `consecutive` asks of breaches."""
    verdicts, _ = trace({**ARGO, "no_data": no_data, "consecutive": 3}, [NONE])
    assert_trace(verdicts, [expected])


def test_argo_low_traffic_is_inconclusive_even_while_a_breach_run_is_open():
    verdicts, states = trace({**ARGO, "min_requests": 500, "consecutive": 2, "inconclusive_limit": 3},
                             [B, LOW, B])
    assert [v.measurement for v in verdicts] == ["failure", "inconclusive", "failure"]
    assert verdicts[-1].outcome == "fail"
    assert states[1] == ArgoState(count=2, inconclusive=1, run=1)


INCONCLUSIVE_NOW = "Metric Assessment Result - Inconclusive: inconclusive (1) > inconclusiveLimit (0)"


@pytest.mark.parametrize("window, expected", [
    (LOW, ("inconclusive", "pause", "error_rate", 100.0, f"{TOO_FEW}; {INCONCLUSIVE_NOW}", "inconclusive")),
    (win(GOOD, requests=1), ("inconclusive", "pause", "error_rate", 1.0,
                             f"requests 1 < min_requests 500; {INCONCLUSIVE_NOW}", "inconclusive")),
    (NONE, ("fail", "rollback", "error_rate", NAN,
            f"{NO_DATA}; Metric Assessment Result - Failed: failed (1) > failureLimit (0)", "failure")),
])
def test_argo_below_min_requests_is_inconclusive_valued_by_its_requests_but_no_requests_is_no_data(window, expected):
    """One request is already too few (an Inconclusive measurement worth the request count), while a window
    with none is no data at all, which `no_data: failed` fails, whatever `min_requests` says."""
    verdicts, _ = trace({**ARGO, "min_requests": 500, "no_data": "failed"}, [window])
    assert_trace(verdicts, [expected])


# --- Verdicts and the registry -------------------------------------------------------------------------

def test_verdict_builders_set_outcome_and_action():
    args = ("error_rate", 0.25, "why", "success")
    assert keep_measuring(*args) == Verdict("continue", "none", *args)
    assert passed(*args) == Verdict("pass", "none", *args)
    assert undecided(*args) == Verdict("inconclusive", "pause", *args)
    for action in ("rollback", "pause", "hotfix"):
        assert failed(action, *args) == Verdict("fail", action, *args)
    assert [v.final for v in (keep_measuring(*args), passed(*args), undecided(*args), failed("rollback", *args))] \
        == [False, True, True, True]


@pytest.mark.parametrize("data, semantics", [
    ({"max": "1%"}, "threshold"),
    ({"semantics": "threshold", "max": "1%"}, "threshold"),
    ({"semantics": "argo", "max": "1%"}, "argo"),
    ({"semantics": "flagger", "max": "1%", "threshold": 2}, "flagger"),
])
def test_parse_policy_defaults_to_threshold_and_dispatches(data, semantics):
    spec = parse_policy(data)
    assert spec.semantics == semantics and type(spec) is POLICIES[semantics].spec
    assert spec.max == 0.01
    assert data.get("semantics", "threshold") == semantics  # the caller's mapping is not modified
    state = policies.start(spec)
    assert state == POLICIES[semantics].start(spec)
    _, verdict = policies.check(spec, state, B)
    assert verdict.metric == "error_rate" and verdict.value == 0.05 and verdict.measurement == "failure"


@pytest.mark.parametrize("bad", [None, "threshold", ["max", "1%"], 3])
def test_parse_policy_refuses_what_is_not_a_mapping(bad):
    from pydantic import ValidationError
    with pytest.raises(ValidationError):
        parse_policy(bad)


def test_registry_wires_the_judges_that_agree_with_check():
    """`check == judge(measure(window))` for the counting semantics (the batched engine relies on it)."""
    from sim.policies.rules import measure
    for name in ("threshold", "argo", "flagger"):
        spec = parse_policy({**ARGO, "semantics": name})
        sem = POLICIES[name]
        s1 = s2 = sem.start(spec)
        for w in (G, B, NONE):
            s1, v1 = sem.check(spec, s1, w)
            s2, v2 = sem.judge(spec, s2, measure(spec, w))
            assert (v1.outcome, v1.rule) == (v2.outcome, v2.rule)
    assert POLICIES["threshold"].may_fail is not None and POLICIES["argo"].may_fail is None


@pytest.mark.parametrize("data", [{"max": "1%"}, {"semantics": "argo", "max": "1%"},
                                  {"semantics": "flagger", "max": "1%"}, {"semantics": "kayenta"},
                                  {"semantics": "sequential"}])
def test_registry_start_is_the_semantics_own_fresh_state(data):
    spec = parse_policy(data)
    assert policies.start(spec) == POLICIES[spec.semantics].start(spec)
