"""Wall-clock time for a release: when it starts in the week, and whether a moment is business hours.

Simulation time is seconds since the release's branch cut; `wall = start + t` is seconds since Monday
00:00 of the release's week. Load follows the hour of day; reaction times follow business hours.

How the week is written (`Tue 11:40`, ISO 8601 in files) is `sim.week`, re-exported here.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from sim.spec.rollout import BusinessHours, Schedule
from sim.week import DAY, DAYS, SIMULATED_MONDAY, WEEK, describe, human, iso  # noqa: F401


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


def diurnal_load(amplitude: float, peak_hour: float, wall: np.ndarray) -> np.ndarray:
    """Load relative to the daily mean: 1 + amplitude x cos(2 pi (hour - peak) / 24)."""
    hour = (np.asarray(wall) % DAY) / 3600.0
    return 1.0 + amplitude * np.cos(2 * math.pi * (hour - peak_hour) / 24.0)
