"""The latency-quantile machinery of `sim.policies.window` (`latency_quantile`, `_pieces`, `_solve` and the
mixture CDFs `_cdf_few`, `_cdf_many`) held to oracles computed another way.

- Accuracy: brentq on the mixture's exact CDF written with scipy's lognormal (its survival function for
  upper quantiles, so 1 - q loses no digits), to a relative 1e-11: `_solve` stops when Newton moves log
  latency less than 1e-12, so the answer is good to about 1e-12 relative; shapes to 3 (the largest
  `traffic.latency_shape` allows), quantiles from 0.001 to 0.999, windows of few pieces (summed in
  floats) and of many (over 32 pieces: numpy).
- Speed: Newton's method converges quadratically, so a typical window's quantile takes a handful of
  CDF evaluations (the docstring: "typically 4 or 5 steps"); bisection alone would take about 40. Each
  quantile of a table of typical windows (p50/p95/p99, shapes 0.3 to 1) must take at most 12.
- Closed forms: one piece (or pieces alike) is its own lognormal's quantile, with no CDF evaluated; a bad
  build on every request shifts every quantile by exactly its added latency; a window of two equal
  intervals is symmetric in log latency, so its median is the geometric mean of their medians, also when
  they are so far apart that the float CDF is 0.5 to the last bit over most of the gap between them.
- Boundaries: no added latency or no affected share means no shift; shares outside [0, 1] are read as
  the nearest of 0 and 1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from sim.policies import window
from sim.policies.window import Window, latency_quantile, window_of

SHAPES = [0.05, 0.2, 0.6, 1.5, 3.0]
QS = [0.001, 0.05, 0.3, 0.9, 0.99, 0.999]

CASES = {  # name: (requests, level of unaffected requests, affected share or None, added latency)
    "three intervals": ([100, 200, 50], [0.10, 0.15, 0.30], None, 0.0),
    "one odd interval": ([1000, 10, 1000, 3000], [0.12, 0.5, 0.11, 0.13], None, 0.0),
    "heavy tail": ([400, 600], [0.12, 0.12], [0.02, 0.02], 2.0),
    "fully and partly affected": ([50, 5000], [0.2, 0.1], [1.0, 0.1], 0.5),
    "far apart": ([3, 1], [0.1, 10.0], None, 0.0),
    # all of the second interval's mean is added latency: its level floors at 1 ns, a step at 2 s
    "a step": ([500, 500], [0.1, 1e-9], [0.0, 1.0], 2.0),
    "spread, 20 intervals": ([100 + 37 * i for i in range(20)], [0.1 * 1.5**i for i in range(20)], None, 0.0),
    "40 pieces": ([100 + 37 * i for i in range(20)], [0.1 + 0.01 * i for i in range(20)], [0.3] * 20, 0.1),
    "80 pieces": ([100 + 37 * i for i in range(40)], [0.1 * 1.2**i for i in range(40)], [0.1] * 40, 0.7),
}


def mean_of(level, affected, added):
    """The interval's mean latency, as the traffic model draws it: level + affected x added."""
    return np.asarray(level, float) + (0.0 if affected is None else np.asarray(affected, float) * added)


def exact_quantile(requests, level, q, shape, affected=None, added=0.0) -> float:
    """brentq on the mixture's CDF (q <= 0.5) or survival function (q > 0.5), from scipy's lognormal."""
    w = np.asarray(requests, float) / np.sum(requests)
    f = np.zeros(len(w)) if affected is None else np.asarray(affected, float)
    scale = np.asarray(level, float) * math.exp(-shape**2 / 2)  # a lognormal of mean `level`

    def mixture(tail, x):
        return float(np.sum(w * ((1 - f) * tail(x, shape, scale=scale) + f * tail(max(x - added, 0.0), shape, scale=scale))))

    if q <= 0.5:
        fn = lambda x: mixture(stats.lognorm.cdf, x) - q  # noqa: E731
    else:
        fn = lambda x: (1 - q) - mixture(stats.lognorm.sf, x)  # noqa: E731
    return optimize.brentq(fn, 1e-12, 1e6, xtol=1e-300, rtol=1e-15, maxiter=1000)


# --- accuracy


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_quantile_is_the_mixtures_to_1e_11(case):
    requests, level, affected, added = CASES[case]
    mean = mean_of(level, affected, added)
    for shape in SHAPES:
        for q in QS:
            got = latency_quantile(requests, mean, q, shape, affected, added)
            expected = exact_quantile(requests, level, q, shape, affected, added)
            assert got == pytest.approx(expected, rel=1e-11, abs=0), (shape, q)


