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
from scipy import stats

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


@dataclass(frozen=True)
class Exposure:
    """What one interval's cohorts looked like: host-seconds served and the bad build's share."""

    new_host_seconds: float
    old_host_seconds: float
    bad_fraction: float  # share of the new cohort's requests on the bad code path, past onset
    incident: bool


@dataclass(frozen=True)
class Counts:
    """One interval's draws and the true rates behind them (the truth is for reports, not gates)."""

    new_requests: int
    new_errors: int
    old_requests: int
    old_errors: int
    new_latency: float
    old_latency: float
    new_true_rate: float
    old_true_rate: float


def true_error_rates(traffic: Traffic, bad: BadBuild, exposure: Exposure, incident_multiplier: float) -> tuple[float, float]:
    base = traffic.error_rate * (incident_multiplier if exposure.incident else 1.0)
    broken = min(1.0, base * bad.error_multiplier + bad.added_error_rate)
    return (1 - exposure.bad_fraction) * base + exposure.bad_fraction * broken, min(base, 1.0)


def draw_counts(traffic: Traffic, bad: BadBuild, noise: IntervalNoise, k: int, wall_mid: float,
                exposure: Exposure, incident_multiplier: float) -> Counts:
    """Requests ~ Poisson(mean x gamma noise), errors ~ Binomial(requests, rate x gamma noise)."""
    load = float(diurnal_load(traffic.diurnal.amplitude, traffic.diurnal.peak_hour, wall_mid))
    p_new, p_old = true_error_rates(traffic, bad, exposure, incident_multiplier)
    served = np.array([exposure.new_host_seconds, exposure.old_host_seconds]) * traffic.requests_per_host * load
    requests = stats.poisson.ppf(noise.u_requests[k], served * noise.rate_noise[k]).astype(np.int64)
    requests = np.where(served > 0, requests, 0)
    rates = np.minimum(np.array([p_new, p_old]) * noise.error_noise[k], 1.0)
    errors = stats.binom.ppf(noise.u_errors[k], requests, rates).astype(np.int64)
    latency = traffic.latency * noise.latency_noise[k]
    latency = latency + np.array([exposure.bad_fraction * bad.added_latency, 0.0])
    latency = np.where(requests > 0, latency, np.nan)
    return Counts(int(requests[0]), int(errors[0]), int(requests[1]), int(errors[1]),
                  float(latency[0]), float(latency[1]), p_new, p_old)
