"""`deploysim run`: simulate every strategy at every fleet size, write a results folder, print a table."""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sim.commands import guards
from sim.commands.common import prepare
from sim.deploy.bottleneck import bottleneck
from sim.deploy.experiment import default_workers, plan_jobs, run_jobs_of
from sim.deploy.rollback import rollback_scenario
from sim.errors import Problem, UserError
from sim.load.loader import LoadedScenario
from sim.load.locate import where
from sim.progress import progress_bar
from sim.results import columns, plots
from sim.results.envelope import envelope, records
from sim.results.output import results_folder, write_json, write_manifest
from sim.results.tables import crossovers, fleet_summary, host_table, marginal_at_scale, replication_table
from sim.spec.references import gate_uses, render_path
from sim.units import format_duration


@dataclass(frozen=True)
class RunResult:
    loaded: LoadedScenario
    entropy: int
    summary: pd.DataFrame
    replications: pd.DataFrame
    hosts: pd.DataFrame
    crossovers: list
    marginal: dict
    out: Path | None
    rollback: pd.DataFrame | None = None  # with --rollback: the summary of rolling back (sim.deploy.rollback)


def run(scenario_path: str, out: str | None = None, overrides: list[str] = (), replications: int | None = None,
        seed: int | None = None, workers: int | None = None, overwrite: bool = False,
        progress: bool = True, metrics: str | None = None):
    """Simulate the scenario: a fleet-growth sweep, or releases when it has a `rollout:` section."""
    loaded, entropy = prepare(scenario_path, list(overrides), replications, seed, metrics)
    return run_loaded(loaded, entropy, out, workers, overwrite, progress)


def run_loaded(loaded: LoadedScenario, entropy: int, out: str | None = None, workers: int | None = None,
               overwrite: bool = False, progress: bool = True, executor: Executor | None = None,
               rollback: bool = False):
    """`run` on a scenario already loaded by `prepare` (the CLI loads it before importing the engine).
    `executor`: where the jobs run (`sim.deploy.experiment.make_executor`: a Dask cluster); None, a local
    process pool of `workers`. The same seed gives the same numbers on either. `rollback`: also roll every
    strategy back at every fleet size (fleet growth only)."""
    guard(loaded, workers, out, remote=executor is not None, rollback=rollback)
    err = Console(stderr=True) if progress else None
    if loaded.scenario.rollout is not None:
        from sim.commands import release

        check_gates(loaded)
        if rollback:
            raise UserError([Problem("--rollback", None, None, "", "compares rolling back across deploy strategies "
                                     "in a fleet-growth run; this scenario has a rollout: section, whose releases "
                                     "roll back by its own rules (rollout.rollback)")])
        result = release.run_releases(loaded, entropy, workers, err, executor)
        return release.write(result, Path(out), overwrite) if out is not None else result
    return fleet_growth(loaded, entropy, out, workers, overwrite, err, executor, rollback)


def check_gates(loaded: LoadedScenario) -> None:
    """`run` judges releases with the gates under `gates:`; a scenario whose rollout names gates that only
    its `evaluation.policies` define (valid for `evaluate`) is refused, each use located."""
    scenario = loaded.scenario
    missing = [(path, name) for path, name in gate_uses(scenario.rollout.model_dump()) if name not in scenario.gates]
    if missing:
        raise UserError([Problem(*where(loaded.data, loaded.source, loaded.origins, path),
                                 render_path(path), f"run judges releases with the gates under gates:, and gate "
                                 f"{name!r} is not there (evaluation.policies define gates for deploysim evaluate)",
                                 got=repr(name), allowed=", ".join(scenario.gates) or "none")
                         for path, name in missing])


def guard(loaded: LoadedScenario, workers: int | None, out: str | None, remote: bool = False,
          rollback: bool = False) -> None:
    """Refuse, before any work, a run this machine cannot hold or finish (`sim.commands.guards`)."""
    scenario = loaded.scenario
    if scenario.rollout is not None:
        costs = guards.release_costs(scenario, workers or default_workers(scenario.replications), out is not None,
                                     remote)
    else:
        jobs = len(scenario.strategies) * len(scenario.fleet_sizes()) * scenario.replications * (1 + rollback)
        costs = guards.fleet_costs(scenario, workers or default_workers(jobs), out is not None, remote, rollback)
    guards.check(loaded, costs, guards.budget(out))


