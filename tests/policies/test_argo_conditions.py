"""Argo gates judged by success/failure conditions on a simulated measure: hand traces of Argo's
EvaluateResult (argo-rollouts utils/evaluate/evaluate.go) and assessMetricStatus counters."""

import math

import pytest
from pydantic import ValidationError

from sim.policies import check, parse_policy, start
from sim.policies.window import window_of


def window(success_rate: float | None, requests: int = 1000, old_error_rate: float = 0.001):
    """One interval whose new build succeeded `success_rate` of `requests` (None: no requests at all)."""
    if success_rate is None:
        return window_of(60.0, new=([0], [0]), old=([1000], [1]))
    errors = round(requests * (1 - success_rate))
    return window_of(60.0, new=([requests], [errors]), old=([1000], [round(1000 * old_error_rate)]))


def run(spec: dict, rates: list) -> list[tuple[str, str]]:
    """(outcome, measurement) of each check until the first final verdict."""
    gate = parse_policy({"semantics": "argo", **spec})
    state, seen = start(gate), []
    for rate in rates:
        state, verdict = check(gate, state, window(rate))
        seen.append((verdict.outcome, verdict.measurement))
        if verdict.final:
            break
    return seen


SUCCESS = {"measure": "success_rate", "success_condition": "result[0] >= 0.95"}


def test_count_5_failure_limit_2_fails_on_the_third_failure():
    got = run({**SUCCESS, "count": 5, "failure_limit": 2}, [0.90, 0.99, 0.90, 0.90, 0.99])
    assert got == [("continue", "failure"), ("continue", "success"), ("continue", "failure"), ("fail", "failure")]


def test_count_reached_with_two_failures_is_successful():
    got = run({**SUCCESS, "count": 5, "failure_limit": 2}, [0.90, 0.99, 0.90, 0.99, 0.99])
    assert got[-1] == ("pass", "success") and len(got) == 5


def test_consecutive_success_limit_with_failure_limit_minus_one():
    spec = {**SUCCESS, "count": 5, "failure_limit": -1, "consecutive_success_limit": 3}
    assert run(spec, [0.99, 0.90, 0.99, 0.99, 0.99])[-1] == ("pass", "success")  # 3 in a row at the 5th
    assert len(run(spec, [0.99, 0.99, 0.99])) == 3  # succeeds on the 3rd consecutive success
    assert run(spec, [0.99, 0.99, 0.90, 0.99, 0.99])[-1] == ("fail", "success")  # count reached without the streak


def test_only_a_failure_condition_succeeds_unless_it_holds():
    spec = {"measure": "error_rate", "failure_condition": "result[0] > 0.02", "count": 2}
    assert run(spec, [0.99, 0.99]) == [("continue", "success"), ("pass", "success")]
    assert run(spec, [0.97]) == [("fail", "failure")]  # 3% errors > 2%: failure_limit 0 fails at once


def test_neither_condition_holding_is_inconclusive_and_pauses():
    gate = parse_policy({"semantics": "argo", "measure": "success_rate", "success_condition": "result[0] >= 0.99",
                         "failure_condition": "result[0] < 0.90"})
    state, verdict = check(gate, start(gate), window(0.95))
    assert (verdict.outcome, verdict.action, verdict.measurement) == ("inconclusive", "pause", "inconclusive")


def test_no_data_is_an_empty_result_and_indexing_it_is_an_error():
    spec = {**SUCCESS, "consecutive_error_limit": 2}
    got = run(spec, [None, None, None])
    assert got == [("continue", "error"), ("continue", "error"), ("fail", "error")]  # errors in a row > 2
    guarded = {"measure": "success_rate", "success_condition": "len(result) == 0 || result[0] >= 0.95"}
    assert run(guarded, [None, None]) == [("continue", "success")] * 2  # no count: it measures on


def test_no_condition_is_always_successful():
    assert run({"measure": "error_rate", "count": 2}, [0.5, 0.5]) == [("continue", "success"), ("pass", "success")]


def test_ratio_to_the_old_build():
    gate = parse_policy({"semantics": "argo", "measure": "error_rate_ratio", "failure_condition": "result[0] > 2"})
    _, verdict = check(gate, start(gate), window(0.997, old_error_rate=0.001))  # 0.3% vs 0.1%: ratio 3
    assert verdict.outcome == "fail" and math.isclose(verdict.value, 3.0)


@pytest.mark.parametrize("spec, message", [
    ({"success_condition": "result[0] > 1"}, "need `measure`"),
    ({**SUCCESS, "max": "1%"}, "drop max"),
    ({"measure": "success_rate", "success_condition": "result[0] >"}, "success_condition"),
    ({"measure": "latency", "metric": "error_rate"}, "latency measure"),
])
def test_bad_condition_gates_are_refused(spec, message):
    with pytest.raises(ValidationError, match=message):
        parse_policy({"semantics": "argo", **spec})


