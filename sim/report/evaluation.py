"""The page of an evaluation (`deploysim evaluate`): the verdict of every policy on every acceptance
criterion first, then every measure with its interval and the population it is computed over, where bad
builds were caught, the figures, and a few example releases of each kind of outcome that matters (a false
rollback, a miss, a slow detection, a blocked release) with their decision trail when the folder has one.

Sources: `acceptance.csv` (verdicts), `estimates.csv` (measures), `detection_stages.csv`, `releases.csv`
(examples), `summary.json` (overall status, horizon), `policies.png` (shown as the command drew it).
"""

from __future__ import annotations

import math

from sim.report import figures, formats
from sim.report.folder import ResultsFolder
from sim.report.parameters import settings

EXAMPLES = 3  # releases shown per policy and kind of outcome
SECTIONS = ("evaluation",)
STATUS_TEXT = {"pass": "PASS", "fail": "FAIL", "uncertain": "UNCERTAIN"}
STATUS_HELP = {
    "pass": "the whole interval meets the bound",
    "fail": "the estimate misses the bound",
    "uncertain": "the estimate meets the bound but its interval reaches past it (or its population is empty): "
                 "more releases would settle it",
}


def context(folder: ResultsFolder) -> dict:
    """What the evaluation template shows."""
    summary = folder.summary()
    acceptance = folder.read_csv("acceptance.csv")
    estimates = folder.read_csv("estimates.csv")
    policies = list(dict.fromkeys([row["policy"] for row in estimates] + [row["policy"] for row in acceptance]))
    releases = folder.read_csv("releases.csv") if folder.has("releases.csv") else []
    trails = folder.read_csv("decisions.csv") if folder.has("decisions.csv") else None
    params, params_note = settings(folder.manifest, SECTIONS)
    return {
        "status": str(summary.get("status", "")),
        "status_text": STATUS_TEXT.get(str(summary.get("status")), str(summary.get("status", "")).upper()),
        "status_help": STATUS_HELP,
        "releases": summary.get("releases"),
        "horizon": summary.get("horizon", ""),
        "policies": policies,
        "verdicts": verdicts(acceptance, policies),
        "measures": _measures(estimates, policies),
        "stages": folder.read_csv("detection_stages.csv") if folder.has("detection_stages.csv") else [],
        "figure": figures.criteria(acceptance) if acceptance else None,
        "policies_png": folder.png_uri("policies.png"),
        "examples": examples(releases, policies, trails),
        "has_trails": trails is not None,
        "settings": params,
        "settings_note": params_note,
    }


def verdicts(acceptance: list[dict], policies: list[str]) -> dict:
    """Criteria (columns) x policies (rows): each cell the verdict, the estimate, interval and population."""
    criteria = list(dict.fromkeys(row["criterion"] for row in acceptance))
    cells = {(row["policy"], row["criterion"]): row for row in acceptance}
    bounds = {row["criterion"]: f"{row['op']} {formats.share(row['limit'])}" for row in acceptance}
    table = []
    for policy in policies:
        row = []
        for criterion in criteria:
            verdict = cells.get((policy, criterion))
            row.append(None if verdict is None else {
                "status": verdict["status"], "status_text": STATUS_TEXT.get(verdict["status"], verdict["status"]),
                "estimate": verdict["estimate"], "text": formats.share(verdict["estimate"]),
                "interval": formats.interval("share", verdict["low"], verdict["high"]),
                "n": verdict["n"], "population": verdict["population"]})
        table.append({"policy": policy, "cells": row,
                      "status": _worst([c["status"] for c in row if c is not None])})
    return {"criteria": [{"name": c, "bound": bounds[c]} for c in criteria], "rows": table}


def _worst(statuses: list[str]) -> str:
    return "fail" if "fail" in statuses else "uncertain" if "uncertain" in statuses else "pass"


def _measures(estimates: list[dict], policies: list[str]) -> list[dict]:
    """One row per measure: its population, then per policy the estimate, its interval and n."""
    rows = []
    for measure in dict.fromkeys(row["measure"] for row in estimates):
        own = {row["policy"]: row for row in estimates if row["measure"] == measure}
        first = next(iter(own.values()))
        cells = [None if p not in own else {
            "value": own[p]["value"], "text": formats.of_unit(own[p]["unit"], own[p]["value"]),
            "interval": formats.interval(own[p]["unit"], own[p]["low"], own[p]["high"]), "n": own[p]["n"]}
            for p in policies]
        rows.append({"measure": measure, "population": first["population"], "unit": first["unit"], "cells": cells})
    return rows


KINDS = (
    ("false rollback", "a good build rolled back",
     lambda r: r.get("false_rollback") == "True", None),
    ("miss", "a bad build still serving users at the horizon",
     lambda r: r.get("missed") == "True", None),
    ("slow detection", "the detected bad builds that served traffic longest before detection",
     lambda r: r.get("detected") == "True" and r.get("served_traffic") == "True" and r.get("detection_delay") != "",
     lambda r: -formats.number(r["detection_delay"])),
    ("blocked", "a pipeline that never ended by the horizon",
     lambda r: r.get("outcome") == "blocked", None),
)


def examples(releases: list[dict], policies: list[str], trails: list[dict] | None) -> list[dict]:
    """Per policy and kind of outcome, up to EXAMPLES releases (the first ones, or the slowest)."""
    shown = []
    for policy in policies:
        own = [row for row in releases if row.get("policy") == policy]
        for kind, meaning, chosen, order in KINDS:
            found = [row for row in own if chosen(row)]
            if order is not None:
                found.sort(key=order)
            if found:
                shown.append({"policy": policy, "kind": kind, "meaning": meaning, "total": len(found),
                              "releases": [_release(row, trails) for row in found[:EXAMPLES]]})
    return shown


def _release(row: dict, trails: list[dict] | None) -> dict:
    exposure = formats.number(row.get("exposure_at_detection"))
    return {
        "replication": row.get("replication", ""), "outcome": row.get("outcome", ""),
        "bad_build": row.get("bad_build") == "True",
        "stage": row.get("rollback_stage") or row.get("blocked_reason") or "",
        "detected_by": row.get("detected_by") or ("not detected" if row.get("bad_build") == "True" else "-"),
        "detection_stage": row.get("detection_stage", ""),
        "detection_delay": formats.duration(row.get("detection_delay")),
        "exposure": "-" if math.isnan(exposure) else formats.share(exposure),
        "time_to_mitigate": formats.duration(row.get("time_to_mitigate")),
        "bad_requests": formats.count(row.get("bad_requests")),
        "trail": None if trails is None else [t for t in trails if t.get("policy") == row.get("policy")
                                              and t.get("replication") == row.get("replication")],
    }
