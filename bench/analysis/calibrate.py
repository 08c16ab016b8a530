"""Calibration: fit simulator parameters from bench results folders (`manifest.json` + `hosts.csv`).

    deploysim calibrate bench/recorded/2026-11-26/n10 bench/recorded/2026-11-26/n100 --out params.yaml

What each per-host phase of a bench record is, and which simulator parameter it feeds:

| bench columns (per host)               | push (ssh / daemon)                 | pull                                 |
|----------------------------------------|-------------------------------------|--------------------------------------|
| transfer_start - signal                | `connect` (ssh master / module list)| agent woke -> HTTP request sent      |
| transfer_end - transfer_start          | rsync: fixed overhead + bytes/share | download: fixed overhead + bytes/share |
| done - transfer_end                    | `activation` (remote rename+symlink)| `activation` (untar, rename, symlink) |
| signal (pull, from the key write start)| -                                   | `key_write` + `wakeup`               |

The transfer phase is split into a fixed per-host overhead and a share of a bottleneck by replaying
the flows through the simulator's own kernel (`bench.analysis.transfer_fit`); the spread of the pulls'
ends then gives `network.flow_share_p95`, how unequally concurrent flows share the link (replayed with
weighted shares, `sim.deploy.unfair`). The push overhead becomes
`scan_per_file` (overhead / files: with one file count per run, rsync's process start and its
file-list scan cannot be told apart); the pull overhead moves into the wake-up (the simulator has
no per-host step between waking and the first byte). A p2p deploy's hosts' swarm rate is fitted by
replaying it through the simulator's swarm (`bench.analysis.swarm_fit`). The file itself is rendered by
`bench.analysis.params_file`. The runs are read by `bench.analysis.runs`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import typer

from bench.analysis.fanout_fit import fit_fanout, per_host_times
from bench.analysis.params_file import calibration_json, render_params
from bench.analysis.recording import fit_problems
from bench.analysis.runs import BenchRun, find_runs, phases
from bench.analysis.swarm_fit import SwarmDeploy, fit_swarm_rate
from bench.analysis.transfer_fit import (
    PULL_MAKESPAN_WEIGHT,
    Group,
    TransferFit,
    fit_host_link,
    fit_push,
    fit_share_spread,
    fit_transfers,
)
from sim.api import UserError

if TYPE_CHECKING:
    import pandas as pd


# ---- distributions ----

def lognormal_fit(values: np.ndarray, floor: float = 1e-4) -> dict:
    """The scenario's lognormal spec by quantiles: median and p95 of the values (floored at `floor`)."""
    v = np.maximum(np.asarray(values, dtype=float), floor)
    median, p95 = float(np.median(v)), float(np.percentile(v, 95))
    return {"median": median, "p95": max(p95, median), "n": int(len(v))}


def per_size_medians(runs: list[BenchRun], strategy_of, column: str) -> dict[int, float]:
    """Median of one phase per fleet size (for the contention term)."""
    out = {}
    for run in runs:
        name = strategy_of(run)
        if name is not None:
            out[run.fleet_size] = float(np.median(phases(run, name)[column]))
    return out


def linear_in_hosts(points: dict[int, float]) -> dict | None:
    """Least-squares m(N) = a + b*N over fleet sizes; None with fewer than two sizes."""
    if len(points) < 2:
        return None
    n = np.array(sorted(points), dtype=float)
    m = np.array([points[int(k)] for k in n])
    b, a = np.polyfit(n, m, 1)
    return {"intercept": float(a), "per_host": float(b), "sizes": [int(k) for k in n]}


# ---- the calibration ----

@dataclass
class Calibration:
    """Fitted values with how and from what each was derived (rendered as YAML comments)."""

    runs: list[str]
    sizes: list[int]
    size: float
    files: int
    push: dict = field(default_factory=dict)        # transport -> fitted values
    pull: dict = field(default_factory=dict)
    p2p: dict = field(default_factory=dict)         # signalling and activation of the p2p deploys
    network: dict = field(default_factory=dict)
    contention: dict = field(default_factory=dict)  # phase -> linear fit in fleet size
    wakeups: np.ndarray = field(default_factory=lambda: np.empty(0))
    notes: list[str] = field(default_factory=list)


