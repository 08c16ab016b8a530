"""A comparison's words and numbers as people read them, shared by the terminal table (`deploysim compare`)
and its HTML page (`compare --html`): values in their units, B - A with its sign, what "separated" means."""

from __future__ import annotations

import json
import math

from sim.compare.difference import Measure
from sim.report import formats

SEPARATED = ("separated: the two intervals do not overlap (for one measure, about p < 0.01 with 95% intervals; "
             "across many measures an occasional separation comes by chance); overlap is inconclusive, not equal; "
             "no interval: never called separated")
# The manifest's command -> the headers of a row's subject and where in it (sim.compare.difference.Measure).
SUBJECT = {"run": ("strategy", "fleet"), "run (sweep)": ("point | strategy", "fleet"),
           "run (releases)": ("statistic", "of"), "evaluate": ("policy", "of"), "sweep": ("point", "of"),
           "bench": ("strategy", "fleet")}


def value(unit: str, x: float) -> str:
    """A value in its unit: times in s/min/h, shares in %, hosts and requests as counts."""
    if unit == "s/host":
        return formats.per_host(x)
    if unit == "hosts":
        return formats.count(x)
    if unit == "s" and math.isinf(x):
        return "never"
    return formats.of_unit(unit, x)


def change(unit: str, d: float) -> str:
    """B - A with its sign: '+1 min 35 s', '-2.5 pp' (percentage points for shares)."""
    if math.isnan(d):
        return formats.MISSING
    if d == 0:
        return "0"
    sign = "+" if d > 0 else "-"
    if unit == "share":
        return f"{sign}{abs(100 * d):.1f} pp"
    return sign + value(unit, abs(d))


def cell(m: Measure | None, with_n: bool = False) -> str:
    """'4.6 s [4.0 s – 5.8 s]', with the population '(n=16)' when asked (it differs between A and B)."""
    if m is None:
        return "(none)"
    n = f" (n={m.n})" if with_n and m.n is not None else ""
    if math.isnan(m.low) and math.isnan(m.high):
        return value(m.unit, m.value) + n
    low, high = (value(m.unit, x) if not math.isnan(x) else "unbounded" for x in (m.low, m.high))
    return f"{value(m.unit, m.value)} [{low} – {high}]{n}"


def setting(x: object) -> str:
    """A setting's effective value as the manifest holds it."""
    return "(none)" if x is None else json.dumps(x) if isinstance(x, (list, dict, str)) else str(x)
