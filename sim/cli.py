"""The command line: thin wrappers over `sim.commands`, one place that turns user mistakes and signals into exits.

Exit codes: 0 ok; 1 a policy fails an acceptance criterion (evaluate, sweep: none passes); 2 bad input
(scenario, flag, file or --out folder); 3 uncertain (evaluate, sweep: no criterion fails, but some
interval reaches past its bound); 130 stopped by Ctrl-C (SIGINT), 143 by SIGTERM, after one line on
stderr saying what was written. Flags are checked here, before they become scenario overrides, so a
message names the flag by its long name; so is `--out` (`sim.results.output.preflight`), before any work is done.
Problems are printed as plain text: a file named `a:100:b.yaml` prints as itself. Other packages (the
bench) add commands through the `deploysim.commands` entry-point group, so `sim` never imports them.
"""

from __future__ import annotations

import json
import signal
import sys
from importlib.metadata import entry_points
from typing import Annotated, List, Optional

import typer
from rich.console import Console
from typer.core import TyperGroup

from sim import __version__
from sim.commands.flags import bad_flags, check_options
from sim.errors import Problem, UserError
from sim.interrupts import interrupt_exit_code, interruptible, raise_interrupted

FORMATS = ("table", "json")
EXECUTORS = ("local", "dask")


class Commands(TyperGroup):
    """deploysim's commands. A bad input (`UserError`, from any command or plugin) is reported here, once:
    each problem on a line of stderr, and the error's exit code; a command without an `interruptible`
    block of its own still ends a signal so."""

    def invoke(self, ctx):
        with interruptible():
            try:
                return super().invoke(ctx)
            except UserError as error:
                fail(error)


app = typer.Typer(cls=Commands, add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None,  # plain help: real types and choices, no <bool> on flags
                  help="Simulate and benchmark deploy pipelines: push vs pull, rollouts, rollback policies.")

SET_HELP = "Override a scenario field, e.g. --set fleet.hosts=5000 (repeatable; value read as YAML)."

# Options shared by the commands that simulate and write results (run, evaluate, sweep).
Out = Annotated[Optional[str], typer.Option(
    "--out", "-o", metavar="<folder>",
    help="Results folder to write (atomically): a new folder, or with --overwrite one deploysim wrote.")]
Sets = Annotated[List[str], typer.Option("--set", metavar="<key=value>", help=SET_HELP)]
Seed = Annotated[Optional[int], typer.Option(
    "--seed", metavar="<int>", help="Root seed, >= 0 (default: the scenario's, else drawn).")]
Workers = Annotated[Optional[int], typer.Option(
    "--workers", "-j", metavar="<int>", help="Worker processes, >= 1 (default: one per core).")]
Format = Annotated[str, typer.Option("--format", metavar="<table|json>", help="What to print on stdout.")]
Overwrite = Annotated[bool, typer.Option(
    "--overwrite", help="Replace the --out folder if deploysim wrote it and it holds nothing else.")]
Metrics = Annotated[Optional[str], typer.Option(
    "--metrics", metavar="<file|url>",
    help="Backtest on real history: a CSV (timestamp, requests, errors[, latency]) or a Prometheus range-query "
         "JSON export, or a live Prometheus, prometheus+http://HOST:PORT (or https), with the window and queries "
         "in traffic.history_range.")]
Releases = Annotated[Optional[int], typer.Option(
    "--releases", "-n", metavar="<int>", help="Releases per policy, >= 1 (default: the scenario's).")]
Replications = Annotated[Optional[int], typer.Option(
    "--replications", "-r", metavar="<int>", help="Independent repetitions, >= 1 (default: the scenario's).")]

ExecutorOption = Annotated[str, typer.Option(
    "--executor", metavar="<local|dask>",
    help="Where the simulations run: a local process pool, or a Dask cluster (same seed, same numbers).")]
Scheduler = Annotated[Optional[str], typer.Option(
    "--scheduler", metavar="<tcp://host:port>", help="Dask scheduler address (with --executor dask).")]

