"""`deploysim sweep`: evaluate every point of the scenario's grid on the same releases, judge each against
the acceptance criteria, draw the Pareto front of the passing points, and name the setting to adopt.

Exit codes as in `evaluate`: 0 some point passes every criterion (the recommendation); 3 none passes but
some is uncertain (more releases would settle it); 1 every point fails a criterion; 2 bad input.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from sim.commands import guards
from sim.commands.evaluate import ci_gate_of, evaluate
from sim.deploy.experiment import default_workers
from sim.errors import UserError
from sim.evaluation import acceptance
from sim.evaluation.engine import CHUNK
from sim.evaluation.sweep import MAXIMISED, OBJECTIVES, best, grid_points, pareto_front, shortfall
from sim.load.loader import LoadedScenario, vary
from sim.report import figures, pareto
from sim.results import columns
from sim.results.envelope import envelope, records
from sim.results.output import results_folder, write_json, write_manifest
from sim.results.plots import plt, save_figure
from sim.rollout.summary import horizon_text
from sim.units import format_duration

MEASURES = (*OBJECTIVES, "blocked_rate", "miss_rate", "detection_rate", "caught_before_exposure",
            "detection_delay_p50", "time_to_mitigate_p50", "mitigated_within", "error_budget_minutes_mean")


@dataclass(frozen=True)
class SweepRun:
    loaded: LoadedScenario
    entropy: int
    table: pd.DataFrame  # one row per grid point: settings, measures with intervals, status, front
    verdicts: list  # acceptance verdicts of every point (policy = the point's name)
    objective: str
    out: Path | None = None
    estimates: pd.DataFrame | None = None  # every point's measures with n and population (policy = the point)
    releases: pd.DataFrame | None = None  # one row per point and release, as evaluate's releases.csv

    @property
    def recommended(self) -> pd.Series | None:
        chosen = self.table[self.table.recommended]
        return None if chosen.empty else chosen.iloc[0]

    @property
    def status(self) -> str:
        """pass if some point passes, else uncertain if some point is, else fail."""
        statuses = set(self.table.status)
        return "pass" if "pass" in statuses else "uncertain" if "uncertain" in statuses else "fail"

    @property
    def exit_code(self) -> int:
        return acceptance.EXIT_CODES[self.status]


def sweep(base: LoadedScenario, entropy: int, workers: int | None, releases: int | None, executor=None,
          err: Console | None = None) -> SweepRun:
    """Evaluate every grid point of `base` (as loaded, with its overrides) on the same releases."""
    spec = base.scenario.evaluation
    if spec is None or spec.sweep is None:
        raise UserError(f"{base.source}: sweep needs an `evaluation.sweep:` section (base policy and grid)")
    points = grid_points(spec.sweep.base, spec.sweep.grid)
    groups: dict[tuple, list] = {}
    for point in points:
        groups.setdefault(point.scenario_overrides, []).append(point)
    workers_used = workers or default_workers(math.ceil((releases or spec.releases) / CHUNK))
    guards.check(base, guards.evaluation_costs(base.scenario, releases, len(points), workers_used, rounds=len(groups),
                                               held=max(map(len, groups.values())), remote=executor is not None),
                 guards.budget())
    estimates, rows, verdicts = [], [], []
    for group in groups.values():
        run = evaluate(_group_scenario(base, group), entropy, workers, err, releases, executor)
        estimates.append(run.estimates)
        rows.append(run.rows)
        verdicts += run.verdicts
    measures = pd.concat(estimates, ignore_index=True)
    table = point_table(points, measures, verdicts, spec.sweep.objective)
    return SweepRun(base, entropy, table, verdicts, spec.sweep.objective, estimates=measures,
                    releases=pd.concat(rows, ignore_index=True))


def _group_scenario(base: LoadedScenario, group: list) -> LoadedScenario:
    """One scenario whose policies are the group's points (each point loaded and validated on its own, so a
    bad grid value is located like any override); they share every other section, hence first rounds."""
    loaded = [vary(base, point.overrides) for point in group]
    first = loaded[0].scenario
    base_name = first.evaluation.sweep.base
    policies = {point.name: one.scenario.evaluation.policies[base_name] for point, one in zip(group, loaded)}
    rollouts = {point.name: one.scenario.evaluation.rollouts[base_name] for point, one in zip(group, loaded)
                if base_name in one.scenario.evaluation.rollouts}  # the base policy's own steps, if it has them
    evaluation = first.evaluation.model_copy(update={"policies": policies, "rollouts": rollouts})
    return LoadedScenario(first.model_copy(update={"evaluation": evaluation}), base.source, loaded[0].overrides)


def point_table(points: list, estimates: pd.DataFrame, verdicts: list, objective: str) -> pd.DataFrame:
    """One row per point: its settings, each measure with its interval, each criterion's status, the
    point's status, whether it is on the Pareto front of the passing points, and the recommendation."""
    est = estimates.set_index(["policy", "measure"])
    rows = []
    for number, point in enumerate(points, start=1):
        mine = [v for v in verdicts if v.policy == point.name]
        row = {"#": number, "point": point.name, **{f"set {k}": v for k, v in point.settings.items()}}
        for measure in MEASURES:
            if (point.name, measure) in est.index:
                e = est.loc[(point.name, measure)]
                row.update({measure: float(e.value), f"{measure}_low": float(e.low), f"{measure}_high": float(e.high)})
        row.update({f"criterion {v.criterion}": v.status for v in mine})
        row["status"] = acceptance.status_of(mine)
        row["failed_criteria"], row["shortfall"] = shortfall(mine)
        rows.append(row)
    table = pd.DataFrame(rows)
    passing = (table.status == "pass").to_numpy()
    table["pareto"] = pareto_front(table, among=passing)
    table["recommended"] = False
    chosen = best(table, passing, objective)
    if chosen is not None:
        table.loc[chosen, "recommended"] = True
    return table


