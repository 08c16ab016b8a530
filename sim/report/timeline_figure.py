"""The report's timeline of one release, drawn from its results files: the share of production on the
candidate build and the share of traffic on a bad build (`stages.csv`, `metrics.csv`), the error rate of
each cohort with the gates' thresholds (`metrics.csv`, the effective scenario's `gates`), each stage's
start labelled with its name, each decision (`decisions.csv`) and each rollback, hotfix or resume
(`stages.csv`) marked. Time runs from the branch cut in s, min, h (`sim.report.formats`).

Stage labels and event styles are `sim.results.release_marks`, as in the run's own `timeline.png`.
"""

from __future__ import annotations

import math

from markupsafe import Markup
from matplotlib.ticker import FixedLocator, FuncFormatter

from sim.report import figures, formats
from sim.report.figures import plt
from sim.results.release_marks import boundaries, event_handles, label_stages, mark_events

STEPS = [60, 120, 300, 600, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400]
DECISION = {"fail": "#000000", "inconclusive": "#9a6700", "pass": "#1a7f37"}


def timeline(stages: list[dict], metrics: list[dict], decisions: list[dict], gates: dict) -> Markup:
    """The figure as inline SVG; rows as read from the CSV files of one replication."""
    with plt.rc_context(figures.STYLE):  # saved as drawn: text kept as text
        return figures.svg(draw(stages, metrics, decisions, gates))


def draw(stages: list[dict], metrics: list[dict], decisions: list[dict], gates: dict):
    """The matplotlib figure (tests read its texts and legend)."""
    number = formats.number
    with plt.rc_context(figures.STYLE):
        fig, (strip, top, bottom) = plt.subplots(3, 1, figsize=(8.5, 6.8), sharex=True, layout="constrained",
                                                 gridspec_kw={"height_ratios": [0.5, 2.6, 3]})
        top.step([number(s["time"]) for s in stages], [number(s["share"]) for s in stages], where="post",
                 color="#0969da", label="production hosts on the candidate")
        top.plot([number(m["time"]) for m in metrics], [number(m["bad_share"]) for m in metrics], color="#cf222e",
                 alpha=0.7, label="traffic on a bad build")
        top.set_ylim(-0.02, 1.05)
        top.set_ylabel("exposure (share)")
        top.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{100 * value:g}%"))
        _errors(bottom, metrics, gates)
        events = [(number(s["time"]), s["event"]) for s in stages]
        for ax in (top, bottom):
            mark_events(ax, events)
            _decisions(ax, decisions)
            ax.grid(True, alpha=0.3)
        times = [number(s["time"]) for s in stages] + [number(m["time"]) for m in metrics]
        end = max([t for t in times if not math.isnan(t)], default=60.0)
        bottom.set_xlim(0, end * 1.01)
        time_axis(bottom, end)
        bottom.set_xlabel("time since the branch cut")
        label_stages(strip, (top, bottom), boundaries(
            (number(s["time"]), int(s["build"]), s["label"], s["event"]) for s in stages))
        handles = {h.get_label(): h for ax in (top, bottom) for h in ax.get_legend_handles_labels()[0]}
        handles.update((h.get_label(), h) for h in event_handles(e for _, e in events))
        fig.legend(handles=list(handles.values()), loc="outside lower center", ncols=2, frameon=False)
        return fig


def _errors(ax, metrics: list[dict], gates: dict) -> None:
    """Each cohort's error rate per metric interval, and each error-rate gate's threshold."""
    t = [formats.number(m["time"]) for m in metrics]
    new = [_rate(m["new_errors"], m["new_requests"]) for m in metrics]
    old = [_rate(m["old_errors"], m["old_requests"]) for m in metrics]
    ax.plot(t, new, color="#bc4c00", label="error rate, new build")
    ax.plot(t, old, color="#57606a", label="error rate, old build")
    for name, gate in gates.items():
        if not isinstance(gate, dict) or gate.get("metric") != "error_rate":
            continue
        if gate.get("max") is not None:
            ax.axhline(float(gate["max"]), linestyle="--", linewidth=1, color="#24292f")
            ax.annotate(f"{name}: max {formats.share(gate['max'], 2)}", (1, float(gate["max"])), ha="right",
                        xycoords=("axes fraction", "data"), xytext=(-3, 2), textcoords="offset points", va="bottom",
                        fontsize=8, bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})
        if gate.get("max_ratio") is not None:
            ratio = float(gate["max_ratio"])
            ax.plot(t, [ratio * r for r in old], linestyle="--", linewidth=1, color="#8250df",
                    label=f"{name}: {ratio:g}× the old build's rate")
    ax.set_ylim(0, None)
    ax.set_ylabel("error rate")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{100 * value:.2g}%"))


def _rate(errors: str, requests: str) -> float:
    n = formats.number(requests)
    return formats.number(errors) / n if n > 0 else math.nan


def _decisions(ax, decisions: list[dict]) -> None:
    for d in decisions:
        ax.axvline(formats.number(d["time"]), color=DECISION.get(d["outcome"], "#000000"), linewidth=1.5,
                   zorder=2, label=f"decision: {d['outcome']}")


def time_axis(ax, end: float) -> None:
    """Ticks every 1, 2, 5, 10, 15, 30 min, 1 h, ... (at most 10), labelled '30 min', '1.5 h'."""
    step = next((s for s in STEPS if end / s <= 10), STEPS[-1])
    ticks = [k * step for k in range(int(end // step) + 1)]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: "0" if value == 0 else formats.axis_duration(value)))

