"""`deploysim evaluate`: many releases, several policies on the same releases, estimates and acceptance.

Exit codes: 0 every criterion passes; 1 some policy fails one; 3 none fails but some are uncertain
(the interval reaches past the bound: more releases would settle it); 2 bad input.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sim.commands import guards
from sim.deploy.experiment import default_workers, map_ordered
from sim.errors import UserError
from sim.evaluation import acceptance
from sim.evaluation.engine import CHUNK, plan_eval_jobs, run_eval_job
from sim.evaluation.estimates import policy_estimates, stage_table
from sim.load.loader import LoadedScenario
from sim.progress import progress_bar
from sim.results import ci_gate, columns
from sim.results.envelope import envelope, records
from sim.results.output import results_folder, write_json, write_manifest
from sim.results.plots import plt, save_figure
from sim.rollout.simulate import release_setup
from sim.rollout.summary import horizon_text
from sim.units import format_duration


@dataclass(frozen=True)
class EvaluationRun:
    loaded: LoadedScenario
    entropy: int
    rows: pd.DataFrame
    estimates: pd.DataFrame
    stages: pd.DataFrame
    verdicts: list
    out: Path | None = None

    @property
    def status(self) -> str:
        """pass, fail or uncertain (see `sim.evaluation.acceptance`)."""
        return acceptance.status_of(self.verdicts)

    @property
    def exit_code(self) -> int:
        return acceptance.exit_code(self.verdicts)


def evaluate(loaded: LoadedScenario, entropy: int, workers: int | None, err: Console | None,
             releases: int | None = None, executor=None) -> EvaluationRun:
    scenario = loaded.scenario
    if scenario.evaluation is None or scenario.rollout is None:
        raise UserError(f"{loaded.source}: evaluate needs a `rollout:` and an `evaluation:` section")
    spec = scenario.evaluation
    cap = releases or spec.releases
    batch = spec.batch if spec.precision is not None else cap
    rows: list[dict] = []
    workers = workers or default_workers(math.ceil(cap / CHUNK))
    guards.check(loaded, guards.evaluation_costs(scenario, releases, len(spec.policies), workers,
                                                 remote=executor is not None), guards.budget())
    setup = release_setup(scenario)  # what every release of every policy shares, built once
    with progress_bar(err, "releases x policies", cap * len(spec.policies), step=len) as advance:
        while len(rows) < cap * len(spec.policies):
            done = len(rows) // len(spec.policies)
            jobs = plan_eval_jobs(scenario, entropy, done, min(batch, cap - done))
            for chunk in map_ordered(run_eval_job, setup, jobs, workers, progress=advance, executor=executor,
                                     chunksize=1):
                rows += chunk
            if len(rows) != (done + sum(job.count for job in jobs)) * len(spec.policies):
                raise RuntimeError(f"evaluation jobs for releases {done}.. returned {len(rows) - done * len(spec.policies)} "
                                   "rows, not one per release and policy")  # (a bug: the loop would never end)
            if spec.precision is not None and _precise(pd.DataFrame(rows), spec):
                break
    table = pd.DataFrame(rows)
    within = spec.acceptance.mitigated_within
    estimates = policy_estimates(table, spec.confidence, spec.acceptance.exposure_limit, within)
    return EvaluationRun(loaded, entropy, table, estimates, stage_table(table),
                         acceptance.judge(estimates, spec.acceptance))


def _precise(rows: pd.DataFrame, spec) -> bool:
    """Every rate's interval is at most `precision` wide."""
    estimates = policy_estimates(rows, spec.confidence, spec.acceptance.exposure_limit, None)
    rates = estimates[estimates.measure.isin(["false_rollback_rate", "miss_rate", "caught_before_exposure"])
                      & (estimates.n > 0)]  # a rate with no population (e.g. no bad builds) has nothing to narrow
    return bool(((rates.high - rates.low) <= spec.precision).all())


