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

from dataclasses import dataclass

import numpy as np
from scipy import special

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


def _gamma_noise(rng: np.random.Generator, cv: float, shape: tuple) -> np.ndarray:
    if cv == 0:
        return np.ones(shape)
    k = 1.0 / cv**2
    return rng.gamma(k, 1.0 / k, size=shape)


def spiked_rates(base: np.ndarray, bad: BadBuild, bad_fraction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The new and old cohorts' true error rates, given each interval's baseline rate: a share
    `bad_fraction` of the new cohort's requests fails at the bad build's rate."""
    base = np.minimum(base, 1.0)
    broken = np.minimum(1.0, base * bad.error_multiplier + bad.added_error_rate)
    return (1 - bad_fraction) * base + bad_fraction * broken, base


def _discrete_ppf(q: np.ndarray, cdf, guess: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The smallest k in [0, upper] with cdf(k) >= q, found by stepping from a close `guess`.

    The guess (a Cornish-Fisher expansion) is off by a few units at most, so a handful of vectorised
    steps of the exact CDF replace an iterative root-finder per element."""
    k = np.clip(np.floor(guess), 0, upper)
    for _ in range(10_000):
        up = (cdf(k) < q) & (k < upper)
        down = (k > 0) & (cdf(k - 1) >= q)
        if not (up.any() or down.any()):
            return k
        k = k + up - down
    raise RuntimeError("quantile search did not converge")  # pragma: no cover


def poisson_ppf(q: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Exact Poisson quantiles (equal to scipy.stats.poisson.ppf), fast for large means."""
    q, mu = np.broadcast_arrays(np.asarray(q, float), np.asarray(mu, float))
    z = special.ndtri(q)
    guess = mu + np.sqrt(mu) * z + (z * z - 1) / 6
    k = _discrete_ppf(q, lambda k: special.pdtr(k, mu), guess, np.full(q.shape, np.inf))
    return np.where(mu > 0, k, 0).astype(np.int64)


def binom_ppf(q: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Exact binomial quantiles (equal to scipy.stats.binom.ppf); n = 0 or p = 0 gives 0, p = 1 gives n.

    The incomplete-beta inverse gives k to within one; one exact CDF step settles it (as scipy does)."""
    q, n, p = np.broadcast_arrays(np.asarray(q, float), np.asarray(n, np.int64), np.asarray(p, float))
    n_float = n.astype(float)
    k = np.ceil(special.bdtrik(q, n_float, p))
    k = np.where(np.isfinite(k), np.minimum(k, n_float), 0.0)
    below = special.bdtr(np.maximum(k - 1, 0).astype(np.int64), n, p)
    k = np.where((k > 0) & (below >= q), k - 1, k)
    return np.where(p >= 1, n, np.where((n == 0) | (p <= 0), 0, k)).astype(np.int64)


@dataclass(frozen=True)
class CountsMany:
    """Draws for several intervals; arrays indexed [interval, cohort] with cohort 0=new, 1=old."""

    requests: np.ndarray
    errors: np.ndarray
    latency: np.ndarray
    true_rates: np.ndarray


def draw_many(traffic: Traffic, bad: BadBuild, noise: IntervalNoise, ks: np.ndarray, wall_mid: np.ndarray,
              host_seconds: np.ndarray, bad_fraction: np.ndarray, incident: np.ndarray,
              incident_multiplier: float) -> CountsMany:
    """Requests ~ Poisson(mean x gamma noise), errors ~ Binomial(requests, rate x gamma noise), by inverse
    CDF from the uniforms of intervals `ks`; host_seconds is [interval, cohort]."""
    load = diurnal_load(traffic.diurnal.amplitude, traffic.diurnal.peak_hour, wall_mid)
    p_new, p_old = spiked_rates(traffic.error_rate * np.where(incident, incident_multiplier, 1.0), bad, bad_fraction)
    served = host_seconds * (traffic.requests_per_host * load)[:, None]
    requests = np.where(served > 0, poisson_ppf(noise.u_requests[ks], served * noise.rate_noise[ks]), 0)
    true_rates = np.stack([p_new, p_old], axis=1)
    rates = np.minimum(true_rates * noise.error_noise[ks], 1.0)
    errors = binom_ppf(noise.u_errors[ks], requests, rates)
    latency = traffic.latency * noise.latency_noise[ks]
    latency[:, 0] += bad_fraction * bad.added_latency
    latency = np.where(requests > 0, latency, np.nan)
    return CountsMany(requests, errors, latency, true_rates)


@dataclass(frozen=True)
class Replay:
    """A resampled real history, one entry per metric interval of the release (fleet-wide counts)."""

    requests: np.ndarray
    errors: np.ndarray
    latency: np.ndarray | None


def draw_replayed(traffic: Traffic, bad: BadBuild, noise: IntervalNoise, ks: np.ndarray, replay: Replay,
                  new_share: np.ndarray, bad_fraction: np.ndarray, incident: np.ndarray,
                  incident_multiplier: float) -> CountsMany:
    """Backtest draws: the real requests split between cohorts by their share of the traffic; errors at
    the real interval's error rate, plus the bad build's spike on the new cohort's affected requests."""
    total = replay.requests[ks]
    new_requests = binom_ppf(noise.u_requests[ks, 0], total, np.clip(new_share, 0.0, 1.0))
    requests = np.stack([new_requests, total - new_requests], axis=1)
    real_rate = np.divide(replay.errors[ks], total, out=np.zeros(len(ks)), where=total > 0)
    true_rates = np.stack(spiked_rates(real_rate * np.where(incident, incident_multiplier, 1.0), bad, bad_fraction),
                          axis=1)
    errors = binom_ppf(noise.u_errors[ks], requests, true_rates)
    real_latency = replay.latency[ks] if replay.latency is not None else np.full(len(ks), traffic.latency)
    latency = np.stack([real_latency + bad_fraction * bad.added_latency, real_latency], axis=1)
    return CountsMany(requests, errors, np.where(requests > 0, latency, np.nan), true_rates)
