"""Model validation: the simulator with calibrated parameters against measured bench deploys.

    deploysim validate-model bench/recorded/2026-11-26 --params bench/recorded/2026-11-26/params.yaml

For every bench run (fleet size) the simulator runs the same strategies (name, kind, parallel), fleet
size and build (size, files) as the run did. Each run's scenario is what the run fixed, including the
parameter file and then the base scenario (`--scenario`, default the repository's
`scenarios/bench_small.yaml`), loaded as the simulator loads any scenario (`sim.load.loader`): the run's
settings win key by key, then the parameters, then the base scenario. Predicted p50, p95 and max
deploy time (mean over replications) are compared with the measured ones, per strategy and size.

Fleet sizes whose runs the calibration used are marked `fit`; the others are `held-out` (a fair
test). `contention=True` also applies the calibration's per-phase contention terms (median grows
linearly with the fleet on the 2-core bench machine), scaling each phase's distribution to the size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from bench.analysis.recording import calibration_info
from bench.analysis.runs import BenchRun, find_runs
from sim.api import UserError, fleet_quantile

if TYPE_CHECKING:  # imported late: `register` loads this module on every deploysim start
    import pandas as pd

    from sim.api import LoadedScenario

BASE_SCENARIO = Path("scenarios", "bench_small.yaml")
METRICS = ("p50", "p95", "max")


@dataclass(frozen=True)
class Validation:
    """Predicted against measured deploy times: one row per (fleet size, strategy)."""

    table: pd.DataFrame
    params: Path
    scenario: Path
    replications: int
    contention: bool
    loaded: list[LoadedScenario]

    def worst(self, kind: str | None = None, metric: str = "max") -> float:
        """The largest absolute error in percent (of one metric), optionally of one kind of size."""
        t = self.table if kind is None else self.table[self.table.role == kind]
        return float(t[f"{metric}_err_pct"].abs().max()) if len(t) else float("nan")


def default_scenario() -> Path:
    """`scenarios/bench_small.yaml` of the repository that holds this package, found from the package's own
    folder upwards (never from the working directory); a UserError when the bench runs from an install
    without its repository."""
    here = Path(__file__).resolve()
    for folder in here.parents:
        if (folder / "pyproject.toml").is_file() and (folder / BASE_SCENARIO).is_file():
            return folder / BASE_SCENARIO
    raise UserError(f"no default base scenario: no repository with {BASE_SCENARIO} holds {here.parents[1]}; "
                    "pass --scenario")


def measured(run: BenchRun, strategy: str) -> dict:
    """p50, p95 (of the whole fleet, as `sim.results.records` defines them) and max of one bench deploy."""
    done = run.hosts[run.hosts.strategy == strategy].done.to_numpy(dtype=float)
    return {"p50": fleet_quantile(done, 0.5), "p95": fleet_quantile(done, 0.95),
            "max": float(np.nanmax(done)) if np.isfinite(done).any() else float("nan"),
            "updated": int(np.isfinite(done).sum())}


def scale_phase(spec, factor: float):
    """A copy of a distribution spec with its durations multiplied by `factor` (constant, lognormal)."""
    if spec.dist == "constant":
        return {"dist": "constant", "value": spec.value * factor}
    if spec.dist == "lognormal":
        return {"dist": "lognormal", "median": spec.median * factor, "p95": spec.p95 * factor}
    return None  # uniform/empirical: left as calibrated


def compared(run) -> list[dict]:
    """The run's strategies that the model is validated on: all of them (push, pull and p2p; p2p's swarm
    rates are not calibrated, only its signalling and activation, so its errors show that gap)."""
    return list(run.strategies())


P2P_KEYS = ("piece_size", "connections", "seed_time")  # what a bench p2p strategy fixes, as the scenario names it


def p2p_settings(run: BenchRun, s: dict) -> dict:
    """What a bench p2p deploy fixed: its strategy's keys, with the piece size the deploy used (a small
    build is cut into smaller pieces than `piece_size`; recorded in the deploy's `extra`)."""
    used = run.deploy_extra(s["name"]).get("piece_size")
    return {**{k: s[k] for k in P2P_KEYS if k in s}, **({"piece_size": float(used)} if used else {})}