def push_strategy(run: BenchRun, transport: str) -> str | None:
    return next((s["name"] for s in run.strategies() if s["kind"] == "push" and s.get("transport") == transport), None)


def pull_strategy(run: BenchRun) -> str | None:
    return next((s["name"] for s in run.strategies() if s["kind"] == "pull"), None)


def p2p_strategy(run: BenchRun) -> str | None:
    return next((s["name"] for s in run.strategies() if s["kind"] == "p2p"), None)


def calibrate_p2p(runs: list[BenchRun]) -> dict | None:
    """Key write, key-to-swarm (wake-up, metainfo fetch, peer list) and activation of p2p deploys; the
    swarm's transfer is summarised, not fitted (no rates are identified from it: see the notes)."""
    used = [(r, p2p_strategy(r)) for r in runs if p2p_strategy(r) is not None]
    if not used:
        return None
    ph = [phases(r, s) for r, s in used]
    writes = np.array([key_write_of(r, s, p) for (r, s), p in zip(used, ph)])
    cat = lambda f: np.concatenate([f(p, kw) for p, kw in zip(ph, writes)])  # noqa: E731
    return {"key_write": lognormal_fit(writes), "wakeup": lognormal_fit(cat(lambda p, kw: p.start.to_numpy() - kw)),
            "agent_wakeup": lognormal_fit(cat(lambda p, kw: p.signal.to_numpy() - kw)),
            "transfer": lognormal_fit(cat(lambda p, kw: p.transfer.to_numpy())),
            "activation": lognormal_fit(cat(lambda p, kw: p.activation.to_numpy())), "runs": [r.label for r, _ in used],
            "deploys": [swarm_deploy(r, s, p) for (r, s), p in zip(used, ph)]}


def swarm_deploy(run: BenchRun, name: str, p: pd.DataFrame) -> SwarmDeploy:
    """One p2p deploy's joins and ends with the pieces it used (the bench cuts a small build into smaller
    pieces than the strategy's `piece_size`: the record's `piece_size` is the one used)."""
    spec = next(s for s in run.strategies() if s["name"] == name)
    extra = run.deploy_extra(name)
    piece = float(extra.get("piece_size", min(float(spec.get("piece_size", 4e6)), run.size)))
    return SwarmDeploy(starts=p.start.to_numpy(dtype=float), ends=p.end.to_numpy(dtype=float), size=run.size,
                       piece=piece, connections=int(extra.get("connections", spec.get("connections", 10))),
                       seed_time=float(extra.get("seed_time", spec.get("seed_time", 300.0))))


def push_groups(runs: list[BenchRun]) -> list[Group]:
    """Every push deploy's flows, labelled by transport."""
    out = []
    for run in runs:
        for transport in ("ssh", "daemon"):
            name = push_strategy(run, transport)
            if name is not None:
                p = phases(run, name)
                out.append((p.start.to_numpy(), p.end.to_numpy(), run.size, transport))
    return out


def calibrate_push(runs: list[BenchRun], transport: str, fit: TransferFit) -> dict | None:
    """connect, scan (rsync overhead / files) and activation of one transport's pushes."""
    used = [(r, push_strategy(r, transport)) for r in runs]
    used = [(r, s) for r, s in used if s is not None]
    if not used:
        return None
    ph = [phases(r, s) for r, s in used]
    overhead = fit.overheads[transport]
    connect = np.concatenate([p.lead.to_numpy() for p in ph])
    activation = np.concatenate([p.activation.to_numpy() for p in ph])
    parallel = {int(s["parallel"]) for r, name in used for s in r.strategies() if s["name"] == name}
    return {"connect": lognormal_fit(connect), "activation": lognormal_fit(activation), "parallel": max(parallel),
            "scan_per_file": overhead / used[0][0].files, "overhead": overhead, "transfer": fit,
            "flows": int(sum(len(p) for p in ph)), "runs": [r.label for r, _ in used]}


