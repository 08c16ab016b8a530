"""Confidence intervals every reported share and quantile carries: Wilson's score interval for a
share (no continuity correction) and the distribution-free interval of a quantile from order
statistics (binomial ranks)."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def wilson(successes: int, n: int, confidence: float) -> tuple[float, float]:
    if n == 0:
        return (math.nan, math.nan)
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exactly 0 and 1 at the ends (rounding aside)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


def quantile_ci(values: np.ndarray, q: float, confidence: float) -> tuple[float, float, float]:
    """The q-quantile and a distribution-free interval from order statistics (binomial ranks)."""
    values = np.sort(np.asarray(values, dtype=float))
    n = len(values)
    if n == 0:
        return (math.nan, math.nan, math.nan)
    alpha = 1 - confidence
    lo = int(stats.binom.ppf(alpha / 2, n, q))
    hi = int(stats.binom.ppf(1 - alpha / 2, n, q))
    estimate = _quantile(values, q)
    low = float(values[lo - 1]) if lo >= 1 else math.nan  # too few values to bound it from below
    high = float(values[hi]) if hi < n else math.nan  # ... or from above
    return (estimate, low, high)


def _quantile(ordered: np.ndarray, q: float) -> float:
    """numpy's default (linear) sample quantile of sorted values, where an infinite value (never
    mitigated) is the largest: the median of 300, 600, never is 600 and their p95 is never (numpy's
    interpolation gives NaN next to an infinity)."""
    if np.isfinite(ordered).all():
        return float(np.quantile(ordered, q))
    position = (len(ordered) - 1) * q
    below = int(math.floor(position))
    a, b = ordered[below], ordered[min(below + 1, len(ordered) - 1)]
    fraction = position - below
    return float(a if fraction == 0 or a == b else a + fraction * (b - a))