def contention_overrides(base: LoadedScenario, run: BenchRun, terms: dict) -> dict:
    """Per-strategy phase specs scaled from their calibrated median to the term's median at this size."""
    out: dict = {}
    for s in compared(run):
        spec = base.scenario.strategies.get(s["name"])
        if spec is None:
            continue
        prefix = f"push.{s.get('transport', 'ssh')}" if s["kind"] == "push" else s["kind"]
        rate = terms.get("p2p.host_rate") if s["kind"] == "p2p" else None
        if rate:  # hosts on one machine share its CPU: each gets the aggregate over the fleet
            each = f"{rate['aggregate'] / run.fleet_size * 8 / 1e6:.9g}Mbps"
            out.setdefault(s["name"], {}).update(upload=each, download=each)
        for phase in ("connect", "wakeup", "activation"):
            term = terms.get(f"{prefix}.{phase}")
            current = getattr(spec, phase, None)
            if term is None or current is None or current.dist not in ("constant", "lognormal"):
                continue
            median = current.value if current.dist == "constant" else current.median
            target = max(term["intercept"] + term["per_host"] * run.fleet_size, 1e-4)
            scaled = scale_phase(current, target / median)
            if scaled:
                out.setdefault(s["name"], {})[phase] = scaled
    return out


def host_link_of(run: BenchRun, link: dict | None) -> dict:
    """A run whose host links the bench shaped: `network.host_download` at the share of its tbf rate the
    calibration found a shaped link delivers (the tbf rate itself when it found none); {} when unshaped."""
    if run.host_link_rate <= 0:
        return {}
    share = float(link["efficiency"]) if link and link.get("identified") else 1.0
    return {"network": {"host_download": f"{run.host_link_rate * 8 / 1e6 * share:.9g}Mbps"}}


def composite(run: BenchRun, replications: int, extra: dict, link: dict | None = None) -> dict:
    """What one bench run fixed, as the top of its scenario (`extra`: phase specs per strategy; `link`: the
    calibration's host link, for a run whose host links were shaped)."""
    cfg = run.manifest["config"]
    strategies: dict = {}
    for s in compared(run):
        entry = {"kind": s["kind"], **({"parallel": int(s["parallel"])} if s["kind"] == "push" else {}),
                 **(p2p_settings(run, s) if s["kind"] == "p2p" else {})}
        strategies[s["name"]] = {**entry, **extra.get(s["name"], {})}
    return {"version": 1, "name": "validate-model", "seed": int(cfg.get("seed", 1)), "replications": replications,
            "fleet": {"hosts": run.fleet_size, "zones": 1, "tiers": {"staging": 0, "dogfood": 0, "canary": 0}},
            "artifact": {"size": int(cfg["size"]), "files": int(cfg["files"])},
            "strategies": strategies, **host_link_of(run, link)}


def parameter_layer(params: Path, scenario: Path) -> list[str]:
    """The `include:` list of every run's scenario: the parameter file, then the base scenario (earlier
    files win, so the parameters win over the base), as absolute paths.

    Both are read here first, as the simulator reads scenarios (`sim.load.loader.read_yaml`: within the YAML
    budgets of `sim.limits`, every problem located), so a bad file is refused before any run is read."""
    from sim.api import read_yaml  # imported late: `register` loads this module on every deploysim start

    for path in (scenario, params):
        read_yaml(path)
    return [str(params.resolve()), str(scenario.resolve())]


