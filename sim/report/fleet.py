"""The page of a fleet-growth run (`deploysim run` on a scenario without `rollout:`): the question and its
answer first (where pull overtakes each push strategy, what each added server costs), then deploy time
against fleet size, the table per strategy and size, and the scenario's parameters with their sources.

Everything comes from `summary.json` (the table, the crossovers with their week of growth, the cost per
added server at scale, and with `run --rollback` the rollbacks) and `manifest.json`; `fleet_updated_over_time.png` is shown as the run drew it.
"""

from __future__ import annotations

import math

from sim.report import figures, formats
from sim.report.folder import ResultsFolder
from sim.report.parameters import settings

SECTIONS = ("fleet", "artifact", "network", "faults", "strategies")


def context(folder: ResultsFolder) -> dict:
    """What the fleet-growth template shows."""
    summary = folder.summary()
    rows = list(summary.get("summary") or [])
    sizes = sorted({row["fleet_size"] for row in rows})
    crossovers = list(summary.get("crossovers") or [])
    params, params_note = settings(folder.manifest, SECTIONS)
    return {
        "question": _question(sizes),
        "crossovers": [_crossover(c) for c in crossovers],
        "costs": _costs(summary.get("per_added_host_s_at_scale") or {}),
        "largest": _largest(rows, sizes),
        "rollback": _rollback(rows, list(summary.get("rollback") or []), sizes),
        "figure": figures.deploy_time(rows, crossovers) if rows else None,
        "updated_png": folder.png_uri("fleet_updated_over_time.png"),
        "strategies": _strategies(rows),
        "bottlenecks": any("bottleneck" in row for row in rows),
        "settings": params,
        "settings_note": params_note,
    }


def _question(sizes: list[int]) -> str:
    if not sizes:
        return "How long does a deploy take as the fleet grows?"
    return (f"How long does a deploy take as the fleet grows from {formats.hosts(sizes[0])} to "
            f"{formats.hosts(sizes[-1])} hosts, where does pull overtake push, and what does each added server cost?")


def _crossover(crossing: dict) -> dict:
    """One answer sentence: where the pull strategy overtakes the push one (or why there is no such size)."""
    hosts, week = crossing.get("hosts"), crossing.get("week")
    if hosts is None:
        sentence = f"{crossing['pull']} vs {crossing['push']}: {crossing.get('note', '')}."
    else:
        when = f", week {week:.1f} of growth" if week is not None else ""
        sentence = (f"{crossing['pull']} overtakes {crossing['push']} from about {formats.hosts(hosts)} hosts "
                    f"({crossing.get('note', '')}{when}).")
    return {"sentence": sentence, "hosts": hosts, "pull": crossing["pull"], "push": crossing["push"]}


def _costs(slopes: dict) -> list[dict]:
    """Seconds each added server costs at the largest sizes, cheapest first (NaN: a single size, none)."""
    known = [(name, value) for name, value in slopes.items()
             if value is not None and not math.isnan(formats.number(value))]
    return [{"strategy": name, "value": value, "text": formats.per_host(value)}
            for name, value in sorted(known, key=lambda item: item[1])]


def _largest(rows: list[dict], sizes: list[int]) -> dict | None:
    """Each strategy's deploy time at the largest fleet size, fastest first."""
    if not sizes:
        return None
    at = [row for row in rows if row["fleet_size"] == sizes[-1]]
    ranked = sorted(at, key=lambda row: formats.number(row["max"]))
    return {"hosts": formats.hosts(sizes[-1]),
            "times": [{"strategy": row["strategy"], "value": row["max"], "text": formats.duration(row["max"])}
                      for row in ranked]}


def _rollback(rows: list[dict], rolled: list[dict], sizes: list[int]) -> list[dict]:
    """With `run --rollback`: each strategy's rollback at the largest fleet size beside its deploy, fastest
    rollback first."""
    if not rolled or not sizes:
        return []
    deploy = {row["strategy"]: row["max"] for row in rows if row["fleet_size"] == sizes[-1]}
    at = sorted((row for row in rolled if row["fleet_size"] == sizes[-1]), key=lambda row: formats.number(row["max"]))
    return [{"strategy": row["strategy"], "value": row["max"], "text": formats.duration(row["max"]),
             "p50": formats.duration(row["p50"]), "deploy": formats.duration(deploy.get(row["strategy"])),
             "hosts": formats.hosts(sizes[-1])} for row in at]


def _strategies(rows: list[dict]) -> list[dict]:
    """The table: per strategy, one row per fleet size, every time in readable units."""
    result = []
    for name in dict.fromkeys(row["strategy"] for row in rows):
        own = [row for row in rows if row["strategy"] == name]
        result.append({"name": name, "kind": own[0].get("kind", ""), "replications": own[0].get("replications"),
                       "rows": [_row(row) for row in own]})
    return result


def _row(row: dict) -> dict:
    band = (f"{formats.duration(row['max_p5'])} – {formats.duration(row['max_p95'])}"
            if row.get("replications", 1) > 1 else "-")
    cells = [("fleet_size", formats.hosts(row["fleet_size"])), ("p50", formats.duration(row["p50"])),
             ("p95", formats.duration(row["p95"])), ("max", formats.duration(row["max"])), ("band", band),
             ("not_updated", formats.count(row["not_updated"])), ("s_per_host", formats.per_host(row["s_per_host"]))]
    found = [{"key": key, "text": text, "value": row.get(key)} for key, text in cells]
    if "bottleneck" in row:  # folders written before the bottleneck columns lack them
        found.append({"key": "bottleneck", "text": f"{row['bottleneck']} (≥ {formats.duration(row['bound'])})",
                      "value": row.get("bound")})
    return {"cells": found}

