"""A data-driven block length for the block bootstrap (Politis and White 2004).

The automatic rule of Politis & White (2004), with the correction of Patton, Politis & White
(2009), for the circular/moving block bootstrap: estimate the long-run variance and the
"G" term from autocovariances up to a lag chosen where the autocorrelation stops being
significant (flat-top kernel), then `b = (2 G^2 / D)^(1/3) n^(1/3)` with `D = 4/3 g(0)^2`.
The result is clipped to `[1, min(3 sqrt(n), n/3)]`, as the authors recommend.
"""

from __future__ import annotations

import math

import numpy as np


def politis_white(series: np.ndarray) -> int:
    """Block length (in intervals, >= 1) for a moving block bootstrap of `series`.

    >>> rng = np.random.default_rng(1)
    >>> politis_white(rng.normal(size=2000)) <= 3  # no autocorrelation: short blocks
    True
    """
    x = np.asarray(series, dtype=float)
    n = x.shape[0]
    if n < 4 or not np.any(x != x[0]):
        return 1
    lags = _lag_window(x)
    acov = _autocovariances(x - x.mean(), lags)
    k = np.arange(1, lags + 1)
    flat_top = np.where(k / lags <= 0.5, 1.0, 2.0 * (1.0 - k / lags))
    g = np.sum(2.0 * flat_top * k * acov[1:])
    long_run = acov[0] + np.sum(2.0 * flat_top * acov[1:])
    upper = math.ceil(min(3.0 * math.sqrt(n), n / 3.0))
    if long_run == 0 or g == 0:
        return 1
    block = (2.0 * g**2 / (4.0 / 3.0 * long_run**2)) ** (1.0 / 3.0) * n ** (1.0 / 3.0)
    return int(min(max(1, round(block)), upper))


def _lag_window(x: np.ndarray) -> int:
    """The bandwidth M: twice the first lag after which K_n autocorrelations are all insignificant."""
    n = x.shape[0]
    kn = max(5, int(math.log10(n)))
    most = math.ceil(math.sqrt(n)) + kn
    most = min(most, n - 2)
    acorr = np.abs(_autocovariances(x - x.mean(), most))
    acorr = acorr[1:] / acorr[0] if acorr[0] > 0 else np.zeros(most)
    threshold = 2.0 * math.sqrt(math.log10(n) / n)
    for m in range(0, most - kn + 1):
        if np.all(acorr[m : m + kn] < threshold):
            return max(1, min(2 * max(m, 1), most))
    return max(1, most)


def _autocovariances(centered: np.ndarray, lags: int) -> np.ndarray:
    n = centered.shape[0]
    return np.array([centered[k:] @ centered[: n - k] / n for k in range(lags + 1)])
