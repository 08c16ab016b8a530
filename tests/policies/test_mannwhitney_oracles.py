"""Mann-Whitney shift interval and classifier (sim/policies/mannwhitney.py) against independent oracles.

- R's `wilcox.test(conf.int=TRUE, exact=FALSE, correct=TRUE)` intervals published in Kayenta's own
  test suite (spinnaker/kayenta `kayenta-mannwhitney/src/test/scala/.../MannWhitneySuite.scala`, tests
  "tie out with R version", "... again" and "tie out intermediate variables"). R's uniroot and
  Kayenta's `brentDirect` are the same zeroin, so the roots agree to the last digits, not just to the
  solver's 1e-4 tolerance: every step of the inverse interpolation is visible in them.
- Brute force over all pairwise differences x_i - y_j: the rank statistic is a step function that only
  jumps there, so each root lies within the solver tolerance of one pairwise difference, the estimate
  of the median difference (Hodges-Lehmann), and the interval of the differences where the tie- and
  continuity-corrected normal statistic crosses -/+ z.
- scipy.stats.mannwhitneyu for the p-value; Kayenta's MannWhitneyClassifier for the labels.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

T1_EXPERIMENT = np.array([
    2.5, 2.5, 2.0, 2.5, 3.5, 2.0, 3.5, 1.5, 3.0, 3.0, 2.5, 3.5, 2.0, 2.5, 2.0, 2.0, 5.0, 3.0, 2.0, 1.5, 2.0,
    4.0, 3.0, 2.5, 3.0, 2.0, 2.0, 2.0, 2.5, 3.5, 1.5, 1.5, 3.5, 2.0, 2.5, 2.5, 3.0, 3.5, 2.5, 6.5, 2.5, 4.0,
    2.5, 3.0, 2.5, 6.5, 2.5, 3.0, 1.5, 2.0, 2.5, 3.0, 7.5, 1.5, 2.0, 4.0, 2.5, 2.0, 2.5, 3.5, 4.0, 2.5, 3.0,
    2.5, 2.0, 3.5, 3.0, 16.5, 3.0, 3.0, 7.0, 4.5, 5.0, 2.0, 3.5, 6.0, 1.5, 3.0, 2.5, 4.0, 3.0, 1.5, 5.0, 3.0,
    2.5, 5.5, 3.0, 1.5, 2.5, 6.0,
])
T1_CONTROL = np.array([
    1.5, 6.0, 5.0, 2.5, 2.5, 2.0, 2.0, 3.5, 3.0, 3.0, 3.0, 2.0, 3.0, 8.0, 4.0, 2.5, 3.0, 2.5, 2.5, 2.0, 2.5,
    2.0, 2.0, 2.5, 3.5, 3.0, 1.5, 5.0, 2.5, 5.5, 2.0, 2.5, 3.5, 2.0, 2.5, 4.0, 2.0, 2.0, 2.0, 2.0, 5.5, 4.5,
    4.0, 3.0, 3.0, 3.5, 2.5, 3.0, 2.5, 4.0, 6.0, 2.0, 5.0, 6.0, 3.5, 3.0, 54.5, 3.0, 5.0, 6.0, 3.5, 4.5, 2.5,
    2.0, 6.0, 5.0, 2.5, 3.5, 2.0, 3.0, 2.5, 3.5, 3.5, 2.5, 3.0, 4.5, 3.0, 15.5, 5.0, 2.5, 3.0, 4.0, 3.5, 4.0,
    4.0, 2.0, 4.5, 2.5, 4.0, 3.0,
])
T2_EXPERIMENT = np.array([
    1.5, 2.0, 5.0, 1.5, 1.5, 8.5, 1.0, 1.0, 2.0, 1.0, 1.5, 0.5, 2.0, 1.5, 2.0, 1.5, 1.0, 2.5, 1.5, 1.5, 2.0,
    1.5, 1.5, 1.5, 2.0, 2.0, 1.0, 5.5, 1.5, 2.0, 1.5, 1.5, 1.0, 2.5, 1.0, 2.0, 1.5, 1.5, 2.0, 2.0, 1.5, 1.5,
    1.0, 1.0, 2.0, 0.5, 1.5, 0.5, 3.5, 1.5, 3.0, 19.0, 0.5, 1.5, 0.5, 1.5, 2.0, 1.5, 1.5, 1.5, 1.5, 2.0, 1.5,
    2.0, 2.0, 1.5, 1.0, 1.5, 1.0, 2.0, 1.0, 2.0, 1.5, 1.5, 3.0, 2.0, 1.5, 1.5, 0.5, 2.0, 1.5, 1.0, 2.0, 1.0,
    1.0, 2.0, 1.0, 2.0, 1.5, 1.0, 1.0, 2.0, 1.5, 1.5, 1.5, 0.5, 1.5, 1.5, 0.5, 1.0, 1.5, 1.5, 1.5, 1.0, 2.0,
    2.0, 2.0, 1.5, 1.0, 1.5, 1.0, 1.0, 1.5, 3.5, 2.0, 1.5, 1.0, 2.0, 1.5, 5.5, 0.5, 2.0, 3.5, 1.5, 1.0, 2.0,
    0.5, 2.5, 1.0, 1.5, 0.5, 2.0, 2.0, 1.0, 0.5, 1.5, 1.0, 1.5, 0.5, 0.5, 1.0, 1.5, 1.0, 1.5, 0.5, 1.5, 1.0,
    1.0, 0.5, 1.0, 0.5, 4.0, 1.0, 1.5, 2.0, 5.5, 1.5, 0.5, 2.0, 1.0, 1.5, 1.0, 1.5, 1.5, 1.0, 1.5, 1.5, 1.5,
    1.5, 1.5, 1.5, 2.0, 0.5, 1.5, 1.0, 2.0, 1.0, 1.0, 0.5, 1.0,
])
T2_CONTROL = np.array([
    1.5, 1.5, 1.0, 2.0, 1.5, 1.5, 1.5, 2.0, 1.0, 1.0, 2.0, 1.5, 1.5, 1.0, 1.5, 1.5, 1.5, 1.5, 1.5, 2.0, 1.0,
    1.5, 3.0, 2.0, 1.0, 1.5, 1.5, 1.5, 2.0, 1.5, 1.0, 1.0, 1.5, 2.5, 2.0, 0.0, 1.0, 2.0, 2.0, 1.5, 3.0, 2.0,
    1.0, 2.5, 0.5, 1.5, 0.5, 2.5, 2.0, 1.5, 1.5, 2.0, 1.0, 4.5, 2.5, 0.5, 2.5, 1.5, 1.5, 1.0, 2.0, 1.0, 2.5,
    1.5, 2.0, 1.5, 3.0, 1.5, 1.5, 1.5, 1.5, 2.0, 1.0, 2.5, 1.0, 1.5, 2.5, 1.5, 2.5, 2.0, 1.5, 1.5, 1.5, 2.5,
    1.0, 7.5, 1.5, 3.0, 5.5, 1.0, 1.5, 2.0, 1.0, 1.5, 2.5, 2.5, 1.0, 1.0, 2.5, 1.5, 1.5, 3.0, 4.0, 1.0, 1.5,
    2.0, 1.5, 1.5, 1.5, 2.5, 1.5, 3.5, 2.5, 1.5, 2.0, 1.0, 4.0, 1.5, 1.0, 1.5, 2.5, 2.5, 2.0, 2.5, 1.5, 1.5,
    2.0, 1.0, 1.5, 2.0, 1.5, 1.0, 2.5, 1.5, 1.5, 2.0, 2.0, 1.0, 1.5, 2.5, 0.5, 2.0, 2.5, 2.0, 1.0, 2.0, 0.5,
    1.5, 1.0, 2.5, 1.0, 1.5, 1.0, 7.0, 1.0, 3.5, 1.5, 2.0, 1.5, 1.5, 2.0, 3.0, 1.5, 1.5, 2.0, 1.5, 2.0, 1.5,
    4.0, 2.0, 1.5, 1.5, 1.5, 1.5, 1.5, 0.5, 2.0, 1.0, 1.5, 0.5,
])
T3_EXPERIMENT = np.array([
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.6666666666666572, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    3.703703703703681, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.5625000000000142, 0.0, 0.0, 0.0, 0.0, 3.333333333333343,
    0.0, 1.7543859649122737, 0.0, 1.8518518518518476, 0.0, 0.0, 1.8518518518518476, 0.0, 0.0,
    1.5151515151515156, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.7857142857142776, 1.3333333333333286,
    0.0, 3.125000000000014, 1.9607843137255117, 1.4492753623188293, 2.439024390243887, 1.6393442622950687, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.6129032258064484, 1.9607843137255117, 1.5873015873015817, 0.0, 0.0,
    2.8169014084507182, 0.0, 0.0, 3.0303030303030454, 0.0, 0.0, 3.3898305084745743, 0.0, 0.0,
    1.234567901234584, 0.0, 0.0, 0.0, 0.0, 1.7241379310344769, 0.0, 0.0, 0.0, 0.0, 1.6949152542372872, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.470588235294116, 0.0, 0.0, 1.3698630136986196, 3.225806451612911,
    1.754385964912288, 3.4482758620689538, 0.0, 3.333333333333343, 0.0, 0.0, 0.0, 1.818181818181813, 0.0, 0.0,
    1.4285714285714448, 0.0, 0.0, 1.8867924528301927, 2.0000000000000284, 0.0, 0.0, 0.0, 2.985074626865682,
    0.0, 0.0, 1.6666666666666714, 0.0, 0.0, 1.5625, 1.9230769230769198, 0.0, 1.8518518518518619, 0.0,
    2.702702702702709, 0.0, 0.0, 0.0, 1.3513513513513544, 0.0, 1.818181818181813, 0.0, 1.6666666666666572, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.818181818181813, 0.0, 1.4285714285714164, 0.0, 0.0, 4.1095890410959015,
    0.0, 0.0, 0.0, 1.8518518518518619, 0.0, 0.0, 1.8518518518518476, 1.3888888888888857, 0.0, 0.0, 0.0, 0.0,
    1.8867924528301785, 1.4285714285714164, 0.0, 0.0, 1.5625, 1.8867924528301927, 0.0, 0.0, 0.0, 0.0,
    2.040816326530603, 1.818181818181813, 0.0, 0.0, 1.6393442622950687, 0.0, 1.7241379310344769,
    1.5151515151515156, 2.564102564102555, 0.0, 0.0, 0.0, 0.0, 5.555555555555557, 0.0, 0.0, 4.081632653061206,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.5714285714285836, 0.0, 2.040816326530603, 3.1746031746031633,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
])
T3_CONTROL = np.array([
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.5625000000000142, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0, 1.3888888888888857, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.5384615384615614, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.492537313432834, 0.0, 0.0, 0.0, 1.6949152542373014,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.470588235294116, 0.0, 0.0, 0.0, 0.0,
    1.754385964912288, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.8518518518518619, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.6393442622950687, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    1.7241379310344769, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0, 1.5873015873015817, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    1.492537313432834, 0.0, 0.0, 0.0, 3.124999999999986, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    1.492537313432834, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 2.9850746268656536, 0.0, 2.5000000000000284, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.7857142857142776, 0.0, 0.0, 0.0,
])

from sim.policies.mannwhitney import classify, shift_interval, wilcoxon_diff, zeroin

TOL = 1e-4          # zeroin's absolute tolerance: a root is within it of the jump it brackets
SLACK = TOL + 1e-9


# R's ci.lower and ci.upper, as printed in Kayenta's suite (x = experiment, y = control).
R_TIE_OUTS = {
    "tie out with R version": (T1_EXPERIMENT, T1_CONTROL, 0.95, -0.500002521696696, -3.486287505871302e-05),
    "tie out with R version again": (T2_EXPERIMENT, T2_CONTROL, 0.98, -0.4999173250549087, -6.912685789769486e-06),
    "tie out intermediate variables": (T3_EXPERIMENT, T3_CONTROL, 0.95, 3.521755377702165e-05, 2.02456461662334e-05),
}


@pytest.mark.parametrize("name", list(R_TIE_OUTS))
def test_shift_interval_ties_out_with_r_to_the_last_digits(name):
    """The interval ends sit on jumps of a step function (-0.5 and 0 here), and where inside the 1e-4
    tolerance zeroin stops depends on every interpolation step; R's numbers are matched to 1e-12.
    (R's ci.lower is the root at +z, so in the third case it is the larger number, as R prints it.)"""
    x, y, confidence, r_lower, r_upper = R_TIE_OUTS[name]
    lower, upper, _ = shift_interval(x, y, confidence)
    assert lower == pytest.approx(r_lower, abs=1e-12)
    assert upper == pytest.approx(r_upper, abs=1e-12)


def test_kayenta_estimate_and_intermediate_values_tie_out():
    """Kayenta's "tie out intermediate variables" asserts R's mumin/mumax, the standardized statistic
    at both ends for +/- z, and the estimate (Kayenta keeps the continuity correction in the estimate;
    R >= 4 drops it, which is why the suite only asserts this one estimate)."""
    x, y = T3_EXPERIMENT, T3_CONTROL
    z = 1.9599639845400536
    mu_min, mu_max = x.min() - y.max(), x.max() - y.min()
    assert mu_min == pytest.approx(-3.124999999999986, abs=1e-12)
    assert mu_max == pytest.approx(5.555555555555557, abs=1e-12)
    assert wilcoxon_diff(mu_min, z, x, y) == pytest.approx(17.090968923762254, abs=1e-9)
    assert wilcoxon_diff(mu_max, z, x, y) == pytest.approx(-20.997687930433106, abs=1e-9)
    assert wilcoxon_diff(mu_min, -z, x, y) == pytest.approx(21.01089689284236, abs=1e-9)
    assert wilcoxon_diff(mu_max, -z, x, y) == pytest.approx(-17.077759961353, abs=1e-9)
    assert shift_interval(x, y, 0.95)[2] == pytest.approx(2.6279243045155653e-05, abs=1e-12)


# ---------------------------------------------------------------- brute force over pairwise differences

def normal_statistic(mu, x, y):
    """Tie- and continuity-corrected standardized Mann-Whitney U of (x - mu) against y, by counting
    pairs (U = #{x_i - mu > y_j} + #ties / 2) instead of ranking."""
    nx, ny, n = len(x), len(y), len(x) + len(y)
    d = (x - mu)[:, None] - y[None, :]
    dz = (d > 0).sum() + 0.5 * (d == 0).sum() - nx * ny / 2
    _, ties = np.unique(np.concatenate([x - mu, y]), return_counts=True)
    sigma = np.sqrt(nx * ny / 12 * ((n + 1) - (ties**3 - ties).sum() / (n * (n - 1))))
    return (dz - np.sign(dz) * 0.5) / sigma


def closed_form_interval(x, y, confidence):
    """Without ties sigma is constant and U between two consecutive sorted differences D_(j), D_(j+1)
    is N - j (N = nx ny), so the statistic crosses +z at D_(ceil(N/2 - 1/2 - z sigma)) and -z at
    D_(ceil(N/2 + 1/2 + z sigma)) (Hollander & Wolfe's order-statistic interval, asymptotic critical
    value, continuity corrected), clipped to [D_(1), D_(N)]. The estimate (statistic = 0) is the
    median difference: for even N anywhere in [D_(N/2), D_(N/2+1)]; for odd N the correction makes
    the statistic 0 on both gaps next to the median, [D_((N-1)/2), D_((N+3)/2)]."""
    from scipy.stats import norm
    d = np.sort((x[:, None] - y[None, :]).ravel())
    n, sigma = len(d), np.sqrt(len(x) * len(y) * (len(x) + len(y) + 1) / 12)
    z = norm.ppf(1 - (1 - confidence) / 2)
    k_lower = int(np.clip(np.ceil(n / 2 - 0.5 - z * sigma), 1, n))
    k_upper = int(np.clip(np.ceil(n / 2 + 0.5 + z * sigma), 1, n))
    median = (d[n // 2 - 1], d[n // 2]) if n % 2 == 0 else (d[(n - 3) // 2], d[(n + 1) // 2])
    return d[k_lower - 1], d[k_upper - 1], median


@pytest.mark.parametrize("nx, ny, shift, confidence", [
    (12, 15, 0.0, 0.98), (40, 25, 1.5, 0.98), (30, 30, -0.7, 0.95), (7, 60, 3.0, 0.9), (25, 9, 0.2, 0.99),
])
def test_interval_and_estimate_match_the_pairwise_differences(nx, ny, shift, confidence):
    rng = np.random.default_rng(nx * 100 + ny)
    x, y = rng.normal(shift, 1.0, nx), rng.normal(0.0, 1.0, ny)
    want_lower, want_upper, (median_lo, median_hi) = closed_form_interval(x, y, confidence)
    lower, upper, estimate = shift_interval(x, y, confidence)
    assert abs(lower - want_lower) <= SLACK
    assert abs(upper - want_upper) <= SLACK
    assert median_lo - SLACK <= estimate <= median_hi + SLACK            # Hodges-Lehmann


def test_small_samples_give_the_whole_range_of_differences():
    """With 3 + 3 points the normal statistic never reaches z(0.98) = 2.33 (at most (9/2 - 1/2) /
    sqrt(9 x 7 / 12) = 1.75), so the interval is [min x - max y, max x - min y] exactly."""
    x, y = np.array([10.0, 11.0, 12.0]), np.array([0.0, 1.0, 2.0])
    lower, upper, estimate = shift_interval(x, y, 0.98)
    assert (lower, upper) == (8.0, 12.0)
    assert abs(estimate - 10.0) <= SLACK                                  # median of the 9 differences


def level_with_z(z):
    """A confidence level whose z = -norm.ppf((1 - level) / 2) is exactly `z` in floating point (searched
    among the neighbours of 2 Phi(z) - 1), so that a statistic equal to z meets it exactly."""
    from scipy.stats import norm
    start = 1 - 2 * norm.cdf(-z)
    for k in range(200):
        for level in (start + k * np.spacing(start), start - k * np.spacing(start)):
            if norm.ppf((1 - level) / 2) == -z:
                return level
    raise AssertionError(f"no level with z exactly {z}")


@pytest.mark.parametrize("confidence", [0.6, level_with_z(1.0), 0.98])
def test_one_point_against_two_gives_the_whole_range_at_any_level(confidence):
    """x = 1 against y = 0, 5: range [1 - 5, 1 - 0] = [-4, 1]. U - nx ny / 2 is +1/2 at -4 (a tie with 5
    and a win over 0), 0 inside, -1/2 at 1, and the continuity correction takes sign(dz) / 2 off, so the
    statistic is 0 on all of [-4, 1]. Lower end (statistic = +z): already below at -4, so -4; upper end
    (statistic = -z): still above at 1, so 1 (R's wilcox.test: [-4, 1] at 0.6, 0.6827 and 0.98). The
    estimate (statistic = 0) is met at -4 already, and zeroin returns an end where f is 0: -4. The levels
    have z < 1, z exactly 1 and z > 1."""
    lower, upper, estimate = shift_interval(np.array([1.0]), np.array([0.0, 5.0]), confidence)
    assert (lower, upper, estimate) == (-4.0, 1.0, -4.0)


def test_rounding_that_flattens_the_statistic_gives_a_single_point_as_in_r():
    """x = 0.05, 0.05 against y = 0.21, 0.21, 0.21, 0.01, range [0.05 - 0.21, 0.05 - 0.01]. In floating
    point 0.05 - (0.05 - 0.21) < 0.21 and 0.05 - (0.05 - 0.01) > 0.01, so no x ties a y even at the ends:
    every shift counts U = 2 of 8 pairs, dz = -2, sigma^2 = 8/12 (7 - (6 + 24) / 30) = 4, and the statistic
    is (-2 + 1/2) / 2 = -0.75 everywhere. At the level where z is exactly 0.75 the upper end (statistic =
    -z) is met at the lower end already, which is returned (R: `if (f.lower <= 0) return(mumin)`), so the
    interval is one point. R 4.2.2's wilcox.test gives [-0.15999999999999998, -0.15999999999999998]."""
    x, y = np.array([0.05, 0.05]), np.array([0.21, 0.21, 0.21, 0.01])
    assert wilcoxon_diff(x.min() - y.max(), 0.0, x, y) == wilcoxon_diff(x.max() - y.min(), 0.0, x, y) == -0.75
    lower, upper, _ = shift_interval(x, y, level_with_z(0.75))
    assert (lower, upper) == (-0.15999999999999998, -0.15999999999999998)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_roots_sit_on_the_sign_change_of_the_counted_statistic_with_ties(seed):
    """Tied, discrete data (half-steps, as Kayenta's latency examples): each root lies within the
    tolerance of the pairwise difference where the brute-force statistic minus +/- z changes sign."""
    from scipy.stats import norm
    rng = np.random.default_rng(seed)
    x, y = rng.integers(2, 9, 40) / 2.0, rng.integers(0, 8, 35) / 2.0
    z = norm.ppf(0.99)
    lower, upper, estimate = shift_interval(x, y, 0.98)
    d = np.unique((x[:, None] - y[None, :]).ravel())
    mids = np.concatenate([[d[0] - 1], (d[:-1] + d[1:]) / 2, [d[-1] + 1]])
    for root, q in [(lower, z), (upper, -z), (estimate, 0.0)]:
        g = np.array([normal_statistic(m, x, y) - q for m in mids])
        k = int(np.argmax(g <= 0))       # first gap (between D_(k-1) and D_(k)) where it is <= 0
        assert g[k] <= 0 and (k == 0 or g[k - 1] > 0)
        assert abs(root - d[min(max(k - 1, 0), len(d) - 1)]) <= SLACK


def test_wilcoxon_diff_is_the_counted_statistic_minus_the_quantile():
    rng = np.random.default_rng(5)
    x, y = rng.integers(0, 6, 20) / 2.0, rng.integers(0, 6, 17) / 2.0
    for mu in [-2.5, -1.0, -0.25, 0.0, 0.5, 1.0, 2.75]:
        for q in [0.0, 1.5, -2.3]:
            assert wilcoxon_diff(mu, q, x, y) == pytest.approx(normal_statistic(mu, x, y) - q, abs=1e-12)


def test_wilcoxon_diff_refuses_all_tied_observations():
    with pytest.raises(ValueError, match="^cannot compute confidence interval when all observations are tied$"):
        wilcoxon_diff(1.0, 0.0, np.array([2.0, 2.0]), np.array([1.0]))


# ---------------------------------------------------------------- zeroin itself

@pytest.mark.parametrize("f, a, b, root", [
    (lambda v: v * v - 2.0, 0.0, 2.0, 2**0.5),
    (lambda v: v**3 - 2 * v - 5, 2.0, 3.0, 2.0945514815423265),     # Brent's (and R's) classic example
    (lambda v: np.cos(v) - v, 0.0, 1.0, 0.7390851332151607),
    (lambda v: np.exp(v) - 10.0, 5.0, 0.0, np.log(10.0)),             # bracket given high to low
    (lambda v: 1.0 if v > 0.3 else -1.0, -1.0, 2.0, 0.3),              # a pure step
])
def test_zeroin_finds_the_root_within_its_absolute_tolerance(f, a, b, root):
    assert abs(zeroin(f, a, b, f(a), f(b)) - root) <= SLACK
    assert abs(zeroin(f, a, b, f(a), f(b), tol=1e-10) - root) <= 1e-9


# A ragged step: the sign changes once, at 0.3, but |f| jumps by orders of magnitude from point to point,
# which drives zeroin through its interpolation safeguards. R 4.2.2's
# `uniroot(f, c(-1, 2), f.lower = f(-1), f.upper = f(2), tol = 1e-4)` (the same zeroin, given this table
# with the same fallback) evaluates exactly these 24 points and returns 0.29997735052451124.
RAGGED_STEP = {  # x: f(x), every point zeroin evaluates
    -1.0: -57.9969166015144,
    2.0: 0.2098084379323708,
    1.9891863815844208: 0.008577586739430414,
    1.9887255127204795: 80.01673031642913,
    0.49436275636023974: 0.02466566644384208,
    0.4937274849344407: 0.8556292201206173,
    -0.25313625753277963: -0.4395658671425888,
    0.0003358346820416247: -4242.174814225812,
    0.4936279899346884: 0.13696261221680886,
    0.4935779899346882: 0.13807444504639166,
    0.24695691230836492: -0.12044196358439177,
    0.3618568794243249: 49.514844257707026,
    0.24723572157307894: -151.91426127275287,
    0.3045463004987019: 9.768449463425688,
    0.29307234267058657: -420.2969275805513,
    0.3042856825015969: 42.28896152623098,
    0.29867901258609175: -32.227586492947424,
    0.3011038355877268: 3969761.3327288465,
    0.29872901258609186: -1026.2538008993372,
    0.29991642408690933: -69771.86316039483,
    0.30051012983731806: 0.0960736888817358,
    0.3004601298373179: 445.33150781488894,
    0.3001882769621136: 0.5532988586941149,
    0.3001382769621134: 26.750720722703765,
    0.30002735052451135: 7.076712312167798,
    0.29997735052451124: -0.013125150978298956,
}


def test_zeroin_follows_r_step_by_step_on_a_ragged_step():
    def f(v):
        return RAGGED_STEP.get(v, 1.0 if v > 0.3 else -1.0)
    assert zeroin(f, -1.0, 2.0, f(-1.0), f(2.0)) == 0.29997735052451124


@pytest.mark.parametrize("step_at, a, b, tol, below, above, r_root", [
    (0.3, -1.0, 2.0, 1e-4, -1.0, 1.0, 0.299957275390625),                 # 15 iterations in R
    (1e12 + 0.3, 0.0, 3e12, 1e-4, -1.0, 1.0, 1000000000000.2996),          # the 2 eps |b| part of the tolerance
    (1e-200, -1e300, 1e300, 1e-300, -1.0, 1.0, 0.09332636185032189),       # R: "_NOT_ converged in 1000 iterations"
    (0.3, 0.0, 1.0, 1e-4, -1e300, 5e-324, 0.300048828125),                 # fb / fa underflows to -0: p = 0
    (0.859, 0.0, 1.0, 0.1, -5e-324, 4.0, 0.7781249999999998),             # p = 0 with c above b: the zero step is -tol_act
])
def test_zeroin_matches_r_uniroot_on_a_step(step_at, a, b, tol, below, above, r_root):
    """f = `above` above the step, `below` under it: |f| never shrinks, so every choice between bisection
    and interpolation and the stopping rule show in the result. R 4.2.2:
    `uniroot(function(x) if (x > s) above else below, c(a, b), f.lower = below, f.upper = above, tol = tol)`
    (maxiter = 1000, i.e. zeroin's 1001 steps, after which it returns its last point as Kayenta does)."""
    calls = []

    def f(v):
        calls.append(v)
        return above if v > step_at else below
    assert zeroin(f, a, b, below, above, tol=tol) == r_root
    assert len(calls) <= 1001


def cube(at):
    return lambda v: (v - at) * (v - at) * (v - at)


def stepped(at, k, magnitudes):
    """Sign of v - at, size magnitudes[floor(|v| k) mod len]: a step whose |f| changes every 1/k."""
    def f(v):
        size = magnitudes[math.floor(abs(v) * k) % len(magnitudes)]
        return size if v > at else -size
    return f


@pytest.mark.parametrize("f, a, b, tol, r_root", [
    (cube(-0.4), -1.0, 0.75, 2**-10, -0.400205759799681),        # 22 iterations, interpolating from the first step
    (cube(-0.2), -0.5, 2.0, 0.0625, -0.2130307966267243),        # a step of exactly tol_act is followed by interpolation
    (stepped(0.096, 7, [1.0, 2.0, 3.0, 4.0, 5.0]), 0.0, 1.0, 0.25, 0.0),   # |c - b| / 2 == tol_act exactly: stop
    (stepped(-3.362, 7, [2.0, 5.0, 1.0, 6.0]), -8.0, 1.0, 0.0625, -3.359375),  # the step p / q lands on |prev_step| / 2
])
def test_zeroin_matches_r_uniroot_on_cubes_and_ragged_steps(f, a, b, tol, r_root):
    """Exact equalities in Brent's tests (`<=` vs `<`) and the choice between interpolation and bisection
    show in the last digits. R 4.2.2: `uniroot(f, c(a, b), f.lower = f(a), f.upper = f(b), tol = tol)`
    with f written the same way in R (`(v - at) * (v - at) * (v - at)`; `m[floor(abs(v) * k) %% length(m) + 1]`)."""
    assert zeroin(f, a, b, f(a), f(b), tol=tol) == r_root


def test_zeroin_returns_an_end_that_is_already_a_root():
    never = lambda v: pytest.fail("no evaluation needed")  # noqa: E731
    assert zeroin(never, 1.0, 3.0, 0.0, 5.0) == 1.0
    assert zeroin(never, 1.0, 3.0, -5.0, 0.0) == 3.0


# ---------------------------------------------------------------- the classifier (Kayenta's labels)

def test_a_clear_increase_is_high_with_every_number_in_the_reason():
    """x - y differences: 8, 9, 9, 10, 10, 10, 11, 11, 12. Interval [8, 12] (3 + 3 points, see above),
    estimate 10, bound 0.25 x 10 = 2.5; 8 > 2.5: High. p: U = 9 is the most extreme of the C(6, 3) = 20
    equally likely splits, two-sided p = 2 / 20 = 0.1."""
    c = classify([10.0, 11.0, 12.0], [0.0, 1.0, 2.0], "increase", 0.25, 0.98)
    assert (c.label, c.lower, c.upper) == ("High", 8.0, 12.0)
    assert abs(c.estimate - 10.0) <= SLACK and c.p_value == pytest.approx(0.1)
    assert c.reason == "High: shift CI [8, 12], estimate 10, tolerance bound 2.5, p=0.1"


@pytest.mark.parametrize("direction, label", [("increase", "Pass"), ("decrease", "Low"), ("either", "Low")])
def test_a_clear_decrease_is_low_unless_only_increases_fail(direction, label):
    c = classify([0.0, 1.0, 2.0], [10.0, 11.0, 12.0], direction, 0.25, 0.98)
    assert (c.label, c.lower, c.upper) == (label, -12.0, -8.0)
    assert abs(c.estimate + 10.0) <= SLACK and c.p_value == pytest.approx(0.1)   # mirror of the High case
    assert c.reason == f"{label}: shift CI [-12, -8], estimate -10, tolerance bound 2.5, p=0.1"


@pytest.mark.parametrize("direction, label", [("increase", "High"), ("decrease", "Pass"), ("either", "High")])
def test_an_increase_fails_only_directions_that_watch_it(direction, label):
    assert classify([10.0, 11.0, 12.0], [0.0, 1.0, 2.0], direction, 0.25, 0.98).label == label


def test_the_interval_must_clear_the_tolerance_strictly():
    """Differences 0..4 (x = 1, 2, 3; y = -1, 0, 1): interval [0, 4] for 3 + 3 points, estimate 2.
    tolerance 0: bound 0, and the lower end 0 is not > 0: Pass (Kayenta: lowerConfidence > bound).
    Mirrored for Low: upper end 0 is not < -0."""
    assert classify([1.0, 2.0, 3.0], [-1.0, 0.0, 1.0], "either", 0.0, 0.98).lower == 0.0
    assert classify([1.0, 2.0, 3.0], [-1.0, 0.0, 1.0], "either", 0.0, 0.98).label == "Pass"
    low = classify([-1.0, 0.0, 1.0], [1.0, 2.0, 3.0], "either", 0.0, 0.98)
    assert (low.label, low.upper) == ("Pass", 0.0)
    assert classify([1.1, 2.0, 3.0], [-1.0, 0.0, 1.0], "either", 0.0, 0.98).label == "High"


def test_the_tolerance_scales_with_the_size_of_a_negative_estimate_too():
    """x = 0, 9.9, 9.95 against y = 10, 10.5, 11: sorted differences -11, -10.5, -10, -1.1, -1.05, -0.6,
    -0.55, -0.1, -0.05; interval [-11, -0.05], estimate in [-1.1, -0.6] (median gaps), so the bound is
    0.25 |estimate| >= 0.15 and -0.05 < -0.15 is false: Pass. A bound from the signed estimate would
    be negative and call it Low."""
    c = classify([0.0, 9.9, 9.95], [10.0, 10.5, 11.0], "decrease", 0.25, 0.98)
    assert (c.lower, c.upper) == (-11.0, pytest.approx(-0.05))
    assert -1.1 - SLACK <= c.estimate <= -0.6 + SLACK
    assert c.label == "Pass"


@pytest.mark.parametrize("x, y", [([], [1.0, 2.0]), ([1.0, 2.0], []), ([], [])])
def test_missing_data_is_nodata(x, y):
    c = classify(x, y, "either", 0.25, 0.98)
    assert (c.label, c.reason) == ("Nodata", "missing data")
    assert all(np.isnan(v) for v in (c.lower, c.upper, c.estimate, c.p_value))


def test_identical_samples_pass_in_any_order():
    c = classify([3.0, 1.0, 2.0], [1.0, 2.0, 3.0], "either", 0.25, 0.98)
    assert (c.label, c.estimate, c.p_value, c.reason) == ("Pass", 0.0, 1.0, "experiment and control data are identical")
    assert np.isnan(c.lower) and np.isnan(c.upper)


def test_one_value_everywhere_passes():
    c = classify([0.0, 0.0], [0.0, 0.0, 0.0], "either", 0.25, 0.98)
    assert (c.label, c.estimate, c.p_value, c.reason) == ("Pass", 0.0, 1.0, "a single distinct value")
    assert np.isnan(c.lower) and np.isnan(c.upper)


def test_samples_that_are_not_identical_are_judged():
    """Same values, different multiplicities: not 'identical', judged (and Pass on the interval)."""
    c = classify([1.0, 1.0, 2.0], [1.0, 2.0, 2.0], "either", 0.25, 0.98)
    assert c.reason.startswith("Pass: shift CI") and not np.isnan(c.lower)


def test_two_single_points_cannot_be_judged():
    """x = [2], y = [1]: the only shift tried makes them tie, so sigma = 0: an Error, as Kayenta raises."""
    c = classify([2.0], [1.0], "either", 0.25, 0.98)
    assert (c.label, c.reason) == ("Error", "cannot compute confidence interval when all observations are tied")
    assert all(np.isnan(v) for v in (c.lower, c.upper, c.estimate, c.p_value))


def test_two_constant_samples_are_jittered_by_normal_quantiles():
    """Both constant (2000 x 8 and 1000 x 8): Kayenta adds noise of sd = first value x 1e-5; here the
    noise is the normal quantiles at (i + 1/2) / n, so x = 2000 + 0.02 q_i, y = 1000 + 0.01 q_j, no ties,
    and the interval is the order-statistic one on those differences; both are symmetric about 1000."""
    from scipy.stats import norm
    n = 8
    q = norm.ppf((np.arange(n) + 0.5) / n)
    want_lower, want_upper, (median_lo, median_hi) = closed_form_interval(2000 + 0.02 * q, 1000 + 0.01 * q, 0.98)
    c = classify([2000.0] * n, [1000.0] * n, "increase", 0.25, 0.98)
    assert c.label == "High"
    assert abs(c.lower - want_lower) <= SLACK and abs(c.upper - want_upper) <= SLACK
    assert median_lo - SLACK <= c.estimate <= median_hi + SLACK
    assert abs(c.estimate - 1000.0) <= SLACK
    assert (want_upper - 1000.0) == pytest.approx(1000.0 - want_lower) and want_upper - want_lower > 0.01


@pytest.mark.parametrize("x, y, want", [
    ([5.0, 5.0, 5.0], [0.0, 1.0, 2.0], ("High", 3.0, 5.0)),
    ([0.0, 1.0, 2.0], [5.0, 5.0, 5.0], ("Low", -5.0, -3.0)),
])
def test_one_constant_sample_is_not_jittered(x, y, want):
    """Only one sample constant: no noise (Kayenta jitters only when both are), so the 3 + 3 interval is
    exactly the whole range of differences (the statistic stays under z(0.98) inside it: at most
    (3 - 1/2) / sqrt(9/12 x (7 - 60/30)) = 1.29 with the four-way tie). R's wilcox.test: [3, 5], p = 0.0636."""
    c = classify(x, y, "either", 0.25, 0.98)
    assert (c.label, c.lower, c.upper) == want
    assert c.p_value == pytest.approx(0.063602569620753641, rel=1e-9)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_jitter_of_small_constant_samples_stays_finite(n):
    c = classify([5.0] * n, [4.0] * (n + 1), "increase", 0.25, 0.98)
    assert c.label == "High" and np.isfinite([c.lower, c.upper, c.estimate, c.p_value]).all()
    assert abs(c.estimate - 1.0) <= 1e-3


def test_p_value_is_the_two_sided_mann_whitney_p():
    """Large tied samples: scipy's asymptotic p with tie and continuity corrections equals
    2 (1 - Phi(|counted statistic at mu = 0|)) from the brute-force count."""
    from scipy.stats import norm
    rng = np.random.default_rng(9)
    x, y = rng.integers(0, 8, 50) / 2.0, rng.integers(1, 9, 45) / 2.0
    c = classify(x, y, "either", 0.25, 0.98)
    assert c.p_value == pytest.approx(2 * norm.sf(abs(normal_statistic(0.0, x, y))), rel=1e-9)
