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
    at = _fastest_first(rows, point, largest)
    crossings = []
    for c in crossovers:
        if c.get("point") != point:
            continue
        hosts = c.get("hosts")
        crossings.append(f"{c['pull']} overtakes {c['push']} from about {formats.hosts(hosts)} hosts" if hosts is not None
                         else f"{c['pull']} vs {c['push']}: {c.get('note', '')}")
    return {"point": point, "times": _in_turn(at), "crossings": crossings,
            "fastest": at[0]["strategy"] if at else "", "max": at[0]["max"] if at else None,
            "rollback": _in_turn(_fastest_first(rolled, point, largest))}


def _fastest_first(rows: list[dict], point: str, largest) -> list[dict]:
    """The point's rows at the largest fleet size, the shortest `max` first."""
    return sorted((row for row in rows if row["point"] == point and row["fleet_size"] == largest),
                  key=lambda row: formats.number(row["max"]))


def _in_turn(rows: list[dict]) -> str:
    """'consul-pull 8 min 06 s, then rsync-32 1 h 02 min'."""
    return ", then ".join(f"{row['strategy']} {formats.duration(row['max'])}" for row in rows)


def _row(row: dict) -> dict:
    return {"point": row["point"], "strategy": row["strategy"], "p50": formats.duration(row.get("p50")),
            "max": formats.duration(row.get("max")), "max_value": row.get("max"),
            "bottleneck": row.get("bottleneck", ""), "bound": formats.duration(row.get("bound")),
            "not_updated": formats.count(formats.number(row.get("not_updated")))}
