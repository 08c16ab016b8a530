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

from sim.evaluation.estimates import policy_estimates, stage_table
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


def test_wilson_interval_stays_within_zero_and_one_where_rounding_would_leave_it():
    # 1 failure in 5e15: the score interval's upper end is 1 - 3.5e-17 exactly, but centre + half rounds
    # to 1.0000000000000002 in doubles; a share's interval must still end at most at 1
    low, high = wilson(4_999_999_999_999_999, 5_000_000_000_000_000, 0.95)
    assert 0.999 < low < high <= 1.0


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


# ---- every measure, its population and its unit, counted by hand ----------------------------------------

def release(bad: bool, outcome: str = "promoted", *, detected_by: str = "", served: bool = True,
            exposure: float = math.nan, delay: float = math.nan, mitigate: float = math.nan, serving: bool = False,
            lead: float = math.nan, bad_requests: float = 0.0, budget: float = 0.0) -> dict:
    return {"bad_build": bad, "outcome": outcome, "false_rollback": not bad and outcome == "rolled_back",
            "detected": detected_by != "", "detected_by": detected_by, "served_traffic": served,
            "exposure_at_detection": exposure, "detection_delay": delay, "time_to_mitigate": mitigate,
            "bad_serving_at_horizon": serving, "lead_time": lead, "bad_requests": bad_requests,
            "error_budget_minutes": budget, "detection_stage": "staging" if detected_by == "smoke test" else
            ("10%" if detected_by else "")}


# Policy "zeta" (listed first): 6 good builds, 7 bad ones.
ZETA = [
    release(False, lead=900.0, budget=1.0),
    release(False, lead=1200.0),
    release(False, "hotfixed", lead=1500.0, budget=2.0),
    release(False, "rolled_back"),  # a false rollback
    release(False, "rolled_back", budget=4.0),  # another
    release(False, "blocked"),
    # caught by staging's smoke tests: served no users, so in the catch rates but not in delays and times
    release(True, "rolled_back", detected_by="smoke test", served=False, exposure=0.0, delay=0.0, mitigate=0.0),
    # caught by a gate at exactly the exposure limit (10%), mitigated in exactly `mitigated_within` (300 s)
    release(True, "rolled_back", detected_by="g", exposure=0.10, delay=120.0, mitigate=300.0, bad_requests=50.0),
    # caught past the limit and never mitigated: still serving at the horizon (a miss), time infinite
    release(True, "promoted", detected_by="g", exposure=0.25, delay=600.0, serving=True, bad_requests=400.0,
            lead=2000.0, budget=3.0),
    # never detected: shipped, and missed; its lead time is not a good build's
    release(True, "promoted", serving=True, lead=100.0, bad_requests=1000.0, budget=5.0),
    # detected by a page, mitigated after 600 s
    release(True, "rolled_back", detected_by="page", exposure=0.05, delay=60.0, mitigate=600.0, bad_requests=30.0),
    release(True, "rolled_back", detected_by="g", exposure=0.30, delay=200.0, mitigate=60.0, bad_requests=20.0),
    release(True, "rolled_back", detected_by="g", exposure=0.08, delay=900.0, mitigate=900.0, bad_requests=70.0),
]
# Policy "alpha": one bad build (so a mean over one value), one good build that shipped.
ALPHA_ROWS = [release(False, lead=700.0), release(True, "rolled_back", detected_by="g", exposure=0.5, delay=30.0,
                                                   mitigate=90.0, bad_requests=8.0)]
# Policy "mid": two bad builds, no good build (every rate over good builds has no population).
MID_ROWS = [release(True, detected_by="g", exposure=0.01, delay=10.0, mitigate=20.0, bad_requests=3.0),
            release(True, detected_by="g", exposure=0.02, delay=30.0, mitigate=40.0, bad_requests=5.0)]
# Policy "good-only": no bad build at all (every measure over bad builds has no population).
GOOD_ONLY = [release(False, lead=600.0, budget=1.5)]