def run_scenario(run: BenchRun, layer: list[str], params: Path, replications: int, extra: dict,
                 link: dict | None = None) -> LoadedScenario:
    """One run's scenario: `composite(run)` including `layer`, loaded as `sim.load.loader` loads a scenario file
    (includes merged by `sim.load.includes`, relative empirical files anchored at their own file; validated with
    every problem located; values the run fixed are located at its manifest). Only the run's strategies are
    kept; the result names the parameter file as its source."""
    from sim.api import LoadedScenario, load_mapping  # imported late (pydantic): `register` loads this module

    top = composite(run, replications, extra, link)
    names = set(top["strategies"])
    scenario = load_mapping({**top, "include": list(layer)}, run.folder / "manifest.json", run.folder).scenario
    strategies = {k: v for k, v in scenario.strategies.items() if k in names}
    return LoadedScenario(scenario=scenario.model_copy(update={"strategies": strategies}), source=str(params),
                          overrides=())


def predict(loaded: LoadedScenario, strategy: str, hosts: int, replications: int) -> dict:
    """Mean p50, p95 and max over replications of the simulated deploy."""
    from sim.api import Job, simulate  # numba: compiled on first use, so imported late

    seed = loaded.scenario.seed or 1
    rows = [simulate(loaded.scenario, Job(strategy, hosts, r, seed)).summary() for r in range(replications)]
    return {"p50": float(np.mean([r.p50 for r in rows])), "p95": float(np.mean([r.p95 for r in rows])),
            "max": float(np.mean([r.makespan for r in rows]))}


def validate(results: list[Path | str], params: Path | str, scenario: Path | str | None = None,
             replications: int = 5, contention: bool = False) -> Validation:
    """Simulate every bench run's strategies with the parameters; compare with what was measured."""
    params = Path(params)
    if not params.is_file():
        raise UserError(f"{params}: no such parameter file")
    info = calibration_info(params)
    fit_runs = set(info.get("runs", []))
    scenario = Path(scenario) if scenario else default_scenario()
    layer = parameter_layer(params, scenario)
    rows, loaded_all = [], []
    link = info.get("network", {}).get("host_link")
    for run in find_runs(results):
        extra: dict = {}
        if contention and info.get("contention"):
            plain = run_scenario(run, layer, params, replications, extra, link)
            for name, phases in contention_overrides(plain, run, info["contention"]).items():
                extra.setdefault(name, {}).update(phases)
        loaded = run_scenario(run, layer, params, replications, extra, link)
        loaded_all.append(loaded)
        for s in compared(run):
            meas, pred = measured(run, s["name"]), predict(loaded, s["name"], run.fleet_size, replications)
            row = {"hosts": run.fleet_size, "strategy": s["name"], "kind": s["kind"],
                   "transport": s.get("transport", "") if s["kind"] == "push" else "",
                   "role": "fit" if run.label in fit_runs else "held-out", "run": run.label,
                   "updated": meas["updated"]}
            for m in METRICS:
                row[f"{m}_measured"], row[f"{m}_predicted"] = meas[m], pred[m]
                row[f"{m}_err_pct"] = 100.0 * (pred[m] - meas[m]) / meas[m] if meas[m] else float("nan")
            rows.append(row)
    import pandas as pd  # imported late: `register` loads this module on every deploysim start

    table = pd.DataFrame(rows).sort_values(["strategy", "hosts"], kind="stable").reset_index(drop=True)
    return Validation(table, params, scenario, replications, contention, loaded_all)


# ---- output: table, plot, results folder ----

def render(v: Validation, console) -> None:
    """A rich table: measured / predicted / error per metric, one row per strategy and size."""
    title = (f"predicted vs measured deploy time (s), {v.replications} replications"
             + (", with contention terms" if v.contention else ""))
    t = Table(title=title)
    for col in ("strategy", "hosts", "role", *[f"{m} meas / pred / err" for m in METRICS]):
        t.add_column(col, justify="left" if col in ("strategy", "role") else "right", no_wrap=True)
    for r in v.table.itertuples():
        cells = []
        for m in METRICS:
            err = getattr(r, f"{m}_err_pct")
            color = "green" if abs(err) <= 15 else "red"
            cells.append(f"{getattr(r, f'{m}_measured'):.2f} / {getattr(r, f'{m}_predicted'):.2f} / "
                         f"[{color}]{err:+.0f}%[/]")
        t.add_row(r.strategy, str(r.hosts), r.role, *cells)
    console.print(t)
    console.print(f"worst |error| of max deploy time: {v.worst():.1f}% (held-out sizes: {v.worst('held-out'):.1f}%); "
                  f"p50: {v.worst(metric='p50'):.1f}%")