def key_write_of(run: BenchRun, name: str, p: pd.DataFrame) -> float:
    """The release key write (start to commit) of a pull deploy.

    Read from the manifest when the bench recorded it (`release_signalled`); otherwise bounded by the
    earliest agent's wake-up (it cannot wake before the commit is applied), which is used instead.
    """
    d = run.deploy(name)
    value = d.get("release_signalled", d.get("extra", {}).get("release_signalled"))
    return float(value) if value is not None else float(p.signal.min())


def calibrate_pull(runs: list[BenchRun]) -> dict | None:
    """key write, wake-up (to the first byte), activation and the origin egress from pull deploys."""
    used = [(r, pull_strategy(r)) for r in runs if pull_strategy(r) is not None]
    if not used:
        return None
    ph = [phases(r, s) for r, s in used]
    groups = [(p.start.to_numpy(), p.end.to_numpy(), r.size, "pull") for (r, _), p in zip(used, ph)]
    fit = fit_transfers(groups, makespan_weight=PULL_MAKESPAN_WEIGHT)
    overhead = fit.overheads["pull"]
    share = fit_share_spread(groups, overhead, fit.capacity, fit.fastest_rate if fit.ceiling_identified else math.inf)
    writes = np.array([key_write_of(r, s, p) for (r, s), p in zip(used, ph)])
    recorded = any("release_signalled" in r.deploy(s) for r, s in used)
    wake = np.concatenate([np.maximum(p.signal.to_numpy() - kw, 0.0) for p, kw in zip(ph, writes)])
    to_bytes = np.concatenate([np.maximum(p.start.to_numpy() + overhead - kw, 0.0) for p, kw in zip(ph, writes)])
    activation = np.concatenate([p.activation.to_numpy() for p in ph])
    return {"key_write": lognormal_fit(writes), "key_write_recorded": recorded, "wakeup": lognormal_fit(wake),
            "to_first_byte": lognormal_fit(to_bytes), "activation": lognormal_fit(activation),
            "overhead": overhead, "transfer": fit, "share": share, "wake_values": wake, "to_bytes_values": to_bytes,
            "runs": [r.label for r, _ in used]}


def contention_terms(runs: list[BenchRun]) -> dict:
    """Per-host phases that grow with the fleet on one machine: median = a + b * hosts, per phase."""
    terms = {}
    for transport in ("ssh", "daemon"):
        for column, label in (("lead", "connect"), ("activation", "activation")):
            fit = linear_in_hosts(per_size_medians(runs, lambda r, t=transport: push_strategy(r, t), column))
            if fit:
                terms[f"push.{transport}.{label}"] = fit
    for column, label in (("activation", "activation"), ("lead", "request")):
        fit = linear_in_hosts(per_size_medians(runs, pull_strategy, column))
        if fit:
            terms[f"pull.{label}"] = fit
    for column, label in (("activation", "activation"), ("start", "wakeup")):  # start: key write + wake-up
        fit = linear_in_hosts(per_size_medians(runs, p2p_strategy, column))
        if fit:
            terms[f"p2p.{label}"] = fit
    return terms


def swarm_rate_term(deploys: list[SwarmDeploy], sizes: list[int], seeder: float, cap: float) -> dict | None:
    """Hosts sharing one machine share its CPU: the swarm rate fitted per run times its fleet size, the
    machine's aggregate (geometric mean over runs), so that a fleet of N gets aggregate / N per host (applied
    only by `validate-model --contention`). None with fewer than two fleet sizes."""
    if len(set(sizes)) < 2:
        return None
    rates = [fit_swarm_rate([d], seeder, cap).rate for d in deploys]
    aggregate = float(np.exp(np.mean(np.log([r * n for r, n in zip(rates, sizes)]))))
    return {"aggregate": aggregate, "sizes": sizes, "rates": rates}