def closest(run: SweepRun) -> pd.Series:
    """When no point passes: fewest failed criteria, then the smallest relative shortfall, then the objective."""
    ranked = run.table.sort_values(["failed_criteria", "shortfall", run.objective],
                                   ascending=[True, True, run.objective not in MAXIMISED], kind="stable")
    return ranked.iloc[0]


def recommendation(run: SweepRun) -> str:
    """The one line that answers the sweep."""
    chosen = run.recommended
    if chosen is not None:
        return (f"adopt #{chosen['#']} {chosen.point}: passes every criterion and is best on {run.objective} "
                f"({_figures(chosen)})")
    near = closest(run)
    failing = [c.removeprefix("criterion ") for c in run.table.columns
               if c.startswith("criterion ") and near[c] != "pass"]
    word = "passes" if run.status == "fail" else "passes with confidence"
    return (f"no point {word}; closest: #{near['#']} {near.point} ({near.status} on {', '.join(failing)}; "
            f"{_figures(near)})")


def _figures(row: pd.Series) -> str:
    return ", ".join(f"{m} {_value(m, row[m])} [{_value(m, row[f'{m}_low'])}-{_value(m, row[f'{m}_high'])}]"
                     for m in ("false_rollback_rate", "blocked_rate", "bad_requests_mean", "lead_time_good_p50"))


def _value(measure: str, x: float) -> str:
    if x is None or math.isnan(x):
        return "-"
    if measure.endswith("rate") or measure in MAXIMISED:
        return f"{100 * x:.1f}%"
    if "lead_time" in measure or "delay" in measure or "mitigate" in measure:
        return format_duration(x) if math.isfinite(x) else "never"
    return f"{x:,.0f}" if abs(x) < 10_000 else f"{x / 1000:,.0f}k"


def ci_gate(run: SweepRun, seconds: float):
    """What the sweep tells CI (`sim.results.ci_gate`): every point's verdicts, the exit code (0 when some
    point passes), and the recommendation."""
    return ci_gate_of("sweep", run.loaded, run.verdicts, run.exit_code, seconds, recommendation=recommendation(run))


def write(run: SweepRun, out: Path, overwrite: bool, overrides: list[str]) -> SweepRun:
    loaded = run.loaded
    with results_folder(out, overwrite=overwrite) as folder:
        columns.write_csv(run.table, folder / "sweep.csv", columns.SWEEP)
        columns.write_csv(pd.DataFrame([asdict(v) for v in run.verdicts]), folder / "acceptance.csv", columns.ACCEPTANCE)
        if run.estimates is not None:
            columns.write_csv(run.estimates, folder / "estimates.csv", columns.ESTIMATES)
        if run.releases is not None:
            columns.write_csv(run.releases, folder / "releases.csv", columns.POLICY_RELEASES)
        plot(run, folder / "pareto.png")
        write_json(folder / "summary.json", to_json(run))
        write_manifest(folder, "sweep", loaded, run.entropy, overrides=tuple(overrides))
    return SweepRun(**{**run.__dict__, "out": out})


