"""`deploysim bench` commands, added to the main typer app by `register(app)`.

    deploysim bench [SCENARIO] --hosts N [--out DIR] [--seed S] [--format table|json|csv]
    deploysim bench run [SCENARIO] ...       (same as above)
    deploysim bench clean                    (remove leftovers of killed runs)
    deploysim bench check                    (preflight checks with advice)

`bench SCENARIO` without a sub-command means `bench run SCENARIO`: a small click group subclass
inserts `run` when the first word is not a sub-command. Flags and `--out` are checked before the fleet
starts (`sim.api.check_options`), and a signal ends a run with one line and exit 130/143, as in `deploysim`.
User text (paths, notes, preflight output) prints literally.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from bench import results
from bench.analysis import calibrate, validate
from bench.config import config_from_scenario
from bench.deploy import rollout
from bench.harness import cleanup, preflight
from bench.run import phases, run_bench
from sim.api import Problem, UserError, bad_flags, check_options, interruptible, progress_bar


class DefaultRunGroup(TyperGroup):
    """Treat `bench X ...` as `bench run X ...` when X is not a sub-command or a help flag."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


bench_app = typer.Typer(cls=DefaultRunGroup,
                        help="Real fleet bench: Consul pull vs rsync push. `bench SCENARIO` = `bench run SCENARIO`.",
                        no_args_is_help=False, rich_markup_mode=None)
err = Console(stderr=True, emoji=False, highlight=False)
FORMATS = ("table", "json", "csv")
TRANSPORTS = ("ssh", "daemon", "both")


def show(result, fmt: str, out: Path | None = None) -> None:
    rows = [results.summary_row(r) for r in result.records]
    if fmt == "json":
        print(json.dumps(results.to_json(result, out), indent=2))
        return
    if fmt == "csv":  # as summary.csv names its columns
        named = [results.file_row(r) for r in rows]
        print(",".join(named[0]))
        for r in named:
            print(",".join("" if v is None else str(v) for v in r.values()))
        return
    t = Table(title=f"bench {result.run_id}: {result.config.hosts} hosts"
                    + ("" if result.isolated else " (loopback, unshaped)"))
    for col in rows[0]:
        t.add_column(col)
    for r in rows:
        t.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in r.values()])
    Console(width=160, emoji=False).print(t)


def parse_steps_option(text: str) -> list[float] | None:
    try:
        return rollout.parse_steps(text) if text else None
    except ValueError as error:
        raise UserError(f"--steps: {error}") from None


