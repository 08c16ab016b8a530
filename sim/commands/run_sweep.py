"""`deploysim run SCENARIO --sweep KEY=V1,V2 [--sweep KEY2=...]`: fleet growth at every point of a grid
over any scenario keys, every strategy at every fleet size at each point.

A point is one value of each swept key (the grid is their product), applied like `--set` on top of the
scenario and its `--set` overrides, and validated like any override (a bad value is located at
`--sweep KEY`). Every point draws from the same entropy, so two points differ by their settings and not
by their luck (common random numbers); its numbers are those of `deploysim run --set KEY=V` with the
same seed. All points' deploys go through one pool (or one Dask cluster).

Written (results folder of kind `run (sweep)`): summary.csv, replications.csv and crossover.csv as `run`
writes them, each row led by its `point` and followed by a `set KEY` column per swept key; per swept key
a plot of the deploy time at the largest fleet size against the key's values (`sweep_KEY.png`); no host
rows (a sweep's points would multiply them: run the point on its own for those). With `--rollback`,
every point is also rolled back (`sim.deploy.rollback`, on the same seeds) and rollback.csv holds the
rollbacks the way summary.csv holds the deploys.
"""

from __future__ import annotations

import itertools
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sim.commands import guards
from sim.commands.run import crossover_table, summarise
from sim.deploy.experiment import default_workers, plan_jobs, run_jobs_of
from sim.deploy.rollback import rollback_scenario
from sim.errors import Problem, ScenarioError, UserError
from sim.load.loader import LoadedScenario, vary
from sim.progress import progress_bar
from sim.results import columns, plots
from sim.results.envelope import envelope, records
from sim.results.output import results_folder, write_json, write_manifest
from sim.results.tables import crossovers
from sim.units import format_duration

KIND = "run (sweep)"
MAX_POINTS = 1000  # a grid larger than this is a mistake more often than a plan


@dataclass(frozen=True)
class Axis:
    """One swept key and its values, as typed (each read as YAML, like a --set value)."""

    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Point:
    """One value of each swept key."""

    settings: tuple[tuple[str, str], ...]  # (key, value as typed)

    @property
    def label(self) -> str:
        """'network.origin_egress=40Gbps, faults.down=1%'."""
        return ", ".join(f"{key}={value}" for key, value in self.settings)

    @property
    def overrides(self) -> list[str]:
        return [f"{key}={value}" for key, value in self.settings]


@dataclass(frozen=True)
class SweepRunResult:
    base: LoadedScenario
    entropy: int
    axes: tuple[Axis, ...]
    points: tuple[Point, ...]
    summary: pd.DataFrame  # `point`, the summary's columns, `set KEY` per axis
    replications: pd.DataFrame
    crossovers: pd.DataFrame
    out: Path | None = None
    rollback: pd.DataFrame | None = None  # with --rollback: the rollbacks' summary, laid out like `summary`


def parse_axes(options: list[str]) -> list[Axis]:
    """The --sweep options as axes; every problem at once, each at `--sweep OPTION`."""
    axes, problems, seen = [], [], set()
    for option in options:
        key, sep, text = option.partition("=")
        key = key.strip()
        where = f"--sweep {key or option}"
        values = split_values(text)
        if not sep or not key:
            problems.append(Problem(where, None, None, "", "a sweep must look like key.path=value1,value2",
                                    allowed="for example network.origin_egress=10Gbps,40Gbps"))
        elif len(values) < 1 or any(not v for v in values):
            problems.append(Problem(where, None, None, "", "needs values separated by commas (none may be empty)",
                                    got=repr(text), allowed="for example faults.down=0,1%,5%"))
        elif key in seen:
            problems.append(Problem(where, None, None, "", "this key is swept twice; give its values once"))
        else:
            seen.add(key)
            axes.append(Axis(key, tuple(values)))
    points = 1
    for axis in axes:
        points *= len(axis.values)
    if points > MAX_POINTS:
        problems.append(Problem("--sweep", None, None, "", f"the grid has {points:,} points",
                                allowed=f"at most {MAX_POINTS:,} (fewer values, or fewer keys at once)"))
    if problems:
        raise UserError(problems)
    return axes


