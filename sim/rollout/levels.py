"""How many requests the new build serves in one gate check: the expected count, not a draw.

Synthetic traffic (`sim.rollout.traffic.draw_many`): a cohort serves host-seconds x
`requests_per_host` x the diurnal load, with dogfood hosts weighted by `dogfood_requests_per_host` /
`requests_per_host` and staging hosts serving nothing. The gamma noise has mean 1, so it leaves the
expectation alone. At the daily peak the load is 1 + amplitude; over a day it averages 1.

A backtest (`traffic.history`, `draw_replayed`) replays the history's fleet-wide requests per metric
interval and gives the new cohort its share of the fleet's weighted hosts (the same weights). The
history's busiest interval plays the role of the peak, its median that of the daily mean.

A check's window holds the metric intervals that ended since the previous check: `interval` seconds of
traffic on average, and one whole metric interval when the gate checks more often than that.

    level = requests_per_check(scenario, cohort, interval=60.0)
    level.busiest, level.typical, level.basis
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.backtest import read_history
from sim.rollout.nominal import Cohort, production_hosts
from sim.units import format_duration


@dataclass(frozen=True)
class Level:
    """Expected new-build requests in one check window."""

    busiest: float
    """At the diurnal peak (synthetic) or in the history's busiest interval (backtest)."""
    typical: float
    """At the daily mean load (synthetic) or in the history's median interval (backtest)."""
    basis: str
    """How `busiest` was computed, for a message."""
    typical_name: str
    """What `typical` stands for, for a message."""


def window_seconds(scenario, interval: float) -> float:
    """Seconds of traffic in one check window of a gate checking every `interval`."""
    return max(interval, scenario.traffic.metric_interval)


def dogfood_weight(scenario) -> float:
    """A dogfood host's traffic relative to a production host's."""
    traffic = scenario.traffic
    return traffic.dogfood_requests_per_host / traffic.requests_per_host


def history_levels(path: str) -> tuple[float, float]:
    """(busiest, median) fleet-wide requests per metric interval of a history file."""
    requests = read_history(path).requests
    return float(requests.max()), float(np.median(requests))


def requests_per_check(scenario, cohort: Cohort, interval: float) -> Level:
    """Expected new-build requests in one check of a gate with this `interval`, with these hosts on it."""
    traffic, window = scenario.traffic, window_seconds(scenario, interval)
    if traffic.history is not None:
        return _replayed(scenario, cohort, window)
    per_second = traffic.requests_per_host * cohort.production + traffic.dogfood_requests_per_host * cohort.dogfood
    peak = 1.0 + traffic.diurnal.amplitude
    basis = (f"{cohort.production} x {traffic.requests_per_host:g}/s + {cohort.dogfood} dogfood x "
             f"{traffic.dogfood_requests_per_host:g}/s, x{peak:g} at the diurnal peak, over {format_duration(window)}")
    return Level(per_second * peak * window, per_second * window, basis, "mean load")


def _replayed(scenario, cohort: Cohort, window: float) -> Level:
    step = scenario.traffic.metric_interval
    busiest, median = history_levels(scenario.traffic.history)
    weight = dogfood_weight(scenario)
    fleet = production_hosts(scenario) + scenario.fleet.tiers.dogfood * weight
    share = (cohort.production + cohort.dogfood * weight) / fleet
    scale = share * window / step
    basis = (f"history's busiest interval {busiest:g} requests per {format_duration(step)} x "
             f"{share:.2%} of the traffic, over {format_duration(window)}")
    return Level(busiest * scale, median * scale, basis, "the history's median interval")