Report = Annotated[bool, typer.Option(
    "--report", help="Also write report.html into the --out folder, as deploysim report does.")]

# The CI gate of evaluate and sweep (`sim.results.ci_gate`).
Junit = Annotated[Optional[str], typer.Option(
    "--junit", metavar="<file>",
    help="Write a JUnit XML report: a test suite per policy (sweep: per point), a test case per acceptance "
         "criterion. A criterion that does not pass is a <failure> (type fail or uncertain) when the exit code "
         "is non-zero, else <skipped> (sweep: another point passes), so CI is red exactly when the exit code "
         "is. A new file, or with --overwrite one deploysim wrote.")]
Summary = Annotated[Optional[str], typer.Option(
    "--summary", metavar="<file>",
    help="Write a Markdown job summary (under 1 MiB): status, a row per policy and criterion with the measured "
         "value, its interval and population, and the bound. Appended to when <file> is $GITHUB_STEP_SUMMARY; "
         "otherwise a new file, or with --overwrite one deploysim wrote.")]
Annotations = Annotated[bool, typer.Option(
    "--annotations",
    help="Print GitHub Actions annotations on stderr (on by default when GITHUB_ACTIONS=true): ::error per "
         "failing criterion, ::warning per uncertain one, at most 10 of each, the largest miss of its bound "
         "first, at the file and line of the bound; none when the exit code is 0.")]
GateOverwrite = Annotated[bool, typer.Option(
    "--overwrite", help="Replace the --out folder, the --junit and --summary files, if deploysim wrote them "
                        "(a folder: and it holds nothing else).")]


def fail(error: UserError) -> None:
    """Print each problem on stderr, literally, and exit with the error's code."""
    for problem in error.problems:
        print(problem.render(), file=sys.stderr)
    raise typer.Exit(error.exit_code)


