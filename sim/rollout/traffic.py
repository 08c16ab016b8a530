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

from sim.rollout.clock import diurnal_load
from sim.spec.rollout import BadBuild, Traffic
from sim.stats.discrete import binom_ppf, poisson_ppf
from sim.streams import Streams


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
    streams: Streams  # the release's
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
