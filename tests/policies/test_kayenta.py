"""Kayenta semantics: MannWhitneyClassifier, WeightedSumScorer, score thresholds (spinnaker/kayenta)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.policies import parse_policy
from sim.policies.kayenta import KayentaMetric, score
from sim.policies.mannwhitney import Classification, classify
from sim.policies.window import window_of
from tests.policies.helpers import run

CONF, TOL = 0.98, 0.25


def latency_window(new_lat, old_lat, requests=1000):
    n = len(new_lat)
    return window_of(60.0 * n, new=([requests] * n, [0] * n), old=([requests] * n, [0] * n),
                     latency=(new_lat, old_lat))


def judge(spec_data, windows):
    return run({"semantics": "kayenta", **spec_data}, windows)


def test_identical_series_pass():
    rng = np.random.default_rng(7)
    lat = rng.normal(0.2, 0.01, 60)
    v = judge({"metric": "latency"}, [latency_window(lat, lat.copy())])[-1]
    assert v.outcome == "pass" and v.value == 100.0
    assert "identical" in v.rule


def test_a_clear_shift_beyond_tolerance_fails():
    rng = np.random.default_rng(8)
    v = judge({"metric": "latency"}, [latency_window(rng.normal(0.3, 0.01, 60), rng.normal(0.2, 0.01, 60))])[-1]
    assert v.outcome == "fail" and v.value == 0.0 and v.action == "rollback"
    assert "High" in v.rule


def test_a_decrease_does_not_fail_an_increase_metric():
    rng = np.random.default_rng(9)
    v = judge({"metric": "latency"}, [latency_window(rng.normal(0.1, 0.01, 60), rng.normal(0.2, 0.01, 60))])[-1]
    assert v.outcome == "pass"


@pytest.mark.parametrize("bad_intervals", [10, 30])
def test_zero_heavy_sparse_error_metric_passes_a_clear_regression(bad_intervals):
    """kayenta #780 (also #426, #633): on a sparse error-rate series that is mostly zeros, the judge
    passes a clear regression. Canary: `bad_intervals` of 60 intervals at 5% errors, the rest 0;
    control: one interval at 2%. The canary's mean rate is 25x (or 75x) the control's and the
    Mann-Whitney test itself rejects (p < 0.01), yet the classification is Pass: the lower end of the
    shift interval sits on the jump of the rank statistic at 0 (all the tied zeros), and Kayenta only
    calls High when that lower end exceeds tolerance x |estimate|. This is Kayenta's coded behaviour,
    copied on purpose; the sequential and threshold policies do not share it."""
    canary = np.array([0.0] * (60 - bad_intervals) + [0.05] * bad_intervals)
    control = np.array([0.0] * 59 + [0.02])
    c = classify(canary, control, "increase", TOL, CONF)
    assert c.p_value < 0.01
    assert canary.mean() / control.mean() >= 25
    assert c.label == "Pass"
    assert c.lower < TOL * abs(c.estimate)


def test_the_same_regression_on_dense_data_is_high():
    rng = np.random.default_rng(3)
    canary = rng.binomial(20_000, 0.01, 60) / 20_000
    control = rng.binomial(20_000, 0.001, 60) / 20_000
    assert classify(canary, control, "increase", TOL, CONF).label == "High"


def _result(name, group, label, critical=False):
    return (KayentaMetric(name=name, group=group, critical=critical),
            Classification(label, 0, 0, 0, 1, label), 60)


def _spec(**kw):
    return parse_policy({"semantics": "kayenta", **kw})


def test_group_scores_are_weighted():
    results = [_result("error_rate", "errors", "High"), _result("latency", "perf", "Pass")]
    assert score(_spec(group_weights={"errors": 30, "perf": 70}), results) == pytest.approx(70.0)
    assert score(_spec(group_weights={"errors": 30}), results) == pytest.approx(70.0)  # perf gets 100 - 30
    assert score(_spec(), results) == pytest.approx(50.0)


def test_a_failing_critical_metric_scores_zero():
    results = [_result("error_rate", "a", "High", critical=True), _result("latency", "b", "Pass")]
    assert score(_spec(), results) == 0.0


def test_half_the_metrics_without_data_scores_zero():
    assert score(_spec(), [_result("error_rate", "a", "Pass"), _result("latency", "b", "Nodata")]) == 0.0


def test_a_group_without_data_keeps_its_weight():
    """WeightedSumScorer leaves no-data groups out of the sum without renormalizing the weights, so
    one group of three without data caps the score at 66.7 (as coded)."""
    three = [_result("error_rate", "a", "Pass"), _result("latency", "b", "Pass"), _result("latency", "c", "Nodata")]
    assert score(_spec(), three) == pytest.approx(200 / 3)


def _two_metric_windows(n=60):
    rng = np.random.default_rng(11)
    req = [5000] * n
    new_err = rng.binomial(5000, 0.02, n)   # errors 10x: High
    old_err = rng.binomial(5000, 0.002, n)
    lat = rng.normal(0.2, 0.01, n)
    return window_of(60.0 * n, new=(req, new_err), old=(req, old_err), latency=(lat, lat.copy()))


TWO = {"metrics": [{"name": "error_rate", "group": "errors"}, {"name": "latency", "group": "perf"}]}


def test_score_at_or_below_marginal_fails():
    v = judge({**TWO, "group_weights": {"errors": 25, "perf": 75}}, [_two_metric_windows()])[-1]
    assert v.value == pytest.approx(75.0) and v.outcome == "fail" and v.metric == "error_rate"


def test_score_between_marginal_and_pass_continues_then_final_below_pass_fails():
    spec = {**TWO, "group_weights": {"errors": 20, "perf": 80}, "count": 2}
    verdicts = judge(spec, [_two_metric_windows(30), _two_metric_windows(30)])
    assert [v.outcome for v in verdicts] == ["continue", "fail"]
    assert verdicts[0].value == pytest.approx(80.0) and verdicts[0].measurement == "inconclusive"


def test_score_at_pass_passes():
    v = judge({**TWO, "group_weights": {"errors": 5, "perf": 95}}, [_two_metric_windows()])[-1]
    assert v.value == pytest.approx(95.0) and v.outcome == "pass"


def test_fewer_than_50_points_is_flagged_in_the_rule():
    rng = np.random.default_rng(1)
    lat = rng.normal(0.2, 0.01, 10)
    v = judge({"metric": "latency"}, [latency_window(lat, lat.copy())])[-1]
    assert "10 points < 50 advised" in v.rule


def test_the_series_grows_across_checks():
    rng = np.random.default_rng(2)
    windows = [latency_window(rng.normal(0.2, 0.01, 2), rng.normal(0.2, 0.01, 2)) for _ in range(5)]
    verdicts = judge({"metric": "latency", "count": 5, "marginal": 0}, windows)
    assert len(verdicts) == 5 and "10 points" in verdicts[-1].rule


def test_latency_without_data_is_nodata():
    w = window_of(60.0, new=([100], [1]), old=([100], [1]))   # latency NaN everywhere
    v = judge({"metric": "latency"}, [w])[-1]
    assert v.value == 0.0 and v.outcome == "fail" and "missing data" in v.rule


def test_pass_must_not_be_below_marginal():
    from pydantic import ValidationError
    with pytest.raises(ValidationError):
        _spec(marginal=90, **{"pass": 80})
