"""The page of a sweep (`deploysim sweep`): the answer first (the recommendation as summary.json words it,
and why: which points pass, the objective, the Pareto front), the verdict of every point on every acceptance
criterion, the Pareto figure, every measure of every point with its interval and the population it is
computed over, and example releases of the recommended point (or, when none passes, the closest one).

Sources: `summary.json` (status, recommendation, objective, horizon), `sweep.csv` (points, settings,
measures, front), `acceptance.csv` (verdicts), `estimates.csv` (each measure's population and n) and
`releases.csv` (examples), the last two only in folders that have them (sweeps before the report wrote
neither).
"""

from __future__ import annotations

import io

import pandas as pd

from sim.errors import UserError
from sim.report import evaluation, figures, formats, pareto
from sim.report.folder import ResultsFolder
from sim.report.parameters import settings

SECTIONS = ("evaluation",)
MAXIMISED = ("detection_rate", "caught_before_exposure", "mitigated_within", "caught_in_staging")


def context(folder: ResultsFolder) -> dict:
    """What the sweep template shows."""
    summary = folder.summary()
    rows = folder.read_csv("sweep.csv")
    acceptance = folder.read_csv("acceptance.csv")
    estimates = folder.read_csv("estimates.csv") if folder.has("estimates.csv") else []
    points = [_point(row) for row in rows]
    names = [p["point"] for p in points]
    shown = summary.get("recommended") or summary.get("closest")
    releases = folder.read_csv("releases.csv") if folder.has("releases.csv") else None
    params, params_note = settings(folder.manifest, SECTIONS)
    return {
        "status": str(summary.get("status", "")),
        "status_text": evaluation.STATUS_TEXT.get(str(summary.get("status")), str(summary.get("status", "")).upper()),
        "status_help": evaluation.STATUS_HELP,
        "recommendation": str(summary.get("recommendation", "")),
        "recommended": summary.get("recommended"),
        "why": _why(summary, points),
        "objective": str(summary.get("objective", "")),
        "horizon": str(summary.get("horizon", "")),
        "releases": _releases(estimates),
        "points": points,
        "settings_keys": [key.removeprefix("set ") for key in (rows[0] if rows else {}) if key.startswith("set ")],
        "verdicts": evaluation.verdicts(acceptance, names),
        "measures": _measures(rows, estimates),
        "figure": _figure(folder),
        "examples_of": shown,
        "examples": None if releases is None or shown is None else evaluation.examples(releases, [shown], None),
        "settings": params,
        "settings_note": params_note,
    }


def _point(row: dict) -> dict:
    return {"number": row.get("#", ""), "point": row.get("point", ""), "status": row.get("status", ""),
            "pareto": row.get("pareto") == "True", "recommended": row.get("recommended") == "True",
            "settings": [value for key, value in row.items() if key.startswith("set ")]}


def _why(summary: dict, points: list[dict]) -> list[str]:
    """The reasons behind the recommendation, from the points' statuses and the front."""
    counts = {s: sum(p["status"] == s for p in points) for s in ("pass", "uncertain", "fail")}
    tally = f"{counts['pass']} of {len(points)} points pass every criterion, {counts['uncertain']} are uncertain, " \
            f"{counts['fail']} fail one"
    front = [f"#{p['number']} {p['point']}" for p in points if p["pareto"]]
    objective = summary.get("objective", "")
    if summary.get("recommended"):
        return [tally + ".",
                f"Of the passing points, the recommended one is best on the objective, {objective} "
                "(ties go to the other objectives: false rollbacks, bad requests, lead time).",
                f"The Pareto front of the passing points (none better on every objective): {', '.join(front)}."]
    why = [tally + ": none is recommended.",
           "The closest point has the fewest failed criteria, then the smallest shortfall relative to the bounds, "
           f"then the best {objective}."]
    if counts["uncertain"]:
        why.append("Uncertain points meet their bounds with intervals that reach past them: more releases "
                   "(--releases) would settle them.")
    return why


def _releases(estimates: list[dict]) -> str:
    """Releases per point: the population of a measure over all releases, when the folder says it."""
    for row in estimates:
        if row.get("population") == "all releases":
            return row.get("n", "")
    return ""


def _measures(rows: list[dict], estimates: list[dict]) -> dict:
    """Every measure in sweep.csv (a column with _low and _high) per point: value, interval, n."""
    columns = rows[0].keys() if rows else []
    names = [c for c in columns if f"{c}_low" in columns and f"{c}_high" in columns]
    known = {(e.get("policy"), e.get("measure")): e for e in estimates}
    populations = {e.get("measure"): e.get("population", "") for e in estimates}
    units = {e.get("measure"): e.get("unit", "") for e in estimates}
    table = []
    for row in rows:
        cells = []
        for name in names:
            unit = units.get(name) or _unit(name)
            estimate = known.get((row.get("point"), name), {})
            cells.append({"measure": name, "value": row[name], "text": formats.of_unit(unit, row[name]),
                          "interval": formats.interval(unit, row[f"{name}_low"], row[f"{name}_high"]),
                          "n": estimate.get("n", "")})
        table.append({"number": row.get("#", ""), "point": row.get("point", ""), "cells": cells})
    return {"names": [{"name": n, "population": populations.get(n, "")} for n in names], "rows": table}


def _unit(measure: str) -> str:
    """A measure's unit when the folder has no estimates.csv to say it (as `policy_estimates` names them)."""
    if measure.endswith("_rate") or measure in MAXIMISED:
        return "share"
    if measure.endswith(("_p50", "_p95")):
        return "s"
    return "minutes" if measure.endswith("_minutes_mean") else "requests"


def _figure(folder: ResultsFolder):
    """The Pareto figure drawn anew from sweep.csv, as SVG."""
    try:
        table = pd.read_csv(io.BytesIO(folder.read_bytes("sweep.csv")))
    except (ValueError, pd.errors.ParserError) as error:
        raise UserError(f"{folder.path / 'sweep.csv'}: not the CSV deploysim writes ({error})") from None
    needed = {"#", "point", "status", "pareto", "recommended", "false_rollback_rate", "bad_requests_mean",
              "lead_time_good_p50"}
    if table.empty or not needed <= set(table.columns):
        return None
    confidence = (folder.scenario.get("evaluation") or {}).get("confidence", 0.95)
    with figures.plt.rc_context(figures.STYLE):
        return figures.svg(pareto.draw(table, float(confidence)))