def fleet_growth(loaded: LoadedScenario, entropy: int, out: str | None, workers: int | None, overwrite: bool,
                 err: Console | None, executor: Executor | None = None, rollback: bool = False) -> RunResult:
    """Every strategy at every fleet size (the scenario's `fleet.sizes` or its weekly growth); with
    `rollback`, also rolled back there (`sim.deploy.rollback`), on the same seeds."""
    scenario = loaded.scenario
    scenarios = (scenario, rollback_scenario(scenario)) if rollback else (scenario,)
    jobs = [(i, job) for i in range(len(scenarios)) for job in plan_jobs(scenario, entropy)]
    workers = workers or default_workers(len(jobs))
    with progress_bar(err, "simulating", len(jobs)) as advance:
        grouped = run_jobs_of(scenarios, jobs, workers, progress=advance, executor=executor)
    results = grouped[0]
    replications_df, summary = summarise(results, scenario)
    hosts_df = host_table([r.record for r in results if r.record is not None])
    crossings = crossovers(summary)
    rolled = summarise(grouped[1], scenarios[1])[1] if rollback else None
    result = RunResult(loaded, entropy, summary, replications_df, hosts_df, crossings, marginal_at_scale(summary), None,
                       rolled)
    if out is not None:
        result = _write(result, Path(out), overwrite, workers)
    return result


def summarise(results: list, scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One scenario's deploy results as its replications table and its summary with bottlenecks (for a
    run, its rollback, each point of a sweep)."""
    replications = replication_table([r.summary for r in results])
    return replications, with_bottlenecks(fleet_summary(replications), scenario)


def with_bottlenecks(summary: pd.DataFrame, scenario) -> pd.DataFrame:
    """The summary with each row's bottleneck and its lower bound (`sim.deploy.bottleneck`)."""
    found = [bottleneck(scenario, scenario.strategies[name], int(hosts))
             for name, hosts in zip(summary["strategy"], summary["fleet_size"])]
    return summary.assign(bottleneck=[b.resource for b in found], bound=[b.seconds for b in found])


def _write(result: RunResult, out: Path, overwrite: bool, workers: int) -> RunResult:
    loaded = result.loaded
    with results_folder(out, overwrite=overwrite) as folder:
        columns.write_csv(result.summary, folder / "summary.csv", columns.SUMMARY)
        columns.write_csv(result.replications, folder / "replications.csv", columns.REPLICATIONS)
        columns.write_csv(result.hosts, folder / "hosts.csv", columns.HOSTS)
        columns.write_csv(crossover_table(loaded.scenario, result.crossovers), folder / "crossover.csv", columns.CROSSOVER)
        if result.rollback is not None:
            columns.write_csv(result.rollback, folder / "rollback.csv", columns.ROLLBACK)
        plots.deploy_time_vs_fleet(result.summary, result.crossovers, folder / "deploy_time_vs_fleet.png")
        if len(result.hosts):
            largest = int(result.hosts.fleet_size.max())
            plots.fleet_updated_over_time(result.hosts, largest, folder / "fleet_updated_over_time.png")
        write_json(folder / "summary.json", to_json(result))
        write_manifest(folder, "run", loaded, result.entropy,
                       extra={"workers": workers, "host_rows": loaded.scenario.output.host_rows,
                              "rollback": result.rollback is not None})
    return RunResult(**{**result.__dict__, "out": out})


def _not_updated_ranges(replications: pd.DataFrame) -> dict[tuple[str, int], str]:
    """Hosts not updated per strategy and fleet size as whole numbers: "3", or "2-5" when replications differ."""
    ranges = {}
    for (strategy, size), rows in replications.groupby(["strategy", "fleet_size"], sort=False):
        low, high = int(rows.not_updated.min()), int(rows.not_updated.max())
        ranges[(strategy, int(size))] = f"{low:,}" if low == high else f"{low:,}-{high:,}"
    return ranges


def crossover_rows(scenario, crossings) -> list[dict]:
    """One row per crossover, with the week of the scenario's growth where pull overtakes (None: no growth,
    or no crossing)."""
    growth = scenario.fleet.growth if scenario.fleet.sizes is None else None
    return [{"pull": c.pull, "push": c.push, "hosts": c.hosts,
             "week": None if (growth is None or c.hosts is None) else growth.week_of(c.hosts), "note": c.note}
            for c in crossings]


