"""One row of a comparison: a measure in both folders, the difference, and whether the intervals separate.

"Separated" means the two intervals do not overlap: a conservative test (two 95% intervals that do not
overlap differ at about p < 0.01 for that one measure; across many measures an occasional separation
comes by chance). Overlapping intervals are inconclusive, not "equal". A row without an interval on
either side is never called separated. An end that cannot be bounded (NaN, as the files write it) is
open on that side; an interval with neither end is missing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TOLERANCE = 1e-9  # relative: two intervals that touch within float rounding overlap


@dataclass(frozen=True)
class Measure:
    """A measure as one folder holds it: its value in `unit` and its interval (NaN: an end not bounded)."""

    subject: str  # a strategy, a policy, or a pair of strategies
    at: str  # where in the subject: a fleet size, a population; "" when nowhere in particular
    name: str  # p50, max, false_rollback_rate, ...
    unit: str  # s, share, minutes, requests, hosts, s/host
    value: float
    low: float = math.nan
    high: float = math.nan
    n: int | None = None  # the population the value is computed over, when the folder says

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.subject, self.at, self.name)


@dataclass(frozen=True)
class Difference:
    """A measure in folders A and B (None where one folder does not have it)."""

    subject: str
    at: str
    name: str
    unit: str
    a: Measure | None
    b: Measure | None

    @property
    def difference(self) -> float:
        """B - A, in the measure's unit (NaN when either is missing)."""
        if self.a is None or self.b is None:
            return math.nan
        return self.b.value - self.a.value

    @property
    def separated(self) -> bool | None:
        """True when the intervals do not overlap, False when they do, None when an interval is missing."""
        if self.a is None or self.b is None or not has_interval(self.a) or not has_interval(self.b):
            return None
        return apart(self.a, self.b) or apart(self.b, self.a)

    @property
    def verdict(self) -> str:
        """separated, overlap, equal, no interval, no value (neither folder has one: an empty population),
        only in A, only in B."""
        if self.a is None or self.b is None:
            return "only in B" if self.a is None else "only in A"
        if math.isnan(self.a.value) and math.isnan(self.b.value):
            return "no value"
        if self.separated:
            return "separated"
        if same(self.a.value, self.b.value):
            return "equal"
        return "no interval" if self.separated is None else "overlap"


def pair(a: list[Measure], b: list[Measure]) -> list[Difference]:
    """Rows for every measure of either folder: A's order first, then what only B has."""
    in_a, in_b = {m.key: m for m in a}, {m.key: m for m in b}
    keys = list(dict.fromkeys([*in_a, *in_b]))
    return [Difference(*key, (in_a.get(key) or in_b[key]).unit, in_a.get(key), in_b.get(key)) for key in keys]


def has_interval(m: Measure) -> bool:
    return not (math.isnan(m.low) and math.isnan(m.high))


def apart(lower: Measure, upper: Measure) -> bool:
    """`lower`'s interval ends below where `upper`'s begins (an open end never does)."""
    if math.isnan(lower.high) or math.isnan(upper.low):
        return False
    gap = upper.low - lower.high
    return gap > TOLERANCE * max(abs(upper.low), abs(lower.high), 1e-300)


def same(x: float, y: float) -> bool:
    """Equal values, NaN (none) included."""
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return x == y or abs(x - y) <= TOLERANCE * max(abs(x), abs(y))
