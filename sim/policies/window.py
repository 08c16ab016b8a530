"""The data a policy sees at one check: per-interval counts of the two cohorts, never single requests.

Contract: each `Window` handed to `check` holds the metric intervals that ended since the previous check
of the same analysis run (oldest first). Policies that need history (Kayenta's series, the sequential
test) keep it in their own state, so no interval is ever counted twice.

Latency quantiles (`latency_quantile`) come from a model, not from single requests (the traffic model
draws one mean latency per cohort and interval): a request's latency is its interval's level times a
lognormal factor of mean 1 and shape `latency_shape` (so p99/p50 = exp(2.326 x shape) within an
interval, and the level is the mean of its unaffected requests), plus the bad build's `added_latency` for the share
`new_affected` of the new cohort's requests that hit its slow path. A window's quantile is the quantile
of the request-weighted mixture of its intervals' distributions. The mean (`mean_latency`) is the
model's mean exactly, so quantile gates and mean gates read one model (docs/sources.md, L1).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import numpy as np

LATENCY_SHAPE = 0.6
"""Default shape of the per-request lognormal factor (`traffic.latency_shape`): p95/p50 = 2.7, p99/p50
= 4.0, mean/median = 1.2 within one interval. Guess (docs/sources.md, L1)."""
QUANTILES = {"p50": 0.50, "p95": 0.95, "p99": 0.99}
"""The latency quantiles a gate or a measure can read, by name."""


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
    new_affected: np.ndarray | None = None
    """Share of each interval's new-cohort requests that carry `added_latency` (a bad build past its
    onset); None: none. The old cohort never does."""
    added_latency: float = 0.0
    """What the bad build adds to each affected request's latency (s)."""
    latency_shape: float = LATENCY_SHAPE
    """Shape of each request's lognormal latency factor around its interval's level (`latency_quantile`)."""

    def __post_init__(self) -> None:
        sizes = {len(np.atleast_1d(a)) for a in self._arrays()}
        if len(sizes) != 1:
            raise ValueError(f"window arrays must have one entry per interval each (got lengths {sorted(sizes)})")

    def _arrays(self) -> tuple[np.ndarray, ...]:
        affected = () if self.new_affected is None else (self.new_affected,)
        return (self.new_requests, self.new_errors, self.old_requests, self.old_errors,
                self.new_latency, self.old_latency, *affected)

    def latency_quantile(self, cohort: str, quantile: str) -> float:
        """The `quantile` (`p50`, `p95`, `p99`) of the latency of `cohort`'s (`new`, `old`) requests over
        the window, seconds; NaN if it had no requests."""
        if cohort == "new":
            return latency_quantile(self.new_requests, self.new_latency, QUANTILES[quantile], self.latency_shape,
                                    self.new_affected, self.added_latency)
        return latency_quantile(self.old_requests, self.old_latency, QUANTILES[quantile], self.latency_shape)

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


_LEVEL_FLOOR = 1e-9  # s: a level under a nanosecond (rounding, a history's zero) is read as one
_TOLERANCE = 1e-12  # Newton stops when a step moves log latency less than this (relative error ~1e-12)
_FEW = 32  # pieces up to which the CDF is summed in plain floats (faster than numpy's call overhead)


def latency_quantile(requests: np.ndarray, latency: np.ndarray, q: float, shape: float,
                     affected: np.ndarray | None = None, added: float = 0.0) -> float:
    """The q-quantile of one cohort's request latencies over a window (seconds; NaN without requests).

    Per interval i (with requests n_i and mean latency latency_i), a request takes L_i x exp(shape Z -
    shape^2/2), Z standard normal, plus `added` for the share affected_i of them; L_i = latency_i -
    affected_i x added is the level of unaffected requests (so the interval's mean stays latency_i).
    The window's CDF is the n-weighted mixture of these (up to 2 x intervals) lognormal pieces, shifted
    or not; its q-quantile lies between the pieces' own q-quantiles. A piece alone (or pieces alike)
    has the closed form L e^(shape z_q - shape^2/2) [+ added]; else Newton's method on the mixture's CDF
    in log latency, kept inside that bracket by bisection (`_solve`). A test holds it to brentq on the
    exact CDF (relative 1e-9) and to a Monte Carlo of single requests.

    >>> round(latency_quantile([100], [0.12], 0.5, 0.6), 6)  # median = mean x exp(-shape^2 / 2)
    0.100232
    """
    pieces = _pieces(requests, latency, shape, affected, added)
    if not pieces:
        return math.nan
    z = _probit(q)
    own = [math.exp(log_median + shape * z) + shift for _, log_median, shift in pieces]  # each piece's q-quantile
    low, high = min(own), max(own)
    if low == high:
        return low
    return _solve(q, shape, pieces, math.log(low), math.log(high))


