"""The reported intervals against oracles that share no code with `sim.evaluation.estimates`.

Wilson (score interval, no continuity correction): against scipy's `binomtest(...).proportion_ci(
method="wilson")` (the same definition: scipy's "wilsoncc" is the continuity-corrected one), against the
closed forms at 0 and n successes, and against published values (Newcombe 1998, Stat. Med. 17:857,
table I, method 3). Order-statistic intervals for quantiles: against a binomial computation written
here from the definition, in exact rational arithmetic, and against textbook ranks for the median.
"""

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.evaluation.estimates import policy_estimates
from sim.rollout.summary import distribution
from sim.stats.intervals import quantile_ci, wilson

LEVELS = [0.80, 0.90, 0.95, 0.99]
COUNTS = [(0, 1), (1, 1), (0, 2), (1, 2), (0, 10), (3, 10), (10, 10), (0, 138), (1, 29), (15, 148), (81, 263),
          (999, 1000), (500, 1000)]


def z_two_sided(confidence: float) -> float:
    return float(stats.norm.isf((1 - confidence) / 2))


@pytest.mark.parametrize("confidence", LEVELS)
@pytest.mark.parametrize(("k", "n"), COUNTS)
def test_wilson_equals_scipys_wilson_score_interval(k, n, confidence):
    expected = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    low, high = wilson(k, n, confidence)
    assert low == pytest.approx(float(expected.low), abs=1e-12)
    assert high == pytest.approx(float(expected.high), abs=1e-12)


@pytest.mark.parametrize("confidence", LEVELS)
@pytest.mark.parametrize("n", [1, 2, 7, 138, 5000])
def test_wilson_at_no_and_all_successes_is_the_closed_form(n, confidence):
    # With p = 0 the score interval is [0, z^2 / (n + z^2)]; with p = 1 it is [n / (n + z^2), 1].
    z2 = z_two_sided(confidence) ** 2
    assert wilson(0, n, confidence) == (0.0, pytest.approx(z2 / (n + z2), rel=1e-12))
    assert wilson(n, n, confidence) == (pytest.approx(n / (n + z2), rel=1e-12), 1.0)


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    (81, 263, 0.2553, 0.3662),  # Newcombe 1998, table I, method 3 (score, no continuity correction)
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
    (0, 138, 0.0, 0.0271),  # 0 of 138: 1.96^2 / (138 + 1.96^2) = 2.71% (the Wald centre would give 1.35%)
    (0, 1, 0.0, 0.7935),  # 1.96^2 / (1 + 1.96^2)
])
def test_wilson_95_matches_published_values(k, n, low, high):
    got = wilson(k, n, 0.95)
    assert got == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_wilson_of_no_trials_is_undefined():
    assert all(math.isnan(x) for x in wilson(0, 0, 0.95))


def test_a_wider_confidence_level_gives_a_wider_interval():
    # 90% must sit strictly inside 95%: an interval reported as 95% with the one-sided z (1.645) is the 90% one
    for k, n in [(0, 138), (3, 10), (81, 263)]:
        l90, h90 = wilson(k, n, 0.90)
        l95, h95 = wilson(k, n, 0.95)
        assert h90 < h95 and (l95 < l90 or k == 0)


# ---- order statistics ---------------------------------------------------------------------------------

def ranks_from_definition(n: int, q: Fraction, confidence: Fraction) -> tuple[int, int]:
    """1-based ranks (l, u) of the distribution-free interval [X_(l), X_(u)] for the q-quantile xi.

    B = #{X_i < xi} ~ Binomial(n, q). P(X_(l) > xi) = P(B < l), so the lower end is the highest rank with
    P(B < l) < alpha/2; P(X_(u) < xi) = P(B >= u), so the upper end is the lowest rank with
    P(B >= u) <= alpha/2. Rank 0 (no lower bound) and rank n + 1 (no upper bound) mean unbounded."""
    half = (1 - confidence) / 2
    pmf = [math.comb(n, j) * q**j * (1 - q) ** (n - j) for j in range(n + 1)]  # exact rationals
    below = [Fraction(0)]  # below[r] = P(B < r)
    for mass in pmf:
        below.append(below[-1] + mass)
    low = max(r for r in range(n + 1) if below[r] < half)
    high = min([u for u in range(1, n + 1) if 1 - below[u] <= half], default=n + 1)
    return low, high


CASES = [(n, q, c) for n in (1, 2, 5, 6, 7, 10, 11, 19, 20, 30, 59, 100, 250)
         for q in ("0.5", "0.05", "0.95", "0.25") for c in ("0.95", "0.9", "0.99")]


@pytest.mark.parametrize(("n", "q", "confidence"), CASES)
def test_quantile_interval_ends_are_the_order_statistics_the_binomial_gives(n, q, confidence):
    # Values in shuffled order whose sorted k-th value (1-based) is 10 k, so each end names its rank.
    values = np.random.default_rng(n).permutation(10.0 * np.arange(1, n + 1))
    low_rank, high_rank = ranks_from_definition(n, Fraction(q), Fraction(confidence))
    estimate, low, high = quantile_ci(values, float(q), float(confidence))
    assert low == 10 * low_rank if low_rank >= 1 else math.isnan(low)
    assert high == 10 * high_rank if high_rank <= n else math.isnan(high)
    # the estimate is the linearly interpolated sample quantile (type 7): at rank 1 + (n - 1) q
    assert estimate == pytest.approx(10 * (1 + (n - 1) * float(q)), rel=1e-12)


