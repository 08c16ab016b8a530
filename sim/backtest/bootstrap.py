"""Resampling a real history into new ones of any length: a moving block bootstrap.

The output is a concatenation of blocks of `block` consecutive input intervals (the last one cut
to fit), so autocorrelation within a block is kept, and each interval's requests, errors and
latency move together (so `errors <= requests` holds by construction). Blocks never wrap around
the end of the input: every block is a contiguous run of real time.

`start_phase="aligned"` keeps the diurnal pattern in place: the output starts at the input's
time of day, and the block that fills output position t starts at an input position whose time
of day is within `block // 2` intervals of t's (any day). This needs at least about a day of
history. `start_phase="random"` starts blocks anywhere (the plain moving block bootstrap).

Default block length: Politis-White (blocklength.py) on the requests series, after removing the
mean time-of-day profile when aligned and the history spans two days or more (the diurnal swing
is kept by the alignment, so only the remaining autocorrelation sets the block). Randomness
comes only from `rng`: the same seed gives the same output.
"""

from __future__ import annotations

import numpy as np

from sim.backtest.blocklength import politis_white
from sim.backtest.history import History
from sim.backtest.problems import fail

PHASES = ("aligned", "random")


def resample(history: History, rng: np.random.Generator, intervals: int, block: int | None = None,
             start_phase: str = "aligned") -> History:
    """A history of `intervals` rows drawn by block bootstrap from `history` (same start and interval).

    >>> h = History("x", 0.0, 3600.0, np.arange(72) + 10, np.zeros(72, dtype=int), None)
    >>> len(resample(h, np.random.default_rng(1), 100, block=4))
    100
    """
    return history.take(resample_indices(history, rng, intervals, block, start_phase))


def resample_indices(history: History, rng: np.random.Generator, intervals: int, block: int | None = None,
                     start_phase: str = "aligned") -> np.ndarray:
    """Input row of each output row (see `resample`): use it to resample other per-interval arrays alike."""
    if start_phase not in PHASES:
        raise ValueError(f"start_phase must be one of {PHASES} (got {start_phase!r})")
    if intervals < 1:
        raise ValueError(f"intervals must be >= 1 (got {intervals})")
    block = default_block(history, start_phase) if block is None else block
    _check_block(history, block, start_phase)
    firsts = np.arange(0, intervals, block)
    lasts = len(history) - np.minimum(block, intervals - firsts)  # the latest start that still fits
    if start_phase == "aligned" and 2 * (block // 2) + 1 < history.per_day:
        starts = _aligned_starts(firsts % history.per_day, lasts, block // 2, history.per_day, rng)
    else:  # random phase, or a tolerance that spans the whole day: every start is aligned
        starts = rng.integers(0, lasts + 1)
    return np.repeat(starts, block)[:intervals] + np.arange(intervals) % block


def default_block(history: History, start_phase: str = "aligned") -> int:
    """Politis-White block length on requests (time-of-day profile removed when aligned over >= 2 days)."""
    series = history.requests.astype(float)
    period = history.per_day
    if start_phase == "aligned" and len(history) >= 2 * period > 2:
        phase = np.arange(len(history)) % period
        profile = np.bincount(phase, weights=series) / np.bincount(phase)
        series = series - profile[phase]
    return max(1, min(politis_white(series), len(history)))


def _aligned_starts(phases: np.ndarray, lasts: np.ndarray, tolerance: int, period: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Per block, a start drawn uniformly from the starts in [0, last] within `tolerance` of its phase.

    Candidates are `phase + k*period + d` with |d| <= tolerance (k = -1 reaches across midnight).
    Rejection sampling over (k, d): the pairs name distinct starts because the windows are
    narrower than a day, so the accepted draws are uniform over the candidates.
    """
    starts = np.full(phases.shape, -1)
    lowest = -((phases + tolerance) // period)
    highest = (lasts + tolerance - phases) // period
    pending = np.arange(phases.shape[0])
    while pending.size:
        drawn = (phases[pending] + period * rng.integers(lowest[pending], highest[pending] + 1)
                 + rng.integers(-tolerance, tolerance + 1, size=pending.size))
        ok = (drawn >= 0) & (drawn <= lasts[pending])
        starts[pending[ok]] = drawn[ok]
        pending = pending[~ok]
    return starts


def _check_block(history: History, block: int, start_phase: str) -> None:
    n = len(history)
    if not 1 <= block <= n:
        fail(history.source, "block length out of range for this history", path="block",
             got=str(block), allowed=f"1..{n} intervals")
    period = history.per_day
    if start_phase == "aligned" and period > 1 and n - block + 1 + 2 * (block // 2) < period:
        fail(history.source, "too short to resample with the time of day aligned", path="start_phase",
             got=f"{n} intervals of {history.interval:g}s with blocks of {block}",
             allowed=f"at least {period + block - 1 - 2 * (block // 2)} intervals (about a day), or start_phase='random'")