@bench_app.command("run")
def run_cmd(scenario: Path = typer.Argument(None, metavar="SCENARIO",
                                            help="scenario YAML (artifact, network, strategy)"),
            hosts: int = typer.Option(5, "--hosts", metavar="<int>", help="fleet size, >= 1"),
            servers: int = typer.Option(1, "--servers", metavar="<1|3>", help="Consul servers"),
            parallel: int = typer.Option(0, "--parallel", metavar="<int>",
                                         help="push: rsyncs at a time (0: scenario or 4)"),
            out: Path = typer.Option(None, "--out", metavar="<folder>",
                                     help="results folder: a new one, or with --overwrite one deploysim wrote"),
            seed: int = typer.Option(None, "--seed", metavar="<int>", help="artifact content seed, >= 0"),
            set_: list[str] = typer.Option([], "--set", metavar="<key=value>",
                                           help="override a scenario field, e.g. artifact.size=5MB"),
            transport: str = typer.Option("ssh", "--transport", metavar="<ssh|daemon|both>",
                                          help="push over ssh, the rsync daemon (rsync://) or both"),
            steps: str = typer.Option("", "--steps", metavar="<percents>",
                                      help="also a staged pull rollout, e.g. 10,25,50,100"),
            rollback: bool = typer.Option(False, "--rollback", help="also roll the pull fleet back and time it"),
            fmt: str = typer.Option("table", "--format", metavar="<table|json|csv>", help="what to print on stdout"),
            overwrite: bool = typer.Option(False, "--overwrite",
                                           help="replace the --out folder if deploysim wrote it and it holds nothing else"),
            report: bool = typer.Option(False, "--report",
                                        help="also write report.html into the --out folder, as deploysim report does"),
            ) -> None:
    """Start a real fleet, deploy one build by each strategy, print and write the results."""
    with interruptible(out):
        # say so before an expensive run, not after
        check_options(bad_flags({"--hosts": (hosts, 1), "--parallel": (parallel, 0), "--seed": (seed, 0)},
                                {"--servers": (servers, (1, 3)), "--transport": (transport, TRANSPORTS),
                                 "--format": (fmt, FORMATS)})
                      + ([Problem("--report", None, None, "", "needs --out: the report is written into the results "
                                  "folder")] if report and out is None else []), out, overwrite)
        cfg = config_from_scenario(scenario, hosts=hosts, servers=servers, seed=seed, parallel=parallel,
                                   overrides=tuple(set_), transport=transport)
        step_list = parse_steps_option(steps)
        findings = preflight.run_checks()
        for f in preflight.blocking(findings):
            err.print(Text.assemble((f"preflight {f.name}", "red"), f": {f.detail}; {f.advice}"))
        if preflight.blocking(findings):
            raise typer.Exit(2)
        for f in findings:
            if f.name == "runc" and not f.ok:  # say so before the run: hosts fall back to namespaces
                err.print(f"note: no host containers ({f.detail}): {f.advice}", markup=False)
        with progress_bar(err, "bench", phases(cfg, step_list, rollback)) as done:  # on a terminal only
            result = run_bench(cfg, steps=step_list, with_rollback=rollback, done=done)
        result = replace(result, not_reproduced=preflight.not_reproduced(findings))
        for note in result.notes:
            err.print(f"note: {note}", markup=False)
        if result.not_reproduced:
            err.print("note: this run could not reproduce " + ", ".join(result.not_reproduced) + " (no netem qdisc)",
                      markup=False)
        if out is not None:
            results.write(out, result, overwrite=overwrite)
            err.print(f"wrote {out}/ (manifest.json, hosts.csv, summary.csv, replications.csv, "
                      "fleet_updated_over_time.png)", markup=False)
            if report:
                from sim.api import write_report  # jinja2 and matplotlib: loaded only when a report is asked for

                err.print(f"wrote {write_report(out)}", markup=False)
    with interruptible(out, written=out is not None):
        show(result, fmt, out)


@bench_app.command("clean")
def clean_cmd() -> None:
    """Remove containers, processes, cgroups, mounts, namespaces and temp folders left by killed bench runs
    (prefix `dsim-`)."""
    c = cleanup.clean()
    print(f"killed {c.processes} processes; removed {len(c.containers)} containers, {len(c.cgroups)} cgroups, "
          f"{len(c.mounts)} mounts, {len(c.namespaces)} namespaces, {len(c.folders)} folders")
    if c.failed:
        print("could not remove: " + ", ".join(c.failed), file=sys.stderr)
        raise typer.Exit(1)


@bench_app.command("check")
def check_cmd() -> None:
    """Preflight checks: what is missing and how to fix it."""
    findings = preflight.run_checks()
    for f in findings:
        mark = "ok " if f.ok else ("ERR" if f.fatal else "warn")
        print(f"{mark:4} {f.name:10} {f.detail}" + (f"  -> {f.advice}" if f.advice and not f.ok else ""))
    raise typer.Exit(2 if preflight.blocking(findings) else 0)


def register(app: typer.Typer) -> None:
    """Add the `bench` command group, `calibrate` and `validate-model` to the main deploysim app."""
    app.add_typer(bench_app, name="bench")
    app.command("calibrate")(calibrate.command)
    app.command("validate-model")(validate.command)


def main() -> None:  # standalone entry for development: python -m bench.cli
    app = typer.Typer()
    register(app)
    app()


if __name__ == "__main__":
    main()
