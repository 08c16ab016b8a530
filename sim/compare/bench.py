"""The measures of a bench folder (`deploysim bench`): per strategy and fleet size, what `summary.csv`
records of the one real deploy (hosts updated, p50, p95 and max time to live, transfer, activation,
fan-out and connection means).

A bench run is one deploy per strategy: its quantiles describe that deploy's hosts, not an estimate with
an interval, so no row is called separated. Repeat the bench and compare the validations
(`deploysim bench validate-model`) to judge the model.
"""

from __future__ import annotations

from sim.compare.difference import Measure
from sim.report.folder import ResultsFolder
from sim.report.formats import number
from sim.results.columns import BENCH_SUMMARY

INTERVAL = "none: a bench run is one deploy per strategy (its quantiles are over its hosts, not estimates)"
SKIPPED = {"strategy", "kind", "fleet_hosts"}
HOSTS = next(column.source for column in BENCH_SUMMARY.columns if column.name == "fleet_hosts")


def measures(folder: ResultsFolder) -> list[Measure]:
    """Every recorded value of summary.csv (an empty cell, not measured for that kind, is left out), named
    as in the file."""
    out = []
    for row in folder.read_csv("summary.csv") if folder.has("summary.csv") else []:  # in-memory names
        at = f"{int(float(row[HOSTS])):,} hosts" if row.get(HOSTS) else ""
        for column in BENCH_SUMMARY.columns:
            if column.name in SKIPPED or row.get(column.source) in (None, ""):
                continue
            out.append(Measure(row["strategy"], at, column.name, column.unit, number(row[column.source])))
    return out
