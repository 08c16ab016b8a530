"""Traffic draws: the fast exact quantile functions equal scipy's, and counts are monotone in the rate."""

import numpy as np
from scipy import stats

from sim.stats.discrete import binom_ppf, poisson_ppf


def test_quantiles_equal_scipy_including_the_edges():
    rng = np.random.default_rng(1)
    for _ in range(3):
        q = rng.random(3000)
        n = rng.integers(0, 10**6, 3000)
        p = rng.random(3000) * 0.05
        mu = rng.random(3000) * 1e5
        p[:10], p[10:20], n[20:30], mu[:10] = 0, 1, 0, 0
        mu[10:20] = rng.random(10) * 3
        n[30:40], p[40:50] = rng.integers(0, 5, 10), rng.random(10)
        np.testing.assert_array_equal(binom_ppf(q, n, p), stats.binom.ppf(q, n, p))
        np.testing.assert_array_equal(poisson_ppf(q, mu), stats.poisson.ppf(q, mu))


def test_binomial_quantiles_equal_scipy_for_a_whole_fleets_requests():
    """The old cohort of a large fleet serves ~1e7 requests an interval: the guess-and-confirm search
    must still give Boost's quantile, at small and at large error rates."""
    rng = np.random.default_rng(3)
    q, n = rng.random(4000), rng.integers(10**6, 2 * 10**7, 4000)
    p = np.concatenate([rng.random(2000) * 0.002, rng.random(2000)])
    np.testing.assert_array_equal(binom_ppf(q, n, p), stats.binom.ppf(q, n, p))


def test_on_the_same_uniform_a_higher_rate_never_gives_fewer_counts():
    rng = np.random.default_rng(2)
    q, n = rng.random(5000), rng.integers(0, 10**5, 5000)
    p = rng.random(5000) * 0.1
    assert (binom_ppf(q, n, p * 1.5) >= binom_ppf(q, n, p)).all()
    mu = rng.random(5000) * 1e4
    assert (poisson_ppf(q, mu * 1.1) >= poisson_ppf(q, mu)).all()