def write(run: EvaluationRun, out: Path, overwrite: bool) -> EvaluationRun:
    loaded = run.loaded
    with results_folder(out, overwrite=overwrite) as folder:
        columns.write_csv(run.rows, folder / "releases.csv", columns.POLICY_RELEASES)
        columns.write_csv(run.estimates, folder / "estimates.csv", columns.ESTIMATES)
        columns.write_csv(run.stages, folder / "detection_stages.csv", columns.DETECTION_STAGES, index=True)
        columns.write_csv(pd.DataFrame([asdict(v) for v in run.verdicts]), folder / "acceptance.csv", columns.ACCEPTANCE)
        plot(run, folder / "policies.png")
        write_json(folder / "summary.json", to_json(run))
        write_manifest(folder, "evaluate", loaded, run.entropy, extra={"releases": int(run.rows.replication.nunique())})
    return EvaluationRun(**{**run.__dict__, "out": out})


def ci_gate_of(command: str, loaded: LoadedScenario, verdicts: list, exit_code: int, seconds: float,
               recommendation: str | None = None, releases: int | None = None, environ=os.environ) -> ci_gate.Gate:
    """What `evaluate` (or `sweep`) tells CI: its verdicts, exit code and where each bound is written (file
    names relative to `$GITHUB_WORKSPACE`, else to the working folder)."""
    keys = {measure: key for key, measure, _ in acceptance.CRITERIA}
    base = environ.get("GITHUB_WORKSPACE") or os.getcwd()
    places = {key: ci_gate.written_at(loaded, ("evaluation", "acceptance", key), base) for key in keys.values()}
    return ci_gate.Gate(command, loaded.scenario.name, tuple(verdicts), keys, exit_code,
                        loaded.scenario.evaluation.confidence, seconds, places, recommendation, releases)


def report_to_ci(gate: ci_gate.Gate, junit: str | None, summary: str | None, overwrite: bool, annotate: bool,
                 environ=os.environ) -> None:
    """Write `--junit` and `--summary` (appended when it is `$GITHUB_STEP_SUMMARY`), then print GitHub Actions
    annotations on stderr (so `--format json` stays parseable; the runner reads both) when asked or when
    `GITHUB_ACTIONS=true`."""
    if junit is not None:
        ci_gate.write_report("--junit", junit, ci_gate.junit_xml(gate), overwrite)
    if summary is not None:
        append = ci_gate.appends(summary, environ.get("GITHUB_STEP_SUMMARY"))
        used = os.path.getsize(summary) if append and os.path.isfile(summary) else 0
        text = ci_gate.summary_markdown(gate, ci_gate.SUMMARY_BYTES - used - 1)
        ci_gate.write_report("--summary", summary, "\n" + text if used else text, overwrite, append)
    if annotate or environ.get("GITHUB_ACTIONS") == "true":
        for line in ci_gate.annotations(gate):
            print(line, file=sys.stderr)


