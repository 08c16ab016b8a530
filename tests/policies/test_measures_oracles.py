"""Measures at their edges (`measures.measure_value`, `_ratio`) and Argo conditions on one request
(`argo.measure_conditions`, `argo.condition_totals`), against values worked out by hand.

A ratio measure is NaN when either cohort had no requests, before `rules.ratio`'s 0/0 = 1 and x/0 = inf
apply: a new build without requests has no error rate to compare, even against an old build without
errors (which `ratio(NaN, 0)` alone would read as inf). One request is data: Argo's `result` is
`[value]` for any request count above zero (no `min_requests`), so a single failed request is an error
rate of 1. The bulk path `condition_totals` takes error rates only and refuses a latency measure.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.policies import parse_policy
from sim.policies.argo import condition_totals, measure_conditions
from sim.policies.measures import measure_value
from sim.policies.window import window_of

NAN = math.nan


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("new, old, expected", [
    (([100], [2]), ([100], [1]), 2.0),          # 0.02 / 0.01
    (([100], [0]), ([100], [0]), 1.0),          # 0 / 0 = 1: both clean
    (([100], [3]), ([100], [0]), math.inf),     # x / 0 = inf
    (([0], [0]), ([100], [0]), NAN),            # no new requests, an error-free old build: no ratio, not inf
    (([0], [0]), ([100], [5]), NAN),            # no new requests
    (([100], [0]), ([0], [0]), NAN),            # no old requests, a clean new build: no ratio, not 1
    (([100], [4]), ([0], [0]), NAN),            # no old requests
])
def test_error_rate_ratio_is_nan_when_a_cohort_has_no_requests(new, old, expected):
    got = measure_value("error_rate_ratio", window_of(60.0, new=new, old=old))
    assert same(got, expected), got


@pytest.mark.parametrize("new_requests, new_latency, old_latency, expected", [
    ([0], NAN, 0.0, NAN),        # no new requests, an old mean of 0 s: no ratio, not inf
    ([0], NAN, 0.2, NAN),
    ([10], 0.3, 0.2, 0.3 / 0.2),
    ([10], 0.0, 0.0, 1.0),       # 0 / 0 = 1
])
def test_latency_ratio_is_nan_when_the_new_cohort_has_no_requests(new_requests, new_latency, old_latency, expected):
    w = window_of(60.0, new=(new_requests, [0]), old=([10], [0]), latency=([new_latency], [old_latency]))
    got = measure_value("latency_ratio", w)
    assert same(got, expected), got


FAIL_ABOVE_HALF = {"semantics": "argo", "measure": "error_rate", "failure_condition": "result[0] > 0.5"}


@pytest.mark.parametrize("requests, errors, result, value", [
    (1, 1, "breach", 1.0),    # one request, failed: error rate 1 > 0.5
    (1, 0, "success", 0.0),   # one request, served
    (2, 2, "breach", 1.0),
    (2, 1, "success", 0.5),   # 0.5 is not > 0.5
])
def test_one_request_is_data_for_an_argo_condition(requests, errors, result, value):
    spec = parse_policy(FAIL_ABOVE_HALF)
    m = measure_conditions(spec, window_of(60.0, new=([requests], [errors]), old=([100], [0])))
    assert (m.result, m.value) == (result, value)
    bulk = condition_totals(spec, requests, errors / requests, 0.0)
    assert (bulk.result, bulk.value, bulk.rule) == (m.result, m.value, m.rule)


def test_no_requests_is_an_empty_result_in_both_paths():
    spec = parse_policy({"semantics": "argo", "measure": "error_rate", "failure_condition": "len(result) == 0"})
    m = measure_conditions(spec, window_of(60.0, new=([0], [0]), old=([100], [0])))
    bulk = condition_totals(spec, 0, NAN, 0.0)
    assert m.result == bulk.result == "breach" and math.isnan(m.value) and math.isnan(bulk.value)


@pytest.mark.parametrize("measure", ["latency", "latency_ratio", "latency_p99"])
def test_the_bulk_path_refuses_a_latency_measure(measure):
    """condition_totals sees error rates only: a latency measure must not be judged on them."""
    spec = parse_policy({"semantics": "argo", "measure": measure, "failure_condition": "result[0] > 0.5"})
    with pytest.raises(AssertionError):
        condition_totals(spec, 100, 0.01, 0.01)


def test_the_bulk_path_reads_error_measures_as_measure_value_does():
    w = window_of(60.0, new=([400], [12]), old=([600], [6]))
    new, old = 12 / 400, 6 / 600
    for measure, expected in (("error_rate", 0.03), ("success_rate", 0.97), ("error_rate_ratio", 3.0)):
        spec = parse_policy({"semantics": "argo", "measure": measure, "failure_condition": "result[0] > 100"})
        assert condition_totals(spec, 400, new, old).value == pytest.approx(expected, rel=1e-12)
        assert measure_value(measure, w) == pytest.approx(expected, rel=1e-12)
        assert np.isfinite(measure_conditions(spec, w).value)
