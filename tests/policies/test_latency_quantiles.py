"""Latency quantiles (p50, p95, p99) per window and cohort, from the model in `sim.policies.window`.

The model: a request's latency is its interval's level times a lognormal factor of mean 1 and shape
`traffic.latency_shape`, plus the bad build's `added_latency` for the affected share of the new cohort;
a window's quantile is the quantile of the request-weighted mixture of its intervals. Each oracle here
is computed another way: scipy's lognormal `ppf` for one interval, brentq on the mixture's CDF built
from scipy's lognormal `cdf`, and a seeded Monte Carlo of single requests whose tolerance is its own
binomial standard error.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scipy import optimize, stats

from sim.policies import check, parse_policy, start
from sim.policies.measures import measure_value
from sim.policies.rules import classify, cohort_values, measure, measure_totals
from sim.policies.window import LATENCY_SHAPE, QUANTILES, Window, latency_quantile, mean_latency, window_of
from sim.rollout.context import window_between
from sim.rollout.release import simulate_per_check
from sim.spec.rollout import Traffic
from tests.rollout.helpers import release_scenario
from tests.rollout.test_batch import check_engines_agree

ROOT = Path(__file__).resolve().parents[2]
Z = {name: float(stats.norm.ppf(q)) for name, q in QUANTILES.items()}


def exact_quantile(requests, level, q, shape, affected=None, added=0.0) -> float:
    """brentq on the mixture's CDF, written with scipy's lognormal (levels: unaffected requests' means)."""
    w = np.asarray(requests, float) / np.sum(requests)
    f = np.zeros(len(w)) if affected is None else np.asarray(affected, float)
    scale = np.asarray(level, float) * math.exp(-shape**2 / 2)  # lognormal of mean `level`

    def cdf(x: float) -> float:
        plain = stats.lognorm.cdf(x, shape, scale=scale)
        slow = stats.lognorm.cdf(max(x - added, 0.0), shape, scale=scale)
        return float(np.sum(w * ((1 - f) * plain + f * slow)))

    return optimize.brentq(lambda x: cdf(x) - q, 1e-9, 1e4, xtol=1e-15, rtol=1e-14)


def sample_requests(rng, requests, level, shape, count, affected=None, added=0.0) -> np.ndarray:
    """`count` single requests of the window: an interval by its share of requests, then the request."""
    w = np.asarray(requests, float) / np.sum(requests)
    i = rng.choice(len(w), size=count, p=w)
    factor = np.exp(shape * rng.standard_normal(count) - shape**2 / 2)
    latency = np.asarray(level, float)[i] * factor
    if affected is not None:
        latency += added * (rng.random(count) < np.asarray(affected, float)[i])
    return latency


def new_window(requests, level, affected=None, added=0.0, shape=LATENCY_SHAPE, old_level=None) -> Window:
    """A window whose new cohort has these intervals (mean latency = level + affected x added, as the
    traffic model draws it); the old cohort has the same requests at `old_level` (default `level`)."""
    req = np.asarray(requests, np.int64)
    f = np.zeros(len(req)) if affected is None else np.asarray(affected, float)
    mean = np.asarray(level, float) + f * added
    old = np.asarray(level if old_level is None else old_level, float)
    w = window_of(60.0 * len(req), new=(req, np.zeros_like(req)), old=(req, np.zeros_like(req)), latency=(mean, old))
    return Window(w.time, w.new_requests, w.new_errors, w.old_requests, w.old_errors, w.new_latency, w.old_latency,
                  new_affected=f, added_latency=added, latency_shape=shape)


# --- the window's quantile against independent computations


@pytest.mark.parametrize("name", sorted(QUANTILES))
@pytest.mark.parametrize("shape", [0.01, 0.3, 0.6, 1.5, 3.0])
def test_one_interval_is_scipys_lognormal_ppf(name, shape):
    got = latency_quantile([500], [0.12], QUANTILES[name], shape)
    expected = stats.lognorm.ppf(QUANTILES[name], shape, scale=0.12 * math.exp(-shape**2 / 2))
    assert got == pytest.approx(expected, rel=1e-12)
    assert got / latency_quantile([500], [0.12], 0.5, shape) == pytest.approx(math.exp(Z[name] * shape), rel=1e-12)


def test_the_default_shape_gives_the_documented_tail():
    assert Traffic().latency_shape == LATENCY_SHAPE == 0.6
    p50, p95, p99 = (latency_quantile([1], [0.12], QUANTILES[n], LATENCY_SHAPE) for n in ("p50", "p95", "p99"))
    assert (round(p95 / p50, 1), round(p99 / p50, 1), round(0.12 / p50, 1)) == (2.7, 4.0, 1.2)


CASES = [  # (requests, levels, affected shares, added latency)
    ([100, 200, 50], [0.10, 0.15, 0.30], None, 0.0),
    ([1000, 10, 1000, 3000], [0.12, 0.5, 0.11, 0.13], None, 0.0),
    ([400, 600], [0.12, 0.12], [0.02, 0.02], 2.0),  # a heavy tail: 2% of requests 2 s slower
    ([300, 300, 300], [0.10, 0.12, 0.14], [0.0, 0.5, 1.0], 0.03),  # a bad build reaching its hosts
    ([50, 5000], [0.2, 0.1], [1.0, 0.1], 0.5),
    ([100 + 37 * i for i in range(20)], [0.1 + 0.01 * i for i in range(20)], [0.3] * 20, 0.1),  # 40 pieces: numpy
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("name", sorted(QUANTILES))
def test_a_mixture_of_intervals_matches_brentq_on_its_exact_cdf(case, name):
    requests, level, affected, added = CASES[case]
    mean = np.asarray(level) + (0 if affected is None else np.asarray(affected) * added)
    for shape in (0.2, 0.6, 2.0):
        got = latency_quantile(requests, mean, QUANTILES[name], shape, affected, added)
        assert got == pytest.approx(exact_quantile(requests, level, QUANTILES[name], shape, affected, added), rel=1e-9)


@pytest.mark.parametrize("case", range(len(CASES)))
def test_a_mixture_of_intervals_matches_a_monte_carlo_of_single_requests(case):
    """A seeded Monte Carlo of 400,000 requests: the share of them at or under the model's quantile is
    q, within 4.5 binomial standard errors (each of the 15 comparisons: a false alarm about once in
    150,000 seeds)."""
    requests, level, affected, added = CASES[case]
    mean = np.asarray(level) + (0 if affected is None else np.asarray(affected) * added)
    count = 400_000
    drawn = sample_requests(np.random.default_rng(20261126 + case), requests, level, LATENCY_SHAPE, count,
                            affected, added)
    for q in QUANTILES.values():
        got = latency_quantile(requests, mean, q, LATENCY_SHAPE, affected, added)
        share = np.mean(drawn <= got)
        assert abs(share - q) < 4.5 * math.sqrt(q * (1 - q) / count), (q, got, share)
    se_mean = drawn.std() / math.sqrt(count)
    assert abs(drawn.mean() - mean_latency(requests, mean)) < 4.5 * se_mean  # the model keeps the mean


def test_a_bad_build_on_every_request_shifts_every_quantile_by_its_added_latency():
    for name, q in QUANTILES.items():
        plain = latency_quantile([800], [0.12], q, 0.6)
        assert latency_quantile([800], [0.12 + 0.25], q, 0.6, [1.0], 0.25) == pytest.approx(plain + 0.25, rel=1e-12)
        w = new_window([800], [0.12], [1.0], 0.25)
        assert w.latency_quantile("new", name) == pytest.approx(plain + 0.25, rel=1e-12)
        assert w.latency_quantile("old", name) == pytest.approx(plain, rel=1e-12)  # the old cohort: no shift


def test_a_small_affected_share_moves_the_tail_and_hardly_the_median():
    plain = {n: latency_quantile([1000], [0.12], q, 0.6) for n, q in QUANTILES.items()}
    w = new_window([1000], [0.12], [0.02], 2.0)
    assert w.latency_quantile("new", "p99") > 2.0 > plain["p99"]
    assert w.latency_quantile("new", "p50") == pytest.approx(plain["p50"], rel=0.05)


intervals = st.integers(1, 24)  # (over 16 intervals with a bad build: the CDF is summed in numpy)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_quantiles_are_ordered_and_inside_their_pieces(data):
    n = data.draw(intervals)
    floats = lambda lo, hi: st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    requests = data.draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n))
    level = data.draw(st.lists(floats(1e-4, 60.0), min_size=n, max_size=n))
    affected = data.draw(st.lists(floats(0.0, 1.0), min_size=n, max_size=n))
    added = data.draw(st.sampled_from([0.0, 1e-3, 0.05, 2.0, 600.0]))
    shape = data.draw(floats(0.01, 3.0))
    mean = np.asarray(level) + np.asarray(affected) * added
    got = [latency_quantile(requests, mean, q, shape, affected, added) for q in (0.5, 0.95, 0.99)]
    if sum(requests) == 0:
        assert all(math.isnan(g) for g in got)
        return
    assert got[0] <= got[1] <= got[2]
    served = np.asarray(requests) > 0
    lowest = np.asarray(level)[served].min() * math.exp(-shape**2 / 2 + shape * Z["p50"])
    highest = (np.asarray(level)[served].max() * math.exp(-shape**2 / 2 + shape * Z["p99"])
               + added * (np.asarray(affected)[served] > 0).any())
    assert lowest * (1 - 1e-9) <= got[0] and got[2] <= highest * (1 + 1e-9)


