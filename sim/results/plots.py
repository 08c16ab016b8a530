"""Plots of results: deploy time against fleet size, against a swept setting, and the share of the fleet
updated over time.
Their axes read in s, min, h and days and their labels are placed as the report's figures do (`axes`).

Functions take tables (pandas) and an output path, and return the matplotlib Figure so notebooks can
show it too. The Agg backend is used when nothing else was chosen (no display needed).
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

if matplotlib.get_backend().lower() not in {"module://matplotlib_inline.backend_inline", "nbagg"}:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.results import axes
from sim.results.tables import Crossover


def deploy_time_vs_fleet(summary: pd.DataFrame, crossings: list[Crossover], path: Path | None = None):
    """One line per strategy (median deploy time over replications) with its p5-p95 band and, dotted in its
    colour, the closed-form lower bound of its bottleneck; time in s, min, h and days, a labelled dotted
    line at each crossover, the legend below the plot."""
    fig, ax = plt.subplots(figsize=(8, 5.5), constrained_layout=True)
    for name, group in summary.groupby("strategy", sort=False):
        line, = ax.plot(group.fleet_size, group["max"], marker="o", label=name)
        if (group.replications > 1).any():
            ax.fill_between(group.fleet_size, group.max_p5, group.max_p95, color=line.get_color(), alpha=0.2)
        if "bound" in group:  # the closed-form lower bound of its bottleneck (summary.csv: bottleneck, bound_s)
            ax.plot(group.fleet_size, group["bound"], linestyle=":", linewidth=1.2, color=line.get_color(),
                    label="_nolegend_")
    if "bound" in summary:
        ax.plot([], [], linestyle=":", color="0.4", label="lower bound (bottleneck)")
    ax.set(xscale="log", yscale="log", xlabel="fleet size (hosts; log scale)",
           ylabel="deploy time, until the last host (log scale)",
           title="Deploy time vs fleet size (median; band: p5-p95 over replications)")
    axes.duration_axis(ax, *ax.get_ylim())
    axes.hosts_axis(ax, *ax.get_xlim())
    ax.grid(True, which="major", alpha=0.3)
    axes.label_crossovers(ax, [{"pull": c.pull, "push": c.push, "hosts": c.hosts} for c in crossings])
    entries = len(ax.get_legend_handles_labels()[1])
    fig.legend(loc="outside lower center", ncols=min(4, max(1, entries)), frameon=False)
    save_figure(fig, path)
    return fig


def fleet_updated_over_time(hosts: pd.DataFrame, fleet_size: int, path: Path | None = None):
    """Share of the fleet running the new build against time since the deploy began, per strategy (time on a
    symlog axis ticked in s, min, h and days across the whole range)."""
    fig, ax = plt.subplots(figsize=(8, 5), constrained_layout=True)
    chosen = hosts[(hosts.fleet_size == fleet_size) & (hosts.replication == hosts.replication.min())]
    for name, group in chosen.groupby("strategy", sort=False):
        done = np.sort(group.done.dropna().to_numpy())
        share = np.arange(1, len(done) + 1) / len(group)
        ax.step(np.concatenate([[0.0], done]), 100 * np.concatenate([[0.0], share]), where="post", label=name)
    # Linear up to the first round duration before any host is done, logarithmic after: a 1-6 s bench
    # deploy and a week-long serial push both get labelled ticks from their first host to their last.
    done = chosen.done[chosen.done > 0]
    start = axes.round_below(float(done.min()) if len(done) else 1.0)
    ax.set_xscale("symlog", linthresh=start, linscale=0.5)
    ax.set(xlabel="time since deploy start (symlog scale)", ylabel="fleet on the new build (%)",
           title=f"Fleet updated over time ({fleet_size:,} hosts, first replication)", ylim=(0, 102))
    axes.duration_axis(ax, start, ax.get_xlim()[1], which="x", zero=True)
    ax.grid(True, alpha=0.3)
    ax.legend()
    save_figure(fig, path)
    return fig


def _with_shared_unit(values: list[str]) -> list[str]:
    """Bare numbers among values that carry one unit get it too ('0', '1%' -> '0%', '1%'): the axis then
    names its unit on every tick."""
    units = {m[1] for v in values if (m := re.fullmatch(r"[-+]?[\d.]+\s*([A-Za-z%/]+)", v.strip()))}
    if len(units) != 1:
        return values
    unit = units.pop()
    return [f"{v}{unit}" if re.fullmatch(r"[-+]?[\d.]+", v.strip()) else v for v in values]


def sweep_plot_name(key: str) -> str:
    """The file of a swept key's plot: 'sweep_network.origin_egress.png' (other characters become '_')."""
    return "sweep_" + re.sub(r"[^A-Za-z0-9_.\-]", "_", key) + ".png"


def deploy_time_vs_setting(summary: pd.DataFrame, key: str, keys: list[str], path: Path | None = None):
    """For a swept key (`run --sweep`): the deploy time at the largest fleet size (median over replications,
    until the last host) at each of the key's values, in the order swept; a line per strategy and, when
    other keys were swept too, per combination of their values (named in the legend). Time on a log axis
    in s, min, h and days when it spans more than a factor of 10."""
    column = f"set {key}"
    others = [f"set {k}" for k in keys if k != key]
    largest = summary[summary.fleet_size == summary.fleet_size.max()]
    values = list(dict.fromkeys(summary[column]))
    fig, ax = plt.subplots(figsize=(8, 5.5), constrained_layout=True)
    for name, group in largest.groupby(["strategy", *others], sort=False):
        label = ", ".join([str(name[0]), *(f"{o[4:]}={v}" for o, v in zip(others, name[1:]))])
        by_value = group.set_index(column)["max"]
        ax.plot(range(len(values)), [by_value.get(v, np.nan) for v in values], marker="o", label=label)
    times = largest["max"].dropna()
    low, high = (float(times.min()), float(times.max())) if len(times) else (1.0, 10.0)
    if low > 0 and high / low > 10:
        ax.set_yscale("log")
    ticks = _with_shared_unit([str(v) for v in values])
    ax.set_xticks(range(len(values)), ticks)
    unitless = all(re.fullmatch(r"[-+]?[\d.]+(e[-+]?\d+)?", t) for t in ticks)
    ax.set(xlabel=f"{key}" + (" (as given; its unit: docs/scenario-reference.md)" if unitless else ""), ylabel="deploy time, until the last host" + (
        " (log scale)" if ax.get_yscale() == "log" else ""),
        title=f"Deploy time at {int(summary.fleet_size.max()):,} hosts vs {key}\n(median over replications)")
    if ax.get_yscale() != "log":
        ax.set_ylim(bottom=0)
    axes.duration_axis(ax, *ax.get_ylim())
    ax.grid(True, which="major", alpha=0.3)
    longest = max((len(line.get_label()) for line in ax.lines), default=0)
    fig.legend(loc="outside lower center", ncols=max(1, min(len(ax.lines), 3, 90 // max(longest, 1))), frameon=False)
    save_figure(fig, path)
    return fig


def save_figure(fig, path: Path | None) -> None:
    if path is not None:
        fig.savefig(path, dpi=120)
        plt.close(fig)
