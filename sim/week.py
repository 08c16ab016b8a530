"""The simulated week as files and people name it: seconds since Monday 00:00 as `Tue 11:40` (terminal and
report text) and as an ISO 8601 timestamp with zone (files).

The simulated week has no date of its own: files name it as the week of Monday 2001-01-01, in UTC
(`iso`: `2001-01-02T11:40:00+00:00`), so that every tool reads the timestamp; `human` turns such a
timestamp back into `Tue 11:40`. A base module: the release clock (`sim.rollout.clock`) and the report,
which reads files, both use it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

DAY = 86400.0
WEEK = 7 * DAY
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SIMULATED_MONDAY = datetime(2001, 1, 1, tzinfo=timezone.utc)  # a Monday: the simulated week, as files date it


def describe(wall: float) -> str:
    day = DAYS[int((wall % WEEK) // DAY)]
    minutes = int(round((wall % DAY) / 60.0))
    return f"{day} {minutes // 60:02d}:{minutes % 60:02d}"


def iso(wall: float) -> str:
    """ISO 8601 (with zone) of a moment of the simulated week, to the second."""
    return (SIMULATED_MONDAY + timedelta(seconds=round(wall % WEEK))).isoformat()


def human(timestamp: str) -> str:
    """`Tue 11:40` for a timestamp `iso` wrote (any other text is returned as it is)."""
    try:
        moment = datetime.fromisoformat(timestamp)
    except (TypeError, ValueError):
        return str(timestamp)
    if moment.tzinfo is None:
        return str(timestamp)
    return describe((moment - SIMULATED_MONDAY).total_seconds())
