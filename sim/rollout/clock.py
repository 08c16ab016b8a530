"""Wall-clock time for a release: when it starts in the week, and whether a moment is business hours.

Simulation time is seconds since the release's branch cut; `wall = start + t` is seconds since Monday
00:00 of the release's week. Load follows the hour of day; reaction times follow business hours.

The simulated week has no date of its own: files name it as the week of Monday 2001-01-01, in UTC
(`iso`: `2001-01-02T11:40:00+00:00`), so that every tool reads the timestamp; terminal and report text
say `Tue 11:40` (`describe`, `human`).
"""

from __future__ import annotations

import functools
import math
from datetime import datetime, timedelta, timezone

import numpy as np

from sim.spec.rollout import BusinessHours, Schedule

DAY = 86400.0
WEEK = 7 * DAY
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SIMULATED_MONDAY = datetime(2001, 1, 1, tzinfo=timezone.utc)  # a Monday: the simulated week, as files date it


def hour_of_day(wall: float) -> float:
    return (wall % DAY) / 3600.0


def is_business_hours(hours: BusinessHours, wall: float) -> bool:
    day = int((wall % WEEK) // DAY)
    if hours.weekdays_only and day >= 5:
        return False
    return hours.start <= hour_of_day(wall) < hours.end


@functools.lru_cache(maxsize=64)
def scheduled_slots(schedule: Schedule, hours: BusinessHours) -> np.ndarray:
    """Start times (seconds since Monday 00:00) of the week's scheduled deploys (read-only, cached)."""
    if schedule.business_hours_only:
        span = (hours.end - hours.start) * 3600.0
        offsets = hours.start * 3600.0 + span * np.arange(schedule.deploys_per_day) / schedule.deploys_per_day
        days = range(5) if hours.weekdays_only else range(7)
    else:
        offsets = DAY * np.arange(schedule.deploys_per_day) / schedule.deploys_per_day
        days = range(7)
    slots = np.concatenate([day * DAY + offsets for day in days])
    slots.flags.writeable = False
    return slots


def release_start(schedule: Schedule, hours: BusinessHours, rng: np.random.Generator) -> float:
    """When this release's branch is cut: the fixed `start`, else a random scheduled slot."""
    if schedule.start is not None:
        day, clock = schedule.start.split()
        hh, mm = (int(x) for x in clock.split(":"))
        return DAYS.index(day) * DAY + hh * 3600.0 + mm * 60.0
    slots = scheduled_slots(schedule, hours)
    return float(slots[rng.integers(len(slots))])


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


def diurnal_load(amplitude: float, peak_hour: float, wall: np.ndarray) -> np.ndarray:
    """Load relative to the daily mean: 1 + amplitude x cos(2 pi (hour - peak) / 24)."""
    hour = (np.asarray(wall) % DAY) / 3600.0
    return 1.0 + amplitude * np.cos(2 * math.pi * (hour - peak_hour) / 24.0)