def test_no_requests_gives_nan_and_intervals_without_requests_are_left_out():
    assert math.isnan(latency_quantile([0, 0], [np.nan, np.nan], 0.99, 0.6))
    assert math.isnan(latency_quantile([], [], 0.5, 0.6))
    with_empty = latency_quantile([0, 100, 0], [np.nan, 0.12, 5.0], 0.99, 0.6)
    assert with_empty == latency_quantile([100], [0.12], 0.99, 0.6)
    assert math.isnan(measure_value("latency_p99", window_of(60.0, new=([0], [0]), old=([10], [0]))))


# --- the mean stays what it was


def test_a_latency_gate_without_quantile_reads_the_mean_as_before():
    w = new_window([400, 600], [0.12, 0.12], [0.02, 0.02], 2.0)
    spec = parse_policy({"metric": "latency", "max": "300ms"})
    assert cohort_values("latency", w) == (mean_latency(w.new_requests, w.new_latency),
                                           mean_latency(w.old_requests, w.old_latency))
    m = measure(spec, w)
    assert (m.result, m.value, m.rule) == ("success", pytest.approx(0.16), "latency 0.16 within limits")
    assert measure_value("latency", w) == pytest.approx(0.16)


# --- gates and measures


def test_a_p99_gate_fails_a_heavy_tail_that_the_mean_lets_through():
    """2% of requests 2 s slower: the mean rises 40 ms (within 300 ms), the p99 passes 2 s."""
    w = new_window([400, 600], [0.12, 0.12], [0.02, 0.02], 2.0)
    mean_gate = parse_policy({"semantics": "flagger", "metric": "latency", "max": "300ms"})
    p99_gate = parse_policy({"semantics": "flagger", "metric": "latency", "quantile": "p99", "max": "300ms"})
    assert check(mean_gate, start(mean_gate), w)[1].final is False
    _, verdict = check(p99_gate, start(p99_gate), w)
    assert verdict.outcome == "fail" and verdict.metric == "latency"
    assert verdict.value == pytest.approx(w.latency_quantile("new", "p99")) and verdict.value > 2.0
    assert verdict.rule.startswith("latency p99 2.")