def _print_version(value: bool) -> None:
    if value:
        print(f"deploysim {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                          help="Print the version and exit.")) -> None:
    """Simulate and benchmark deploy pipelines: push vs pull, rollouts, rollback policies."""


@app.command()
def run(
    scenario: str = typer.Argument(..., metavar="SCENARIO", help="Scenario file (YAML)."),
    out: Out = None,
    set_: Sets = [],
    replications: Replications = None,
    seed: Seed = None,
    workers: Workers = None,
    format_: Format = "table",
    overwrite: Overwrite = False,
    metrics: Metrics = None,
    report: Report = False,
    executor: ExecutorOption = "local",
    scheduler: Scheduler = None,
    sweep: List[str] = typer.Option(
        [], "--sweep", metavar="<key=v1,v2,...>",
        help="Run the fleet growth at every value of a scenario key (repeatable: the grid of all keys), e.g. "
             "--sweep network.origin_egress=10Gbps,40Gbps; values read as YAML, as --set reads them."),
    rollback: bool = typer.Option(
        False, "--rollback", help="Also roll every strategy back at every fleet size (the previous build kept on "
                                  "every host: no bytes move) and compare: rollback.csv."),
) -> None:
    """Simulate a scenario: every strategy at every fleet size, or, when it has a `rollout:` section,
    releases through it (as `deploysim release` does). With --sweep, the fleet growth at every point of a
    grid over scenario keys, on the same random draws."""
    _simulate(scenario, out, set_, replications, seed, workers, format_, overwrite, metrics, releases_only=False,
              report=report, executor=executor, scheduler=scheduler, sweep=sweep, rollback=rollback)


@app.command()
def release(
    scenario: str = typer.Argument(..., metavar="SCENARIO", help="Scenario file with a `rollout:` section."),
    out: Out = None,
    set_: Sets = [],
    replications: Replications = None,
    seed: Seed = None,
    workers: Workers = None,
    format_: Format = "table",
    overwrite: Overwrite = False,
    metrics: Metrics = None,
    executor: ExecutorOption = "local",
    scheduler: Scheduler = None,
) -> None:
    """Simulate releases through the scenario's rollout: outcomes, decisions, timelines."""
    _simulate(scenario, out, set_, replications, seed, workers, format_, overwrite, metrics, releases_only=True,
              executor=executor, scheduler=scheduler)


def _simulate(scenario, out, set_, replications, seed, workers, format_, overwrite, metrics, releases_only,
              report=False, executor="local", scheduler=None, sweep=(), rollback=False) -> None:
    with interruptible(out):
        from sim.commands.common import prepare

        check_options(bad_flags({"--replications": (replications, 1), "--seed": (seed, 0), "--workers": (workers, 1)},
                                {"--format": (format_, FORMATS), "--executor": (executor, EXECUTORS)})
                      + _scheduler_flag(executor, scheduler) + _report_flag(report, out), out, overwrite)
        loaded, entropy = prepare(scenario, set_, replications, seed, metrics)
        if releases_only and loaded.scenario.rollout is None:
            raise UserError([Problem(loaded.source, None, None, "rollout", "release needs a rollout: section "
                                     "(deploysim run simulates a fleet-growth scenario)", allowed="a rollout: section")])
        if sweep:
            _sweep_runs(loaded, entropy, sweep, out, workers, overwrite, format_, report, executor, scheduler, rollback)
            return
        if not releases_only and loaded.scenario.rollout is not None:
            print("run: the scenario has a rollout: section, so releases go through it (as deploysim release)",
                  file=sys.stderr)
        from sim.commands import release as release_module  # the engine, once the input is known good
        from sim.commands import run as run_module
        from sim.deploy.experiment import close_executor, make_executor

        pool = make_executor(executor, scheduler)
        try:
            result = run_module.run_loaded(loaded, entropy, out=out, workers=workers, overwrite=overwrite, executor=pool,
                                           rollback=rollback)
        finally:
            close_executor(pool)
    with interruptible(out, written=out is not None):
        emit(release_module if isinstance(result, release_module.ReleaseRun) else run_module, result, format_)
        if report:
            _write_report(out)


def _sweep_runs(loaded, entropy, sweep, out, workers, overwrite, format_, report, executor, scheduler,
                rollback=False) -> None:
    """`run --sweep`: the grid's fleet growths (`sim.commands.run_sweep`), written and printed."""
    from pathlib import Path

    from sim.commands import run_sweep
    from sim.deploy.experiment import close_executor, make_executor

    run_sweep.parse_axes(sweep)  # the options' own problems first, before any executor starts
    pool = make_executor(executor, scheduler)
    try:
        result = run_sweep.run_sweep(loaded, entropy, sweep, workers, err_console(), pool, out, rollback)
    finally:
        close_executor(pool)
    if out is not None:
        result = run_sweep.write(result, Path(out), overwrite)
    with interruptible(out, written=out is not None):
        emit(run_sweep, result, format_)
        if report:
            _write_report(out)


@app.command()
def evaluate(
    scenario: str = typer.Argument(..., metavar="SCENARIO",
                                   help="Scenario file with `rollout:` and `evaluation:` sections."),
    out: Out = None,
    set_: Sets = [],
    releases: Releases = None,
    seed: Seed = None,
    workers: Workers = None,
    format_: Format = "table",
    overwrite: GateOverwrite = False,
    executor: ExecutorOption = "local",
    scheduler: Scheduler = None,
    metrics: Metrics = None,
    junit: Junit = None,
    summary: Summary = None,
    annotations: Annotations = False,
    policy: List[str] = typer.Option([], "--policy", metavar="<name=manifest[,templates...]>",
                                     help="Add (or replace) a policy from an Argo Rollout or Flagger Canary manifest "
                                          "and its template files (repeatable)."),
    report: Report = False,
) -> None:
    """Compare rollback policies on the same simulated releases; exit 1 if one fails its acceptance criteria,
    3 if none fails but some is uncertain (its interval reaches past the bound), 2 on bad input.

    In CI: --junit and --summary write reports, --annotations (or GITHUB_ACTIONS=true) marks the bounds that
    failed in the scenario file; an uncertain criterion is reported as a failure of type "uncertain", since it
    makes the exit code non-zero. Exit codes do not change."""
    with interruptible(out):
        import time
        from pathlib import Path

        from sim.commands.common import prepare

        check_options(bad_flags({"--releases": (releases, 1), "--seed": (seed, 0), "--workers": (workers, 1)},
                                {"--format": (format_, FORMATS), "--executor": (executor, EXECUTORS)})
                      + _scheduler_flag(executor, scheduler) + _report_problems(junit, summary, out, overwrite)
                      + _report_flag(report, out), out, overwrite)
        from sim.commands.common import policy_overrides

        loaded, entropy = prepare(scenario, [*policy_overrides(policy), *set_], None, seed, metrics)
        from sim.commands import evaluate as evaluate_module  # the engine, once the input is known good
        from sim.deploy.experiment import close_executor, make_executor

        started = time.monotonic()
        pool = make_executor(executor, scheduler)
        try:
            result = evaluate_module.evaluate(loaded, entropy, workers, err_console(), releases, executor=pool)
        finally:
            close_executor(pool)
        seconds = time.monotonic() - started
        if out is not None:
            result = evaluate_module.write(result, Path(out), overwrite)
    with interruptible(out, written=out is not None):
        gate = evaluate_module.ci_gate_of("evaluate", loaded, result.verdicts, result.exit_code, seconds,
                                          releases=int(result.rows.replication.nunique()))
        emit(evaluate_module, result, format_)
        evaluate_module.report_to_ci(gate, junit, summary, overwrite, annotations)
        if report:
            _write_report(out)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@app.command()
def sweep(
    scenario: str = typer.Argument(..., metavar="SCENARIO", help="Scenario file with an `evaluation.sweep:` grid."),
    out: Out = None,
    set_: Sets = [],
    releases: Releases = None,
    seed: Seed = None,
    workers: Workers = None,
    format_: Format = "table",
    overwrite: GateOverwrite = False,
    junit: Junit = None,
    summary: Summary = None,
    annotations: Annotations = False,
    report: Report = False,
    executor: ExecutorOption = "local",
    scheduler: Scheduler = None,
) -> None:
    """Evaluate a grid of thresholds, bake times and stages on the same releases; name the Pareto front.

    In CI (--junit, --summary, --annotations as for evaluate): the sweep passes when some point passes, so
    while it exits 0 the criteria of other points that do not pass are <skipped>, not failures, and are not
    annotated; a `sweep.recommendation` test case carries the recommendation. Exit codes do not change."""
    with interruptible(out):
        import time
        from pathlib import Path

        from sim.commands.common import prepare

        check_options(bad_flags({"--releases": (releases, 1), "--seed": (seed, 0), "--workers": (workers, 1)},
                                {"--format": (format_, FORMATS), "--executor": (executor, EXECUTORS)})
                      + _scheduler_flag(executor, scheduler) + _report_problems(junit, summary, out, overwrite)
                      + _report_flag(report, out), out, overwrite)
        loaded, entropy = prepare(scenario, set_, None, seed)
        from sim.commands import sweep as sweep_module  # the engine, once the input is known good
        from sim.commands.evaluate import report_to_ci
        from sim.deploy.experiment import close_executor, make_executor

        started = time.monotonic()
        pool = make_executor(executor, scheduler)
        try:
            result = sweep_module.sweep(loaded, entropy, workers, releases, executor=pool, err=err_console())
        finally:
            close_executor(pool)
        seconds = time.monotonic() - started
        if out is not None:
            result = sweep_module.write(result, Path(out), overwrite, list(set_))
    with interruptible(out, written=out is not None):
        emit(sweep_module, result, format_)
        report_to_ci(sweep_module.ci_gate(result, seconds), junit, summary, overwrite, annotations)
        if report:
            _write_report(out)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@app.command()
def report(
    results: str = typer.Argument(..., metavar="RESULTS_DIR", help="A results folder deploysim wrote (--out)."),
) -> None:
    """Write report.html into a results folder: one self-contained page (figures inline, no network needed)
    with the answer first, the figures, the tables and the scenario's parameters. Fleet growth and releases
    (run), evaluate, sweep, bench and validate-model folders; others exit 2. Replaces only a report.html
    deploysim wrote."""
    from sim.commands.report import report as write_report

    print(f"wrote {write_report(results)}", file=sys.stderr)


@app.command()
def compare(
    a: str = typer.Argument(..., metavar="A", help="A results folder deploysim wrote (--out)."),
    b: str = typer.Argument(..., metavar="B", help="Another of the same kind, e.g. the same scenario with a --set."),
    format_: Format = "table",
    html: Optional[str] = typer.Option(
        None, "--html", metavar="<file>",
        help="Also write the comparison as one self-contained HTML page: a new file, or with --overwrite one "
             "deploysim wrote."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the --html file if deploysim wrote it."),
) -> None:
    """Print what differs between two results folders of the same kind (run, evaluate, sweep, bench): the settings
    changed between their scenarios, then per measure both values, B - A and whether the intervals separate.
    Exit 0 whatever differs; 2 for folders of different kinds or formats, or not written by deploysim."""
    check_options(bad_flags({}, {"--format": (format_, FORMATS)}), None, False)
    from sim.commands import compare as compare_module
    from sim.results.ci_gate import check_report_path, write_report

    if html is not None:
        check_report_path("--html", html, overwrite)
    result = compare_module.compare(a, b)
    if html is not None:
        from sim.report.compare_page import html as page

        write_report("--html", html, page(result), overwrite)
    emit(compare_module, result, format_)


@app.command()
def check(
    scenario: str = typer.Argument(..., metavar="SCENARIO", help="Scenario file (YAML)."),
    set_: Sets = [],
    format_: Format = "table",
) -> None:
    """Validate a scenario (with the same overrides as run) without running it. With --format json, one
    object on stdout: what the scenario holds, import notes, warnings and predictions, or its problems."""
    check_options(bad_flags({}, {"--format": (format_, FORMATS)}), None, False)
    from sim.commands.check import check as check_command
    from sim.commands.check import describe, failure_json, import_lines, print_warnings, to_json

    try:
        loaded = check_command(scenario, set_)
    except UserError as error:
        if format_ == "json":
            print(json.dumps(failure_json(scenario, error), indent=2))
        raise
    predicted = []
    if loaded.imported and loaded.scenario.rollout is not None:
        from sim.commands.predict import predictions

        predicted = predictions(loaded.scenario, loaded.scenario.seed if loaded.scenario.seed is not None else 0)
    if format_ == "json":
        print(json.dumps(to_json(loaded, predicted), indent=2))
        print_warnings(loaded)  # on stderr, as without --format json
        return
    print(describe(loaded))
    for line in import_lines(loaded):
        print(line)
    if predicted:
        from sim.commands.predict import prediction_lines

        for line in prediction_lines(predicted):
            print(line)
    print_warnings(loaded)


@app.command()
def schema(
    markdown: bool = typer.Option(False, "--markdown", help="Print the reference page instead of JSON Schema."),
) -> None:
    """Print the scenario format's JSON Schema (for editors) or its reference page."""
    from sim.spec.reference_doc import json_schema, markdown_reference

    sys.stdout.write(markdown_reference() if markdown else json.dumps(json_schema(), indent=2) + "\n")


@app.command()
def export(
    scenario: str = typer.Argument(..., metavar="SCENARIO", help="Scenario file with a `rollout:` section."),
    to: str = typer.Option(..., "--to", metavar="<argo|flagger>",
                           help="An Argo Rollout with AnalysisTemplates, or a Flagger Canary with MetricTemplates."),
    policy: Optional[str] = typer.Option(
        None, "--policy", metavar="<name>",
        help="A policy of evaluation.policies (default: the scenario's gates); `sweep` with --sweep: the point "
             "deploysim sweep recommended."),
    out: Optional[str] = typer.Option(
        None, "--out", "-o", metavar="<file>",
        help="Write the YAML here (atomically): a new file, or with --overwrite one deploysim wrote (default: stdout)."),
    name: Optional[str] = typer.Option(None, "--name", metavar="<name>",
                                       help="The Rollout's or Canary's metadata.name (default: the scenario's name)."),
    set_: Sets = [],
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the --out file if deploysim wrote it."),
    sweep: Optional[str] = typer.Option(None, "--sweep", metavar="<folder>",
                                        help="The results folder of deploysim sweep --out, for --policy sweep."),
) -> None:
    """Write a policy as Kubernetes YAML for its controller; importing the file gives the same policy back.
    What the controller cannot express is refused (exit 2) with the reason at its key; queries are
    placeholders to fill in, and the file's header says how to simulate it again."""
    from sim.commands.export import export as export_policy

    text, notes = export_policy(scenario, to, policy, out, name, list(set_), overwrite, sweep)
    for line in notes:
        print(line, file=sys.stderr)
    if out is None:
        sys.stdout.write(text)
    else:
        print(f"wrote {out}", file=sys.stderr)


def _report_problems(junit: str | None, summary: str | None, out: str | None, overwrite: bool) -> list[Problem]:
    """Why --junit or --summary cannot be written, checked with the other flags before any work."""
    import os

    from sim.results.ci_gate import report_problems

    return report_problems(junit, summary, out, overwrite, os.environ.get("GITHUB_STEP_SUMMARY"))


def _scheduler_flag(executor: str, scheduler: str | None) -> list[Problem]:
    """--executor dask needs a scheduler to send the work to."""
    if executor == "dask" and not scheduler:
        return [Problem("--scheduler", None, None, "", "needed with --executor dask: the address of an existing "
                        "Dask scheduler", allowed="tcp://HOST:PORT")]
    return []


def _report_flag(report: bool, out: str | None) -> list[Problem]:
    """--report writes into the results folder, so it needs --out."""
    if report and out is None:
        return [Problem("--report", None, None, "", "needs --out: the report is written into the results folder")]
    return []


def _write_report(out: str) -> None:
    """`deploysim report` on the folder just written (its path on stderr: stdout may be JSON)."""
    from sim.commands.report import report as write_report

    print(f"wrote {write_report(out)}", file=sys.stderr)


def emit(module, result, format_: str) -> None:
    """Print a command's result: JSON on stdout, or the module's rich rendering."""
    if format_ == "json":
        print(json.dumps(module.to_json(result), indent=2, default=float))
    else:
        module.render(result, out_console())


def out_console() -> Console:
    """The terminal as it is, or 160 columns wide when stdout is a file or a pipe (logs, CI); never emoji
    codes (a name like `a:100:b` prints as itself)."""
    return Console(emoji=False) if sys.stdout.isatty() else Console(width=160, emoji=False)


def err_console() -> Console:
    """stderr, for progress bars."""
    return Console(stderr=True, emoji=False, highlight=False)


def _load_plugins() -> None:
    for entry in entry_points(group="deploysim.commands"):
        try:
            entry.load()(app)
        except Exception as error:  # a broken plugin must not take the simulator down with it
            print(f"deploysim: plugin {entry.name!r} failed to load: {error}", file=sys.stderr)


_load_plugins()


def main() -> None:
    """The `deploysim` command. SIGTERM stops a command as Ctrl-C does (exit 143 instead of 130)."""
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, raise_interrupted)
    try:
        app()
    except KeyboardInterrupt as stop:  # outside any command
        print("interrupted; nothing written", file=sys.stderr)
        raise SystemExit(interrupt_exit_code(stop)) from None
