"""Metamorphic properties of the counting semantics on the same window data (common random numbers):
a higher threshold never fails earlier, and more errors never pass where fewer failed."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.policies import check, parse_policy, start
from sim.policies.window import window_of

SPECS = [
    {"semantics": "threshold", "consecutive": 2},
    {"semantics": "threshold", "consecutive": 1, "min_requests": 50, "count": 15},
    {"semantics": "argo", "failure_limit": 2},
    {"semantics": "argo", "failure_limit": 0, "count": 10, "min_requests": 50, "inconclusive_limit": 3},
    {"semantics": "flagger", "threshold": 3},
    {"semantics": "flagger", "threshold": 2, "step_weight": 20, "max_weight": 60},
]

intervals = st.lists(st.tuples(st.integers(1, 400), st.floats(0, 1)), min_size=1, max_size=20)


def outcome(spec_data: dict, data: list[tuple[int, int]]) -> tuple[float, str]:
    """(index of the final verdict or inf, its outcome) for per-check (requests, errors)."""
    spec = parse_policy(spec_data)
    state = start(spec)
    for i, (req, err) in enumerate(data):
        w = window_of(60.0 * (i + 1), new=([req], [err]), old=([1000], [2]))
        state, v = check(spec, state, w)
        if v.final:
            return float(i), v.outcome
    return math.inf, "continue"


def fail_time(spec_data: dict, data: list[tuple[int, int]]) -> float:
    when, what = outcome(spec_data, data)
    return when if what == "fail" else math.inf


@settings(max_examples=60, deadline=None)
@given(intervals, st.floats(0.0, 0.5), st.floats(0.0, 0.5), st.sampled_from(SPECS))
def test_a_higher_threshold_never_fails_earlier(raw, a, b, base):
    data = [(req, round(req * frac)) for req, frac in raw]
    low, high = sorted((a, b))
    assert fail_time({**base, "max": low}, data) <= fail_time({**base, "max": high}, data)


@settings(max_examples=60, deadline=None)
@given(intervals, st.lists(st.floats(0, 1), min_size=20, max_size=20), st.floats(0.0, 0.3), st.sampled_from(SPECS))
def test_more_errors_never_pass_where_fewer_failed(raw, extra, limit, base):
    fewer = [(req, round(req * frac * 0.5)) for req, frac in raw]
    more = [(req, min(req, err + round((req - err) * x))) for (req, err), x in zip(fewer, extra)]
    spec = {**base, "max": limit}
    when_fewer, what_fewer = outcome(spec, fewer)
    when_more, what_more = outcome(spec, more)
    if what_fewer == "fail":
        assert what_more == "fail" and when_more <= when_fewer
