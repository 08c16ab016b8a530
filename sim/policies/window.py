"""The data a policy sees at one check: per-interval counts of the two cohorts, never single requests.

Contract: each `Window` handed to `check` holds the metric intervals that ended since the previous check
of the same analysis run (oldest first). Policies that need history (Kayenta's series, the sequential
test) keep it in their own state, so no interval is ever counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Window:
    """Counts per metric interval for the new build and the old build (baseline / control)."""

    time: float
    """Seconds since rollout start, at the end of the newest interval."""
    new_requests: np.ndarray
    new_errors: np.ndarray
    old_requests: np.ndarray
    old_errors: np.ndarray
    new_latency: np.ndarray
    """Mean latency (s) per interval; NaN where the interval had no requests."""
    old_latency: np.ndarray

    def __post_init__(self) -> None:
        sizes = {len(np.atleast_1d(a)) for a in self._arrays()}
        if len(sizes) != 1:
            raise ValueError(f"window arrays must have one entry per interval each (got lengths {sorted(sizes)})")

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return (self.new_requests, self.new_errors, self.old_requests, self.old_errors,
                self.new_latency, self.old_latency)

    @property
    def intervals(self) -> int:
        return len(np.atleast_1d(self.new_requests))


def window_of(time: float, new: tuple, old: tuple, latency: tuple | None = None) -> Window:
    """A window from (requests, errors) sequences per cohort; latency (new, old) defaults to NaN.

    >>> w = window_of(60.0, new=([100], [2]), old=([900], [9]))
    >>> float(error_rate(w.new_requests, w.new_errors))
    0.02
    """
    new_req, new_err = (np.asarray(x, dtype=np.int64) for x in new)
    old_req, old_err = (np.asarray(x, dtype=np.int64) for x in old)
    if latency is None:
        latency = (np.full(len(new_req), np.nan), np.full(len(new_req), np.nan))
    new_lat, old_lat = (np.asarray(x, dtype=float) for x in latency)
    return Window(time, new_req, new_err, old_req, old_err, new_lat, old_lat)


def error_rate(requests: np.ndarray, errors: np.ndarray) -> float:
    """Errors over requests across the whole window (a Prometheus `rate()` over it); NaN if no requests."""
    total = int(np.sum(requests))
    return float(np.sum(errors)) / total if total > 0 else float("nan")


def mean_latency(requests: np.ndarray, latency: np.ndarray) -> float:
    """Request-weighted mean latency across the window; NaN if no requests."""
    req = np.asarray(requests, dtype=float)
    lat = np.asarray(latency, dtype=float)
    has = (req > 0) & np.isfinite(lat)
    total = req[has].sum()
    return float((req[has] * lat[has]).sum() / total) if total > 0 else float("nan")


def per_interval_rates(requests: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """Error rate of each interval; NaN where an interval had no requests."""
    req = np.asarray(requests, dtype=float)
    err = np.asarray(errors, dtype=float)
    out = np.full(req.shape, np.nan)
    np.divide(err, req, out=out, where=req > 0)
    return out