def plot(run: SweepRun, path: Path | None = None):
    """The Pareto figure (`sim.report.pareto`: front points drawn on top, labels that do not collide, lead
    time in s, min or h), saved as a PNG."""
    with plt.rc_context(figures.STYLE):
        fig = pareto.draw(run.table, run.loaded.scenario.evaluation.confidence)
        save_figure(fig, path)
    return fig


def to_json(run: SweepRun) -> dict:
    chosen = run.recommended
    scenario = run.loaded.scenario
    return envelope("sweep", {
        "objective": run.objective, "horizon": horizon_text(scenario), "points": records(run.table, columns.SWEEP),
        "pareto": run.table[run.table.pareto].point.tolist(), "recommended": None if chosen is None else chosen.point,
        "closest": closest(run).point if chosen is None else None, "recommendation": recommendation(run),
        "status": run.status,
    }, scenario=scenario.name, seed=scenario.seed, entropy=run.entropy, out=run.out)


SHORT = {"false_rollback_rate": "false rb", "blocked_rate": "blocked", "miss_rate": "misses",
         "caught_before_exposure": "caught", "mitigated_within": "mitigated"}
COLUMNS = (("false_rollback_rate", "false rb %"), ("blocked_rate", "blocked %"), ("miss_rate", "misses %"),
           ("caught_before_exposure", "caught %"), ("bad_requests_mean", "bad requests"),
           ("lead_time_good_p50", "lead time p50"))


def render(run: SweepRun, console: Console) -> None:
    confidence = run.loaded.scenario.evaluation.confidence
    table = Table(title=Text(f"sweep: {len(run.table)} points on the same releases, judged against the acceptance "
                        f"criteria: estimate [{confidence:.0%} interval]; *: on the Pareto front of the passing points"))
    for column in ("#", "point", "status", *(title for _, title in COLUMNS)):
        table.add_column(column, justify="left" if column in ("point", "status") else "right", no_wrap=True,
                         min_width=2 if column == "#" else None)
    for _, row in run.table.iterrows():
        table.add_row(*map(Text, (str(row["#"]), row.point, _status(row), *(_compact(row, m) for m, _ in COLUMNS))))
    console.print(table, highlight=False)
    console.print(f"criteria: {'; '.join(_criteria(run))}", highlight=False, markup=False)
    console.print(horizon_text(run.loaded.scenario), highlight=False, markup=False)
    console.print(recommendation(run), highlight=False, markup=False)
    if run.out:
        console.print(f"results written to {run.out}/", highlight=False, markup=False)


def _criteria(run: SweepRun) -> list[str]:
    seen = {}
    for v in run.verdicts:
        seen.setdefault(v.criterion, f"{SHORT.get(v.criterion, v.criterion)} {v.op} {_value(v.criterion, v.limit)} "
                                     f"(of {v.population})")
    return list(seen.values())


def _status(row: pd.Series) -> str:
    """`pass`; `fail: false rb, caught` (the criteria it fails); `uncertain (2)` (how many are)."""
    if row.status == "pass":
        return "pass: ADOPT" if row.recommended else "pass *" if row.pareto else "pass"
    held = [SHORT.get(c.removeprefix("criterion "), c) for c in row.index
            if c.startswith("criterion ") and row[c] == row.status]
    return f"fail: {', '.join(held)}" if row.status == "fail" else f"uncertain ({len(held)})"


def _compact(row: pd.Series, measure: str) -> str:
    value, low, high = row[measure], row[f"{measure}_low"], row[f"{measure}_high"]
    if measure == "lead_time_good_p50":
        return _value(measure, value)
    if measure.endswith("rate") or measure in MAXIMISED:
        pct = lambda x: "-" if math.isnan(x) else f"{100 * x:.0f}" if 100 * x >= 9.95 else f"{100 * x:.1f}"
        return f"{pct(value)} [{pct(low)}-{pct(high)}]"
    return f"{_value(measure, value)} [{_value(measure, low)}-{_value(measure, high)}]"
