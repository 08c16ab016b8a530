"""Hand-computed oracles for the shared measurement rules (rules.py), the unit-bearing gate fields
(gate.py) and deploysim's own threshold semantics (threshold.py).

Every expected value is written out with its arithmetic; the windows use round counts so the rates
are exact decimals (8 errors in 400 requests = 0.02).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from sim.policies import check, parse_policy, start, threshold
from sim.policies.rules import (
    classify,
    cohort_values,
    is_low_traffic,
    measure,
    measure_totals,
    ratio,
    streak,
)
from sim.policies.threshold import ThresholdState
from sim.policies.window import window_of
from tests.policies.helpers import BAD, GOOD, win

NAN = math.nan
INF = math.inf
G, B, LOW, NONE = win(GOOD), win(BAD), win(GOOD, requests=100), win(None)


def lat(new_req, new_lat, old_req=None, old_lat=None):
    """A latency window (errors 0): per-interval requests and mean latencies of both cohorts (old
    default: 100 requests at 0.2s per interval)."""
    old_req = old_req or [100] * len(new_req)
    old_lat = old_lat or [0.2] * len(new_req)
    return window_of(60.0, new=(list(new_req), [0] * len(new_req)), old=(list(old_req), [0] * len(old_req)),
                     latency=(list(new_lat), list(old_lat)))


def errs(new_req, new_err, old_req=None, old_err=None):
    """An error-rate window: per-interval counts (old default: 500 requests, 5 errors per interval)."""
    old_req = old_req or [500] * len(new_req)
    old_err = old_err or [5] * len(new_req)
    return window_of(60.0, new=(list(new_req), list(new_err)), old=(list(old_req), list(old_err)))


def m3(m):
    """(result, metric, value, rule); value NaN compared as the string 'nan'."""
    return m.result, m.metric, ("nan" if math.isnan(m.value) else m.value), m.rule


# --- cohort values -----------------------------------------------------------------------------------

@pytest.mark.parametrize("metric, window, expected", [
    # errors summed over the window's intervals: (0 + 8) / (100 + 300) = 0.02; old 10 / 1000 = 0.01
    ("error_rate", errs([100, 300], [0, 8], [600, 400], [10, 0]), (0.02, 0.01)),
    # request-weighted latency: (100 x 0.1 + 300 x 0.5) / 400 = 160 / 400 = 0.4; old 0.2
    ("latency", lat([100, 300], [0.1, 0.5], [100, 100], [0.2, 0.2]), (0.4, 0.2)),
    # a cohort without requests has no value
    ("error_rate", errs([0], [0], [0], [0]), ("nan", "nan")),
    ("latency", lat([0], [NAN], [0], [NAN]), ("nan", "nan")),
])
def test_cohort_values_per_metric(metric, window, expected):
    got = tuple("nan" if math.isnan(x) else pytest.approx(x, abs=1e-15) for x in cohort_values(metric, window))
    assert got == expected


# --- one window measured against the rules ----------------------------------------------------------

MAX = {"metric": "error_rate", "max": "1%", "min_requests": 500}


@pytest.mark.parametrize("spec, window, expected", [
    # no requests on the new build: no data, whatever min_requests says
    (MAX, errs([0], [0]), ("no_data", "error_rate", "nan", "no requests on the new build")),
    ({"metric": "error_rate", "max": "1%"}, errs([0, 0], [0, 0]),
     ("no_data", "error_rate", "nan", "no requests on the new build")),
    # requests but no latency value (every interval NaN): no data too
    ({"metric": "latency", "max": "300ms"}, lat([100], [NAN]), ("no_data", "latency", "nan",
                                                                 "no requests on the new build")),
    # 499 < 500 is low traffic, valued by its request count; 500 is measured
    (MAX, errs([499], [0]), ("low_traffic", "error_rate", 499.0, "requests 499 < min_requests 500")),
    (MAX, errs([500], [5]), ("success", "error_rate", 0.01, "error_rate 0.01 within limits")),
    # the window's total counts, not each interval: 250 + 250 = 500 requests, 6 errors = 0.012 > 0.01
    (MAX, errs([250, 250], [6, 0]), ("breach", "error_rate", 0.012, "error_rate 0.012 > max 0.01")),
    # latency: 0.4 > 0.3; exactly 0.3 passes (strict comparison)
    ({"metric": "latency", "max": "300ms"}, lat([100], [0.4]), ("breach", "latency", 0.4, "latency 0.4 > max 0.3")),
    ({"metric": "latency", "max": "300ms"}, lat([100], [0.3]), ("success", "latency", 0.3,
                                                                "latency 0.3 within limits")),
])
def test_measure_one_window(spec, window, expected):
    assert m3(measure(parse_policy(spec), window)) == expected


RATIO = {"metric": "error_rate", "max_ratio": 2}
INCREASE = {"metric": "error_rate", "max_increase": "0.5%"}


@pytest.mark.parametrize("spec, new, old, expected", [
    # max_ratio 2: 0.02 / 0.01 = 2 is not over; 0.03 / 0.01 = 3 is
    (RATIO, 0.02, 0.01, ("success", "error_rate", 0.02, "error_rate 0.02 within limits")),
    (RATIO, 0.03, 0.01, ("breach", "error_rate", 3.0, "error_rate new/old 3 > max_ratio 2")),
    # old 0: 0/0 counts as 1 (not over 2, over 0.5); x/0 as infinite
    (RATIO, 0.0, 0.0, ("success", "error_rate", 0.0, "error_rate 0 within limits")),
    ({"metric": "error_rate", "max_ratio": 0.5}, 0.0, 0.0,
     ("breach", "error_rate", 1.0, "error_rate new/old 1 > max_ratio 0.5")),
    (RATIO, 0.001, 0.0, ("breach", "error_rate", INF, "error_rate new/old inf > max_ratio 2")),
    # the old cohort without requests (NaN): rules against it are skipped
    (RATIO, 0.5, NAN, ("success", "error_rate", 0.5, "error_rate 0.5 within limits")),
    (INCREASE, 0.5, NAN, ("success", "error_rate", 0.5, "error_rate 0.5 within limits")),
    # 0/0 = 1 is within max_ratio 1.5
    ({"metric": "error_rate", "max_ratio": 1.5}, 0.0, 0.0, ("success", "error_rate", 0.0, "error_rate 0 within limits")),
    # max_increase 25%: 0.5 - 0.25 = 0.25 exactly (binary fractions) is not over; 0.75 - 0.25 is
    ({"metric": "error_rate", "max_increase": "25%"}, 0.5, 0.25,
     ("success", "error_rate", 0.5, "error_rate 0.5 within limits")),
    ({"metric": "error_rate", "max_increase": "25%"}, 0.75, 0.25,
     ("breach", "error_rate", 0.5, "error_rate new-old 0.5 > max_increase 0.25")),
    # max_increase 0.005: 0.0075 - 0.0025 = 0.005 is not over; 0.02 - 0.01 = 0.01 is
    (INCREASE, 0.0075, 0.0025, ("success", "error_rate", 0.0075, "error_rate 0.0075 within limits")),
    (INCREASE, 0.02, 0.01, ("breach", "error_rate", 0.01, "error_rate new-old 0.01 > max_increase 0.005")),
    # several rules broken: the first in the order max, max_ratio, max_increase is reported
    ({**RATIO, **INCREASE, "max": "1%"}, 0.04, 0.01,
     ("breach", "error_rate", 0.04, "error_rate 0.04 > max 0.01")),
    ({**RATIO, **INCREASE, "max": "5%"}, 0.04, 0.01,
     ("breach", "error_rate", 4.0, "error_rate new/old 4 > max_ratio 2")),
    ({"metric": "error_rate", "max_ratio": 5, **INCREASE, "max": "5%"}, 0.04, 0.01,
     ("breach", "error_rate", 0.03, "error_rate new-old 0.03 > max_increase 0.005")),
    # latency: 0.5 - 0.2 = 0.3 > 0.1 (100ms); ratio 2.5 > 2
    ({"metric": "latency", "max_increase": "100ms"}, 0.5, 0.25,
     ("breach", "latency", 0.25, "latency new-old 0.25 > max_increase 0.1")),
    ({"metric": "latency", "max_ratio": 2}, 0.5, 0.2, ("breach", "latency", 2.5, "latency new/old 2.5 > max_ratio 2")),
])
def test_measure_totals_rules_against_the_old_cohort(spec, new, old, expected):
    spec = parse_policy(spec)
    got = m3(measure_totals(spec, 1000, new, old))
    assert got[:2] == expected[:2] and got[3] == expected[3]
    assert got[2] == pytest.approx(expected[2], rel=1e-12)
    # classify (the vectorised screen) calls the same measurement the same way
    success, breach = classify(spec, np.array([1000]), np.array([new]), np.array([old]))
    assert (bool(success[0]), bool(breach[0])) == (expected[0] == "success", expected[0] == "breach")


def test_classify_marks_each_check_as_measure_totals_does():
    """One array of checks through every branch: no data, low traffic, at and over each limit."""
    spec = parse_policy({"metric": "error_rate", "max": "2%", "max_ratio": 3, "max_increase": "1.5%",
                         "min_requests": 100})
    rows = [  # (requests, new, old) -> expected result
        (0, NAN, 0.01, "no_data"),
        (50, 0.5, 0.01, "low_traffic"),      # 50 < 100, even though 0.5 breaks every rule
        (100, NAN, 0.01, "no_data"),
        (100, 0.02, 0.01, "success"),        # at max; ratio 2 <= 3; increase 0.01 <= 0.015
        (100, 0.0201, 0.01, "breach"),       # over max
        (100, 0.015, 0.005, "success"),      # ratio 3 exactly, increase 0.01
        (100, 0.016, 0.005, "breach"),       # ratio 3.2 > 3
        (100, 0.0, 0.0, "success"),          # 0/0 = 1
        (100, 0.001, 0.0, "breach"),         # x/0 = inf
        (100, 0.019, NAN, "success"),        # old rules skipped
        (100, 0.019, 0.0035, "breach"),      # increase 0.0155 > 0.015 (ratio 5.4 too)
    ]
    requests = np.array([r[0] for r in rows])
    new = np.array([r[1] for r in rows])
    old = np.array([r[2] for r in rows])
    success, breach = classify(spec, requests, new, old)
    expected = [r[3] for r in rows]
    assert list(success) == [e == "success" for e in expected]
    assert list(breach) == [e == "breach" for e in expected]
    assert [measure_totals(spec, r[0], r[1], r[2]).result for r in rows] == expected


def test_classify_at_the_edges_of_request_counts():
    """Without min_requests, one request is enough to measure; zero requests is no data whatever
    rate is passed with it (measure_totals: `requests == 0` is no data)."""
    spec = parse_policy({"metric": "error_rate", "max": "50%", "max_increase": "25%"})
    rows = [(0, 0.0, 0.0, "no_data"), (0, 0.75, 0.0, "no_data"), (1, 0.0, 0.0, "success"),
            (1, 1.0, 0.0, "breach"), (2, 0.5, 0.25, "success"), (2, 0.5, 0.0, "breach")]
    assert [measure_totals(spec, r, n, o).result for r, n, o, _ in rows] == [e for *_, e in rows]
    success, breach = classify(spec, np.array([r[0] for r in rows]), np.array([r[1] for r in rows]),
                               np.array([r[2] for r in rows]))
    assert list(success) == [r[3] == "success" for r in rows]
    assert list(breach) == [r[3] == "breach" for r in rows]


@pytest.mark.parametrize("spec, window, expected", [
    # 30 / 1000 = 0.03 against old 10 / 1000 = 0.01: ratio 3 > 2, increase 0.02 > 0.005
    (RATIO, errs([1000], [30], [1000], [10]), ("breach", "error_rate", 3.0, "error_rate new/old 3 > max_ratio 2")),
    (INCREASE, errs([1000], [30], [1000], [10]),
     ("breach", "error_rate", 0.02, "error_rate new-old 0.02 > max_increase 0.005")),
    # the old build served nothing in the window: nothing to compare with, the new rate passes
    (RATIO, errs([1000], [30], [0], [0]), ("success", "error_rate", 0.03, "error_rate 0.03 within limits")),
    # a single request is measured
    ({"metric": "error_rate", "max": "50%"}, errs([1], [1]), ("breach", "error_rate", 1.0, "error_rate 1 > max 0.5")),
    ({"metric": "error_rate", "max": "50%"}, errs([1], [0]), ("success", "error_rate", 0.0, "error_rate 0 within limits")),
])
def test_measure_window_against_the_old_cohort(spec, window, expected):
    got = m3(measure(parse_policy(spec), window))
    assert got[:2] == expected[:2] and got[3] == expected[3] and got[2] == pytest.approx(expected[2], rel=1e-12)


@pytest.mark.parametrize("spec", [{"metric": "error_rate", "max": "1%"}, {"metric": "error_rate", "max_ratio": 2},
                                  {"metric": "error_rate", "max_increase": "1%"}])
def test_classify_with_one_rule_ignores_the_rules_not_given(spec):
    """new 0.015, old 0.01: over max 1% only; ratio 1.5 and increase 0.005 within the others."""
    spec = parse_policy(spec)
    success, breach = classify(spec, np.array([100, 100]), np.array([0.015, 0.0]), np.array([0.01, 0.01]))
    over = spec.max is not None
    assert list(breach) == [over, False] and list(success) == [not over, True]


@pytest.mark.parametrize("new, old, expected", [
    (0.0, 0.0, 1.0), (0.1, 0.0, INF), (0.2, 0.1, 2.0), (0.1, 0.4, 0.25), (0.0, 0.5, 0.0), (1.0, 1.0, 1.0),
])
def test_ratio(new, old, expected):
    assert ratio(new, old) == expected


@pytest.mark.parametrize("previous, result, expected", [
    (0, "breach", 1), (2, "breach", 3), (3, "success", 0), (0, "success", 0),
    (2, "low_traffic", 2), (2, "no_data", 2), (0, "no_data", 0),
])
def test_streak(previous, result, expected):
    assert streak(previous, result) == expected


def test_is_low_traffic_recognises_the_rules_measure_writes():
    spec = parse_policy(MAX)
    rules = [measure(spec, w).rule for w in (errs([0], [0]), errs([100], [0]), errs([1000], [50]),
                                             errs([1000], [1]))]
    assert [is_low_traffic(r) for r in rules] == [True, True, False, False]


# --- the unit-bearing fields (gate.py) ----------------------------------------------------------------

@pytest.mark.parametrize("data, field, value", [
    ({"metric": "error_rate", "max": "1%"}, "max", 0.01),
    ({"metric": "error_rate", "max": 0.25}, "max", 0.25),
    ({"metric": "error_rate", "max_increase": "0.5%"}, "max_increase", 0.005),
    ({"metric": "latency", "max": "1m30s"}, "max", 90.0),
    ({"metric": "latency", "max_increase": "50ms"}, "max_increase", 0.05),
    ({"metric": "latency", "max": 2}, "max", 2.0),
])
def test_limits_are_read_in_the_unit_of_the_metric(data, field, value):
    assert getattr(parse_policy(data), field) == pytest.approx(value, rel=1e-12)


SHARE_HELP = "a share such as 25%, 0.2% or a fraction 0.25 between 0 and 1"
DURATION_HELP = "a duration such as 250ms, 90s, 5m, 1h30m, 2d (bare numbers are seconds)"


@pytest.mark.parametrize("data, field, message", [
    ({"metric": "error_rate", "max": "5ms"}, "max",
     f"max for metric error_rate: unknown unit 'ms'; expected {SHARE_HELP}"),
    ({"metric": "latency", "max": "1%"}, "max", f"max for metric latency: unknown unit '%'; expected {DURATION_HELP}"),
    ({"metric": "error_rate", "max_increase": "150%"}, "max_increase",
     f"max_increase for metric error_rate: must be between 0% and 100%; expected {SHARE_HELP}"),
    # a metric that is itself invalid: the limit is read as an error rate (the default metric)
    ({"metric": "bogus", "max": "5ms"}, "max", f"max for metric error_rate: unknown unit 'ms'; expected {SHARE_HELP}"),
])
def test_a_limit_in_the_wrong_unit_names_field_metric_and_what_is_allowed(data, field, message):
    with pytest.raises(ValidationError) as info:
        parse_policy(data)
    errors = [e for e in info.value.errors() if e["loc"][-1] == field]
    assert len(errors) == 1
    assert errors[0]["type"] == "unit" and errors[0]["msg"] == message


# --- threshold semantics ------------------------------------------------------------------------------

def trace(spec_data, windows):
    spec = parse_policy(spec_data)
    state, out = start(spec), []
    for w in windows:
        state, v = check(spec, state, w)
        out.append((v, state))
    return out


def fields(v):
    return v.outcome, v.action, v.metric, ("nan" if math.isnan(v.value) else v.value), v.rule, v.measurement


def test_threshold_trace_inconclusive_checks_leave_the_streak_open():
    """consecutive 2, min_requests 500: BAD (1/2), LOW and NONE (inconclusive, streak kept at 1),
    BAD (2 in a row: fail); afterwards the decision stands."""
    spec = {"metric": "error_rate", "max": "1%", "consecutive": 2, "min_requests": 500, "count": 10}
    out = trace(spec, [B, LOW, NONE, B, G])
    fail = ("fail", "rollback", "error_rate", 0.05,
            "error_rate 0.05 > max 0.01; 2 breaches in a row >= consecutive 2", "failure")
    assert [fields(v) for v, _ in out] == [
        ("continue", "none", "error_rate", 0.05, "error_rate 0.05 > max 0.01; breach 1/2 in a row", "failure"),
        ("continue", "none", "error_rate", 100.0, "requests 100 < min_requests 500", "inconclusive"),
        ("continue", "none", "error_rate", "nan", "no requests on the new build", "inconclusive"),
        fail, fail,
    ]
    final = out[3][0]
    assert out[4][0] is final
    assert [s for _, s in out] == [ThresholdState(1, 1), ThresholdState(2, 1), ThresholdState(3, 1),
                                   ThresholdState(4, 2, final), ThresholdState(4, 2, final)]


def test_threshold_count_passes_after_that_many_checks_and_then_stands():
    """count 3, consecutive 2: GOOD, BAD (1/2), GOOD (streak reset; check 3 reaches count)."""
    out = trace({"metric": "error_rate", "max": "1%", "consecutive": 2, "count": 3}, [G, B, G, B, B])
    done = ("pass", "none", "error_rate", 0.001, "error_rate 0.001 within limits; count 3 reached without failing",
            "success")
    assert [fields(v) for v, _ in out] == [
        ("continue", "none", "error_rate", 0.001, "error_rate 0.001 within limits", "success"),
        ("continue", "none", "error_rate", 0.05, "error_rate 0.05 > max 0.01; breach 1/2 in a row", "failure"),
        done, done, done,
    ]
    assert out[-1][1] == ThresholdState(3, 0, out[2][0])


@pytest.mark.parametrize("spec, windows, expected", [
    # the check that reaches count also completes the streak: the failure wins
    ({"consecutive": 1, "count": 1, "action_on_fail": "pause"}, [B],
     ("fail", "pause", "error_rate", 0.05, "error_rate 0.05 > max 0.01; 1 breaches in a row >= consecutive 1",
      "failure")),
    # inconclusive checks count towards `count`
    ({"count": 2, "min_requests": 500}, [NONE, LOW],
     ("pass", "none", "error_rate", 100.0, "requests 100 < min_requests 500; count 2 reached without failing",
      "inconclusive")),
    ({"consecutive": 3, "action_on_fail": "hotfix"}, [B, B, B],
     ("fail", "hotfix", "error_rate", 0.05, "error_rate 0.05 > max 0.01; 3 breaches in a row >= consecutive 3",
      "failure")),
])
def test_threshold_final_verdicts(spec, windows, expected):
    out = trace({"metric": "error_rate", "max": "1%", **spec}, windows)
    assert [v.final for v, _ in out] == [False] * (len(windows) - 1) + [True]
    assert fields(out[-1][0]) == expected


def test_threshold_without_count_runs_on():
    out = trace({"metric": "error_rate", "max": "1%", "consecutive": 2}, [G, B, G, B, NONE] * 4)
    assert not any(v.final for v, _ in out)
    assert out[-1][1] == ThresholdState(20, 1)


T, F = True, False


@pytest.mark.parametrize("consecutive, breach, success, expected", [
    (1, [], [], False),                                   # no checks
    (1, [F, F], [F, F], False),                           # only inconclusive checks
    (1, [F, T], [T, F], True),
    (2, [T, F, T], [F, T, F], False),                     # a success breaks the run
    (2, [T, F, T], [F, F, F], True),                      # an inconclusive check does not
    (2, [T, T, F], [F, F, T], True),                      # run at the start
    (2, [F, T, T], [T, F, F], True),                      # run at the end
    (3, [T, T, F, T, F, T], [F, F, T, F, T, F], False),   # 4 breaches, longest run 2
    (3, [T, F, T, T, T, F, T, T], [F, T, F, F, F, T, F, F], True),
    (4, [T, F, T, T, T, F, T, T], [F, T, F, F, F, T, F, F], False),
    (4, [T, F, T, F, T, T, T], [F, F, F, T, F, F, F], False),   # 1 + (inconclusive) 1, then 3
    (4, [T, F, T, F, T, T], [F, F, F, F, F, F], True),    # inconclusive gaps: 4 in a row
])
def test_may_fail_is_whether_the_breaches_line_up(consecutive, breach, success, expected):
    spec = parse_policy({"metric": "error_rate", "max": "1%", "consecutive": consecutive})
    assert threshold.may_fail(spec, np.array(breach, dtype=bool), np.array(success, dtype=bool)) is expected
    windows = [B if b else G if s else NONE for b, s in zip(breach, success)]
    assert any(v.final for v, _ in trace({"metric": "error_rate", "max": "1%", "consecutive": consecutive},
                                         windows)) is expected


def test_a_gate_without_a_rule_is_refused_naming_the_rules_it_may_have():
    from pydantic import ValidationError

    from sim.policies.threshold import ThresholdSpec

    with pytest.raises(ValidationError, match=r"\n  Value error, give at least one rule: max, max_ratio or max_increase "
                                              r"\[type=value_error"):
        ThresholdSpec(metric="error_rate")


def test_a_negative_latency_ceiling_is_refused_with_its_value():
    from pydantic import ValidationError

    from sim.policies.threshold import ThresholdSpec

    with pytest.raises(ValidationError, match=r"\n  Value error, max must be >= 0 \(got -1.0\) \[type=value_error"):
        ThresholdSpec(metric="latency", max="-1s")
