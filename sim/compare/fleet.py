"""The measures of a fleet-growth folder (`deploysim run`): per strategy and fleet size the p50, p95 and
max deploy time, the hosts not updated and, for p2p, the bytes the origin served (the values of
`summary.json`), where pull overtakes each push strategy, and the seconds each added server costs at
scale. Each is named as its column in the files (docs/results-files.md).

Intervals come from `replications.csv`: for the times (medians over replications) the 95% distribution-free
interval of the median from order statistics (`sim.stats.intervals.quantile_ci`, as evaluations bound their
quantiles), which needs 6 replications or more; for hosts not updated (a mean) Student's t interval of
the mean. Not the summary's p5-p95 band of the max: that band describes the spread of single
replications, and two such bands from the same scenario miss each other by chance (a third of the time
with 2 replications each), so their separation would not mean a difference. The crossovers and the costs
per added server carry no interval.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from sim.compare.difference import Measure
from sim.report.folder import ResultsFolder
from sim.report.formats import number
from sim.results.tables import COUNTED_BYTES

CONFIDENCE = 0.95
# (name in the files, unit, summary's in-memory column, replications.csv in-memory column, its interval)
MEDIAN, MEAN = "median", "mean"
MEASURES = (("p50_s", "s", "p50", "p50", MEDIAN), ("p95_s", "s", "p95", "p95", MEDIAN),
            ("max_s", "s", "max", "makespan", MEDIAN), ("hosts_not_updated", "hosts", "not_updated", "not_updated", MEAN),
            ("origin_bytes", "bytes", "origin_bytes", "origin_bytes", MEDIAN),
            ("cross_zone_bytes", "bytes", "cross_zone_bytes", "cross_zone_bytes", MEDIAN))
INTERVAL = (f"{CONFIDENCE:.0%} interval of the median over replications (order statistics of replications.csv; "
            f"none with fewer than 6 replications); hosts not updated: {CONFIDENCE:.0%} t interval of the mean")


def measures(folder: ResultsFolder) -> list[Measure]:
    """Every measure of the folder, in the order of its summary; with `run --rollback`, the rollbacks'
    times after them (at "N hosts, rollback"; rollback.csv keeps no replications, so no interval). In a
    `run --sweep` folder every row is named by its point and strategy ("point | strategy")."""
    summary = folder.summary()
    runs = _replications(folder)
    out = []
    for row in summary.get("summary") or []:
        out += _row_measures(row, runs.get(_key(row), {}))
    for row in summary.get("rollback") or []:
        out += _row_measures(row, {}, ", rollback")
    for crossing in summary.get("crossovers") or []:
        who = f"{crossing['pull']} vs {crossing['push']}"
        out.append(Measure(_named(crossing, who), "crossover", "fleet_hosts", "hosts", number(crossing.get("hosts"))))
    for strategy, seconds in (summary.get("per_added_host_s_at_scale") or {}).items():
        out.append(Measure(str(strategy), "at scale", "per_added_host_s", "s/host", number(seconds)))
    return out


def _row_measures(row: dict, own: dict[str, list[float]], suffix: str = "") -> list[Measure]:
    at = f"{int(row['fleet_size']):,} hosts{suffix}"
    out = []
    for name, unit, column, replicated, kind in MEASURES:
        if row.get(column) in (None, "") and name in COUNTED_BYTES:
            continue  # strategies that do not count these bytes (push; pull outside zones)
        low, high = (median_interval if kind == MEDIAN else mean_interval)(own.get(replicated, []))
        out.append(Measure(_named(row, str(row["strategy"])), at, name, unit, number(row.get(column)), low, high,
                           row.get("replications")))
    return out


def _named(row: dict, who: str) -> str:
    """`who`, led by the row's swept point in a `run --sweep` folder."""
    return f"{row['point']} | {who}" if row.get("point") else who


def _key(row: dict) -> tuple[str, str, int]:
    return (str(row.get("point") or ""), str(row["strategy"]), int(float(row["fleet_size"])))


def _replications(folder: ResultsFolder) -> dict[tuple[str, str, int], dict[str, list[float]]]:
    """Per point (of a sweep), strategy and fleet size, each column's values over replications ({} without
    the file)."""
    if not folder.has("replications.csv"):
        return {}
    found: dict[tuple[str, str, int], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in folder.read_csv("replications.csv"):
        values = found[_key(row)]
        for *_, column, _kind in MEASURES:
            values[column].append(number(row.get(column)))  # empty: NaN (a time never reached)
    return found


def median_interval(values: list[float]) -> tuple[float, float]:
    """The interval of the median; a time that is NaN (never reached) counts as the longest."""
    if not values:
        return (math.nan, math.nan)
    from sim.stats.intervals import quantile_ci  # (scipy loads only when a folder is compared)

    _, low, high = quantile_ci(np.array([math.inf if math.isnan(v) else v for v in values]), 0.5, CONFIDENCE)
    return (low, high)


def mean_interval(values: list[float]) -> tuple[float, float]:
    """Student's t interval of the mean; none with fewer than 2 values."""
    values = [v for v in values if not math.isnan(v)]
    if len(values) < 2:
        return (math.nan, math.nan)
    from scipy import stats

    mean = sum(values) / len(values)
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1) / len(values))
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, len(values) - 1)) * spread
    return (mean - half, mean + half)