INCONCLUSIVE_NOW = "Metric Assessment Result - Inconclusive: inconclusive (1) > inconclusiveLimit (0)"


@pytest.mark.parametrize("requests", [1, 100, 499])
def test_a_condition_gate_below_min_requests_is_inconclusive_valued_by_its_request_count(requests):
    """Even one request is too few: an Inconclusive measurement worth the request count, its rule saying
    so, before any condition is evaluated (the 99% success would pass them)."""
    gate = parse_policy({"semantics": "argo", **SUCCESS, "min_requests": 500})
    _, v = check(gate, start(gate), window(0.99, requests=requests))
    assert (v.outcome, v.action, v.metric, v.value, v.rule, v.measurement) == (
        "inconclusive", "pause", "error_rate", float(requests),
        f"requests {requests} < min_requests 500; {INCONCLUSIVE_NOW}", "inconclusive")
    assert type(v.value) is float


def test_a_condition_gate_with_no_requests_has_an_empty_result_whatever_min_requests_says():
    gate = parse_policy({"semantics": "argo", **SUCCESS, "min_requests": 500})
    _, v = check(gate, start(gate), window(None))
    assert (v.outcome, v.measurement) == ("continue", "error") and math.isnan(v.value)
    assert v.rule.startswith("success_rate: no data (result []); condition error:")


def test_at_min_requests_exactly_the_conditions_are_judged():
    gate = parse_policy({"semantics": "argo", **SUCCESS, "min_requests": 500})
    _, v = check(gate, start(gate), window(0.99, requests=500))
    assert (v.outcome, v.measurement, v.value) == ("continue", "success", pytest.approx(0.99))


def test_the_conditions_read_the_measure_times_its_scale():
    """`scale: 100` writes a success rate in percent, as a Prometheus query multiplying by 100 would."""
    gate = parse_policy({"semantics": "argo", "measure": "success_rate", "scale": 100,
                         "success_condition": "result[0] >= 95"})
    _, v = check(gate, start(gate), window(0.99))
    assert (v.measurement, v.value) == ("success", pytest.approx(99.0))


RUNNING = "failed 0/0, inconclusive 0, errors in a row 0"
FAILED_NOW = "Metric Assessment Result - Failed: failed (1) > failureLimit (0)"
BOTH = {"measure": "success_rate", "success_condition": "result[0] >= 0.99", "failure_condition": "result[0] < 0.90"}


@pytest.mark.parametrize("spec, rate, expected", [
    (SUCCESS, 0.99, ("continue", "none", 0.99, f"success_rate 0.99; result[0] >= 0.95; {RUNNING}", "success")),
    (SUCCESS, 0.90, ("fail", "rollback", 0.90, f"success_rate 0.9; not (result[0] >= 0.95); {FAILED_NOW}",
                     "failure")),
    ({"measure": "error_rate", "failure_condition": "result[0] > 0.02"}, 0.99,
     ("continue", "none", 0.01, f"error_rate 0.01; not (result[0] > 0.02); {RUNNING}", "success")),
    ({"measure": "error_rate", "failure_condition": "result[0] > 0.02"}, 0.97,
     ("fail", "rollback", 0.03, f"error_rate 0.03; result[0] > 0.02; {FAILED_NOW}", "failure")),
    (BOTH, 0.95, ("inconclusive", "pause", 0.95,
                  f"success_rate 0.95; neither result[0] >= 0.99 nor result[0] < 0.90; {INCONCLUSIVE_NOW}",
                  "inconclusive")),
    ({"measure": "error_rate"}, 0.5, ("continue", "none", 0.5, f"error_rate 0.5; no condition: Successful; {RUNNING}",
                                      "success")),
    ({"measure": "success_rate", "success_condition": "result[1] >= 0.95"}, 0.99,
     ("continue", "none", 0.99, "success_rate 0.99; condition error: column 7: index 1 out of range (the list has 1 "
                                "element); failed 0/0, inconclusive 0, errors in a row 1", "error")),
])
def test_each_measurement_says_what_was_measured_and_which_condition_decided(spec, rate, expected):
    """The decision record of one check, whole: the measure and its value, then the condition that held (a
    success condition that failed reads `not (...)`, and so does a failure condition that did not hold),
    then Argo's counters. The metric is the data column the measure reads (error_rate for both rates)."""
    gate = parse_policy({"semantics": "argo", **spec})
    _, v = check(gate, start(gate), window(rate))
    outcome, action, value, rule, measurement = expected
    assert (v.outcome, v.action, v.metric, v.rule, v.measurement) == (outcome, action, "error_rate", rule, measurement)
    assert v.value == pytest.approx(value) and type(v.value) is float