@pytest.mark.parametrize("q", [0.5, 0.75])
@pytest.mark.parametrize("shape", [0.6, 1.5, 3.0])
def test_a_quantile_inside_a_step_of_the_cdf(q, shape):
    """Half the requests are all added latency (level floored at 1 ns): the CDF jumps by 0.5 at 2 s, and
    the median and p75 are just above 2 s. (At shapes under about 0.3 the other half's tail under 2 s is
    0 in floats and the median is not defined to 1e-11, so those are left out.)"""
    requests, level, affected, added = CASES["a step"]
    got = latency_quantile(requests, mean_of(level, affected, added), q, shape, affected, added)
    assert got == pytest.approx(exact_quantile(requests, level, q, shape, affected, added), rel=1e-11, abs=0)
    assert 2.0 * (1 - 1e-11) <= got < 2.0 + 1e-6  # (the solver places it to about 1e-12 relative)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_mixtures_cdf_crosses_q_at_its_quantile(case):
    """The defining property, checked with scipy's CDF: F(Q (1 - 1e-11)) <= q <= F(Q (1 + 1e-11)), which
    holds at a step of the CDF too (there F jumps over q within the tolerance)."""
    requests, level, affected, added = CASES[case]
    w = np.asarray(requests, float) / np.sum(requests)
    f = np.zeros(len(w)) if affected is None else np.asarray(affected, float)
    for shape in (0.2, 0.6, 3.0):
        scale = np.asarray(level, float) * math.exp(-shape**2 / 2)

        def cdf(x):
            return np.sum(w * ((1 - f) * stats.lognorm.cdf(x, shape, scale=scale)
                               + f * stats.lognorm.cdf(max(x - added, 0.0), shape, scale=scale)))
        for q in (0.05, 0.5, 0.95, 0.99):
            x = latency_quantile(requests, mean_of(level, affected, added), q, shape, affected, added)
            assert cdf(x * (1 - 1e-11)) <= q <= cdf(x * (1 + 1e-11)), (shape, q)


# --- speed: Newton's steps, counted


@pytest.fixture
def evaluations(monkeypatch):
    """Counts the mixture-CDF evaluations `_solve` makes (whichever of `_cdf_few`, `_cdf_many` it uses)."""
    count = [0]

    def counting(make):
        def made(pieces, inverse):
            at = make(pieces, inverse)

            def counted(u):
                count[0] += 1
                return at(u)
            return counted
        return made

    monkeypatch.setattr(window, "_cdf_few", counting(window._cdf_few))
    monkeypatch.setattr(window, "_cdf_many", counting(window._cdf_many))
    return count


TYPICAL = ["three intervals", "one odd interval", "heavy tail", "fully and partly affected", "far apart",
           "40 pieces"]


@pytest.mark.parametrize("case", TYPICAL)
@pytest.mark.parametrize("shape", [0.3, 0.6, 1.0])
def test_newton_takes_a_handful_of_steps(case, shape, evaluations):
    requests, level, affected, added = CASES[case]
    for q in (0.5, 0.95, 0.99):
        evaluations[0] = 0
        got = latency_quantile(requests, mean_of(level, affected, added), q, shape, affected, added)
        assert 1 <= evaluations[0] <= 12, (q, evaluations[0])
        assert got == pytest.approx(exact_quantile(requests, level, q, shape, affected, added), rel=1e-11)


# --- closed forms


def lognormal_quantile(level: float, q: float, shape: float) -> float:
    return float(stats.lognorm.ppf(q, shape, scale=level * math.exp(-shape**2 / 2)))


@pytest.mark.parametrize("requests, mean, affected, added", [
    ([500], [0.12], None, 0.0),
    ([7, 70, 700], [0.12, 0.12, 0.12], None, 0.0),  # pieces alike
    ([500], [0.12], [0.0], 0.5),                    # an affected share of 0: no shifted piece
    ([0, 500, 0], [np.nan, 0.12, 3.0], None, 0.0),  # intervals without requests are left out
])
@pytest.mark.parametrize("q", [0.001, 0.5, 0.95, 0.99])
@pytest.mark.parametrize("shape", [0.2, 0.6, 3.0])
def test_one_piece_is_its_lognormals_quantile_without_a_search(requests, mean, affected, added, q, shape, evaluations):
    got = latency_quantile(requests, mean, q, shape, affected, added)
    assert got == pytest.approx(lognormal_quantile(0.12, q, shape), rel=1e-13)
    assert evaluations[0] == 0


