"""The page of a fleet-growth sweep (`deploysim run --sweep`): the answer first (per swept point, the
fastest strategy at the largest fleet size and where each newer strategy overtakes each older one),
then one figure per swept key (drawn from summary.json as the run drew `sweep_KEY.png`), the table at the largest fleet size
per point and strategy, and the scenario's parameters with their sources.

With `run --sweep --rollback`, each point's answer also says how long rolling back takes there.

Everything comes from `summary.json` (its summary, crossover and rollback rows, with their point), `manifest.json`; the rows at every fleet size are in summary.csv.
"""

from __future__ import annotations

from sim.report import figures, formats
from sim.report.folder import ResultsFolder
from sim.report.parameters import settings

SECTIONS = ("fleet", "artifact", "network", "faults", "strategies")


def context(folder: ResultsFolder) -> dict:
    """What the fleet-sweep template shows."""
    summary = folder.summary()
    rows = list(summary.get("summary") or [])
    found = summary.get("sweep")
    swept: dict = found if isinstance(found, dict) else {}
    points = [str(p) for p in summary.get("points") or []]
    largest = max((row["fleet_size"] for row in rows), default=None)
    rolled = list(summary.get("rollback") or [])
    params, params_note = settings(folder.manifest, SECTIONS)
    return {
        "swept": [{"key": key, "choices": ", ".join(map(str, values))} for key, values in swept.items()],
        "hosts": formats.hosts(largest) if largest is not None else "",
        "answers": [_answer(point, rows, largest, summary.get("crossovers") or [], rolled) for point in points],
        "figures": [{"key": key, "svg": figures.deploy_time_vs_setting(rows, key, list(swept))} for key in swept]
        if rows else [],
        "rows": [_row(row) for row in rows if row["fleet_size"] == largest],
        "settings": params,
        "settings_note": params_note,
    }


def _answer(point: str, rows: list[dict], largest, crossovers: list[dict], rolled: list[dict]) -> dict:
    """'fastest at 100,010 hosts: consul-pull, 8 min 06 s (then ...); consul-pull overtakes rsync-32 from
    about 184 hosts'; with `run --sweep --rollback`, the point's rollbacks at that size, fastest first."""
    at = sorted((row for row in rows if row["point"] == point and row["fleet_size"] == largest),
                key=lambda row: formats.number(row["max"]))
    times = ", then ".join(f"{row['strategy']} {formats.duration(row['max'])}" for row in at)
    crossings = []
    for c in crossovers:
        if c.get("point") != point:
            continue
        hosts = c.get("hosts")
        crossings.append(f"{c['pull']} overtakes {c['push']} from about {formats.hosts(hosts)} hosts" if hosts is not None
                         else f"{c['pull']} vs {c['push']}: {c.get('note', '')}")
    back = sorted((row for row in rolled if row["point"] == point and row["fleet_size"] == largest),
                  key=lambda row: formats.number(row["max"]))
    return {"point": point, "times": times, "crossings": crossings,
            "fastest": at[0]["strategy"] if at else "", "max": at[0]["max"] if at else None,
            "rollback": ", then ".join(f"{row['strategy']} {formats.duration(row['max'])}" for row in back)}


def _row(row: dict) -> dict:
    return {"point": row["point"], "strategy": row["strategy"], "p50": formats.duration(row.get("p50")),
            "max": formats.duration(row.get("max")), "max_value": row.get("max"),
            "bottleneck": row.get("bottleneck", ""), "bound": formats.duration(row.get("bound")),
            "not_updated": formats.count(formats.number(row.get("not_updated")))}
