"""Traffic per cohort and metric interval: requests, errors and mean latency, never single requests.

For one interval the caller says how many host-seconds each cohort served, how much of the new
cohort's traffic was on a bad build past its onset, and whether an unrelated incident was on. Counts
are drawn by inverse CDF from uniforms fixed per interval index (`IntervalNoise`), so two runs that
differ only in a policy or in the size of a spike see the same noise (common random numbers), and a
larger error rate never gives fewer errors.

Over-dispersion: each cohort's request rate and error rate are multiplied by gamma noise with
coefficient of variation `dispersion` (gamma-Poisson = negative binomial requests; beta-binomial-like
errors).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special, stats

from sim.rollout.clock import diurnal_load
from sim.rollout.spec import BadBuild, Traffic


@dataclass(frozen=True)
class IntervalNoise:
    """Uniforms and noise multipliers for intervals 0..n-1; index [k, cohort] with cohort 0=new, 1=old."""

    u_requests: np.ndarray
    u_errors: np.ndarray
    rate_noise: np.ndarray
    error_noise: np.ndarray
    latency_noise: np.ndarray

    @classmethod
    def draw(cls, traffic: Traffic, rng: np.random.Generator, intervals: int) -> "IntervalNoise":
        shape = (intervals, 2)
        return cls(
            u_requests=rng.random(shape),
            u_errors=rng.random(shape),
            rate_noise=_gamma_noise(rng, traffic.dispersion, shape),
            error_noise=_gamma_noise(rng, traffic.dispersion, shape),
            latency_noise=np.exp(traffic.latency_noise * rng.standard_normal(shape) - traffic.latency_noise**2 / 2),
        )

    @property
    def intervals(self) -> int:
        return len(self.u_requests)

    def rows(self, ks: np.ndarray) -> "IntervalNoise":
        """The noise of intervals `ks` (row i of the result is interval ks[i])."""
        return IntervalNoise(self.u_requests[ks], self.u_errors[ks], self.rate_noise[ks], self.error_noise[ks],
                             self.latency_noise[ks])

    @classmethod
    def concat(cls, parts: list["IntervalNoise"]) -> "IntervalNoise":
        if len(parts) == 1:
            return parts[0]
        join = lambda name: np.concatenate([getattr(p, name) for p in parts])
        return cls(join("u_requests"), join("u_errors"), join("rate_noise"), join("error_noise"),
                   join("latency_noise"))


@dataclass
class NoiseBlocks:
    """A release's interval noise, drawn in blocks of `block` intervals from the streams "traffic.<b>",
    only when an interval of the block is first needed (most releases end long before their horizon).
    Interval k's noise is the same whichever intervals are asked for, and in whatever order."""

    traffic: Traffic
    streams: object  # sim.streams.Streams of the release
    intervals: int
    block: int = 256
    _drawn: dict = field(default_factory=dict)

    def _block(self, b: int) -> IntervalNoise:
        if b not in self._drawn:
            size = min(self.block, self.intervals - b * self.block)
            self._drawn[b] = IntervalNoise.draw(self.traffic, self.streams(f"traffic.{b}"), size)
        return self._drawn[b]

    def rows(self, ks: np.ndarray) -> IntervalNoise:
        ks = np.asarray(ks, dtype=np.int64)
        if len(ks) == 0:
            return IntervalNoise(*(np.zeros((0, 2)) for _ in range(5)))
        blocks = ks // self.block
        first, last = int(blocks.min()), int(blocks.max())
        if first == last:
            return self._block(first).rows(ks - first * self.block)
        parts = [self._block(b) for b in range(first, last + 1)]
        return IntervalNoise.concat(parts).rows(ks - first * self.block)


def _gamma_noise(rng: np.random.Generator, cv: float, shape: tuple) -> np.ndarray:
    if cv == 0:
        return np.ones(shape)
    k = 1.0 / cv**2
    return rng.gamma(k, 1.0 / k, size=shape)


