"""Axes a person reads without a calculator, shared by the PNGs the commands write (`plots`) and the
report's SVG figures (`sim.report.figures`): times ticked in s, min, h and days at round values, fleet
sizes as 10, 1k, 100k, and a dotted line at each crossover with its label upright near the top, on a
white backing, on the side of the line with more room, one row per crossover so two never share a line.

Time ticks come from a short list of round durations (about one per factor of ten); a range too narrow
to hold four of them (1-6 s, 10 s-1 min) takes the 1-2-5 steps between them, so it is labelled across;
fleet sizes likewise (4 to 120 hosts: 5, 10, 20, 50, 100).
"""

from __future__ import annotations

import math

from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

MINUTE, HOUR, DAY = 60, 3600, 86400
SPARSE_SECONDS = [0.01, 0.1, 1, 10, MINUTE, 10 * MINUTE, HOUR, 6 * HOUR, DAY, 7 * DAY, 30 * DAY, 365 * DAY]
DENSE_SECONDS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, MINUTE, 2 * MINUTE, 5 * MINUTE,
                 10 * MINUTE, 20 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY,
                 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 365 * DAY]
FEW = 4  # fewer round durations than this in range: take the dense list


def axis_duration(seconds: float) -> str:
    """A tick label: the shortest whole form, '30 s', '5 min', '2 h', '3 d' ('0 s' at the origin)."""
    if seconds == 0:
        return "0 s"
    for unit, size in (("d", DAY), ("h", HOUR), ("min", MINUTE), ("s", 1)):
        if seconds >= size:
            return f"{seconds / size:g} {unit}"
    return f"{seconds * 1000:g} ms"


def axis_hosts(value: float) -> str:
    """A fleet-size tick: 10, 100, 1k, 10k, 100k, 1M."""
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:g}{unit}"
    return f"{value:g}"


def duration_ticks(low: float, high: float) -> list[float]:
    """Round durations between `low` and `high` (seconds): about one per factor of ten, denser when few."""
    ticks = [t for t in SPARSE_SECONDS if low <= t <= high]
    return ticks if len(ticks) >= FEW else [t for t in DENSE_SECONDS if low <= t <= high]


def round_below(seconds: float) -> float:
    """The largest round duration (1-2-5 steps) not above `seconds`; the smallest one for less."""
    return max([t for t in DENSE_SECONDS if t <= seconds], default=DENSE_SECONDS[0])


def duration_axis(ax, low: float, high: float, which: str = "y", zero: bool = False) -> None:
    """Tick `ax`'s `which` axis ('x' or 'y') at round durations in [low, high], labelled in their unit;
    `zero` adds a tick at the origin (a symlog axis that starts at the deploy's start)."""
    axis = ax.yaxis if which == "y" else ax.xaxis
    axis.set_major_locator(FixedLocator(([0.0] if zero else []) + duration_ticks(max(low, 1e-9), high)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: axis_duration(value)))
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())


def hosts_axis(ax, low: float, high: float) -> None:
    """Tick the x axis at powers of ten of hosts in [low, high] (10, 100, 1k), with 2 and 5 between them
    when fewer than three powers fit."""
    ticks = [10.0 ** k for k in range(0, 10) if low <= 10.0 ** k <= high]
    if len(ticks) < 3:
        ticks = [m * 10.0 ** k for k in range(0, 10) for m in (1, 2, 5) if low <= m * 10.0 ** k <= high]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: axis_hosts(value)))
    ax.xaxis.set_minor_formatter(NullFormatter())


def label_crossovers(ax, crossovers: list[dict], fontsize: float = 9) -> None:
    """A dotted line at each crossover (`pull`, `push`, `hosts`; hosts None: no line), its label upright
    near the top, on the side with more room, one label per row so two crossovers never share a line."""
    low, high = ax.get_xlim()
    placed = [c for c in crossovers if c.get("hosts") is not None and low < c["hosts"] < high]
    for row, crossing in enumerate(sorted(placed, key=lambda c: c["hosts"])):
        x = crossing["hosts"]
        ax.axvline(x, color="#555555", linestyle=":", linewidth=1.2)
        right = math.log(x / low) < math.log(high / x)  # more room to the right of the line
        ax.annotate(f"{crossing['pull']} faster than {crossing['push']}\nfrom ≈{x:,.0f} hosts",
                    (x, 0.97 - 0.11 * row), xycoords=("data", "axes fraction"), xytext=(6 if right else -6, 0),
                    textcoords="offset points", ha="left" if right else "right", va="top", fontsize=fontsize,
                    color="#333333", bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "#bbbbbb",
                                           "alpha": 0.9})