def _pieces(requests, latency, shape: float, affected, added: float) -> list[tuple[float, float, float]]:
    """(share of the window's requests, log median, shift) of each lognormal piece of its latencies:
    per interval with requests, its unaffected requests and (with an affected share) its affected ones."""
    added = float(added)
    counts = np.asarray(requests, dtype=float).tolist()
    shares = [0.0] * len(counts) if affected is None or added == 0 else np.clip(affected, 0.0, 1.0).tolist()
    out = []
    for n, mean, share in zip(counts, np.asarray(latency, dtype=float).tolist(), shares):
        if n > 0 and math.isfinite(mean):
            log_median = math.log(max(mean - share * added, _LEVEL_FLOOR)) - shape * shape / 2
            if share < 1:
                out.append((n * (1 - share), log_median, 0.0))
            if share > 0:
                out.append((n * share, log_median, added))
    total = sum(weight for weight, _, _ in out)
    return [(weight / total, log_median, shift) for weight, log_median, shift in out]


def _probit(q: float) -> float:
    return statistics.NormalDist().inv_cdf(q)


def _solve(q: float, shape: float, pieces: list[tuple[float, float, float]], low: float, high: float) -> float:
    """exp(u) where the mixture's CDF at exp(u) is q, for u in [low, high] (where it crosses q).

    Newton's method in u from the bracket's middle, each step shrinking the bracket [low, high] by the
    sign of CDF - q; a step that would leave the bracket bisects it instead, so a CDF that is nearly a
    step (a tiny shape, pieces far apart) still converges. Typically 4 or 5 steps."""
    cdf = (_cdf_few if len(pieces) <= _FEW else _cdf_many)(pieces, 1 / shape)
    u = (low + high) / 2
    for _ in range(200):
        value, slope = cdf(u)
        if value < q:
            low = u
        else:
            high = u
        step = u - (value - q) / slope if slope > 0 else math.nan
        tolerance = _TOLERANCE * max(1.0, abs(u))
        if abs(step - u) <= tolerance:  # (u is an end of the bracket now: test before keeping the step inside)
            return math.exp(step)
        u = step if low < step < high else (low + high) / 2
        if high - low <= tolerance:
            return math.exp(u)
    return math.exp(u)  # (not reached: bisection alone closes a bracket of 1e30 in ~140 steps)


_ROOT2, _DENSITY = math.sqrt(2.0), 1 / math.sqrt(2 * math.pi)


def _cdf_few(pieces: list[tuple[float, float, float]], inverse: float):
    """u -> (CDF, dCDF/du) of the mixture at latency exp(u), summed piece by piece in floats."""

    def at(u: float) -> tuple[float, float]:
        x = math.exp(u)
        value = slope = 0.0
        for weight, log_median, shift in pieces:
            y = x - shift
            if y > 0.0:  # (at or under its shift, a piece's CDF is 0)
                z = (math.log(y) - log_median) * inverse
                value += weight * 0.5 * math.erfc(-z / _ROOT2)
                slope += weight * math.exp(-0.5 * z * z) * x / y
        return value, slope * _DENSITY * inverse
    return at


def _cdf_many(pieces: list[tuple[float, float, float]], inverse: float):
    """`_cdf_few` in numpy, for windows of many pieces."""
    from scipy.special import ndtr  # (scipy loads when such a window first needs it)

    weight, log_median, shift = (np.array(column) for column in zip(*pieces))

    def at(u: float) -> tuple[float, float]:
        x = math.exp(u)
        y = np.maximum(x - shift, 1e-300)  # at or under a shift: CDF 0
        z = (np.log(y) - log_median) * inverse
        return float(ndtr(z) @ weight), float(np.exp(-0.5 * z * z) @ (weight * x / y)) * _DENSITY * inverse
    return at
