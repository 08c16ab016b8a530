"""A sweep folder (`deploysim sweep`) is compared like an evaluation: its points are the policies of
`estimates.csv` and `acceptance.csv` (`sim.compare.evaluation`). Said besides: the recommendation of
each (summary.json), when they differ.
"""

from __future__ import annotations

from sim.report.folder import ResultsFolder


def notes(a: ResultsFolder, b: ResultsFolder) -> list[str]:
    """The two recommendations, when they differ (or that they agree)."""
    said = [str(folder.summary().get("recommendation") or "(none)") for folder in (a, b)]
    if said[0] == said[1]:
        return [f"both recommend: {said[0]}"]
    return [f"A recommends: {said[0]}", f"B recommends: {said[1]}"]
