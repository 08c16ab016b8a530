"""Fleet growth by hosts a week (linear) or by a percent a week (compounding), against closed forms: the
sizes run from `start` to the last week's size, spaced evenly in log; `week_of` inverts the growth; a
growth that would pass the largest fleet, or names both rates or neither, is refused where it is written."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from sim.spec.scenario import MAX_HOSTS, Growth


def test_linear_growth_ends_at_start_plus_weeks_times_hosts():
    g = Growth(start=10, per_week=400, weeks=250, points=10)
    assert g.sizes()[0] == 10 and g.sizes()[-1] == 100_010 and len(g.sizes()) == 10
    assert g.week_of(100_010) == pytest.approx(250) and g.week_of(4_010) == pytest.approx(10)


def test_percent_growth_compounds():
    g = Growth(start=100, percent_per_week="5%", weeks=104, points=5)
    last = 100 * 1.05 ** 104  # 15,983.9
    assert g.sizes() == sorted({round(100 * (last / 100) ** (i / 4)) for i in range(5)})
    assert g.sizes()[-1] == 15_984
    assert g.week_of(200) == pytest.approx(math.log(2) / math.log(1.05))  # doubling in about 14.2 weeks
    assert g.week_of(last) == pytest.approx(104)
    assert Growth(start=100, percent_per_week=5, weeks=10).sizes() == \
        Growth(start=100, percent_per_week="5%", weeks=10).sizes()  # the field's unit is percent


@pytest.mark.parametrize("rates", [{}, {"per_week": 10, "percent_per_week": 5}])
def test_exactly_one_rate(rates):
    with pytest.raises(ValidationError, match="exactly one of per_week .* and percent_per_week"):
        Growth(start=10, weeks=10, **rates)


@pytest.mark.parametrize("rates", [{"per_week": MAX_HOSTS, "weeks": 2}, {"percent_per_week": 100, "weeks": 10_000}])
def test_a_growth_past_the_largest_fleet_is_refused_without_overflow(rates):
    with pytest.raises(ValidationError, match=f"past {MAX_HOSTS:,} hosts"):
        Growth(start=10, **rates)


def test_a_growth_that_ends_at_the_largest_fleet_is_allowed():
    assert Growth(start=1, per_week=MAX_HOSTS - 1, weeks=1).sizes()[-1] == MAX_HOSTS