def split_values(text: str) -> list[str]:
    """'10Gbps, 40Gbps' -> ['10Gbps', '40Gbps']: split at commas outside brackets, braces and quotes, so a
    value may itself be a YAML list or mapping ('[10, 100],[1000]'). Text that is one bracketed list is the
    list of the values: '[10Gbps, 40Gbps]' is two values, '[[10, 100], [1000]]' two lists."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]") and len(_split(text)) == 1 and _closes_at_end(text):
        text = text[1:-1]
    return [value.strip() for value in _split(text)]


def _split(text: str) -> list[str]:
    """`text` cut at the commas outside brackets, braces and quotes."""
    values, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            values.append(text[start:i])
            start = i + 1
    return [*values, text[start:]]


def _closes_at_end(text: str) -> bool:
    """Whether the bracket that opens `text` is the one that closes it (not '[1],[2]')."""
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "[{"
        depth -= ch in "]}"
        if depth == 0:
            return i == len(text) - 1
    return False


def grid(axes: list[Axis]) -> list[Point]:
    """Every combination, the first axis varying slowest."""
    return [Point(tuple(zip([a.key for a in axes], values))) for values in itertools.product(*(a.values for a in axes))]


def load_points(base: LoadedScenario, points: list[Point]) -> list[LoadedScenario]:
    """Each point's scenario, validated like an override; problems of every point at once, at `--sweep KEY`."""
    if base.scenario.rollout is not None:
        raise UserError([Problem(base.source, None, None, "rollout", "run --sweep sweeps fleet growth; this scenario "
                                 "has a rollout: section (deploysim sweep evaluates a grid of policies)",
                                 allowed="a scenario without rollout:")])
    loaded, problems = [], []
    for point in points:
        try:
            loaded.append(vary(base, point.overrides))
        except ScenarioError as error:
            swept = {f"--set {key}": f"--sweep {key}" for key, _ in point.settings}
            problems += [replace(p, source=swept.get(p.source, p.source)) for p in error.problems]
    if problems:
        raise UserError(list(dict.fromkeys(problems)))
    return loaded


def guard(points: list[LoadedScenario], workers: int, out: str | None, remote: bool, rollback: bool = False) -> None:
    """Refuse a sweep this machine cannot hold or finish: its memory at the largest point, its time and
    disk the sums over points (with `rollback`, each point's time twice: as many deploys again)."""
    writes = out is not None
    costs = [guards.fleet_costs(p.scenario, workers, writes, remote, rollback) for p in points]
    largest = max(range(len(points)), key=lambda i: sum(c.amount for c in costs[i]["memory"]))
    combined = {"memory": costs[largest]["memory"], "disk": [c for cost in costs for c in cost["disk"]],
                "time": [replace(c, what=f"point {i + 1}: {c.what}") for i, cost in enumerate(costs) for c in cost["time"]]}
    guards.check(points[largest], combined, guards.budget(out))


def run_sweep(base: LoadedScenario, entropy: int, options: list[str], workers: int | None = None,
              err: Console | None = None, executor: Executor | None = None, out: str | None = None,
              rollback: bool = False) -> SweepRunResult:
    """Fleet growth at every point of the grid the --sweep `options` name (`out`: where it will be written,
    for the disk guard); with `rollback`, every point also rolled back on the same seeds."""
    axes = parse_axes(options)
    points = grid(axes)
    loaded = load_points(base, points)
    scenarios = tuple(point.scenario for point in loaded)
    if rollback:  # the rollbacks follow the deploys: scenario len(points) + i rolls point i back
        scenarios += tuple(rollback_scenario(scenario) for scenario in scenarios)
    jobs = [(i, job) for i, scenario in enumerate(scenarios) for job in plan_jobs(scenario, entropy)]
    workers = workers or default_workers(len(jobs))
    guard(loaded, workers, out, executor is not None, rollback)
    with progress_bar(err, "simulating", len(jobs)) as advance:
        grouped = run_jobs_of(scenarios, jobs, workers, progress=advance, executor=executor)
    summaries, replications, crossings, rollbacks = [], [], [], []
    for i, (point, scenario, own) in enumerate(zip(points, loaded, grouped)):
        reps, summary = summarise(own, scenario.scenario)
        found = crossovers(summary)
        settings = {f"set {key}": value for key, value in point.settings}
        summaries.append(summary.assign(**settings).pipe(_lead, point.label))
        replications.append(reps.assign(**settings).pipe(_lead, point.label))
        crossings.append(crossover_table(scenario.scenario, found).assign(**settings).pipe(_lead, point.label))
        if rollback:
            rolled = summarise(grouped[len(points) + i], scenarios[len(points) + i])[1]
            rollbacks.append(rolled.assign(**settings).pipe(_lead, point.label))
    return SweepRunResult(base, entropy, tuple(axes), tuple(points), pd.concat(summaries, ignore_index=True),
                          pd.concat(replications, ignore_index=True), pd.concat(crossings, ignore_index=True),
                          rollback=pd.concat(rollbacks, ignore_index=True) if rollback else None)