def test_ratio_and_increase_rules_compare_the_two_cohorts_quantiles():
    w = new_window([1000], [0.12], old_level=[0.10])
    ratio = parse_policy({"metric": "latency", "quantile": "p95", "max_ratio": 1.1})
    m = measure(ratio, w)
    assert m.result == "breach" and m.value == pytest.approx(1.2, rel=1e-12)
    increase = parse_policy({"semantics": "argo", "metric": "latency", "quantile": "p50", "max_increase": "50ms"})
    expected = (w.latency_quantile("new", "p50") - w.latency_quantile("old", "p50"))
    assert measure(increase, w).result == "success" and measure(increase, w).value == w.latency_quantile("new", "p50")
    assert expected == pytest.approx(0.02 * math.exp(-0.18), rel=1e-12)


def test_the_vectorised_screen_agrees_with_measure_on_quantiles():
    rng = np.random.default_rng(5)
    windows = []
    for _ in range(60):
        n = int(rng.integers(1, 6))
        requests = rng.integers(0, 3, n) * rng.integers(1, 500, n)
        windows.append(new_window(requests, 0.1 + 0.05 * rng.random(n), rng.random(n) * (rng.random() < 0.5),
                                  float(rng.choice([0.0, 0.05, 1.0])), old_level=0.1 + 0.05 * rng.random(n)))
    for rules in ({"max": "600ms"}, {"max_ratio": 1.3}, {"max_increase": "40ms", "min_requests": 300}):
        spec = parse_policy({"semantics": "argo", "metric": "latency", "quantile": "p99", **rules})
        values = [cohort_values("latency", w, "p99") for w in windows]
        requests = np.array([int(w.new_requests.sum()) for w in windows])
        success, breach = classify(spec, requests, np.array([v[0] for v in values]), np.array([v[1] for v in values]))
        for j, w in enumerate(windows):
            result = measure(spec, w).result
            assert result == measure_totals(spec, int(requests[j]), *values[j]).result
            assert (success[j], breach[j]) == (result == "success", result == "breach")
        assert breach.any() and success.any()


