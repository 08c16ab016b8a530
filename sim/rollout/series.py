"""Metric intervals as columns: the counts each release's gates read, computed for many releases at once.

Interval k of a release covers [k*step, (k+1)*step). Its counts are a pure function of the release's
exposure during the interval, its noise for index k, its incidents and its bad build, so an interval
is the same number whether it is computed alone, in a chunk, or in one call with other releases'
intervals (every operation here is elementwise). The per-check model (`ReleaseContext.advance_metrics`)
and the batched engine (`sim.rollout.batch`) both compute intervals here, which is what makes their
releases identical.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from sim.policies.window import LATENCY_SHAPE
from sim.rollout.records import MetricSample
from sim.rollout.traffic import IntervalNoise, draw_many, draw_replayed


@dataclass(frozen=True)
class MetricSeries:
    """Intervals k0..k0+n-1 of one release, one array per column (cohort 0 = new, 1 = old)."""

    time: np.ndarray  # end of each interval
    new_requests: np.ndarray
    new_errors: np.ndarray
    old_requests: np.ndarray
    old_errors: np.ndarray
    new_latency: np.ndarray
    old_latency: np.ndarray
    new_true_rate: np.ndarray
    old_true_rate: np.ndarray
    new_share: np.ndarray
    bad_share: np.ndarray
    incident: np.ndarray
    new_affected: np.ndarray
    """Share of each interval's new-cohort requests with the bad build's added latency (the latency
    quantiles' model, `sim.policies.window.latency_quantile`); not a column of the metric records."""
    interval: float
    added_latency: float = 0.0
    """The bad build's added latency per affected request (s)."""
    latency_shape: float = LATENCY_SHAPE
    """`traffic.latency_shape`."""

    def __len__(self) -> int:
        return len(self.time)

    @functools.cached_property
    def prefix_counts(self) -> dict[str, np.ndarray]:
        """Running totals of the count columns from 0 (sums over any window are two look-ups)."""
        return {name: np.concatenate([[0], np.cumsum(getattr(self, name))])
                for name in ("new_requests", "new_errors", "old_requests", "old_errors")}

    def part(self, start: int, stop: int | None = None) -> "MetricSeries":
        """Rows start..stop-1 (numbered from this series' first row)."""
        return self._with({name: getattr(self, name)[start:stop] for name in _COLUMNS})

    def extended(self, more: "MetricSeries") -> "MetricSeries":
        return self._with({name: np.concatenate([getattr(self, name), getattr(more, name)]) for name in _COLUMNS})

    def _with(self, columns: dict[str, Any]) -> "MetricSeries":
        """These columns, with this series' interval, added latency and shape."""
        return MetricSeries(**columns, interval=self.interval, added_latency=self.added_latency,
                            latency_shape=self.latency_shape)

    def samples(self) -> list[MetricSample]:
        """The intervals as records (for tables and plots)."""
        columns = [getattr(self, name).tolist() for name in _RECORDED]
        return [MetricSample(t, self.interval, *rest) for t, *rest in zip(*columns)]


_COLUMNS = tuple(f.name for f in fields(MetricSeries) if f.name not in ("interval", "added_latency", "latency_shape"))
_RECORDED = tuple(name for name in _COLUMNS if name != "new_affected")  # MetricSample's, in its order


def empty_series(interval: float, added_latency: float = 0.0, latency_shape: float = LATENCY_SHAPE) -> MetricSeries:
    ints, floats = np.zeros(0, np.int64), np.zeros(0)
    return MetricSeries(floats, ints, ints, ints, ints, floats, floats, floats, floats, floats, floats,
                        np.zeros(0, bool), floats, interval, float(added_latency), latency_shape)


@dataclass(frozen=True)
class _Inputs:
    """What one release contributes to a draw: its intervals' exposure and its noise rows."""

    ks: np.ndarray
    wall_mid: np.ndarray
    host_seconds: np.ndarray  # [interval, cohort]
    affected: np.ndarray
    incident: np.ndarray
    bad_share: np.ndarray
    fleet: float  # weighted host-seconds of the whole fleet in one interval
    noise: IntervalNoise


def _inputs(ctx, k0: int, k1: int) -> _Inputs:
    release = ctx.release
    step = release.scenario.traffic.metric_interval
    ks = np.arange(k0, min(k1, release.noise.intervals))
    a, b = ks * step, (ks + 1) * step
    fleet = float(ctx.exposure.weight.sum()) * step
    new = ctx.exposure.host_seconds_many(a, b)
    bad_builds = {x.number for x in ctx.builds if x.bad}
    if bad_builds:
        every_build_bad = len(bad_builds) == len(ctx.builds)  # the common case of a bad release
        bad_live = new if every_build_bad else ctx.exposure.host_seconds_many(a, b, builds=bad_builds)
        bad_onset = ctx.exposure.host_seconds_many(a, b, builds=bad_builds, after_onset=True)
    else:
        bad_live = bad_onset = np.zeros(len(ks))
    affected = ctx.scenario.build.bad.affected_share * np.divide(bad_onset, new, out=np.zeros_like(new), where=new > 0)
    incident = np.zeros(len(ks), dtype=bool)
    for s, e in release.incidents:
        incident |= (s < b) & (e > a)
    old = np.where(fleet - new > 1e-9 * fleet, fleet - new, 0.0)
    return _Inputs(ks, release.start_wall + (a + b) / 2, np.stack([new, old], axis=1), affected, incident,
                   bad_live / fleet if fleet else np.zeros(len(ks)), fleet, release.noise.rows(ks))


def compute_series(requests: list[tuple]) -> list[MetricSeries]:
    """Intervals [k0, k1) of each (ctx, k0, k1): one vectorised draw for all synthetic-traffic releases."""
    inputs = [_inputs(ctx, k0, k1) for ctx, k0, k1 in requests]
    out: dict[int, MetricSeries] = {}  # by request, filled group by group
    groups: dict[tuple, list[int]] = {}  # one draw per traffic model (in an evaluation: all releases)
    for i, (ctx, _, _) in enumerate(requests):
        if ctx.release.replay is None:
            groups.setdefault((id(ctx.scenario.traffic), ctx.scenario.incidents.error_multiplier), []).append(i)
    for i, (ctx, _, _) in enumerate(requests):
        if ctx.release.replay is not None:
            x, sc = inputs[i], ctx.scenario
            counts = draw_replayed(sc.traffic, sc.build.bad, x.noise, ctx.release.replay, x.ks, x.host_seconds[:, 0] / x.fleet,
                                   x.affected, x.incident, sc.incidents.error_multiplier)
            out[i] = _series(ctx, x, counts.requests, counts.errors, counts.latency, counts.true_rates)
    for synthetic in groups.values():
        first = requests[synthetic[0]][0].scenario
        parts = [inputs[i] for i in synthetic]
        sizes = [len(p.ks) for p in parts]
        bads = [requests[i][0].scenario.build.bad for i in synthetic]
        per_row = lambda values: np.repeat(np.asarray(values, dtype=float), sizes)
        counts = draw_many(first.traffic, IntervalNoise.concat([p.noise for p in parts]),
                           np.concatenate([p.wall_mid for p in parts]),
                           np.concatenate([p.host_seconds for p in parts]),
                           np.concatenate([p.affected for p in parts]),
                           np.concatenate([p.incident for p in parts]), first.incidents.error_multiplier,
                           error_multiplier=per_row([b.error_multiplier for b in bads]),
                           added_error_rate=per_row([b.added_error_rate for b in bads]),
                           added_latency=per_row([b.added_latency for b in bads]))
        bounds = np.cumsum([0] + sizes)
        for j, i in enumerate(synthetic):
            cut = slice(bounds[j], bounds[j + 1])
            out[i] = _series(requests[i][0], parts[j], counts.requests[cut], counts.errors[cut],
                             counts.latency[cut], counts.true_rates[cut])
    return [out[i] for i in range(len(requests))]  # (each request is replayed, or in one group)


def _series(ctx, x: _Inputs, requests, errors, latency, true_rates) -> MetricSeries:
    step = ctx.scenario.traffic.metric_interval
    total = requests.sum(axis=1)
    share = np.divide(requests[:, 0], total, out=np.zeros(len(x.ks)), where=total > 0)
    return MetricSeries(
        time=(x.ks + 1) * step, new_requests=requests[:, 0].astype(np.int64), new_errors=errors[:, 0].astype(np.int64),
        old_requests=requests[:, 1].astype(np.int64), old_errors=errors[:, 1].astype(np.int64),
        new_latency=latency[:, 0].astype(float), old_latency=latency[:, 1].astype(float),
        new_true_rate=true_rates[:, 0].astype(float), old_true_rate=true_rates[:, 1].astype(float),
        new_share=share, bad_share=x.bad_share, incident=x.incident, new_affected=x.affected, interval=step,
        added_latency=float(ctx.scenario.build.bad.added_latency), latency_shape=ctx.scenario.traffic.latency_shape)