def spiked_rates(base: np.ndarray, error_multiplier, added_error_rate,
                 bad_fraction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The new and old cohorts' true error rates, given each interval's baseline rate: a share
    `bad_fraction` of the new cohort's requests fails at the bad build's rate (multiplier and added
    rate: scalars, or one per interval)."""
    base = np.minimum(base, 1.0)
    broken = np.minimum(1.0, base * error_multiplier + added_error_rate)
    return (1 - bad_fraction) * base + bad_fraction * broken, base


def _discrete_ppf(q: np.ndarray, cdf, guess: np.ndarray, upper: np.ndarray, pmf=None) -> np.ndarray:
    """The smallest k in [0, upper] with cdf(k, i) >= q[i], found by stepping from a close `guess`.

    `cdf(k, i)` is the exact CDF of the elements `i` at `k`. The guess (a Cornish-Fisher expansion) is
    right for almost every element, so the CDF is evaluated at the guess and just below it (to
    confirm), and again only for the few elements still stepping. With `pmf`, the value just below the
    guess is first read as cdf(k) - pmf(k), far cheaper where the CDF is costly; it can differ from
    cdf(k - 1) only in the last bits, and an element whose answer rests on it near q is re-checked."""
    shape = q.shape
    q, upper = q.ravel(), upper.ravel()
    k = np.clip(np.floor(guess.ravel()), 0, upper)
    everyone = np.arange(len(k))
    at = cdf(k, everyone)
    below = np.full(len(k), -np.inf)  # cdf(k - 1); nothing lies below 0
    positive = np.flatnonzero(k > 0)
    if pmf is None:
        below[positive] = cdf(k[positive] - 1, positive)
    else:
        below[positive] = at[positive] - pmf(k[positive], positive)
        close = positive[np.abs(below[positive] - q[positive]) <= 1e-12 * np.maximum(q[positive], 1e-300)]
        below[close] = cdf(k[close] - 1, close)  # too close to call from a difference: ask the CDF
    for _ in range(10_000):
        up = np.flatnonzero((at < q) & (k < upper))
        down = np.flatnonzero(below >= q)
        if not (len(up) or len(down)):
            return k.reshape(shape)
        k[up] += 1
        below[up] = at[up]
        at[up] = cdf(k[up], up)
        k[down] -= 1
        at[down] = cdf(k[down], down)
        still = down[k[down] > 0]
        below[down] = -np.inf
        below[still] = cdf(k[still] - 1, still)
    raise RuntimeError("quantile search did not converge")  # pragma: no cover


def poisson_ppf(q: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Exact Poisson quantiles (equal to scipy.stats.poisson.ppf), fast for large means."""
    q, mu = np.broadcast_arrays(np.asarray(q, float), np.asarray(mu, float))
    z = special.ndtri(q)
    guess = mu + np.sqrt(mu) * z + (z * z - 1) / 6
    flat_mu = mu.ravel()
    k = _discrete_ppf(q, lambda k, i: special.pdtr(k, flat_mu[i]), guess, np.full(q.shape, np.inf))
    return np.where(mu > 0, k, 0).astype(np.int64)


def binom_ppf(q: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Exact binomial quantiles, equal to `scipy.stats.binom.ppf`: the smallest k with P(X <= k) >= q;
    n = 0 or p = 0 gives 0, p = 1 gives n.

    A Cornish-Fisher guess with a continuity correction is the answer for 97-100% of elements; one value
    of scipy's (Boost's) binomial CDF and one of its PMF confirm it, and the few it misses step to the
    answer. That is a third of the time of Boost's own quantile search (which brackets and bisects),
    with the same numbers (tests/rollout/test_traffic.py)."""
    q, n, p = np.broadcast_arrays(np.asarray(q, float), np.asarray(n, np.int64), np.asarray(p, float))
    inner = (n > 0) & (p > 0) & (p < 1)
    k = np.zeros(q.shape, dtype=np.int64)
    if inner.any():
        qi, ni, pi = q[inner], n[inner].astype(float), p[inner]
        mean, sd = ni * pi, np.sqrt(ni * pi * (1 - pi))
        z = special.ndtri(qi)
        guess = np.floor(mean + sd * z + (1 - 2 * pi) * (z * z - 1) / 6 + 0.5)
        k[inner] = _discrete_ppf(qi, lambda x, i: stats.binom.cdf(x, ni[i], pi[i]), guess, ni,
                                 pmf=lambda x, i: stats.binom.pmf(x, ni[i], pi[i]))
    return np.where(p >= 1, n, k)


@dataclass(frozen=True)
class CountsMany:
    """Draws for several intervals; arrays indexed [interval, cohort] with cohort 0=new, 1=old."""

    requests: np.ndarray
    errors: np.ndarray
    latency: np.ndarray
    true_rates: np.ndarray


def draw_many(traffic: Traffic, noise: IntervalNoise, wall_mid: np.ndarray, host_seconds: np.ndarray,
              bad_fraction: np.ndarray, incident: np.ndarray, incident_multiplier: float, error_multiplier,
              added_error_rate, added_latency) -> CountsMany:
    """Requests ~ Poisson(mean x gamma noise), errors ~ Binomial(requests, rate x gamma noise), by inverse
    CDF from the uniforms in `noise` (row i for interval i); host_seconds is [interval, cohort]. The bad
    build's multiplier, added rate and added latency are scalars or one per interval, so intervals of
    releases with different bad builds can be drawn in one call."""
    load = diurnal_load(traffic.diurnal.amplitude, traffic.diurnal.peak_hour, wall_mid)
    p_new, p_old = spiked_rates(traffic.error_rate * np.where(incident, incident_multiplier, 1.0), error_multiplier,
                                added_error_rate, bad_fraction)
    served = host_seconds * (traffic.requests_per_host * load)[:, None]
    requests = np.where(served > 0, poisson_ppf(noise.u_requests, served * noise.rate_noise), 0)
    true_rates = np.stack([p_new, p_old], axis=1)
    rates = np.minimum(true_rates * noise.error_noise, 1.0)
    errors = binom_ppf(noise.u_errors, requests, rates)
    latency = traffic.latency * noise.latency_noise
    latency[:, 0] += bad_fraction * added_latency
    latency = np.where(requests > 0, latency, np.nan)
    return CountsMany(requests, errors, latency, true_rates)


@dataclass(frozen=True)
class Replay:
    """A resampled real history, one entry per metric interval of the release (fleet-wide counts)."""

    requests: np.ndarray
    errors: np.ndarray
    latency: np.ndarray | None


def draw_replayed(traffic: Traffic, bad: BadBuild, noise: IntervalNoise, replay: Replay, ks: np.ndarray,
                  new_share: np.ndarray, bad_fraction: np.ndarray, incident: np.ndarray,
                  incident_multiplier: float) -> CountsMany:
    """Backtest draws for intervals `ks` (noise row i is interval ks[i]): the real requests split between
    cohorts by their share of the traffic; errors at the real interval's error rate, plus the bad
    build's spike on the new cohort's affected requests."""
    total = replay.requests[ks]
    new_requests = binom_ppf(noise.u_requests[:, 0], total, np.clip(new_share, 0.0, 1.0))
    requests = np.stack([new_requests, total - new_requests], axis=1)
    real_rate = np.divide(replay.errors[ks], total, out=np.zeros(len(ks)), where=total > 0)
    true_rates = np.stack(spiked_rates(real_rate * np.where(incident, incident_multiplier, 1.0), bad.error_multiplier,
                                       bad.added_error_rate, bad_fraction), axis=1)
    errors = binom_ppf(noise.u_errors, requests, true_rates)
    real_latency = replay.latency[ks] if replay.latency is not None else np.full(len(ks), traffic.latency)
    latency = np.stack([real_latency + bad_fraction * bad.added_latency, real_latency], axis=1)
    return CountsMany(requests, errors, np.where(requests > 0, latency, np.nan), true_rates)