def calibrate(paths: list[Path | str]) -> Calibration:
    """Fit every parameter the given bench runs identify (see the module docstring)."""
    runs = find_runs(paths)
    problems = [p for r in runs for p in fit_problems(r.folder, r.manifest, r.hosts)]
    if problems:
        raise UserError(problems)
    sizes = {(r.size, r.files) for r in runs}
    if len(sizes) > 1:
        raise UserError(f"runs differ in artifact size/files {sorted(sizes)}: calibrate one build at a time")
    hosts_had = {tuple(r.host_limits.values()) for r in runs}
    if len(hosts_had) > 1:
        had = "; ".join(f"{r.label}: {host_limits_text(r.host_limits)}" for r in runs)
        raise UserError(f"runs differ in what each host had ({had}): calibrate one host setting at a time")
    cal = Calibration(runs=[r.label for r in runs], sizes=sorted({r.fleet_size for r in runs}),
                      size=runs[0].size, files=runs[0].files)
    shaped, runs = split_shaped(runs)
    fanouts, runs = split_fanouts(runs)
    groups = push_groups(runs)
    push_fit = fit_push(groups) if groups else None
    for transport in ("ssh", "daemon"):
        fitted = calibrate_push(runs, transport, push_fit) if push_fit else None
        if fitted:
            cal.push[transport] = fitted
    calibrate_fanouts(fanouts, cal)
    pull = calibrate_pull(runs)
    if pull:
        cal.pull = pull
        cal.wakeups = pull["to_bytes_values"]
    cal.network = network_of(cal)
    if shaped:
        cal.network["host_link"] = calibrate_host_link(shaped, cal)
    cal.contention = contention_terms(runs)
    for transport, push in cal.push.items():
        if "fanout" in push:
            derate_contention(cal.contention, transport, push["derated_by"])
    if runs[0].host_limits["container"]:
        cal.notes.append(f"hosts were runc containers, each with {host_limits_text(runs[0].host_limits)}")
    cal.p2p = calibrate_p2p(runs) or {}
    if cal.p2p:
        seeder = cal.network.get("origin_egress", cal.network.get("deploy_egress"))
        if seeder is None:
            cal.notes.append("p2p: key write, key-to-swarm and activation fitted; the hosts' swarm rate is NOT "
                             "fitted: no pull or push deploy measured the seeder's link")
        else:
            cap = cal.network["per_flow"] if cal.network["per_flow_identified"] else math.inf
            swarm = cal.p2p["swarm"] = fit_swarm_rate(cal.p2p["deploys"], seeder, cap)
            sizes = [len(d.starts) for d in cal.p2p["deploys"]]
            term = swarm_rate_term(cal.p2p["deploys"], sizes, seeder, cap)
            if term:
                cal.contention["p2p.host_rate"] = term
            cal.notes.append(
                f"p2p: key write, key-to-swarm and activation fitted; each host's swarm rate (upload = download) "
                f"{'fitted' if swarm.identified else 'NOT identified (lower bound)'}: {swarm.rate * 8 / 1e6:.3g} Mbit/s, "
                f"replaying {swarm.deploys} deploys through sim.deploy.swarm with the seeder at the fitted "
                f"{'origin' if 'origin_egress' in cal.network else 'deploy'} egress")
    if not runs[0].manifest.get("isolated", True):
        cal.notes.append("loopback runs (no namespaces, no shaping): bandwidths are the machine's, not a link's")
    return cal


def split_shaped(runs: list[BenchRun]) -> tuple[list[BenchRun], list[BenchRun]]:
    """(runs whose host links were shaped, the others). Only the others are fitted as usual: a shaped link
    caps every flow to its host, so those runs identify the host link's rate and nothing else."""
    shaped = [r for r in runs if r.host_link_rate > 0]
    plain = [r for r in runs if r.host_link_rate == 0]
    if shaped and not plain:
        raise UserError("every run had its hosts' links shaped (network.host_download): those runs identify the "
                        "host link only; calibrate them together with runs whose host links were unshaped")
    rates = sorted({r.host_link_rate * 8 / 1e6 for r in shaped})
    if len(rates) > 1:
        raise UserError(f"runs shaped their host links at different rates ({', '.join(f'{x:g} Mbit/s' for x in rates)}): "
                        "calibrate one host link rate at a time")
    return shaped, plain


