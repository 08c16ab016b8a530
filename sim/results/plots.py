"""Plots of results: deploy time against fleet size, and the share of the fleet updated over time.

Functions take tables (pandas) and an output path, and return the matplotlib Figure so notebooks can
show it too. The Agg backend is used when nothing else was chosen (no display needed).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

if matplotlib.get_backend().lower() not in {"module://matplotlib_inline.backend_inline", "nbagg"}:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.results.tables import Crossover


def deploy_time_vs_fleet(summary: pd.DataFrame, crossings: list[Crossover], path: Path | None = None):
    """One line per strategy (median deploy time over replications) with its p5-p95 band."""
    fig, ax = plt.subplots(figsize=(8, 5), constrained_layout=True)
    for name, group in summary.groupby("strategy", sort=False):
        line, = ax.plot(group.fleet_size, group["max"], marker="o", label=name)
        if (group.replications > 1).any():
            ax.fill_between(group.fleet_size, group.max_p5, group.max_p95, color=line.get_color(), alpha=0.2)
    for crossing in crossings:
        if crossing.hosts is not None:
            ax.axvline(crossing.hosts, color="grey", linestyle=":", linewidth=1)
            ax.annotate(f"{crossing.pull} < {crossing.push}\n~{crossing.hosts:,.0f} hosts", (crossing.hosts, 0.02),
                        xycoords=("data", "axes fraction"), fontsize=7, color="grey", rotation=90, ha="right")
    ax.set(xscale="log", yscale="log", xlabel="fleet size (hosts)", ylabel="deploy time, all hosts (s)",
           title="Deploy time vs fleet size (median; band: p5-p95 over replications)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    save_figure(fig, path)
    return fig


def fleet_updated_over_time(hosts: pd.DataFrame, fleet_size: int, path: Path | None = None):
    """Share of the fleet running the new build against time since the deploy began, per strategy."""
    fig, ax = plt.subplots(figsize=(8, 5), constrained_layout=True)
    chosen = hosts[(hosts.fleet_size == fleet_size) & (hosts.replication == hosts.replication.min())]
    for name, group in chosen.groupby("strategy", sort=False):
        done = np.sort(group.done.dropna().to_numpy())
        share = np.arange(1, len(done) + 1) / len(group)
        ax.step(np.concatenate([[0.0], done]), np.concatenate([[0.0], share]), where="post", label=name)
    ax.set(xscale="symlog", xlabel="time since deploy start (s)", ylabel="share of fleet on the new build",
           title=f"Fleet updated over time ({fleet_size:,} hosts, first replication)", ylim=(0, 1.02))
    ax.grid(True, alpha=0.3)
    ax.legend()
    save_figure(fig, path)
    return fig


def save_figure(fig, path: Path | None) -> None:
    if path is not None:
        fig.savefig(path, dpi=120)
        plt.close(fig)