@pytest.mark.parametrize("name", sorted(QUANTILES))
def test_measures_give_the_new_cohorts_quantile_to_argo_conditions(name):
    w = new_window([400, 600], [0.12, 0.12], [0.02, 0.02], 2.0)
    assert measure_value(f"latency_{name}", w) == w.latency_quantile("new", name)
    limit = w.latency_quantile("new", name) * 1.01
    spec = parse_policy({"semantics": "argo", "measure": f"latency_{name}", "failure_condition": f"result[0] > {limit}"})
    assert spec.metric == "latency"
    assert check(spec, start(spec), w)[1].final is False
    spec = parse_policy({"semantics": "argo", "measure": f"latency_{name}", "failure_condition": f"result[0] > {limit / 1.02}"})
    assert check(spec, start(spec), w)[1].outcome == "fail"


# --- hostile inputs


@pytest.mark.parametrize("shape", [0, -1, 0.001, 3.5, 1e300, "wide"])
def test_a_shape_out_of_bounds_is_refused(shape):
    with pytest.raises(ValidationError, match="latency_shape"):
        Traffic(latency_shape=shape)


@pytest.mark.parametrize("gate, message", [
    ({"metric": "error_rate", "quantile": "p99", "max": "1%"}, "quantile needs metric: latency"),
    ({"metric": "latency", "quantile": "p90", "max": "1s"}, "p50"),
    ({"semantics": "argo", "measure": "latency", "quantile": "p99", "failure_condition": "result[0] > 1"},
     "use measure latency_p99"),
    ({"semantics": "kayenta", "metric": "latency", "quantile": "p99"}, "quantile"),
])
def test_a_quantile_where_it_has_no_meaning_is_refused(gate, message):
    with pytest.raises(ValidationError, match=message):
        parse_policy(gate)


def test_extreme_inputs_stay_finite_and_ordered():
    for shape in (0.01, 3.0):
        for added, share in ((600.0, 1e-6), (1e-9, 0.5), (0.0, 0.0)):
            got = [latency_quantile([10**9, 1], [1e-6 + share * added, 60.0], q, shape, [share, 0.0], added)
                   for q in (0.5, 0.95, 0.99)]
            assert all(math.isfinite(g) and g > 0 for g in got) and got[0] <= got[1] <= got[2]
    # a mean under its affected part (rounding, or a history's odd row): the level floors at 1 ns
    assert latency_quantile([100], [0.01], 0.5, 0.6, [1.0], 0.02) == pytest.approx(0.02, rel=1e-6)