def calibrate_host_link(shaped: list[BenchRun], cal: Calibration):
    """The host link's rate from the shaped runs' pulls, with the pull overhead, the origin egress and the
    per-flow ceiling held at what the unshaped runs gave (None without pull deploys on both sides)."""
    used = [(r, pull_strategy(r)) for r in shaped if pull_strategy(r) is not None]
    if not used or not cal.pull:
        cal.notes.append("host link: the shaped runs were not used (the host link is fitted from pull deploys, "
                         "with and without shaped host links)")
        return None
    groups = [(p.start.to_numpy(), p.end.to_numpy(), r.size, "pull") for r, p in ((r, phases(r, s)) for r, s in used)]
    cap = cal.network["per_flow"] if cal.network["per_flow_identified"] else math.inf
    return fit_host_link(groups, cal.pull["overhead"], cal.network["origin_egress"], cap, used[0][0].host_link_rate,
                         tuple(r.label for r, _ in used))


def fanout_transports(run: BenchRun) -> list[str]:
    """The transports a run pushed over at two fan-outs or more (a fan-out run: `scenarios/bench_widths.yaml`)."""
    widths: dict[str, set[int]] = {}
    for s in run.strategies():
        if s["kind"] == "push":
            widths.setdefault(s.get("transport", "ssh"), set()).add(int(s["parallel"]))
    return sorted(t for t, w in widths.items() if len(w) >= 2)


def split_fanouts(runs: list[BenchRun]) -> tuple[list[BenchRun], list[BenchRun]]:
    """(fan-out runs, the others). A fan-out run pushes one fleet at several widths: it identifies what one
    connection costs the deploy host (`connection_cpu`) and nothing else; the others are fitted as usual."""
    fanouts = [r for r in runs if fanout_transports(r)]
    plain = [r for r in runs if not fanout_transports(r)]
    if fanouts and not plain:
        raise UserError("every run pushed at several fan-outs: those runs identify what a connection costs the deploy "
                        "host only; calibrate them together with runs of one fan-out per transport")
    return fanouts, plain


def calibrate_fanouts(fanouts: list[BenchRun], cal: Calibration) -> None:
    """`connection_cpu` (on `deploy_cores: 1`: only their ratio is identified) of each transport a fan-out run
    pushed over, from its per-host times (`bench.analysis.fanout_fit`). The transport's phases were measured
    at the other runs' fan-out c, where the simulator slows them max(1, c * ratio) times: they are divided
    by that, so that the simulator gives back what was measured there and scales it elsewhere."""
    for transport in sorted({t for run in fanouts for t in fanout_transports(run)}):
        runs = [r for r in fanouts if transport in fanout_transports(r)]
        if len(runs) > 1:
            raise UserError(f"{len(runs)} runs pushed over {transport} at several fan-outs "
                            f"({'; '.join(r.label for r in runs)}): calibrate one fan-out run per transport")
        run, push = runs[0], cal.push.get(transport)
        if push is None:
            cal.notes.append(f"push over {transport}: the fan-out run ({run.label}) was not used (no run of one "
                             f"fan-out over {transport} to scale)")
            continue
        fit = fit_fanout(per_host_times(run, transport))
        factor = max(1.0, push["parallel"] * fit.ratio)
        for phase in ("connect", "activation"):
            push[phase] = {**push[phase], "median": push[phase]["median"] / factor, "p95": push[phase]["p95"] / factor}
        push["scan_per_file"] /= factor
        push["overhead"] /= factor
        push.update(fanout=fit, connection_cpu=fit.ratio, derated_by=factor, fanout_run=run.label)


def derate_contention(terms: dict, transport: str, factor: float) -> None:
    """Contention lines of a transport's phases, measured at the fan-out its phases were divided for (above)."""
    for phase in ("connect", "activation"):
        term = terms.get(f"push.{transport}.{phase}")
        if term:
            term.update(intercept=term["intercept"] / factor, per_host=term["per_host"] / factor)


