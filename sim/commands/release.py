"""`deploysim run` on a scenario with a `rollout:` section: simulate releases, report their outcomes."""

from __future__ import annotations

import math
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sim.deploy.experiment import default_workers, map_ordered
from sim.load.loader import LoadedScenario
from sim.progress import progress_bar
from sim.results import columns
from sim.results.envelope import envelope, records
from sim.results.output import results_folder, write_json, write_manifest
from sim.rollout import summary
from sim.rollout.release import ReleaseResult
from sim.rollout.simulate import ReleaseSetup, release_setup, simulate_releases
from sim.rollout.summary import horizon_text
from sim.rollout.timeline import timeline
from sim.units import format_duration

CHUNK = 50  # replications simulated together by the batched engine


@dataclass(frozen=True)
class Replications:
    first: int  # replications first..first+count-1
    count: int
    entropy: int


def run_chunk(setup: ReleaseSetup, item: Replications) -> list[ReleaseResult]:
    releases = [(setup.scenario, r) for r in range(item.first, item.first + item.count)]
    return [result.settled() for result in simulate_releases(releases, item.entropy, setup)]


@dataclass(frozen=True)
class ReleaseRun:
    loaded: LoadedScenario
    entropy: int
    results: list[ReleaseResult]
    outcomes: pd.DataFrame
    distribution: pd.DataFrame
    out: Path | None = None


def run_releases(loaded: LoadedScenario, entropy: int, workers: int | None, err: Console | None,
                 executor: Executor | None = None) -> ReleaseRun:
    scenario = loaded.scenario
    n = scenario.replications
    workers = workers or default_workers(n)
    chunk = max(1, min(CHUNK, math.ceil(n / (4 * workers))))  # a few chunks per worker, at most CHUNK each
    items = [Replications(r, min(chunk, n - r), entropy) for r in range(0, n, chunk)]
    with progress_bar(err, "releases", n, step=len) as advance:
        results = [result for chunk in map_ordered(run_chunk, release_setup(scenario), items, workers, progress=advance,
                                                         chunksize=1, executor=executor)
                   for result in chunk]
    outcomes = summary.outcome_table(results)
    return ReleaseRun(loaded, entropy, results, outcomes, summary.distribution(outcomes))


def write(run: ReleaseRun, out: Path, overwrite: bool) -> ReleaseRun:
    loaded = run.loaded
    with results_folder(out, overwrite=overwrite) as folder:
        columns.write_csv(run.outcomes, folder / "releases.csv", columns.RELEASES)
        columns.write_csv(run.distribution, folder / "outcome_distribution.csv", columns.DISTRIBUTION)
        keep = run.results if loaded.scenario.output.host_rows == "all" else run.results[:1]
        for field, spec in (("stages", columns.STAGES), ("samples", columns.METRICS), ("decisions", columns.DECISIONS)):
            columns.write_csv(summary.records_table(keep, field), folder / spec.file, spec)
        timeline(run.results[0], loaded.scenario, folder / "timeline.png")
        write_json(folder / "summary.json", to_json(run))
        write_manifest(folder, "run (releases)", loaded, run.entropy)
    return ReleaseRun(**{**run.__dict__, "out": out})


def to_json(run: ReleaseRun) -> dict:
    scenario = run.loaded.scenario
    return envelope("run (releases)", {
        "releases": records(run.outcomes, columns.RELEASES),
        "distribution": records(run.distribution, columns.DISTRIBUTION),
    }, scenario=scenario.name, seed=scenario.seed, entropy=run.entropy, out=run.out)


def render(run: ReleaseRun, console: Console) -> None:
    if len(run.results) == 1:
        console.print(Text(f"{run.loaded.scenario.name}: one release", style="bold"))
        for line in summary.report(run.results[0]):
            console.print("  " + line, highlight=False)
    else:
        table = Table(title=Text(f"{run.loaded.scenario.name}: {len(run.results)} releases"))
        for column in ("measure", "of", "p50 / share", "p5-p95 / 95% CI"):
            table.add_column(column, justify="left" if column in ("measure", "of") else "right", no_wrap=True)
        for row in run.distribution.itertuples():
            table.add_row(*map(Text, (row.measure, f"{row.population} ({row.count})", *_cells(row))))
        console.print(table, highlight=False)
        console.print(horizon_text(run.loaded.scenario), highlight=False, markup=False)
    if run.out:
        console.print(f"results written to {run.out}/", markup=False, highlight=False)


def _cells(row) -> tuple[str, str]:
    if math.isnan(row.value):
        return "-", "-"
    if row.kind == "share":
        return f"{100 * row.value:.1f}%", f"{100 * row.low:.1f}%-{100 * row.high:.1f}%"
    if row.measure in summary.TIMES:
        return format_duration(row.value), f"{format_duration(row.low)}-{format_duration(row.high)}"
    if row.measure == "peak_bad_share":
        return f"{100 * row.value:.1f}%", f"{100 * row.low:.1f}%-{100 * row.high:.1f}%"
    return f"{row.value:,.0f}", f"{row.low:,.0f}-{row.high:,.0f}"