@pytest.mark.parametrize("added", [0.25, 1.0, 2.0])
@pytest.mark.parametrize("q", [0.001, 0.5, 0.95, 0.99])
@pytest.mark.parametrize("shape", [0.2, 0.6, 3.0])
def test_a_bad_build_on_every_request_shifts_every_quantile_by_exactly_its_added_latency(added, q, shape, evaluations):
    """Level 0.125 s and mean 0.125 + added are exact in binary, so the shifted piece's level is exactly
    the plain one's: the closed form gives plain + added to the last bit, without a search."""
    plain = latency_quantile([800], [0.125], q, shape)
    assert latency_quantile([800], [0.125 + added], q, shape, [1.0], added) == plain + added
    assert evaluations[0] == 0
    assert plain == pytest.approx(lognormal_quantile(0.125, q, shape), rel=1e-13)


@pytest.mark.parametrize("a, b, shape", [
    (1e-3, 1e3, 0.2), (1e-3, 1e3, 0.6), (0.01, 100.0, 0.2), (0.1, 0.4, 0.6), (0.1, 0.4, 1.5), (0.2, 0.3, 0.6),
])
def test_two_equal_intervals_have_the_geometric_mean_of_their_medians_as_median(a, b, shape):
    """By symmetry in log latency: F(m) = (Phi(d) + Phi(-d)) / 2 = 0.5 at the midpoint m of the two log
    medians, d = ln(b / a) / (2 shape) shapes from either. Either d is small (under 4: the CDF is steep
    enough there to find m to 1e-12) or large (over 9, under 38: the tails are under half an ulp of 0.5,
    so the float CDF is exactly 0.5 over most of the gap and only m itself is the true median; the two
    pieces' medians bracket it symmetrically). Between the two, floats cannot place m to 1e-12."""
    d = math.log(b / a) / (2 * shape)
    assert d < 4 or 9 < d < 38
    got = latency_quantile([400, 400], [a, b], 0.5, shape)
    assert got == pytest.approx(math.sqrt(a * b) * math.exp(-shape**2 / 2), rel=1e-12)


# --- boundaries


QUANTILE_TABLE = [(q, shape) for q in (0.05, 0.5, 0.99) for shape in (0.2, 0.6, 2.0)]


@pytest.mark.parametrize("q, shape", QUANTILE_TABLE)
def test_no_added_latency_or_no_affected_share_means_no_shift(q, shape):
    requests, mean = [100, 300], [0.1, 0.2]
    plain = latency_quantile(requests, mean, q, shape)
    assert latency_quantile(requests, mean, q, shape, None, 0.05) == plain  # nobody affected: `added` is moot
    assert latency_quantile(requests, mean, q, shape, [0.5, 0.5]) == plain  # affected, but nothing added
    assert latency_quantile(requests, mean, q, shape, [0.5, 0.5], 0.0) == plain
    assert latency_quantile(requests, mean, q, shape, [0.0, 0.0], 0.05) == plain


def test_a_windows_added_latency_without_affected_shares_changes_nothing():
    w = window_of(120.0, new=([100, 300], [0, 0]), old=([100, 300], [0, 0]), latency=([0.1, 0.2], [0.1, 0.2]))
    shifted = Window(w.time, w.new_requests, w.new_errors, w.old_requests, w.old_errors, w.new_latency,
                     w.old_latency, new_affected=None, added_latency=0.2)
    for name in ("p50", "p95", "p99"):
        assert shifted.latency_quantile("new", name) == w.latency_quantile("new", name) == w.latency_quantile("old", name)


@pytest.mark.parametrize("q, shape", QUANTILE_TABLE)
@pytest.mark.parametrize("outside, inside", [(-0.5, 0.0), (-1e-9, 0.0), (1.5, 1.0), (1 + 1e-9, 1.0)])
def test_shares_outside_0_and_1_are_read_as_the_nearest_bound(outside, inside, q, shape):
    requests, mean, added = [100, 300], [0.375, 0.625], 0.25
    assert (latency_quantile(requests, mean, q, shape, [outside, 0.5], added)
            == latency_quantile(requests, mean, q, shape, [inside, 0.5], added))


@pytest.mark.parametrize("q", [0.05, 0.5, 0.99])
def test_a_share_of_1_with_an_added_latency_of_1_is_a_shift_of_1(q):
    """`added` = 1 is no special value: the affected share applies."""
    plain = latency_quantile([300], [0.125], q, 0.6)
    assert latency_quantile([300], [1.125], q, 0.6, [1.0], 1.0) == plain + 1.0
    mixed = latency_quantile([300], [0.625], q, 0.6, [0.5], 1.0)
    assert mixed == pytest.approx(exact_quantile([300], [0.125], q, 0.6, [0.5], 1.0), rel=1e-11)
    assert mixed != pytest.approx(plain, rel=1e-3)