def plot(run: EvaluationRun, path: Path | None = None):
    """False rollbacks against misses and against detection delay, with 95% intervals, per policy."""
    est = run.estimates.set_index(["policy", "measure"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
    for policy in run.estimates.policy.unique():
        fr, miss, delay = (est.loc[(policy, m)] for m in ("false_rollback_rate", "miss_rate", "detection_delay_p50"))
        left.errorbar(100 * fr.value, 100 * miss.value, xerr=_bar(fr, 100), yerr=_bar(miss, 100), fmt="o", capsize=3,
                      label=policy)
        right.errorbar(100 * fr.value, delay.value / 60, xerr=_bar(fr, 100), yerr=_bar(delay, 1 / 60), fmt="o",
                       capsize=3, label=policy)
    left.set(xlabel="false rollbacks (% of good builds)", ylabel="misses (% of bad builds reaching 100%)")
    right.set(xlabel="false rollbacks (% of good builds)", ylabel="median detection delay (min)")
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
    left.legend(fontsize=8)
    fig.suptitle(f"{run.loaded.scenario.name}: {run.rows.replication.nunique()} releases per policy (95% intervals)")
    save_figure(fig, path)
    return fig


def _bar(row, scale: float) -> list[list[float]]:
    """Error-bar lengths below and above the estimate (0 where an end is unknown)."""
    below, above = (row.value - row.low) * scale, (row.high - row.value) * scale
    clean = lambda x: 0.0 if math.isnan(x) or math.isinf(x) else max(x, 0.0)
    return [[clean(below)], [clean(above)]]


def to_json(run: EvaluationRun) -> dict:
    scenario = run.loaded.scenario
    return envelope("evaluate", {
        "releases": int(run.rows.replication.nunique()), "estimates": records(run.estimates, columns.ESTIMATES),
        "horizon": horizon_text(scenario), "acceptance": [asdict(v) for v in run.verdicts],
        "status": run.status, "passed": run.status == "pass",
    }, scenario=scenario.name, seed=scenario.seed, entropy=run.entropy, out=run.out)


SHOWN = ("false_rollback_rate", "blocked_rate", "miss_rate", "detection_rate", "caught_in_staging",
         "caught_before_exposure", "detection_delay_p50", "time_to_mitigate_p50", "mitigated_within",
         "bad_requests_mean", "error_budget_minutes_mean", "lead_time_good_p50")
UNCERTAIN_HELP = ("uncertain: the estimate meets the bound but its interval reaches past it (or its population "
                  "is empty); more releases (--releases) would settle it. Exit code 3.")


def render(run: EvaluationRun, console: Console) -> None:
    policies = list(run.estimates.policy.unique())
    rows = run.rows[run.rows.policy == policies[0]]
    table = Table(title=Text(f"{run.loaded.scenario.name}: {len(rows)} releases, {int((~rows.bad_build).sum())} good, "
                        f"{int(rows.bad_build.sum())} bad: estimate [{run.loaded.scenario.evaluation.confidence:.0%} "
                        f"interval]; (n): releases in the population"))
    table.add_column("measure", no_wrap=True)
    table.add_column("of", max_width=26)
    for policy in policies:
        table.add_column(Text(policy), justify="right", no_wrap=True)
    est = run.estimates.set_index(["policy", "measure"])
    for measure in SHOWN:
        if (policies[0], measure) in est.index:
            cells = [est.loc[(p, measure)] for p in policies]
            same_n = len({c.n for c in cells}) == 1  # the population does not depend on the policy
            population = f"{cells[0].population} ({cells[0].n})" if same_n else cells[0].population
            table.add_row(*map(Text, (measure, population, *(_cell(measure, c, with_n=not same_n) for c in cells))))
    console.print(table, highlight=False)
    console.print(horizon_text(run.loaded.scenario), highlight=False, markup=False)
    for verdict in run.verdicts:
        console.print(verdict_line(verdict), highlight=False, markup=False)
    if any(v.status == "uncertain" for v in run.verdicts):
        console.print(UNCERTAIN_HELP, highlight=False, markup=False)
    console.print(f"verdict: {run.status.upper()}", highlight=False, markup=False)
    if run.out:
        console.print(f"results written to {run.out}/", highlight=False, markup=False)


def verdict_line(verdict) -> str:
    """`FAIL policy: measure <= bound (of N population): estimate [low-high]`, in the measure's own unit."""
    op, shown = verdict.op, _value(verdict.criterion, verdict.limit)
    estimate = _value(verdict.criterion, verdict.estimate)
    interval = _interval(verdict.criterion, verdict.low, verdict.high)
    mark = {"pass": "pass", "fail": "FAIL", "uncertain": "uncertain"}[verdict.status]
    return (f"{mark} {verdict.policy}: {verdict.criterion} {op} {shown} (of {verdict.n} {verdict.population}): "
            f"{estimate} {interval}")


def _value(measure: str, x: float) -> str:
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return "never"
    if measure.endswith("rate") or measure in ("caught_before_exposure", "mitigated_within", "caught_in_staging"):
        return f"{100 * x:.1f}%"
    if "delay" in measure or "mitigate" in measure or "lead_time" in measure:
        return format_duration(x)
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.1f}"


def _interval(measure: str, low: float, high: float) -> str:
    if math.isnan(low) and math.isnan(high):
        return "[too few to bound]"
    return f"[{_value(measure, low)}-{_value(measure, high)}]"


def _cell(measure: str, row, with_n: bool) -> str:
    n = f" (n={row.n})" if with_n else ""
    if math.isnan(row.value):
        return "-" + n
    return f"{_value(measure, row.value)} {_interval(measure, row.low, row.high)}{n}"
