"""The Pareto figure of a sweep, drawn once for both places it appears: `deploysim sweep` saves it as
pareto.png, the report inlines it as SVG. It is drawn from the sweep's table (sweep.csv's columns).

Two panels: false rollbacks against bad requests per bad build, and against the lead time of good builds.
Failing points are grey crosses at the back, uncertain points orange, passing points blue, and the Pareto
front of the passing points red and drawn last (above every other point, so a point beside it never hides
it), the recommendation starred. Every point that is not failing is labelled with its number (as in
sweep.csv; points at the same place share one label, "9, 15"), placed where it collides with no other
label (`sim.report.labels`). Lead time is in the unit that suits its range (s, min or h), named on the axis.
"""

from __future__ import annotations

import math

import pandas as pd

from sim.report import labels
from sim.report.figures import plt

# (status drawn, marker, colour, size, zorder); "front" is a passing point on the Pareto front
KINDS = (("fail", "x", "0.65", 6, 2), ("uncertain", "o", "tab:orange", 6, 3), ("pass", "o", "tab:blue", 6, 4),
         ("front", "o", "#d62728", 8, 6))
STAR_ZORDER = 7


def draw(table: pd.DataFrame, confidence: float):
    """The figure (matplotlib) of a sweep table: one row per point, as `sim.commands.sweep.point_table`."""
    t = table.reset_index(drop=True)
    kind = t.status.where(~(t.pareto.astype(bool) & (t.status == "pass")), "front")
    unit, size = lead_time_unit(t)
    panels = (("bad_requests_mean", "bad requests per bad build (mean; requests)", 1.0),
              ("lead_time_good_p50", f"lead time of good builds that shipped, p50 ({unit})", 1 / size))
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.4), layout="constrained")
    for ax, (y, ylabel, scale) in zip(axes, panels):
        for name, marker, color, markersize, zorder in KINDS:
            part = t[kind == name]
            if part.empty:
                continue
            xs, ys = 100 * part.false_rollback_rate, scale * part[y]
            if name != "fail":
                ax.errorbar(xs, ys, xerr=_bars(part, "false_rollback_rate", 100), yerr=_bars(part, y, scale),
                            fmt="none", ecolor=color, elinewidth=1, capsize=2, alpha=0.7, zorder=zorder)
            ax.plot(xs, ys, linestyle="", marker=marker, color=color, markersize=markersize, zorder=zorder + 0.5,
                    gid=name, label=_legend(name, len(part)))
        chosen = t[t.recommended.astype(bool)]
        if not chosen.empty:
                ax.plot(100 * chosen.false_rollback_rate, scale * chosen[y], linestyle="", marker="*", markersize=16,
                    color="gold", markeredgecolor="k", zorder=STAR_ZORDER, gid="recommended", label="recommended")
        ax.set(xlabel="false rollbacks (% of good builds)", ylabel=ylabel)
        ax.grid(True, alpha=0.3)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=len(names), frameon=False, fontsize=8)
    fig.suptitle(_title(t, confidence), fontsize=9)
    for ax, (y, _, scale) in zip(axes, panels):
        labels.place(ax, _labels(t[kind != "fail"], y, scale))
    return fig


def lead_time_unit(table: pd.DataFrame) -> tuple[str, float]:
    """The unit for the lead-time axis: hours from 3 h, minutes from 2 min, else seconds."""
    values = pd.concat([table.lead_time_good_p50, table.get("lead_time_good_p50_high", pd.Series(dtype=float))])
    finite = [v for v in values.astype(float) if math.isfinite(v)]
    top = max(finite, default=0.0)
    if top >= 3 * 3600:
        return "h", 3600.0
    return ("min", 60.0) if top >= 2 * 60 else ("s", 1.0)


def _legend(kind: str, count: int) -> str:
    return f"Pareto front of the passing points ({count})" if kind == "front" else f"{kind} ({count})"


def _title(t: pd.DataFrame, confidence: float) -> str:
    chosen = t[t.recommended.astype(bool)]
    answer = (f"adopt #{chosen.iloc[0]['#']}: {chosen.iloc[0].point}" if not chosen.empty
              else "no point passes every criterion")
    return (f"Sweep of {len(t)} points on the same releases; {answer}\n(labels: the points that do not fail, "
            f"numbered as in sweep.csv; bars: {confidence:.0%} intervals)")


def _labels(rows: pd.DataFrame, y: str, scale: float) -> list[tuple[tuple[float, float], str]]:
    """One label per position: the numbers of the points drawn there, joined ("9, 15")."""
    at: dict[tuple[float, float], list[str]] = {}
    for _, row in rows.iterrows():
        where = (100 * float(row.false_rollback_rate), scale * float(row[y]))
        if all(math.isfinite(v) for v in where):
            at.setdefault(where, []).append(str(row["#"]))
    return [(where, ", ".join(numbers)) for where, numbers in sorted(at.items())]


def _bars(part: pd.DataFrame, measure: str, scale: float):
    """Error bars from the interval columns (none where an end is missing or unbounded)."""
    value = part[measure].astype(float)
    low = part.get(f"{measure}_low", value).astype(float)
    high = part.get(f"{measure}_high", value).astype(float)
    below = (value - low).clip(lower=0).fillna(0) * scale
    above = (high - value).clip(lower=0).fillna(0) * scale
    above = above.where(above.abs() != math.inf, 0)
    return [below.to_numpy(), above.to_numpy()]