def host_limits_text(limits: dict) -> str:
    """`0.5 cores and 256 MB memory`, `no CPU limit and no memory limit`, or `no container`."""
    if not limits["container"]:
        return "no container"
    cpu = f"{limits['cpu']:g} cores" if limits["cpu"] else "no CPU limit"
    memory = f"{limits['memory'] / 1e6:g} MB memory" if limits["memory"] else "no memory limit"
    return f"{cpu} and {memory}"


def network_of(cal: Calibration) -> dict:
    """Deploy egress from the push fits, origin egress from the pull fit, and the per-flow ceiling."""
    push_fits = [p["transfer"] for p in cal.push.values()][:1]  # one joint fit for every transport
    net = {}
    if push_fits:
        net["deploy_egress"] = push_fits[0].capacity
    if cal.pull:
        net["origin_egress"] = cal.pull["transfer"].capacity
        net["share"] = cal.pull["share"]
    fits = push_fits + ([cal.pull["transfer"]] if cal.pull else [])
    identified = [f for f in fits if f.ceiling_identified]
    net["per_flow_identified"] = bool(identified)
    net["per_flow"] = max(f.fastest_rate for f in fits) if fits else math.nan
    return net


# ---- the parameter file ----

def strategy_names(paths: list[Path | str]) -> tuple[dict, str | None]:
    """Bench strategy names: {transport: (name, parallel)} for pushes, and the pull's name."""
    pushes, pull = {}, None
    for run in find_runs(paths):
        for s in run.strategies():
            if s["kind"] == "push":
                pushes.setdefault(s.get("transport", "ssh"), (s["name"], int(s["parallel"])))
            elif s["kind"] == "pull" and pull is None:  # p2p: named by `p2p_strategy`
                pull = s["name"]
    return pushes, pull


def write(paths: list[Path | str], out: Path, command: str, wakeup: str = "lognormal") -> Calibration:
    """Calibrate and write `out` (YAML), `calibration.json` and `wakeup.csv` beside it (atomic renames).

    `wakeup="empirical"` makes the file name wakeup.csv by its ABSOLUTE path (written so since `sim` once
    resolved an included file's empirical paths against the including scenario's folder; it now uses
    the included file's own folder, so a relative name would work as well).
    """
    cal = calibrate(paths)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    csv_path = out.with_name("wakeup.csv")
    empirical = str(csv_path.resolve()) if wakeup == "empirical" and cal.pull else None
    pushes, pull = strategy_names(paths)
    p2p = next((n for r in find_runs(paths) if (n := p2p_strategy(r))), None)
    files = {out: render_params(cal, pushes, pull, command, empirical, p2p),
             out.with_name("calibration.json"): json.dumps(calibration_json(cal), indent=2, default=float) + "\n"}
    if cal.pull:
        rows = ["wakeup,to_first_byte"] + [f"{a:.6f},{b:.6f}" for a, b in zip(cal.pull["wake_values"],
                                                                              cal.pull["to_bytes_values"])]
        files[csv_path] = "\n".join(rows) + "\n"
    for path, text in files.items():
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text)
        tmp.replace(path)
    return cal


def command(results: list[Path] = typer.Argument(..., help="bench results folders (or folders holding them)"),
            out: Path = typer.Option(Path("params.yaml"), "--out", help="parameter file to write"),
            wakeup: str = typer.Option("lognormal", "--wakeup",
                                       help="wake-up as a lognormal fit, or empirical (wakeup.csv by absolute path)")) -> None:
    """Fit simulator parameters from bench runs; write a parameter file scenarios can `include:`."""
    if wakeup not in ("lognormal", "empirical"):
        raise UserError(f"--wakeup must be lognormal or empirical (got {wakeup!r})")
    cal = write(results, out, "deploysim calibrate " + " ".join(map(str, results)) + f" --out {out}", wakeup)
    print(f"calibrated from {len(cal.runs)} runs (fleet sizes {cal.sizes}); wrote {out}, "
          f"{out.with_name('calibration.json')}" + (f", {out.with_name('wakeup.csv')}" if cal.pull else ""))
    print(Path(out).read_text())
