"""The measures of a releases folder (`deploysim run` on a rollout scenario): each outcome's share and
each time's median, over the population the summary states (all releases, good builds, bad builds,
detected bad builds that served traffic, releases that shipped).

Shares carry the summary's own Wilson 95% interval. The summary gives times as a p50 with the p5-p95
band of single releases; like fleet times (`sim.compare.fleet`), a comparison bounds the median
instead: the 95% distribution-free interval of the median from order statistics, over that population's
rows of `releases.csv` (none with fewer than 6 releases).
"""

from __future__ import annotations

import pandas as pd

from sim.compare.difference import Measure
from sim.compare.fleet import median_interval
from sim.report.folder import ResultsFolder
from sim.report.formats import number
from sim.results.populations import populations

INTERVAL = ("shares: Wilson 95% interval (summary.json); times and other medians: 95% interval of the median "
            "over the population's releases (order statistics of releases.csv; none with fewer than 6)")
UNITS = {"detection_delay": "s", "time_to_mitigate": "s", "lead_time": "s", "peak_bad_share": "share",
         "bad_requests": "requests"}
FLAGS = ("bad_build", "detected", "served_traffic")


def measures(folder: ResultsFolder) -> list[Measure]:
    """Every row of the summary's distribution, in its order."""
    rows = folder.summary().get("distribution") or []
    releases = _releases(folder)
    masks = populations(releases) if len(releases) else {}
    out = []
    for row in rows:
        name, population, n = str(row["measure"]), str(row.get("population", "")), row.get("count")
        if row.get("kind") == "share":
            out.append(Measure("share", population, name, "share", number(row.get("value")),
                               number(row.get("low")), number(row.get("high")), n))
            continue
        column = _column(releases, name)
        values = [] if column is None or population not in masks else \
            releases.loc[masks[population], column].dropna().astype(float).tolist()
        low, high = median_interval(values)
        out.append(Measure("median", population, name, UNITS.get(name, ""), number(row.get("value")), low, high, n))
    return out


def _releases(folder: ResultsFolder) -> pd.DataFrame:
    """releases.csv with its flags as booleans and its numbers as floats (empty: NaN)."""
    if not folder.has("releases.csv"):
        return pd.DataFrame()
    frame = pd.DataFrame(folder.read_csv("releases.csv"))
    for flag in FLAGS:
        frame[flag] = frame[flag] == "True"
    return frame


def _column(releases: pd.DataFrame, measure: str) -> str | None:
    """The releases.csv column of a summary measure (both by their in-memory names: `detection_delay`,
    in the file `detection_delay_s`)."""
    return measure if measure in releases else None
