"""The units the report shows, by hand: each boundary between units, and the numbers a file may hold
that are not numbers (empty, NaN, infinite)."""

from __future__ import annotations

import math

import pytest

from sim.report import formats


@pytest.mark.parametrize("seconds, shown", [
    (0.25, "250 ms"), (0.9994, "999 ms"), (1, "1.0 s"), (59.94, "59.9 s"), (60, "1 min"), (95, "1 min 35 s"),
    (3599, "59 min 59 s"), (3600, "1 h"), (4920, "1 h 22 min"), (47 * 3600 + 59 * 60, "47 h 59 min"),
    (48 * 3600, "2.0 d"), (578000, "6.7 d"), ("", "-"), (None, "-"), (math.nan, "-"), (math.inf, "never"),
])
def test_durations_read_in_s_min_h_and_days(seconds, shown):
    assert formats.duration(seconds) == shown


@pytest.mark.parametrize("seconds, shown", [(0.5, "500 ms"), (10, "10 s"), (600, "10 min"), (21600, "6 h"),
                                            (86400, "1 d")])
def test_axis_ticks_are_whole_units(seconds, shown):
    assert formats.axis_duration(seconds) == shown


@pytest.mark.parametrize("value, shown", [(0.0028571, "0.3%"), (0.02857, "2.9%"), (1.0, "100.0%"), ("", "-")])
def test_shares_are_percent(value, shown):
    assert formats.share(value) == shown


@pytest.mark.parametrize("value, shown", [(300869.6, "300,870"), (53.6, "53.6"), (7.0, "7"), (0.0, "0")])
def test_counts_are_whole_unless_a_small_mean(value, shown):
    assert formats.count(value) == shown


@pytest.mark.parametrize("value, shown", [(1000, "1k"), (100000, "100k"), (10, "10"), (1e6, "1M")])
def test_fleet_size_ticks(value, shown):
    assert formats.axis_hosts(value) == shown


def test_measures_in_the_unit_estimates_csv_names_and_open_intervals():
    assert formats.of_unit("minutes", 5.25) == "5.2 min"
    assert formats.of_unit("requests", 1059.4) == "1,059"
    assert formats.interval("s", 34.7, "") == "34.7 s – unbounded"
    assert formats.interval("share", "", "") == "too few to bound"
