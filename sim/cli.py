"""The command line: thin wrappers over `sim.commands`, one place that turns user mistakes into exits.

Exit codes: 0 ok; 1 a policy fails an acceptance criterion (evaluate, sweep: none passes); 2 bad input
(scenario, option or file); 3 uncertain (evaluate, sweep: no criterion fails, but some interval reaches
past its bound); 130 interrupted. Other packages (the bench)
add commands through the `deploysim.commands` entry-point group, so `sim` never imports them.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import entry_points
from typing import Annotated, List, Optional

import typer
from rich.console import Console

from sim.errors import UserError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Simulate and benchmark deploy pipelines: push vs pull, rollouts, rollback policies.")

SET_HELP = "Override a scenario field, e.g. --set fleet.hosts=5000 (repeatable; value read as YAML)."

# Options shared by the commands that simulate and write results (run, evaluate, sweep).
Out = Annotated[Optional[str], typer.Option("--out", "-o", help="Results folder to write (atomically).")]
Sets = Annotated[List[str], typer.Option("--set", help=SET_HELP)]
Seed = Annotated[Optional[int], typer.Option("--seed", help="Root seed (default: the scenario's, else drawn).")]
Workers = Annotated[Optional[int], typer.Option("--workers", "-j", help="Worker processes (default: one per core).")]
Format = Annotated[str, typer.Option("--format", help="table or json.")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace an existing results folder.")]
Metrics = Annotated[Optional[str], typer.Option(
    "--metrics", help="Backtest on real history: a CSV (timestamp, requests, errors[, latency]) or a "
                      "Prometheus range-query JSON export.")]
Releases = Annotated[Optional[int], typer.Option("--releases", "-n", help="Releases per policy (default: the scenario's).")]


def fail(error: UserError) -> None:
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for problem in error.problems:
        err.print(problem.render(), markup=False)
    raise typer.Exit(error.exit_code)


@app.command()
def run(
    scenario: str = typer.Argument(..., help="Scenario file (YAML)."),
    out: Out = None,
    set_: Sets = [],
    replications: Optional[int] = typer.Option(None, "--replications", "-r", help="Independent repetitions."),
    seed: Seed = None,
    workers: Workers = None,
    format_: Format = "table",
    overwrite: Overwrite = False,
    metrics: Metrics = None,
) -> None:
    """Simulate a scenario: every strategy at every fleet size, or releases through its rollout."""
    from sim.commands import release, run as run_module

    try:
        _check_format(format_)
        result = run_module.run(scenario, out=out, overrides=set_, replications=replications, seed=seed,
                                workers=workers, overwrite=overwrite, metrics=metrics)
    except UserError as error:
        fail(error)
    emit(release if isinstance(result, release.ReleaseRun) else run_module, result, format_)


@app.command()
def evaluate(
    scenario: str = typer.Argument(..., help="Scenario file with `rollout:` and `evaluation:` sections."),
    out: Out = None,
    set_: Sets = [],
    releases: Releases = None,
    seed: Seed = None,
    workers: Workers = None,
    format_: Format = "table",
    overwrite: Overwrite = False,
    executor: str = typer.Option("local", "--executor", help="local (a process pool) or dask."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address, tcp://HOST:PORT."),
    metrics: Metrics = None,
) -> None:
    """Compare rollback policies on the same simulated releases; exit 1 if one fails its acceptance criteria."""
    from pathlib import Path

    from sim.commands import evaluate as evaluate_module
    from sim.commands.run import prepare

    try:
        _check_format(format_)
        from sim.experiment import make_executor

        loaded, entropy = prepare(scenario, set_, None, seed, metrics)
        pool = make_executor(executor, scheduler)
        result = evaluate_module.evaluate(loaded, entropy, workers, Console(stderr=True), releases, executor=pool)
        if out is not None:
            result = evaluate_module.write(result, Path(out), overwrite)
    except UserError as error:
        fail(error)
    emit(evaluate_module, result, format_)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@app.command()
def sweep(
    scenario: str = typer.Argument(..., help="Scenario file with an `evaluation.sweep:` grid."),
    out: Out = None,
    set_: Sets = [],
    releases: Releases = None,
    seed: Seed = None,
    workers: Workers = None,
    format_: Format = "table",
    overwrite: Overwrite = False,
) -> None:
    """Evaluate a grid of thresholds, bake times and stages on the same releases; name the Pareto front."""
    from pathlib import Path

    from sim.commands import sweep as sweep_module
    from sim.commands.run import prepare

    try:
        _check_format(format_)
        loaded, entropy = prepare(scenario, set_, None, seed)
        result = sweep_module.sweep(loaded, list(set_), entropy, workers, releases, err=Console(stderr=True))
        if out is not None:
            result = sweep_module.write(result, Path(out), overwrite, list(set_))
    except UserError as error:
        fail(error)
    emit(sweep_module, result, format_)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@app.command()
def check(
    scenario: str = typer.Argument(..., help="Scenario file (YAML)."),
    set_: Sets = [],
) -> None:
    """Validate a scenario (with the same overrides as run) without running it."""
    from sim.commands.check import check as check_command, describe, print_warnings

    try:
        loaded = check_command(scenario, set_)
    except UserError as error:
        fail(error)
    print(describe(loaded))
    print_warnings(loaded)


@app.command()
def schema(
    markdown: bool = typer.Option(False, "--markdown", help="Print the reference page instead of JSON Schema."),
) -> None:
    """Print the scenario format's JSON Schema (for editors) or its reference page."""
    from sim.reference_doc import json_schema, markdown_reference

    sys.stdout.write(markdown_reference() if markdown else json.dumps(json_schema(), indent=2) + "\n")


def emit(module, result, format_: str) -> None:
    """Print a command's result: JSON on stdout, or the module's rich rendering."""
    if format_ == "json":
        print(json.dumps(module.to_json(result), indent=2, default=float))
    else:
        module.render(result, out_console())


def out_console() -> Console:
    """The terminal as it is, or 160 columns wide when stdout is a file or a pipe (logs, CI)."""
    return Console() if sys.stdout.isatty() else Console(width=160)


def _check_format(value: str) -> None:
    if value not in ("table", "json"):
        raise UserError(f"--format: unknown format (got {value!r}; allowed table, json)")


def _load_plugins() -> None:
    for entry in entry_points(group="deploysim.commands"):
        try:
            entry.load()(app)
        except Exception as error:  # a broken plugin must not take the simulator down with it
            print(f"deploysim: plugin {entry.name!r} failed to load: {error}", file=sys.stderr)


_load_plugins()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130)