@pytest.mark.parametrize(("n", "low_rank", "high_rank"), [
    (5, None, None),  # P(all 5 on one side) = 1/32 > 2.5%: no 95% interval for the median from 5 values
    (6, 1, 6),  # 1 - 2/64 = 96.9%
    (10, 2, 9),  # 97.9%
    (20, 6, 15),  # 95.9%
    (100, 40, 61),  # 96.5%
])
def test_median_95_interval_has_the_textbook_ranks(n, low_rank, high_rank):
    # e.g. Conover, Practical Nonparametric Statistics, 3rd ed., section 3.2 (the quantile test)
    _, low, high = quantile_ci(np.arange(1.0, n + 1), 0.5, 0.95)
    assert (math.isnan(low) if low_rank is None else low == low_rank)
    assert (math.isnan(high) if high_rank is None else high == high_rank)


@pytest.mark.parametrize("n", [6, 10, 20, 37, 100])
def test_quantile_interval_agrees_with_scipys_quantile_test(n):
    values = np.random.default_rng(3).lognormal(5, 1, n)
    for q in (0.5, 0.95):
        ci = stats.quantile_test(values, q=0, p=q).confidence_interval(0.95)
        _, low, high = quantile_ci(values, q, 0.95)
        np.testing.assert_array_equal([low, high], [ci.low, ci.high])


def test_quantile_interval_of_no_values_is_undefined():
    assert all(math.isnan(x) for x in quantile_ci(np.array([]), 0.5, 0.95))


# ---- the tables that report them ------------------------------------------------------------------------

def releases(good: int, rolled_back: int, bad: int, detected: int, delays) -> pd.DataFrame:
    """A table of release rows: `good` good builds of which `rolled_back` were rolled back; `bad` bad
    builds of which `detected` were detected (with these detection delays, after serving traffic)."""
    n = good + bad
    bad_build = np.r_[np.zeros(good, bool), np.ones(bad, bool)]
    detected_mask = np.r_[np.zeros(good, bool), np.ones(detected, bool), np.zeros(bad - detected, bool)]
    delay = np.full(n, np.nan)
    delay[good:good + detected] = delays
    return pd.DataFrame({
        "policy": "p", "bad_build": bad_build,
        "outcome": np.where(np.r_[np.arange(good) < rolled_back, detected_mask[good:]], "rolled_back", "promoted"),
        "false_rollback": np.r_[np.arange(good) < rolled_back, np.zeros(bad, bool)],
        "detected": detected_mask, "served_traffic": True, "detected_by": np.where(detected_mask, "g", ""),
        "bad_serving_at_horizon": bad_build & ~detected_mask, "detection_delay": delay,
        "time_to_mitigate": np.where(detected_mask, 5.0, np.nan), "lead_time": np.where(bad_build, np.nan, 900.0),
        "exposure_at_detection": np.where(detected_mask, 0.05, np.nan), "bad_requests": np.where(bad_build, 10.0, 0),
        "error_budget_minutes": 0.0, "peak_bad_share": np.where(bad_build, 0.05, 0.0),
    })


@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_policy_estimates_report_scipys_intervals_at_the_evaluations_confidence(confidence):
    delays = 60.0 * np.arange(1, 21)  # 20 detected bad builds, delays 60 s .. 1200 s
    rows = releases(good=138, rolled_back=0, bad=29, detected=20, delays=delays)
    est = policy_estimates(rows, confidence, exposure_limit=0.1, mitigate_within=None).set_index("measure")
    for measure, k, n in [("false_rollback_rate", 0, 138), ("detection_rate", 20, 29), ("miss_rate", 9, 29)]:
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
        assert (est.loc[measure, "low"], est.loc[measure, "high"]) == (pytest.approx(ci.low, abs=1e-12),
                                                                       pytest.approx(ci.high, abs=1e-12))
        assert est.loc[measure, "n"] == n
    low_rank, high_rank = ranks_from_definition(20, Fraction(1, 2), Fraction(str(confidence)))
    p50 = est.loc["detection_delay_p50"]
    assert (p50.value, p50.low, p50.high) == (630.0, 60.0 * low_rank, 60.0 * high_rank)  # 0.95: X_(6), X_(15)


def test_the_outcome_distribution_reports_wilson_95_intervals():
    rows = releases(good=138, rolled_back=3, bad=10, detected=7, delays=np.arange(1.0, 8))
    table = distribution(rows).set_index("measure")
    for measure, k, n in [("false_rollback", 3, 138), ("detected", 7, 10), ("bad_serving_at_horizon", 3, 10),
                          ("outcome: promoted", 135 + 3, 148)]:
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert table.loc[measure, "value"] == pytest.approx(k / n)
        assert (table.loc[measure, "low"], table.loc[measure, "high"]) == (pytest.approx(ci.low, abs=1e-12),
                                                                           pytest.approx(ci.high, abs=1e-12))