# --- releases: the series carry the model's inputs; both engines agree; a backtest spreads its history's mean


def test_a_releases_windows_carry_the_bad_builds_affected_share():
    scenario = release_scenario(
        [{"set_weight": 50}, {"pause": "10m"}, {"set_weight": 100}],
        build={"bad_probability": 1.0, "bad": {"added_latency": "200ms", "affected_share": "10%"}},
        traffic={"latency_shape": 0.8})
    metrics = simulate_per_check(scenario, 0, 7).metrics
    assert (metrics.added_latency, metrics.latency_shape) == (0.2, 0.8)
    assert metrics.new_affected.max() == pytest.approx(0.1) and metrics.new_affected.min() == 0.0
    w = window_between(metrics, 0.0, float(metrics.time[-1]))
    assert np.array_equal(w.new_affected, metrics.new_affected)
    level = w.new_latency - w.new_affected * 0.2
    served = w.new_requests > 0
    expected = exact_quantile(w.new_requests[served], level[served], 0.99, 0.8, w.new_affected[served], 0.2)
    assert w.latency_quantile("new", "p99") == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("history", [False, True])
def test_both_engines_agree_on_quantile_gates(history):
    steps = [{"stage": "dogfood"}, {"set_weight": 5}, {"analysis": {"gates": ["p99", "p95"], "duration": "10m"}},
             {"set_weight": 50}, {"analysis": {"gates": ["p99"], "duration": "5m"}}, {"set_weight": 100}]
    gates = {"p99": {"semantics": "threshold", "metric": "latency", "quantile": "p99", "max_increase": "40ms",
                     "consecutive": 2, "interval": "2m"},
             "p95": {"semantics": "argo", "measure": "latency_p95", "failure_condition": "result[0] > 0.33",
                     "failure_limit": 1},
             "p50": {"semantics": "flagger", "metric": "latency", "quantile": "p50", "max_ratio": 1.2, "threshold": 3}}
    traffic = {"dispersion": 0.1, "latency_noise": 0.1}
    if history:
        traffic["history"] = str(ROOT / "scenarios" / "data" / "history_example.csv")
    items = []
    for r in range(8):
        scenario = release_scenario(
            steps, gates=gates, background=["p50"], traffic=traffic,
            build={"bad_probability": 1.0 if r % 2 == 0 else 0.0,
                   "bad": {"added_latency": f"{10 * (r + 1)}ms", "affected_share": f"{10 + 10 * r}%"}},
            commander={"on_failure": "hotfix", "investigate": "5m"}, fleet={"tiers": {"canary": "5%", "dogfood": 10}})
        items.append((scenario, r))
    expected = check_engines_agree(items)
    assert any(d.metric == "latency" and d.outcome == "fail" for r in expected for d in r.decisions)


def test_a_backtest_spreads_its_historys_mean_latency_by_the_same_model():
    """The history has a mean latency per interval and no quantiles: each interval's requests are lognormal
    of shape traffic.latency_shape around it (the old cohort sees the history's own mean)."""
    scenario = release_scenario([{"set_weight": 50}, {"pause": "10m"}, {"set_weight": 100}], traffic={
        "history": str(ROOT / "scenarios" / "data" / "history_example.csv"), "latency_shape": 0.5})
    metrics = simulate_per_check(scenario, 0, 3).metrics
    k = int(np.flatnonzero(metrics.old_requests > 0)[-1])
    w = window_between(metrics, float(metrics.time[k] - 1), float(metrics.time[k]))
    assert w.intervals == 1
    assert w.latency_quantile("old", "p99") == pytest.approx(
        stats.lognorm.ppf(0.99, 0.5, scale=float(metrics.old_latency[k]) * math.exp(-0.125)), rel=1e-12)
