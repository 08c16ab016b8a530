"""`deploysim sweep`: evaluate every point of the scenario's grid on the same releases; name the
Pareto front (false rollbacks vs user impact vs lead time)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from sim.commands.evaluate import evaluate
from sim.errors import UserError
from sim.evaluation.sweep import OBJECTIVES, grid_points, pareto_front
from sim.loader import LoadedScenario, load_scenario
from sim.output import manifest, results_folder, write_json
from sim.plots import save_figure, plt
from sim.units import format_duration


@dataclass(frozen=True)
class SweepRun:
    source: str
    entropy: int
    table: pd.DataFrame  # one row per grid point: settings, objectives, front
    effective: dict
    digest: str
    out: Path | None = None


def sweep(base: LoadedScenario, overrides: list[str], entropy: int, workers: int | None, releases: int | None,
          executor=None) -> SweepRun:
    """Evaluate every grid point of `base` (loaded with `overrides`) on the same releases."""
    scenario_path = base.source
    spec = base.scenario.evaluation
    if spec is None or spec.sweep is None:
        raise UserError(f"{scenario_path}: sweep needs an `evaluation.sweep:` section (base policy and grid)")
    rows = []
    for point in grid_points(spec.sweep.base, spec.sweep.grid):
        loaded = load_scenario(scenario_path, [*overrides, *point.overrides])
        only = {spec.sweep.base: loaded.scenario.evaluation.policies[spec.sweep.base]}
        evaluation = loaded.scenario.evaluation.model_copy(update={"policies": only})
        loaded = type(loaded)(loaded.scenario.model_copy(update={"evaluation": evaluation}), loaded.source,
                              loaded.overrides)
        run = evaluate(loaded, entropy, workers, None, releases, executor)
        est = run.estimates.set_index("measure")["value"]
        rows.append({"point": point.name, **{f"set {k}": v for k, v in point.settings.items()},
                     **{m: float(est[m]) for m in (*OBJECTIVES, "miss_rate", "caught_before_exposure",
                                                   "detection_delay_p50")}})
    table = pd.DataFrame(rows)
    table["pareto"] = pareto_front(table)
    return SweepRun(scenario_path, entropy, table, base.effective, base.digest)


def write(run: SweepRun, out: Path, overwrite: bool, overrides: list[str]) -> SweepRun:
    with results_folder(out, overwrite=overwrite) as folder:
        run.table.to_csv(folder / "sweep.csv", index=False)
        plot(run, folder / "pareto.png")
        write_json(folder / "summary.json", to_json(run))
        files = sorted(p.name for p in folder.iterdir()) + ["manifest.json"]
        write_json(folder / "manifest.json", manifest(
            command="sweep", scenario_source=run.source, scenario_digest=run.digest, effective=run.effective,
            overrides=tuple(overrides), seed=run.effective.get("seed"), entropy=run.entropy, files=files))
    return SweepRun(**{**run.__dict__, "out": out})


def plot(run: SweepRun, path: Path | None = None):
    t = run.table
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
    pairs = (("false_rollback_rate", "bad_requests_mean"), ("false_rollback_rate", "lead_time_good_p50"))
    for ax, (x, y) in zip(axes, pairs):
        ax.scatter(100 * t[x], t[y], c=["tab:red" if p else "tab:gray" for p in t.pareto])
        for _, row in t[t.pareto].iterrows():
            ax.annotate(row.point, (100 * row[x], row[y]), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set(xlabel="false rollbacks (% of good builds)", ylabel=y.replace("_", " "))
        ax.grid(True, alpha=0.3)
    fig.suptitle("Sweep: red points are on the Pareto front (nothing beats them on all three objectives)")
    save_figure(fig, path)
    return fig


def to_json(run: SweepRun) -> dict:
    return {"entropy": str(run.entropy), "points": json.loads(run.table.to_json(orient="records")),
            "pareto": run.table[run.table.pareto].point.tolist(), "out": str(run.out) if run.out else None}


def render(run: SweepRun, console: Console) -> None:
    table = Table(title="sweep: every point on the same releases (* = Pareto front)")
    for column in ("point", "false rollbacks", "misses", "caught <= limit", "bad requests", "lead time (good)", ""):
        table.add_column(column, justify="left" if column == "point" else "right", no_wrap=True)
    for row in run.table.itertuples():
        table.add_row(row.point, f"{100 * row.false_rollback_rate:.1f}%", f"{100 * row.miss_rate:.1f}%",
                      f"{100 * row.caught_before_exposure:.1f}%", f"{row.bad_requests_mean:,.0f}",
                      format_duration(row.lead_time_good_p50), "*" if row.pareto else "")
    console.print(table)
    console.print("non-dominated: " + "; ".join(run.table[run.table.pareto].point))
    if run.out:
        console.print(f"results written to {run.out}/")