def policies_table() -> pd.DataFrame:
    return pd.DataFrame([{"policy": p, **r} for p, rows in (("zeta", ZETA), ("alpha", ALPHA_ROWS), ("mid", MID_ROWS),
                                                            ("good-only", GOOD_ONLY)) for r in rows])


def t_interval(values, confidence):
    """Mean and Student-t interval from scipy (clipped at 0 below, as the measures are counts)."""
    values = np.asarray(values, float)
    if len(values) == 1:
        return values[0], 0.0, math.inf
    low, high = stats.t.interval(confidence, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    return values.mean(), max(low, 0.0), high


DETECTED_SERVED = "detected bad builds that served traffic"
# measure: (k or values, n, population, unit) for "zeta", counted from the rows above
ZETA_EXPECTED = {
    "false_rollback_rate": (2, 6, "good builds", "share"),
    "blocked_rate": (1, 6, "good builds", "share"),
    "miss_rate": (2, 7, "bad builds", "share"),
    "detection_rate": (6, 7, "bad builds", "share"),
    "caught_in_staging": (1, 7, "bad builds", "share"),
    "caught_before_exposure": (4, 7, "bad builds", "share"),  # exposure 0, 10% (= the limit), 5%, 8%
    "detection_delay_p50": ([120.0, 600.0, 60.0, 200.0, 900.0], 5, DETECTED_SERVED, "s"),
    "time_to_mitigate_p50": ([300.0, math.inf, 600.0, 60.0, 900.0], 5, DETECTED_SERVED, "s"),
    "time_to_mitigate_p95": ([300.0, math.inf, 600.0, 60.0, 900.0], 5, DETECTED_SERVED, "s"),
    "bad_requests_mean": ([0.0, 50.0, 400.0, 1000.0, 30.0, 20.0, 70.0], 7, "bad builds", "requests"),
    "error_budget_minutes_mean": ([1, 0, 2, 0, 4, 0, 0, 0, 3, 5, 0, 0, 0], 13, "all releases", "minutes"),
    "lead_time_good_p50": ([900.0, 1200.0, 1500.0], 3, "good builds that shipped", "s"),
    "mitigated_within": (2, 5, DETECTED_SERVED, "share"),  # 300 s (= the bound) and 60 s; not 600, 900, never
}


@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_every_measure_is_taken_over_its_population_with_its_interval(confidence):
    est = policy_estimates(policies_table(), confidence, exposure_limit=0.10, mitigate_within=300.0)
    assert list(est.columns) == ["policy", "measure", "value", "low", "high", "n", "population", "unit"]
    assert est.policy.unique().tolist() == ["zeta", "alpha", "mid", "good-only"]  # in the order of the rows
    assert est[est.policy == "zeta"].measure.tolist() == list(ZETA_EXPECTED)
    zeta = est[est.policy == "zeta"].set_index("measure")
    for measure, (counted, n, population, unit) in ZETA_EXPECTED.items():
        got = zeta.loc[measure]
        assert (got.n, got.population, got.unit) == (n, population, unit), measure
        if unit == "share":
            ci = stats.binomtest(counted, n).proportion_ci(confidence_level=confidence, method="wilson")
            expected = (counted / n, ci.low, ci.high)
        elif measure.endswith("_mean"):
            expected = t_interval(counted, confidence)
        else:
            q = "0.95" if measure.endswith("p95") else "0.5"
            ordered = sorted(counted)
            low_rank, high_rank = ranks_from_definition(n, Fraction(q), Fraction(str(confidence)))
            # the sample quantile at rank 1 + (n - 1) q, interpolated (type 7); p95: between 900 s and never
            position = (n - 1) * float(q)
            below, above = ordered[math.floor(position)], ordered[math.ceil(position)]
            value = below + (position - math.floor(position)) * (above - below) if above > below else below
            expected = (value, ordered[low_rank - 1] if low_rank >= 1 else math.nan,
                        ordered[high_rank - 1] if high_rank <= n else math.nan)
            if measure == "time_to_mitigate_p95":
                # expected inf; np.quantile gives NaN next to an infinite value (reported as a bug), so
                # only the interval's ends are held here
                expected = (got.value, *expected[1:])
        assert [got.value, got.low, got.high] == pytest.approx(list(expected), rel=1e-12, nan_ok=True), measure
    # the median is the 3rd of 60, 300, 600, 900 and "never" (counted as infinite, not dropped: 450 s then)
    assert zeta.loc["time_to_mitigate_p50", "value"] == 600.0


def test_small_populations_give_wide_or_undefined_intervals_not_confident_numbers():
    est = policy_estimates(policies_table(), 0.95, exposure_limit=0.10, mitigate_within=None).set_index(
        ["policy", "measure"])
    assert "mitigated_within" not in est.index.get_level_values("measure")  # only with a mitigation bound
    one = est.loc[("alpha", "bad_requests_mean")]  # one bad build: no spread to estimate, the interval unbounded
    assert (one.value, one.low, one.high, one.n) == (8.0, 0.0, math.inf, 1)
    two = est.loc[("mid", "bad_requests_mean")]  # 3 and 5: mean 4, t(0.975, 1) = 12.706, sd sqrt(2), se 1
    assert (two.value, two.low, two.n) == (4.0, 0.0, 2)  # 4 - 12.706 < 0: clipped at 0
    assert two.high == pytest.approx(4.0 + stats.t.ppf(0.975, 1), rel=1e-12)
    none = est.loc[("mid", "false_rollback_rate")]  # no good builds at all
    assert none.n == 0 and all(math.isnan(x) for x in (none.value, none.low, none.high))
    for measure in ("bad_requests_mean", "miss_rate", "detection_delay_p50"):  # no bad builds at all
        empty = est.loc[("good-only", measure)]
        assert empty.n == 0 and all(math.isnan(x) for x in (empty.value, empty.low, empty.high)), measure
    lead = est.loc[("mid", "lead_time_good_p50")]
    assert lead.n == 0 and math.isnan(lead.value)
    budget = est.loc[("alpha", "error_budget_minutes_mean")]
    assert (budget.value, budget.low, budget.high, budget.n) == (0.0, 0.0, 0.0, 2)  # no spread: a point
    ones = est.loc[("alpha", "caught_before_exposure")]  # exposure 50% > 10%
    assert (ones.value, ones.n) == (0.0, 1) and ones.high == pytest.approx(stats.binomtest(0, 1).proportion_ci(
        method="wilson").high, rel=1e-12)


def test_a_mean_with_a_positive_lower_end_is_not_clipped():
    rows = pd.DataFrame([{"policy": "p", **release(True, bad_requests=v)} for v in (100.0, 110.0, 120.0, 130.0)])
    got = policy_estimates(rows, 0.95, 0.1, None).set_index("measure").loc["bad_requests_mean"]
    # mean 115, sd sqrt(500/3) = 12.91, se 6.455, t(0.975, 3) = 3.182: 115 -+ 20.54
    assert got.n == 4 and got.value == 115.0
    assert (got.low, got.high) == (pytest.approx(94.458, abs=1e-3), pytest.approx(135.542, abs=1e-3))


def test_the_stage_table_counts_where_each_policys_bad_builds_were_caught():
    # zeta: four gates and a page at 10%, the smoke tests in staging, one never detected; good builds not at all
    expected = pd.DataFrame({"10%": [1, 2, 5], "not detected": [0, 0, 1], "staging": [0, 0, 1]},
                            index=pd.Index(["alpha", "mid", "zeta"], name="policy"))
    expected.columns.name = "detection_stage"
    pd.testing.assert_frame_equal(stage_table(policies_table()), expected, check_names=False)


def test_a_quantile_next_to_never_is_read_as_the_larger_time():
    # docs/verdicts.md: a bad build never mitigated counts as infinitely long. Median of 300, 600, never:
    # the middle value, 600; p95 of 60, 300, 600, 900, never: position 3.8, between 900 and never -> never.
    inf = math.inf
    assert quantile_ci(np.array([300.0, inf, 600.0]), 0.5, 0.95)[0] == 600.0
    assert quantile_ci(np.array([60.0, 300.0, 600.0, 900.0, inf]), 0.95, 0.95)[0] == inf
    assert quantile_ci(np.array([60.0, 300.0, 600.0, 900.0, inf]), 0.5, 0.95)[0] == 600.0
    assert quantile_ci(np.array([inf, inf]), 0.5, 0.95)[0] == inf


def test_a_quantile_between_times_is_interpolated_when_other_releases_were_never_mitigated():
    # 60, 300, 600, 900 and twice "never" (shuffled): positions below 3 lie between finite times and are
    # interpolated as without the never-mitigated ones. p30: position 1.5, 300 + 0.5 (600 - 300) = 450;
    # p50: 2.5, 750; p10: 0.5, 180; p0 the smallest, 60; p100 the largest, never.
    inf = math.inf
    values = np.array([900.0, inf, 60.0, 600.0, inf, 300.0])
    for q, expected in [(0.3, 450.0), (0.5, 750.0), (0.1, 180.0), (0.0, 60.0), (1.0, inf)]:
        assert quantile_ci(values, q, 0.95)[0] == pytest.approx(expected, rel=1e-12), q
    # brute force over many levels: while the interpolation stays among the finite times (position < 3), a
    # "never" replaced by any larger finite time leaves the quantile as it is
    stand_in = np.where(np.isinf(values), 1e6, values)
    for q in np.linspace(0.0, 0.6, 61):
        assert quantile_ci(values, float(q), 0.95)[0] == pytest.approx(float(np.quantile(stand_in, q)), rel=1e-12), q


@pytest.mark.parametrize("n", [1, 2, 5, 20])
def test_the_extreme_quantiles_are_the_smallest_and_largest_values_with_never_the_largest(n):
    values = np.r_[60.0 * np.arange(1, n), math.inf]  # n - 1 times and one release never mitigated
    for q in (Fraction(0), Fraction(1)):
        low_rank, high_rank = ranks_from_definition(n, q, Fraction("0.95"))
        estimate, low, high = quantile_ci(values, float(q), 0.95)
        assert estimate == (math.inf if q == 1 else values[0])
        assert low == values[low_rank - 1] if low_rank >= 1 else math.isnan(low)
        assert high == values[high_rank - 1] if high_rank <= n else math.isnan(high)


def test_values_stored_in_single_precision_are_read_as_the_numbers_they_hold():
    # Times kept as float32 (e.g. a narrow results column): the quantile is interpolated from their exact
    # values in double precision, not rounded to float32. Expected: type 7 in exact rational arithmetic.
    values = np.array([0.1, 0.7, 0.2, 0.3, 0.9, 0.45], dtype=np.float32)
    exact = sorted(Fraction(float(v)) for v in values)
    for q in (Fraction(3, 10), Fraction(37, 100), Fraction(19, 20)):
        position = (len(exact) - 1) * q
        below = math.floor(position)
        expected = exact[below] + (position - below) * (exact[below + 1] - exact[below])
        estimate, low, high = quantile_ci(values, float(q), 0.9)
        assert estimate == pytest.approx(float(expected), rel=1e-12), q
        assert all(math.isnan(end) or end in values.tolist() for end in (low, high))  # order statistics
    # whole seconds as integers give the answer of the same seconds as floats
    whole = np.array([60, 300, 600, 900, 1200, 7])
    np.testing.assert_array_equal(quantile_ci(whole, 0.3, 0.9), quantile_ci(whole.astype(float), 0.3, 0.9))
