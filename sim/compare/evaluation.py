"""The measures of an evaluation folder (`deploysim evaluate`): per policy and measure, the estimate of
`estimates.csv` with its own interval (Wilson's for shares, order statistics for quantiles, at the
scenario's `evaluation.confidence`) and the population it is computed over; and the verdict of each
policy on each acceptance criterion (`acceptance.csv`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.compare.difference import Measure
from sim.report.folder import ResultsFolder
from sim.report.formats import number


@dataclass(frozen=True)
class Verdict:
    """A policy's status on an acceptance criterion in folders A and B (None: not judged there)."""

    policy: str
    criterion: str
    a: str | None
    b: str | None


def interval(folder: ResultsFolder) -> str:
    confidence = (folder.scenario.get("evaluation") or {}).get("confidence")
    level = f"{confidence:.0%} " if isinstance(confidence, (int, float)) else ""
    return f"each estimate's own {level}interval (estimates.csv: Wilson for shares, order statistics for quantiles)"


def measures(folder: ResultsFolder) -> list[Measure]:
    return [Measure(row["policy"], row.get("population", ""), row["measure"], row.get("unit", ""),
                    number(row.get("value")), number(row.get("low")), number(row.get("high")),
                    int(float(row["n"])) if row.get("n") not in (None, "") else None)
            for row in folder.read_csv("estimates.csv")]


def verdicts(a: ResultsFolder, b: ResultsFolder) -> list[Verdict]:
    """Every policy and criterion judged in either folder, A's order first."""
    status = [{(row["policy"], row["criterion"]): row["status"] for row in _acceptance(folder)} for folder in (a, b)]
    keys = list(dict.fromkeys([*status[0], *status[1]]))
    return [Verdict(*key, status[0].get(key), status[1].get(key)) for key in keys]


def _acceptance(folder: ResultsFolder) -> list[dict[str, str]]:
    return folder.read_csv("acceptance.csv") if folder.has("acceptance.csv") else []