def crossover_table(scenario, crossings) -> pd.DataFrame:
    return pd.DataFrame(crossover_rows(scenario, crossings), columns=["pull", "push", "hosts", "week", "note"])


def to_json(result: RunResult) -> dict:
    scenario = result.loaded.scenario
    return envelope("run", {
        "summary": records(result.summary, columns.SUMMARY),
        "crossovers": [columns.rename_row(row, columns.CROSSOVER) for row in crossover_rows(scenario, result.crossovers)],  # full precision
        "per_added_host_s_at_scale": result.marginal,
        **({"rollback": records(result.rollback, columns.ROLLBACK)} if result.rollback is not None else {}),
    }, scenario=scenario.name, seed=scenario.seed, entropy=result.entropy, out=result.out)


def render(result: RunResult, console: Console) -> None:
    replications = int(result.summary.replications.max()) if len(result.summary) else 0
    table = Table(title=Text(f"{result.loaded.scenario.name}: deploy time by strategy and fleet size"),
                  caption=Text(f"medians over {replications} replication(s) of: p50 / p95, the time by which 50% / 95% "
                               "of all hosts run the new build; max, when the last updated host does. Band: p5-p95 "
                               "of max over replications. Not updated: hosts, fewest-most over replications"))
    for column in ("strategy", "hosts", "p50", "p95", "max", "max p5-p95", "not updated", "per added host"):
        table.add_column(column, justify="left" if column == "strategy" else "right", no_wrap=True)
    missing = _not_updated_ranges(result.replications)
    for row in result.summary.itertuples():
        band = f"{format_duration(row.max_p5)}-{format_duration(row.max_p95)}" if row.replications > 1 else "-"
        table.add_row(*map(Text, (row.strategy, f"{row.fleet_size:,}", format_duration(row.p50),
                                  format_duration(row.p95), format_duration(row.max), band,
                                  missing.get((row.strategy, row.fleet_size), f"{row.not_updated:g}"),
                                  "-" if pd.isna(row.s_per_host) else f"{row.s_per_host:.3f} s")))
    console.print(table, highlight=False)
    scenario = result.loaded.scenario
    growth = scenario.fleet.growth if scenario.fleet.sizes is None else None  # weeks mean something only then
    for crossing in result.crossovers:
        week = "" if growth is None or crossing.hosts is None else f", week {growth.week_of(crossing.hosts):.1f} of growth"
        console.print(f"crossover: {crossing.describe()}{week}", markup=False, highlight=False)
    for line in bottleneck_lines(result.summary):
        console.print(line, markup=False, highlight=False)
    for line in rollback_lines(result):
        console.print(line, markup=False, highlight=False)
    for name, slope in result.marginal.items():
        if slope == slope:  # NaN with a single fleet size: no slope to report
            console.print(f"at scale, each added server adds {slope:.3f} s to a {name} deploy", markup=False,
                          highlight=False)
    if result.out:
        console.print(f"results written to {result.out}/", markup=False, highlight=False)


def rollback_lines(result: RunResult) -> list[str]:
    """With --rollback, per strategy at the largest fleet size: how long rolling back takes, beside the deploy."""
    if result.rollback is None or not len(result.rollback):
        return []
    size = int(result.rollback.fleet_size.max())
    deploy = result.summary[result.summary.fleet_size == size].set_index("strategy")
    return [f"rollback at {size:,} hosts (previous build kept on every host): {row.strategy} takes "
            f"{format_duration(row.max)} until the last host, p50 {format_duration(row.p50)} "
            f"(its deploy: {format_duration(deploy.loc[row.strategy, 'max'])})"
            for row in result.rollback[result.rollback.fleet_size == size].itertuples()]


def bottleneck_lines(summary: pd.DataFrame) -> list[str]:
    """Per strategy, at its largest fleet size: what bounds the deploy, and the least time it allows."""
    if "bottleneck" not in summary:
        return []
    largest = summary.sort_values("fleet_size", kind="stable").groupby("strategy", sort=False).tail(1)
    order = list(dict.fromkeys(summary["strategy"]))
    return [f"at {row.fleet_size:,} hosts {row.strategy} is bound by {row.bottleneck} "
            f"(lower bound {format_duration(row.bound)})"
            for row in sorted(largest.itertuples(), key=lambda r: order.index(r.strategy))]
