"""The page of a model validation (`deploysim validate-model`): how far the simulator's prediction is from
what the bench measured, per strategy and fleet size, on the runs the calibration was fitted on and on
held-out runs.

The answer first (the worst error on the last host's time, on all runs and on held-out ones; the worst on
the median), then a figure of measured against predicted times, the table of every bench deploy with its
three quantiles measured, predicted and the error, and which runs the parameters were fitted on. Sources:
`validation.csv` (the rows), `validation.json` (the worst errors) and the manifest (the parameters file,
the runs, the replications).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from markupsafe import Markup

from sim.report import formats
from sim.report.figures import STYLE, duration_axis, hosts_axis, svg
from sim.report.folder import ResultsFolder
from sim.results.envelope import results_of

QUANTILES = ("p50", "p95", "max")


def context(folder: ResultsFolder) -> dict:
    """What the validation template shows."""
    rows = folder.read_csv("validation.csv")
    worst = results_of(folder.read_json("validation.json")) if folder.has("validation.json") else {}
    runs = {row.get("run", ""): row.get("role", "") for row in rows}
    return {
        "answer": _answer(worst),
        "worst": {key: worst.get(key) for key in ("worst_max_error_pct", "worst_max_error_pct_held_out",
                                                 "worst_p50_error_pct")},
        "fitted": sorted(run for run, role in runs.items() if role == "fit"),
        "held_out": sorted(run for run, role in runs.items() if role != "fit"),
        "params": str(folder.manifest.get("params", "")),
        "replications": folder.manifest.get("replications"),
        "figure": figure(rows) if rows else None,
        "rows": [_row(row) for row in rows],
        "settings": None, "settings_note": "",
    }


def _answer(worst: dict) -> str:
    def pct(key: str) -> str:
        value = worst.get(key)
        return "unknown" if value is None else f"{formats.number(value):.1f}%"
    return (f"The simulator's prediction of when the last host runs the new build is off by at most "
            f"{pct('worst_max_error_pct')} on these bench runs ({pct('worst_max_error_pct_held_out')} on the runs "
            f"the calibration did not see); of the median host, by at most {pct('worst_p50_error_pct')}.")


def _row(row: dict) -> dict:
    cells = [("hosts", formats.hosts(row.get("hosts")))]
    for q in QUANTILES:
        cells += [(f"{q}_measured", formats.duration(row.get(f"{q}_measured"))),
                  (f"{q}_predicted", formats.duration(row.get(f"{q}_predicted"))),
                  (f"{q}_err_pct", _signed(row.get(f"{q}_err_pct")))]
    return {"strategy": row.get("strategy", ""), "role": row.get("role", ""), "run": row.get("run", ""),
            "cells": [{"key": key, "text": text, "value": row.get(key)} for key, text in cells]}


def _signed(value: object) -> str:
    x = formats.number(value)
    return formats.MISSING if x != x else f"{x:+.0f}%"


def figure(rows: list[dict]) -> Markup:
    """Per strategy, the last host's time against fleet size: measured (solid, dots) and predicted (dashed),
    the held-out sizes circled."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8.5, 4.8), layout="constrained")
        for name in dict.fromkeys(row["strategy"] for row in rows):
            own = sorted((row for row in rows if row["strategy"] == name), key=lambda r: formats.number(r["hosts"]))
            sizes = [formats.number(r["hosts"]) for r in own]
            line, = ax.plot(sizes, [formats.number(r["max_measured"]) for r in own], marker="o", markersize=4,
                            label=f"{name}: measured")
            ax.plot(sizes, [formats.number(r["max_predicted"]) for r in own], linestyle="--", marker="x",
                    color=line.get_color(), label=f"{name}: predicted")
            held = [r for r in own if r.get("role") != "fit"]
            ax.scatter([formats.number(r["hosts"]) for r in held], [formats.number(r["max_measured"]) for r in held],
                       s=110, facecolors="none", edgecolors=line.get_color(), linewidths=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        duration_axis(ax, *ax.get_ylim())
        hosts_axis(ax, *ax.get_xlim())
        ax.set_xlabel("fleet size (hosts; log scale; circled: held out from the calibration)")
        ax.set_ylabel("time until the last host runs the new build (log scale)")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
        return svg(fig)