def plot(v: Validation, path: Path | None = None):
    """Measured (points) and predicted (lines) max and p50 deploy time against fleet size, per strategy."""
    import matplotlib  # imported late: `register` loads the bench on every deploysim start

    if matplotlib.get_backend().lower() not in {"module://matplotlib_inline.backend_inline", "nbagg"}:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
    for ax, m in zip(axes, ("max", "p50")):
        for i, (name, g) in enumerate(v.table.groupby("strategy", sort=False)):
            color = f"C{i}"
            ax.plot(g.hosts, g[f"{m}_predicted"], "-", color=color, label=f"{name} predicted")
            ax.plot(g.hosts, g[f"{m}_measured"], "o", color=color, label=f"{name} measured")
            for r in g.itertuples():
                ax.annotate(f"{getattr(r, f'{m}_err_pct'):+.0f}%", (r.hosts, getattr(r, f"{m}_measured")),
                            textcoords="offset points", xytext=(4, -10), fontsize=7, color=color)
        ax.set(xscale="log", yscale="log", xlabel="fleet size (hosts)", ylabel=f"deploy time {m} (s)",
               title=f"{m}: bench (points) vs simulator (lines)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig


def write(v: Validation, out: Path | str, overwrite: bool = False) -> Path:
    """A results folder (atomic): validation.csv, validation.json, predicted_vs_measured.png, manifest."""
    from sim.api import columns, envelope, manifest, records, results_folder, write_json  # imported late, as above

    out = Path(out)
    with results_folder(out, overwrite=overwrite) as folder:
        columns.write_csv(v.table, folder / "validation.csv", columns.VALIDATION)
        plot(v, folder / "predicted_vs_measured.png")
        first = v.loaded[0]
        summary = envelope("validate-model", {
            "worst_max_error_pct": v.worst(), "worst_max_error_pct_held_out": v.worst("held-out"),
            "worst_p50_error_pct": v.worst(metric="p50"), "rows": records(v.table, columns.VALIDATION),
        }, scenario=first.scenario.name, seed=first.scenario.seed, entropy=first.scenario.seed or 1, out=out)
        write_json(folder / "validation.json", summary)
        files = sorted(p.name for p in folder.iterdir()) + ["manifest.json"]
        write_json(folder / "manifest.json", manifest(
            command="validate-model", scenario_source=str(v.scenario), scenario_digest=first.digest,
            effective=first.effective, overrides=(), seed=first.scenario.seed, entropy=first.scenario.seed or 1,
            files=files, extra={"params": str(v.params), "replications": v.replications,
                                "contention": v.contention, "runs": sorted(set(v.table.run))}))
    return out


def command(results: list[Path] = typer.Argument(..., help="bench results folders (or folders holding them)"),
            params: Path = typer.Option(..., "--params", help="parameter file written by `deploysim calibrate`"),
            scenario: Path = typer.Option(None, "--scenario", help="base scenario (default scenarios/bench_small.yaml)"),
            out: Path = typer.Option(None, "--out", help="results folder to write (atomically)"),
            replications: int = typer.Option(5, "--replications", "-r", min=1, help="simulated repetitions per size"),
            contention: bool = typer.Option(False, "--contention/--no-contention",
                                            help="apply the calibration's fleet-size contention terms"),
            overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing results folder")) -> None:
    """Simulate each bench run with calibrated parameters; show predicted vs measured deploy time."""
    v = validate(results, params, scenario, replications, contention)
    if out is not None:
        write(v, out, overwrite)
    render(v, Console(width=160))
    if out is not None:
        print(f"wrote {out}/ (validation.csv, validation.json, predicted_vs_measured.png, manifest.json)")
