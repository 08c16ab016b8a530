"""The pure parts of a comparison: when two intervals separate, what counts as no interval, the changed
settings of two effective scenarios, and the intervals a fleet run's replications give."""

from __future__ import annotations

import math

from sim.compare.difference import Difference, Measure, pair
from sim.compare.fleet import mean_interval, median_interval
from sim.compare.settings import Change, changed, flatten

NAN = math.nan


def row(a: tuple, b: tuple) -> Difference:
    return Difference("s", "", "max", "s", Measure("s", "", "max", "s", *a), Measure("s", "", "max", "s", *b))


def test_intervals_that_do_not_overlap_separate_either_way_round():
    assert row((1, 0.5, 1.5), (3, 2, 4)).separated is True
    assert row((3, 2, 4), (1, 0.5, 1.5)).separated is True
    assert row((1, 0.5, 2.5), (3, 2, 4)).verdict == "overlap"


def test_touching_intervals_overlap():
    assert row((1, 0.5, 2), (3, 2, 4)).separated is False
    assert row((1, 0.5, 2), (3, 2 + 1e-12, 4)).separated is False  # float rounding is no separation


def test_without_an_interval_nothing_is_separated():
    assert row((1, NAN, NAN), (100, 99, 101)).separated is None
    assert row((1, NAN, NAN), (100, 99, 101)).verdict == "no interval"
    assert row((1, NAN, NAN), (1, NAN, NAN)).verdict == "equal"


def test_a_measure_neither_folder_has_a_value_of_is_not_called_equal():
    assert row((NAN, NAN, NAN), (NAN, NAN, NAN)).verdict == "no value"  # e.g. a false-rollback rate of no good builds
    assert row((NAN, NAN, NAN), (0.5, 0.1, 0.9)).verdict == "no interval"


def test_an_open_end_is_unbounded_on_that_side():
    assert row((1, NAN, 2), (5, 4, NAN)).separated is True  # below 2 vs above 4
    assert row((5, 4, NAN), (9, 8, 10)).separated is False  # A reaches up without end


def test_measures_only_one_folder_has_are_kept():
    a = [Measure("rsync", "4 hosts", "max", "s", 1.0)]
    b = [Measure("rsync", "8 hosts", "max", "s", 2.0)]
    assert [(r.at, r.verdict) for r in pair(a, b)] == [("4 hosts", "only in A"), ("8 hosts", "only in B")]
    assert math.isnan(pair(a, b)[0].difference)


def test_changed_settings_are_dotted_keys_of_the_effective_scenarios():
    a = {"seed": 1, "network": {"per_flow": 5}, "fleet": {"sizes": [4, 30]}, "rollout": {"steps": [{"pause": 60}]}}
    b = {"seed": 1, "network": {"per_flow": 6}, "fleet": {"sizes": [4]}, "rollout": {"steps": [{"pause": 90}]},
         "extra": {"x": True}}
    assert changed(a, b) == [Change("network.per_flow", 5, 6), Change("fleet.sizes", [4, 30], [4]),
                             Change("rollout.steps[0].pause", 60, 90), Change("extra.x", None, True)]
    assert changed(a, a) == []
    assert flatten({"gates": {}}) == {"gates": {}}


def test_a_median_needs_six_replications_for_a_95_percent_interval():
    assert all(math.isnan(x) for x in median_interval([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert median_interval([3.0, 1.0, 2.0, 6.0, 5.0, 4.0]) == (1.0, 6.0)  # min and max: 96.9% for a median
    assert median_interval([1.0, 2.0, 3.0, 4.0, 5.0, NAN])[1] == math.inf  # never reached counts as longest


def test_a_mean_interval_of_equal_values_is_that_value():
    assert mean_interval([0.0, 0.0, 0.0]) == (0.0, 0.0)
    assert all(math.isnan(x) for x in mean_interval([1.0]))
    low, high = mean_interval([1.0, 2.0, 3.0])
    assert low < 2 < high and math.isclose(high - 2, 4.302652729911275 / math.sqrt(3))  # t(0.975, 2) * s / sqrt(n)
