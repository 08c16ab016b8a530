"""Checking that timestamps form one regular grid, and inferring its interval.

The interval is the most common positive step between consecutive rows (to the millisecond; on a
tie, the one seen first).
Every row that breaks the grid is reported where it is: a duplicate, a step backwards, a gap
(missing rows, reported with how many) or an off-grid step. Gaps are not filled (see history.py).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Callable

import numpy as np

from sim.backtest.problems import MAX_PROBLEMS
from sim.errors import Problem

Locate = Callable[[int], tuple[int | None, int | None, str]]
"""Row index -> (line, column, path) of that row's timestamp, for messages."""


def infer_interval(stamps: np.ndarray, locate: Locate, source: str) -> tuple[float | None, list[Problem]]:
    """The regular step of `stamps` (unix seconds) and a problem for each of the first rows off the grid
    (`MAX_PROBLEMS` in all, the last saying how many more)."""
    steps = np.round(np.diff(stamps), 3)
    positive = Counter(float(s) for s in steps if s > 0)
    if not positive:
        return None, []
    interval = max(positive, key=positive.get)  # ties: the step seen first
    off = np.flatnonzero(steps != interval)
    shown = MAX_PROBLEMS - 1  # a hostile file may have a million: show a few, then how many more
    problems = [_step_problem(int(i) + 1, float(steps[i]), interval, stamps, locate, source) for i in off[:shown]]
    if len(off) > shown:
        problems.append(Problem(source, None, None, "", f"... and {len(off) - shown:,} more rows off the "
                                                        f"grid of one row every {_seconds(interval)}"))
    return interval, problems


def _step_problem(row: int, step: float, interval: float, stamps: np.ndarray,
                  locate: Locate, source: str) -> Problem:
    line, column, path = locate(row)
    prev_line, _, prev_path = locate(row - 1)
    previous = f"line {prev_line}" if prev_line is not None else prev_path
    got = f"{iso(stamps[row])}, {_seconds(step)} after {previous}"
    allowed = f"one row every {_seconds(interval)}, increasing"
    if step == 0:
        message = f"duplicate timestamp (same as {previous})"
    elif step < 0:
        message = f"timestamp goes backwards (earlier than {previous}); rows must be sorted by time"
    elif (step / interval).is_integer():
        missing = int(step / interval) - 1
        message = f"gap: {missing} missing row{'s' * (missing > 1)} before this one; fill or trim the history"
    else:
        message = "irregular spacing: the step is not the file's interval"
    return Problem(source, line, column, path, message, got=got, allowed=allowed)


def iso(stamp: float) -> str:
    """Unix seconds as ISO-8601 UTC, for messages."""
    return datetime.fromtimestamp(float(stamp), tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _seconds(value: float) -> str:
    return f"{value:g}s"
