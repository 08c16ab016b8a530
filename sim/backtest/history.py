"""The `History` value: per-interval request and error counts (and mean latency) of real traffic.

A history is regular: one row per `interval` seconds from `start`, with no gaps. Readers reject
gaps instead of filling them, because any fill invents traffic (zeros look like an outage,
interpolation makes up counts) and a backtest would then judge a policy on made-up data.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

import numpy as np

DAY = 86400.0


@dataclass(frozen=True)
class History:
    """Per-interval traffic: `requests[i]` and `errors[i]` counted in [start + i*interval, start + (i+1)*interval).

    `latency` is the mean latency in seconds per interval, or None; it may be NaN only where
    `requests` is 0 (no requests, no mean). The arrays are read-only copies.

    >>> h = History("x.csv", 0.0, 60.0, np.array([10, 12]), np.array([0, 1]), None)
    >>> len(h), h.duration
    (2, 120.0)
    """

    source: str
    start: float
    interval: float
    requests: np.ndarray
    errors: np.ndarray
    latency: np.ndarray | None

    def __post_init__(self) -> None:
        requests = _frozen(self.requests, np.int64)
        errors = _frozen(self.errors, np.int64)
        latency = None if self.latency is None else _frozen(self.latency, np.float64)
        if not self.interval > 0:
            raise ValueError(f"interval must be > 0 seconds (got {self.interval})")
        if requests.ndim != 1 or errors.shape != requests.shape:
            raise ValueError(f"requests and errors must be 1-D of one length (got {requests.shape}, {errors.shape})")
        if latency is not None and latency.shape != requests.shape:
            raise ValueError(f"latency must have the length of requests (got {latency.shape}, {requests.shape})")
        if np.any(errors < 0) or np.any(errors > requests):
            raise ValueError("counts must satisfy 0 <= errors <= requests in every interval")
        object.__setattr__(self, "requests", requests)
        object.__setattr__(self, "errors", errors)
        object.__setattr__(self, "latency", latency)

    def __len__(self) -> int:
        return int(self.requests.shape[0])

    @property
    def duration(self) -> float:
        """Seconds covered, from the first interval's start to the last one's end."""
        return len(self) * self.interval

    @property
    def per_day(self) -> int:
        """Intervals in one day (rounded; at least 1): the period of the diurnal pattern."""
        return max(1, round(DAY / self.interval))

    def timestamps(self) -> np.ndarray:
        """Unix seconds of each interval's start."""
        return self.start + self.interval * np.arange(len(self))

    def sha256(self) -> str:
        """A digest of the traffic (start, interval, counts and latency; not `source`): the same for the
        same data however it was read, a file or a live server. Results manifests record it."""
        digest = hashlib.sha256(struct.pack("<ddq", self.start, self.interval, len(self)))
        digest.update(self.requests.astype("<i8").tobytes() + self.errors.astype("<i8").tobytes())
        digest.update(b"" if self.latency is None else b"latency" + self.latency.astype("<f8").tobytes())
        return digest.hexdigest()

    def take(self, indices: np.ndarray, source: str | None = None) -> "History":
        """A history made of the rows at `indices` (in that order), starting at the same time."""
        latency = None if self.latency is None else self.latency[indices]
        return History(source or self.source, self.start, self.interval,
                       self.requests[indices], self.errors[indices], latency)


def _frozen(values: np.ndarray, dtype: type) -> np.ndarray:
    array = np.array(values, dtype=dtype, copy=True)
    array.setflags(write=False)
    return array
