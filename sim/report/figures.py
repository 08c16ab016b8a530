"""The report's figures, drawn from the numbers in the results files and returned as SVG text to inline.

They are new drawings, not the PNGs the commands write, but share their axes with them
(`sim.results.axes`): times in s, min, h and days, fleet sizes as 10, 1k, 100k, crossover labels upright
at the top of the plot with a white backing so they do not sit on the lines; legends outside the data.
`deploy_time_figure` and `criteria_figure` return the matplotlib Figure (tests measure its text). Text stays text
in the SVG (`svg.fonttype: none`: small, selectable, found by a page search) and is never read as
mathtext, so a strategy or policy named `$x$` prints as written; matplotlib escapes it for XML. The
output is deterministic (fixed ids, no date).
"""

from __future__ import annotations

import io
import math

import matplotlib

if matplotlib.get_backend().lower() not in {"module://matplotlib_inline.backend_inline", "nbagg"}:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt
from markupsafe import Markup
from matplotlib.ticker import FuncFormatter

from sim.report import formats
from sim.results.axes import duration_axis, hosts_axis, label_crossovers

STYLE: dict = {"svg.fonttype": "none", "svg.hashsalt": "deploysim-report", "text.parse_math": False,
         "font.size": 10, "axes.titlesize": 10, "font.family": "sans-serif"}
STATUS_STYLE = {"pass": ("#1a7f37", "o"), "fail": ("#cf222e", "X"), "uncertain": ("#9a6700", "D")}


def deploy_time(rows: list[dict], crossovers: list[dict]) -> Markup:
    """Deploy time (until the last host runs the new build; median over replications, p5-p95 band) against
    fleet size, one line per strategy, a labelled dotted line at each crossover. `rows` as in summary.json."""
    with plt.rc_context(STYLE):
        return svg(deploy_time_figure(rows, crossovers))


def deploy_time_figure(rows: list[dict], crossovers: list[dict]):
    """The matplotlib Figure of `deploy_time` (tests measure its text before it becomes SVG)."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8.5, 5), layout="constrained")
        highest = 0.0
        for name in dict.fromkeys(row["strategy"] for row in rows):
            own = [row for row in rows if row["strategy"] == name]
            sizes = [row["fleet_size"] for row in own]
            line, = ax.plot(sizes, [formats.number(r["max"]) for r in own], marker="o", markersize=4, label=name)
            if any(row.get("replications", 1) > 1 for row in own):
                ax.fill_between(sizes, [formats.number(r["max_p5"]) for r in own],
                                [formats.number(r["max_p95"]) for r in own], color=line.get_color(), alpha=0.18,
                                linewidth=0)
            highest = max([highest, *(formats.number(r["max_p95"]) for r in own if r.get("max_p95") is not None)])
            if all(row.get("bound") not in (None, "") for row in own):  # its bottleneck's closed-form bound
                ax.plot(sizes, [formats.number(r["bound"]) for r in own], linestyle=":", linewidth=1.2,
                        color=line.get_color(), label="_nolegend_")
        if rows and all(row.get("bound") not in (None, "") for row in rows):
            ax.plot([], [], linestyle=":", color="0.4", label="lower bound (bottleneck)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        duration_axis(ax, *ax.get_ylim())
        hosts_axis(ax, *ax.get_xlim())
        ax.set_xlabel("fleet size (hosts; log scale)")
        ax.set_ylabel("time until the last host runs the new build (log scale)")
        ax.grid(True, which="major", alpha=0.3)
        label_crossovers(ax, crossovers)
        fig.legend(loc="outside lower center", ncols=min(4, max(1, len(ax.get_legend_handles_labels()[1]))),
                   frameon=False, title="median over replications; band: p5–p95")
        return fig


def criteria(acceptance: list[dict]) -> Markup:
    """One panel per acceptance criterion: each policy's estimate (%) with its interval, coloured and shaped
    by its verdict, and the bound as a dashed line. `acceptance` as in acceptance.csv (numbers as text)."""
    with plt.rc_context(STYLE):
        return svg(criteria_figure(acceptance))


def criteria_figure(acceptance: list[dict]):
    """The matplotlib Figure of `criteria` (tests measure its text before it becomes SVG)."""
    names = list(dict.fromkeys(row["criterion"] for row in acceptance))
    policies = list(dict.fromkeys(row["policy"] for row in acceptance))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(len(names), 1, figsize=(8.5, 0.9 + len(names) * (0.5 + 0.32 * len(policies))),
                                 layout="constrained", squeeze=False)
        for ax, name in zip(axes[:, 0], names):
            own = {row["policy"]: row for row in acceptance if row["criterion"] == name}
            for y, policy in enumerate(policies):
                if policy in own:
                    _criterion_point(ax, len(policies) - 1 - y, own[policy])
            limit = 100 * formats.number(next(iter(own.values()))["limit"])
            ax.axvline(limit, color="#333333", linestyle="--", linewidth=1)
            op = next(iter(own.values()))["op"]
            ax.set_title(f"{name}  (bound: {op} {formats.share(limit / 100)})", loc="left")
            ax.set_yticks(range(len(policies)), list(reversed(policies)))
            ax.set_ylim(-0.6, len(policies) - 0.4)
            ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}%"))
            ax.set_xlabel("estimate with its interval (% of the criterion's population)")
            ax.set_ylabel("policy")
            ax.grid(True, axis="x", alpha=0.3)
        handles = [plt.Line2D([], [], color=color, marker=marker, linestyle="", label=status)
                   for status, (color, marker) in STATUS_STYLE.items()]
        fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
        return fig


def _criterion_point(ax, y: float, row: dict) -> None:
    color, marker = STATUS_STYLE.get(row["status"], ("#555555", "o"))
    value, low, high = (100 * formats.number(row[key]) for key in ("estimate", "low", "high"))
    if not (math.isnan(low) or math.isnan(high)):
        ax.plot([low, high], [y, y], color=color, linewidth=2, solid_capstyle="butt")
    if not math.isnan(value):
        ax.plot([value], [y], marker=marker, color=color, markersize=7, linestyle="")


def deploy_time_vs_setting(rows: list[dict], key: str, keys: list[str]) -> Markup:
    """For a swept key (`run --sweep`): the deploy time at the largest fleet size against the key's values,
    a line per strategy (and combination of the other keys), as `sim.results.plots` draws it for the folder.
    `rows` as in summary.json (in-memory names)."""
    import pandas as pd

    from sim.results.plots import deploy_time_vs_setting as draw

    with plt.rc_context(STYLE):
        return svg(draw(pd.DataFrame(rows), key, keys))


def svg(fig) -> Markup:
    """The figure as an <svg> element to inline (no XML declaration or doctype: it goes inside HTML),
    marked safe for the templates: matplotlib escapes every text in it."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    start, end = text.find("<metadata>"), text.find("</metadata>")  # RDF about the file: noise in a page
    return Markup(text[:start] + text[end + len("</metadata>"):] if 0 <= start < end else text)
