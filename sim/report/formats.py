"""Numbers as the report shows them: durations in s, min, h (and days past two days), shares in percent,
hosts and requests as whole numbers with separators, seconds per added host with two significant digits.

Every function takes the number as read from a results file (a float, or text that may be empty for
"none") and returns text; a missing number is "-", an infinite time is "never". The same functions
label the figures' axes, so a table and a figure say a time the same way.
"""

from __future__ import annotations

import math

from sim.results.axes import axis_duration, axis_hosts  # noqa: F401  (tick labels: one wording, PNG and SVG)

MISSING = "-"


def number(value: object) -> float:
    """A value from a CSV or JSON file as a float: NaN when empty or missing."""
    if value is None or value == "":
        return math.nan
    return float(value)  # type: ignore[arg-type]


def duration(value: object) -> str:
    """0.25 -> '250 ms', 95 -> '1 min 35 s', 19000 -> '5 h 17 min', 600000 -> '6.9 d'."""
    seconds = number(value)
    if math.isnan(seconds):
        return MISSING
    if math.isinf(seconds):
        return "never"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        minutes, rest = divmod(round(seconds), 60)
        return f"{minutes} min {rest:02d} s" if rest else f"{minutes} min"
    if seconds < 48 * 3600:
        hours, minutes = divmod(round(seconds / 60), 60)
        return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    return f"{seconds / 86400:.1f} d"


def per_host(value: object) -> str:
    """Seconds each added server costs, to two significant digits without exponents: '0.0043 s', '0.19 s',
    '5.8 s', '0.000031 s' (a cost this small is noise around zero, but it is the number in the file)."""
    seconds = number(value)
    if math.isnan(seconds):
        return MISSING
    if seconds == 0:
        return "0 s"
    decimals = max(0, 1 - math.floor(math.log10(abs(seconds))))
    return f"{seconds:.{decimals}f} s"


def share(value: object, digits: int = 1) -> str:
    """0.0285 -> '2.9%'."""
    x = number(value)
    return MISSING if math.isnan(x) else f"{100 * x:.{digits}f}%"


def count(value: object) -> str:
    """A whole count with separators: 300869.6 -> '300,870'; a mean below 100 keeps one decimal."""
    x = number(value)
    if math.isnan(x):
        return MISSING
    return f"{x:,.0f}" if abs(x) >= 100 or x == int(x) else f"{x:,.1f}"


def hosts(value: object) -> str:
    """A fleet size: 100010 -> '100,010'."""
    x = number(value)
    return MISSING if math.isnan(x) else f"{x:,.0f}"


def of_unit(unit: str, value: object) -> str:
    """A measure in its unit as estimates.csv names it: share, s, minutes, requests."""
    if unit == "share":
        return share(value)
    if unit == "s":
        return duration(value)
    if unit == "minutes":
        x = number(value)
        return MISSING if math.isnan(x) else f"{x:,.1f} min"
    return count(value)


def interval(unit: str, low: object, high: object) -> str:
    """'[1.1%–7.1%]'; an end that cannot be bounded reads 'unbounded'."""
    lo, hi = number(low), number(high)
    if math.isnan(lo) and math.isnan(hi):
        return "too few to bound"
    shown = [of_unit(unit, x) if not math.isnan(x) else "unbounded" for x in (lo, hi)]
    return f"{shown[0]} – {shown[1]}"
