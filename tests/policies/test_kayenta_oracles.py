"""Kayenta semantics (sim/policies/kayenta.py) against Kayenta's documented rules, hand-computed.

- WeightedSumScorer: group score = 100 x Pass / (Pass + High + Low); groups weighted (unweighted
  groups share what is left of 100); a failing critical metric scores 0; >= 50% metrics without data: 0.
- ThresholdScoreClassifier / orca: score >= pass: Pass; <= marginal: fail at once; in between: keep
  measuring, and on the last scoring interval (count) anything < pass fails.
- NetflixACAJudge: NaN intervals replaced by 0 or removed per metric.
The per-metric labels are arranged with data whose label is certain: identical series (Pass), or
latency series 0.1 s apart with no overlap (High / Low).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.policies import check, parse_policy, start
from sim.policies.kayenta import KayentaMetric, KayentaState, classify_all, score, series
from sim.policies.mannwhitney import Classification
from sim.policies.window import window_of

N = 60   # intervals per window: >= 50, so no "points advised" warning


def spec_of(**kw):
    return parse_policy({"semantics": "kayenta", **kw})


def result(label, group="g", critical=False, name="latency"):
    return (KayentaMetric(name=name, group=group, critical=critical), Classification(label, 0, 0, 0, 1, label), N)


# ---------------------------------------------------------------- WeightedSumScorer

def test_group_scores_count_high_and_low_as_failures_and_are_weighted():
    """Group a (weight 60): Pass, High -> 100 x 1/2 = 50, weighted 30. Group b (no weight: 100 - 60 = 40):
    Pass, Low, Pass -> 100 x 2/3, weighted 26.67. Total 56.67."""
    results = [result("Pass", "a"), result("High", "a"), result("Pass", "b"), result("Low", "b"), result("Pass", "b")]
    assert score(spec_of(group_weights={"a": 60}), results) == pytest.approx(30 + 40 * 2 / 3)


def test_errors_are_left_out_of_a_group_score():
    """Group a: Pass, Error -> only the Pass is judged: 100. Group b: High -> 0. Equal shares: 50."""
    results = [result("Pass", "a"), result("Error", "a"), result("High", "b")]
    assert score(spec_of(), results) == pytest.approx(50.0)


def test_a_critical_metric_that_passes_does_not_zero_the_score():
    """Critical Pass in a, non-critical High in b: 50 (equal shares), not 0."""
    assert score(spec_of(), [result("Pass", "a", critical=True), result("High", "b")]) == pytest.approx(50.0)
    for label in ("High", "Low", "Error"):
        assert score(spec_of(), [result(label, "a", critical=True), result("Pass", "b")]) == 0.0


@pytest.mark.parametrize("labels, expected", [
    (["Nodata", "Pass", "Pass"], 200 / 3),     # 1 of 3 without data: scored, its group keeps its share
    (["Nodata", "Nodata", "Pass", "Pass"], 0.0),  # exactly half: 0
    (["Nodata", "Nodata", "Pass"], 0.0),
])
def test_half_or_more_metrics_without_data_scores_zero(labels, expected):
    results = [result(label, f"g{i}") for i, label in enumerate(labels)]
    assert score(spec_of(), results) == pytest.approx(expected)


def test_fully_weighted_groups_use_their_weights_only():
    """Every group has a weight (80 + 10 = 90 <= 100): a (Pass) gives 80 x 100%, b (High) 10 x 0%: 80."""
    results = [result("Pass", "a"), result("High", "b")]
    assert score(spec_of(group_weights={"a": 80, "b": 10}), results) == pytest.approx(80.0)


# ---------------------------------------------------------------- the series each metric judges

def state_of(new_req, new_err, old_req, old_err, new_lat=(), old_lat=()):
    return KayentaState(tuple(new_req), tuple(new_err), tuple(old_req), tuple(old_err), tuple(new_lat), tuple(old_lat))


def test_nan_intervals_are_replaced_by_zero_or_removed():
    state = state_of([100, 0, 50], [2, 0, 5], [10, 10, 0], [1, 0, 0],
                     [0.2, float("nan"), 0.3], [0.25, 0.15, float("nan")])
    x, y = series(state, KayentaMetric(name="error_rate"))                      # replace (default)
    np.testing.assert_array_equal(x, [0.02, 0.0, 0.1])
    np.testing.assert_array_equal(y, [0.1, 0.0, 0.0])
    x, y = series(state, KayentaMetric(name="error_rate", nan_strategy="remove"))
    np.testing.assert_array_equal(x, [0.02, 0.1])
    np.testing.assert_array_equal(y, [0.1, 0.0])
    x, y = series(state, KayentaMetric(name="latency"))
    np.testing.assert_array_equal(x, [0.2, 0.0, 0.3])
    np.testing.assert_array_equal(y, [0.25, 0.15, 0.0])
    x, y = series(state, KayentaMetric(name="latency", nan_strategy="remove"))
    np.testing.assert_array_equal(x, [0.2, 0.3])
    np.testing.assert_array_equal(y, [0.25, 0.15])


def test_a_metric_without_any_value_is_nodata_even_when_nans_become_zeros():
    """Latency all NaN in the new cohort: replacing NaN by 0 would invent a series of zeros; Kayenta
    reports no data. Points counted are the shorter series."""
    state = state_of([0, 0], [0, 0], [10, 10], [0, 0], [float("nan")] * 2, [0.2, 0.3])
    [(metric, c, points)] = classify_all(spec_of(metric="latency"), state)
    assert metric.name == "latency" and c.label == "Nodata" and points == 0
    state = state_of([10, 10, 10], [0, 0, 0], [10, 10, 10], [0, 0, 0], [0.2, float("nan"), 0.2], [0.2, 0.2, 0.2])
    [(_, c, points)] = classify_all(spec_of(metric="latency"), state)
    assert points == 3 and c.label == "Pass"   # 0.2, 0, 0.2 vs 0.2 x 3: not a clear shift


def test_without_metrics_the_gate_metric_is_judged_with_kayenta_defaults():
    (m,) = spec_of(metric="latency").judged()
    assert (m.name, m.group, m.direction, m.critical, m.nan_strategy) == ("latency", "default", "increase", False, "replace")


# ---------------------------------------------------------------- checks, scores and verdicts

def windows(new_lat, old_lat, n=N, new_err=0):
    """n intervals of 1000 requests each; error_rate identical in both cohorts (Pass: identical data)."""
    req = [1000] * n
    return window_of(60.0 * n, new=(req, [new_err] * n), old=(req, [new_err] * n),
                     latency=([new_lat + 0.001 * (i % 7) for i in range(n)], [old_lat + 0.001 * (i % 5) for i in range(n)]))


TWO = [{"name": "error_rate", "group": "errors"}, {"name": "latency", "group": "perf"}]


def judge(spec, ws):
    state, verdicts = start(spec), []
    for w in ws:
        state, v = check(spec, state, w)
        verdicts.append(v)
    return state, verdicts


@pytest.mark.parametrize("errors_weight, outcome, measurement", [
    (95, "pass", "success"),          # 95 >= pass 95
    (75, "fail", "failure"),          # 75 <= marginal 75
    (80, "continue", "inconclusive"),  # in between, no count: keep measuring
])
def test_score_thresholds_decide_at_each_interval(errors_weight, outcome, measurement):
    """errors group: error_rate identical in both cohorts (Pass); perf group: latency 0.1 s slower
    (High). Score = errors weight x 100% + perf weight x 0% = the errors weight."""
    spec = spec_of(metrics=TWO, group_weights={"errors": errors_weight, "perf": 100 - errors_weight})
    state, [v] = judge(spec, [windows(0.3, 0.2)])
    assert v.value == float(errors_weight) and v.outcome == outcome and v.measurement == measurement
    assert v.metric == "latency"                      # the High metric is the reason, not the first one
    assert v.rule.startswith(f"score {errors_weight:.1f} (marginal 75, pass 95, interval 1): {'continue' if outcome == 'continue' else outcome}; ")
    assert "error_rate: experiment and control data are identical" in v.rule
    assert "latency: High: shift CI" in v.rule
    assert state.scores == (float(errors_weight),)
    assert (state.final is None) == (outcome == "continue")
    assert len(state.new_latency) == N and len(state.old_requests) == N


@pytest.mark.parametrize("n, warning", [
    (50, ""),                                                    # 50 points: as advised, no warning
    (49, "; warning: error_rate has 49 points < 50 advised, latency has 49 points < 50 advised"),
], ids=["50-points", "49-points"])
def test_the_rule_gives_each_metric_reason_then_the_warning(n, warning):
    """Both metrics identical in both cohorts: Pass with Kayenta's 'identical' reason each, score 100.
    The rule is the head, then `metric: reason` per metric joined by '; ', then one warning naming every
    metric under 50 points, joined by ', '."""
    req, lat = [1000] * n, [0.2 + 0.001 * (i % 7) for i in range(n)]
    w = window_of(60.0 * n, new=(req, [3] * n), old=(req, [3] * n), latency=(lat, list(lat)))
    _, [v] = judge(spec_of(metrics=TWO), [w])
    assert v.rule == ("score 100.0 (marginal 75, pass 95, interval 1): pass; "
                      "error_rate: experiment and control data are identical; "
                      "latency: experiment and control data are identical" + warning)


def test_a_low_metric_is_named_as_the_reason():
    spec = spec_of(metrics=[{"name": "error_rate"}, {"name": "latency", "direction": "decrease"}])
    _, [v] = judge(spec, [windows(0.1, 0.2)])
    assert v.metric == "latency" and "latency: Low: shift CI" in v.rule
    assert v.value == pytest.approx(50.0) and v.outcome == "fail" and v.action == "rollback"


def test_when_every_metric_passes_the_first_is_named():
    spec = spec_of(metrics=TWO)
    _, [v] = judge(spec, [windows(0.2, 0.2)])
    assert v.value == 100.0 and v.outcome == "pass" and v.metric == "error_rate" and v.measurement == "success"


def test_with_count_the_last_interval_passes_at_exactly_pass():
    """count 2: the first score of 95 does not end the analysis; the second, still 95 (not < 95), passes."""
    spec = spec_of(metrics=TWO, group_weights={"errors": 95, "perf": 5}, count=2)
    state, verdicts = judge(spec, [windows(0.3, 0.2, n=30), windows(0.3, 0.2, n=30)])
    assert [v.outcome for v in verdicts] == ["continue", "pass"]
    assert [v.measurement for v in verdicts] == ["success", "success"]
    assert verdicts[0].metric == "latency" and verdicts[0].rule.startswith("score 95.0 (marginal 75, pass 95, interval 1): continue; ")
    assert verdicts[1].rule.startswith("score 95.0 (marginal 75, pass 95, interval 2): pass; ")
    assert state.scores == (95.0, 95.0) and state.final == verdicts[1]


def test_the_analysis_ends_at_its_final_verdict():
    """After a fail, later checks repeat that verdict and keep the state, whatever the new data."""
    spec = spec_of(metrics=TWO, group_weights={"errors": 75, "perf": 25})
    state, [first] = judge(spec, [windows(0.3, 0.2)])
    assert first.outcome == "fail" and state.scores == (75.0,) and state.final == first
    again, v = check(spec, state, windows(0.2, 0.2))
    assert v == first and again == state
