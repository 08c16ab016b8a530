"""Two results folders side by side: who they are, what was changed on purpose, and a row per measure.

`compare(a, b)` opens the pair (`sim.compare.folders`, which refuses what cannot be compared), lists the
settings that differ between the two effective scenarios, pairs the measures of both folders
(`READERS`: one per comparable kind) and, for evaluations and sweeps, the verdicts per criterion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sim.compare import bench, evaluation, fleet, releases, sweep
from sim.compare.difference import Difference, pair
from sim.compare.folders import kind, open_pair
from sim.compare.settings import Change, changed
from sim.errors import UserError
from sim.report.folder import ResultsFolder


@dataclass(frozen=True)
class Reader:
    """How one kind of folder is compared: its measures, the interval they carry (said once per
    comparison), whether it has acceptance verdicts, and what else to say about a pair of them."""

    measures: Callable[[ResultsFolder], list]
    interval: Callable[[ResultsFolder], str]
    verdicts: bool = False
    notes: Callable[[ResultsFolder, ResultsFolder], list[str]] = lambda a, b: []


# The manifest's command -> its reader (sim.compare.folders.COMPARABLE lists the same kinds).
READERS = {
    "run": Reader(fleet.measures, lambda folder: fleet.INTERVAL),
    "run (sweep)": Reader(fleet.measures, lambda folder: fleet.INTERVAL),
    "run (releases)": Reader(releases.measures, lambda folder: releases.INTERVAL),
    "evaluate": Reader(evaluation.measures, evaluation.interval, verdicts=True),
    "sweep": Reader(evaluation.measures, evaluation.interval, verdicts=True, notes=sweep.notes),
    "bench": Reader(bench.measures, lambda folder: bench.INTERVAL),
}


@dataclass(frozen=True)
class Side:
    """One folder as the comparison names it."""

    path: str
    scenario: str
    seed: int | None
    entropy: str
    tool_version: str
    overrides: tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    command: str
    kind: str
    a: Side
    b: Side
    format: str
    changes: tuple[Change, ...]
    interval: str
    rows: tuple[Difference, ...]
    verdicts: tuple[evaluation.Verdict, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def separated(self) -> int:
        return sum(1 for row in self.rows if row.separated)


def compare(a: str | Path, b: str | Path) -> Comparison:
    """Folders A and B compared (a UserError, exit 2, for a pair that cannot be)."""
    first, second = open_pair(a, b)
    reader = READERS[first.command]
    rows = pair(_read(first, reader.measures), _read(second, reader.measures))
    verdicts = _read(first, lambda _: evaluation.verdicts(first, second)) if reader.verdicts else []
    said = _read(first, lambda _: reader.notes(first, second))
    return Comparison(first.command, kind(first.command), side(first), side(second),
                      f"{first.manifest.get('format')} {first.manifest.get('format_version')}",
                      tuple(changed(first.scenario, second.scenario)), reader.interval(first), tuple(rows),
                      tuple(verdicts), tuple([*notes(first, second), *said]))


def _read(folder: ResultsFolder, read: Callable[[ResultsFolder], list]) -> list:
    """What `read` finds in the folder; a damaged results file is a UserError naming the folder, not a
    traceback."""
    try:
        return read(folder)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UserError(f"{folder.path}: its results files are not as deploysim writes them "
                        f"({type(error).__name__}: {error}); is this folder whole?") from None


def side(folder: ResultsFolder) -> Side:
    manifest = folder.manifest
    scenario = manifest.get("scenario")
    if not isinstance(scenario, dict):
        scenario = {}
    name = folder.scenario.get("name") or scenario.get("source") or "unnamed scenario"
    return Side(str(folder.path), str(name), manifest.get("seed"),
                str(manifest.get("entropy", "")), str(manifest.get("tool_version", "")),
                tuple(str(item) for item in scenario.get("overrides") or ()))


def notes(a: ResultsFolder, b: ResultsFolder) -> list[str]:
    """What else differs between the runs, beyond their scenarios."""
    found = []
    versions = [str(folder.manifest.get("tool_version", "?")) for folder in (a, b)]
    if versions[0] != versions[1]:
        found.append(f"written by different versions of deploysim (A: {versions[0]}, B: {versions[1]}): a difference "
                     "may come from the simulator, not from the scenario")
    if a.scenario.get("seed") is None and b.scenario.get("seed") is None:
        found.append("neither run named a seed: each drew its own entropy (listed above)")
    return found