def _lead(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """`frame` with a first column `point`."""
    return frame.assign(point=label)[["point", *frame.columns]]


def write(result: SweepRunResult, out: Path, overwrite: bool) -> SweepRunResult:
    base = result.base
    with results_folder(out, overwrite=overwrite) as folder:
        columns.write_csv(result.summary, folder / "summary.csv", columns.SWEEP_SUMMARY)
        columns.write_csv(result.replications, folder / "replications.csv", columns.SWEEP_REPLICATIONS)
        columns.write_csv(result.crossovers, folder / "crossover.csv", columns.SWEEP_CROSSOVER)
        if result.rollback is not None:
            columns.write_csv(result.rollback, folder / "rollback.csv", columns.SWEEP_ROLLBACK)
        for axis in result.axes:
            plots.deploy_time_vs_setting(result.summary, axis.key, [a.key for a in result.axes],
                                         folder / plots.sweep_plot_name(axis.key))
        write_json(folder / "summary.json", to_json(result))
        write_manifest(folder, KIND, base, result.entropy,
                       extra={"sweep": {axis.key: list(axis.values) for axis in result.axes},
                              "rollback": result.rollback is not None})
    return replace(result, out=out)


def to_json(result: SweepRunResult) -> dict:
    scenario = result.base.scenario
    return envelope(KIND, {
        "sweep": {axis.key: list(axis.values) for axis in result.axes},
        "points": [point.label for point in result.points],
        "summary": records(result.summary, columns.SWEEP_SUMMARY),
        "crossovers": records(result.crossovers, columns.SWEEP_CROSSOVER),
        **({"rollback": records(result.rollback, columns.SWEEP_ROLLBACK)} if result.rollback is not None else {}),
    }, scenario=scenario.name, seed=scenario.seed, entropy=result.entropy, out=result.out)


def render(result: SweepRunResult, console: Console) -> None:
    """Per point and strategy, the deploy at the largest fleet size; then each point's crossovers."""
    largest = result.summary.sort_values("fleet_size", kind="stable").groupby(["point", "strategy"], sort=False).tail(1)
    order = {label: i for i, label in enumerate(p.label for p in result.points)}
    table = Table(title=Text(f"{result.base.scenario.name}: deploy time at each swept point, at the largest fleet size"),
                  caption=Text("medians over replications: p50, when half of all hosts run the new build; max, when "
                               "the last updated host does; every point on the same random draws"))
    for column in ("point", "strategy", "hosts", "p50", "max", "bound by"):
        table.add_column(column, justify="left" if column in ("point", "strategy", "bound by") else "right")
    for row in sorted(largest.itertuples(), key=lambda r: order[r.point]):
        table.add_row(*map(Text, (row.point, row.strategy, f"{row.fleet_size:,}", format_duration(row.p50),
                                  format_duration(row.max), row.bottleneck)))
    console.print(table, highlight=False)
    for row in result.crossovers.itertuples():
        where = (f"from about {row.hosts:,.0f} hosts" if pd.notna(row.hosts) else row.note)
        console.print(f"{row.point}: {row.pull} vs {row.push}: {where}", markup=False, highlight=False)
    for line in rollback_lines(result):
        console.print(line, markup=False, highlight=False)
    if result.out:
        console.print(f"results written to {result.out}/", markup=False, highlight=False)


def rollback_lines(result: SweepRunResult) -> list[str]:
    """With --rollback, per point and strategy at the largest fleet size: rolling back beside deploying."""
    if result.rollback is None or not len(result.rollback):
        return []
    size = int(result.rollback.fleet_size.max())
    deploy = result.summary[result.summary.fleet_size == size].set_index(["point", "strategy"])["max"]
    return [f"{row.point}: rollback at {size:,} hosts: {row.strategy} takes {format_duration(row.max)} until "
            f"the last host (its deploy: {format_duration(deploy[(row.point, row.strategy)])})"
            for row in result.rollback[result.rollback.fleet_size == size].itertuples()]
