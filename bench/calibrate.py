"""Calibration: fit simulator parameters from bench results folders (`manifest.json` + `hosts.csv`).

    deploysim calibrate bench/recorded/2026-11-26/n10 bench/recorded/2026-11-26/n100 --out params.yaml

What each per-host phase of a bench record is, and which simulator parameter it feeds:

| bench columns (per host)               | push (ssh / daemon)                 | pull                                 |
|----------------------------------------|-------------------------------------|--------------------------------------|
| transfer_start - signal                | `connect` (ssh master / module list)| agent woke -> HTTP request sent      |
| transfer_end - transfer_start          | rsync: fixed overhead + bytes/share | download: fixed overhead + bytes/share |
| done - transfer_end                    | `activation` (remote rename+symlink)| `activation` (untar, rename, symlink) |
| signal (pull, from the key write start)| -                                   | `key_write` + `wakeup`               |

The transfer phase is split into a fixed per-host overhead and a share of a bottleneck by REPLAYING
the flows through the simulator's own processor-sharing kernel (`sim.wave.run_wave`): for candidate
(overhead, capacity), every flow enters the bottleneck at its measured start plus the overhead, and
the fit minimises the squared error of the predicted against the measured transfer ends. The push
overhead becomes `scan_per_file` (overhead / files: with one file count per run, rsync's process
start and its file-list scan cannot be told apart); the pull overhead moves into the wake-up (the
simulator has no per-host step between waking and the first byte).

Identifiability: the shared capacity (deploy egress for push, origin egress for pull) shows when
flows overlap; the per-flow ceiling shows only when a flow runs alone below the shared capacity.
When no flow was faster than the shared capacity, the ceiling is NOT identified: the file says so
and writes the fastest observed flow rate as a lower bound.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import typer

from sim.errors import UserError

Z95 = 1.6448536269514722
PULL_MAKESPAN_WEIGHT = 10.0  # see fit_transfers


@dataclass(frozen=True)
class BenchRun:
    """One bench results folder: its manifest and its host rows."""

    folder: Path
    manifest: dict
    hosts: pd.DataFrame

    @property
    def fleet_size(self) -> int:
        return int(self.manifest["config"]["hosts"])

    @property
    def size(self) -> float:
        return float(self.manifest["config"]["size"])

    @property
    def files(self) -> int:
        return int(self.manifest["config"]["files"])

    @property
    def date(self) -> str:
        """The run's date: a YYYY-MM-DD folder in its path, else the manifest's modification day."""
        for part in reversed(self.folder.resolve().parts):
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", part):
                return part
        mtime = (self.folder / "manifest.json").stat().st_mtime
        return datetime.fromtimestamp(mtime, timezone.utc).date().isoformat()

    @property
    def label(self) -> str:
        return f"run {self.manifest.get('run_id', '?')}, {self.date}, {self.fleet_size} hosts"

    def strategies(self) -> list[dict]:
        """The bench strategies of the run (name, kind, parallel, transport)."""
        return list(self.manifest["config"]["strategies"])

    def deploy(self, strategy: str) -> dict:
        return next((d for d in self.manifest.get("deploys", []) if d["strategy"] == strategy), {})


def find_runs(paths: list[Path | str]) -> list[BenchRun]:
    """Every bench results folder at or under `paths` (a folder with a bench `manifest.json`)."""
    runs = []
    for path in map(Path, paths):
        manifests = [path / "manifest.json"] if (path / "manifest.json").is_file() else sorted(path.rglob("manifest.json"))
        for m in manifests:
            run = load_run(m.parent)
            if run is not None:
                runs.append(run)
    if not runs:
        raise UserError(f"{', '.join(map(str, paths))}: no bench results folder (manifest.json with source 'bench')")
    return sorted(runs, key=lambda r: (r.fleet_size, str(r.folder)))


def load_run(folder: Path) -> BenchRun | None:
    """A bench results folder, or None when the manifest is not a bench one (e.g. a simulator run)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise UserError(f"{folder}/manifest.json: cannot read ({error})") from None
    if manifest.get("source") != "bench":
        return None
    if manifest.get("format_version") != 1:
        raise UserError(f"{folder}/manifest.json: bench format {manifest.get('format_version')!r} is not supported")
    try:
        hosts = pd.read_csv(folder / "hosts.csv", keep_default_na=True)
    except OSError as error:
        raise UserError(f"{folder}/hosts.csv: cannot read ({error})") from None
    return BenchRun(folder, manifest, hosts)


def phases(run: BenchRun, strategy: str) -> pd.DataFrame:
    """Per-host phase durations of one strategy's first-attempt, updated hosts (seconds)."""
    h = run.hosts[(run.hosts.strategy == strategy) & run.hosts.done.notna() & (run.hosts.attempts == 1)]
    return pd.DataFrame({
        "host": h.host.to_numpy(),
        "signal": h.signal.to_numpy(),
        "start": h.transfer_start.to_numpy(),
        "end": h.transfer_end.to_numpy(),
        "lead": (h.transfer_start - h.signal).to_numpy(),
        "transfer": (h.transfer_end - h.transfer_start).to_numpy(),
        "activation": (h.done - h.transfer_end).to_numpy(),
        "done": h.done.to_numpy(),
    })


# ---- transfers: fixed overhead + processor sharing, replayed through the simulator's kernel ----

def replay_ends(starts: np.ndarray, size: float, overhead: float, capacity: float,
                flow_cap: float = math.inf) -> np.ndarray:
    """Transfer ends if each flow enters a shared bottleneck at start + overhead (sim.wave's kernel)."""
    from sim.wave import run_wave  # numba: compiled on first use, so imported late

    n = len(starts)
    t0 = float(starts.min())
    pre = np.asarray(starts - t0 + overhead, dtype=float)
    _, _, t_end, _, _ = run_wave(t0, n, pre, np.zeros(n), np.zeros(n, np.int64), 0.0, np.empty(0), float(size),
                                 float(capacity), float(flow_cap), np.argsort(pre, kind="stable").astype(np.int64))
    return t_end


@dataclass(frozen=True)
class TransferFit:
    """Fixed per-flow overheads (one per label) and the shared capacity that best replay the transfers."""

    overheads: dict          # label -> seconds per flow before bytes flow (rsync start + scan, HTTP request)
    capacity: float          # bytes/s of the shared bottleneck
    rmse: float              # seconds, over all flows
    flows: int
    fastest_rate: float      # per-flow ceiling (bytes/s) if identified, else its lower bound
    ceiling_identified: bool  # did a finite per-flow ceiling explain the data better than none?


Group = tuple  # (starts, ends, bytes per flow, label): flows of one deploy, concurrent on one bottleneck


def fit_transfers(groups: list[Group], capacity: float | None = None, makespan_weight: float = 0.0) -> TransferFit:
    """Fit one overhead per label, one shared capacity[, a per-flow ceiling] over groups of flows.

    The loss is the mean squared error of the flows' ends plus, weighted `makespan_weight` times,
    that of each group's LAST end. For pull (`PULL_MAKESPAN_WEIGHT`) the last end is the deploy's
    makespan, which the bytes through a work-conserving bottleneck fix whatever the sharing; real
    TCP flows through one tbf queue do not share fairly (their ends spread where processor sharing
    ends them together), so the makespan comes first. For push the slots' pipeline makes the deploy
    time a sum of per-host phases, so every flow counts alike (weight 0).
    One capacity for all labels: the simulator has one deploy egress for every push strategy, so
    what one transport loses to its own costs (ssh encryption) lands in that transport's overhead.
    A per-flow ceiling is then fitted too; it counts as identified only when it cuts the loss by
    10% or more. Otherwise the smallest ceiling that costs under 5% more loss than none is reported
    as a lower bound (`fastest_rate`). A given `capacity` is held: only the overheads are fitted.
    """
    from scipy.optimize import minimize

    if capacity is not None:
        return fit_overheads(groups, capacity, makespan_weight=makespan_weight)

    labels = sorted({g[3] for g in groups})
    tops = {lb: float(np.percentile(np.concatenate([e - s for s, e, _, l in groups if l == lb]), 5)) for lb in labels}
    k = len(labels)

    def loss(x, flow_cap=math.inf) -> float:
        over = {lb: min(max(x[i], 0.0), tops[lb]) for i, lb in enumerate(labels)}
        capacity = math.exp(min(x[k], 60.0))
        cap = math.exp(min(x[k + 1], 60.0)) if len(x) > k + 1 else flow_cap
        pred = [replay_ends(s, size, over[lb], capacity, cap) for s, _, size, lb in groups]
        errs = np.concatenate([p - g[1] for p, g in zip(pred, groups)])
        last = np.array([p.max() - g[1].max() for p, g in zip(pred, groups)])
        return float(np.mean(errs ** 2) + makespan_weight * np.mean(last ** 2))

    bytes_total = sum(size * len(s) for s, _, size, _ in groups)
    span = sum(float(e.max() - s.min()) for s, e, _, _ in groups)
    grid = [[*(f * tops[lb] for lb in labels), math.log(c)] for f in np.linspace(0, 1, 11)
            for c in np.geomspace(bytes_total / span / 20, bytes_total / span * 50, 40)]
    best = min(grid, key=loss)
    opts = {"xatol": 1e-4, "fatol": 1e-10, "maxiter": 4000}
    res = minimize(loss, np.array(best), method="Nelder-Mead", options=opts)
    base = loss(res.x)
    starts = [np.array([*(f * tops[lb] for lb in labels), res.x[k] + dc, res.x[k] + df])
              for f in np.linspace(0, 1, 6) for dc in (0.0, 0.5) for df in (-1.5, -0.7, -0.2, 0.3)]
    res3 = min((minimize(loss, x0, method="Nelder-Mead", options=opts) for x0 in starts), key=lambda r: r.fun)
    flows = sum(len(g[0]) for g in groups)
    if res3.fun < 0.9 * base:
        over = {lb: min(max(float(res3.x[i]), 0.0), tops[lb]) for i, lb in enumerate(labels)}
        return TransferFit(over, math.exp(res3.x[k]), math.sqrt(res3.fun), flows, math.exp(res3.x[k + 1]), True)
    over = {lb: min(max(float(res.x[i]), 0.0), tops[lb]) for i, lb in enumerate(labels)}
    capacity = math.exp(float(res.x[k]))
    caps = np.geomspace(capacity / 50, capacity * 2, 30)
    profile = np.array([loss(res.x, c) for c in caps])
    ok = caps[profile <= 1.05 * base]
    return TransferFit(over, capacity, math.sqrt(base), flows, float(ok.min() if len(ok) else capacity), False)


def fit_overheads(groups: list[Group], capacity: float, flow_cap: float = math.inf,
                  makespan_weight: float = 0.0) -> TransferFit:
    """One overhead per label with the shared capacity (and per-flow ceiling) held; loss as `fit_transfers`."""
    from scipy.optimize import minimize_scalar

    over, errs = {}, []
    for lb in sorted({g[3] for g in groups}):
        mine = [g for g in groups if g[3] == lb]
        top = float(np.percentile(np.concatenate([e - s for s, e, _, _ in mine]), 5))

        def loss(o: float) -> float:
            pred = [replay_ends(s, size, o, capacity, flow_cap) for s, _, size, _ in mine]
            err = np.concatenate([p - g[1] for p, g in zip(pred, mine)])
            last = np.array([p.max() - g[1].max() for p, g in zip(pred, mine)])
            return float(np.mean(err ** 2) + makespan_weight * np.mean(last ** 2))

        res = minimize_scalar(loss, bounds=(0.0, top), method="bounded", options={"xatol": 1e-4})
        over[lb] = float(res.x)
        errs.append(loss(res.x) * sum(len(g[0]) for g in mine))
    flows = sum(len(g[0]) for g in groups)
    return TransferFit(over, capacity, math.sqrt(sum(errs) / flows), flows, min(flow_cap, capacity),
                       flow_cap < math.inf)


def fit_push(groups: list[Group]) -> TransferFit:
    """The deploy egress from the rsync-daemon flows when there are any, then every transport's overhead.

    The daemon protocol adds no encryption, so its flows identify the link; ssh's extra cost (cipher,
    session start) at this build size then lands in ssh's overhead, with the egress held. Without
    daemon flows, one joint fit.
    """
    daemon = [g for g in groups if g[3] == "daemon"]
    if not daemon or len(daemon) == len(groups):
        return fit_transfers(groups)
    link = fit_transfers(daemon)
    cap = link.fastest_rate if link.ceiling_identified else math.inf
    rest = fit_overheads([g for g in groups if g[3] != "daemon"], link.capacity, cap)
    flows = link.flows + rest.flows
    rmse = math.sqrt((link.rmse ** 2 * link.flows + rest.rmse ** 2 * rest.flows) / flows)
    return TransferFit({**link.overheads, **rest.overheads}, link.capacity, rmse, flows, link.fastest_rate,
                       link.ceiling_identified)


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
    network: dict = field(default_factory=dict)
    contention: dict = field(default_factory=dict)  # phase -> linear fit in fleet size
    wakeups: np.ndarray = field(default_factory=lambda: np.empty(0))
    notes: list[str] = field(default_factory=list)


def push_strategy(run: BenchRun, transport: str) -> str | None:
    return next((s["name"] for s in run.strategies() if s["kind"] == "push" and s.get("transport") == transport), None)


def pull_strategy(run: BenchRun) -> str | None:
    return next((s["name"] for s in run.strategies() if s["kind"] == "pull"), None)


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
    return {"connect": lognormal_fit(connect), "activation": lognormal_fit(activation),
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
    fit = fit_transfers([(p.start.to_numpy(), p.end.to_numpy(), r.size, "pull") for (r, _), p in zip(used, ph)],
                        makespan_weight=PULL_MAKESPAN_WEIGHT)
    overhead = fit.overheads["pull"]
    writes = np.array([key_write_of(r, s, p) for (r, s), p in zip(used, ph)])
    recorded = any("release_signalled" in r.deploy(s) for r, s in used)
    wake = np.concatenate([np.maximum(p.signal.to_numpy() - kw, 0.0) for p, kw in zip(ph, writes)])
    to_bytes = np.concatenate([np.maximum(p.start.to_numpy() + overhead - kw, 0.0) for p, kw in zip(ph, writes)])
    activation = np.concatenate([p.activation.to_numpy() for p in ph])
    return {"key_write": lognormal_fit(writes), "key_write_recorded": recorded, "wakeup": lognormal_fit(wake),
            "to_first_byte": lognormal_fit(to_bytes), "activation": lognormal_fit(activation),
            "overhead": overhead, "transfer": fit, "wake_values": wake, "to_bytes_values": to_bytes,
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
    return terms


def calibrate(paths: list[Path | str]) -> Calibration:
    """Fit every parameter the given bench runs identify (see the module docstring)."""
    runs = find_runs(paths)
    sizes = {(r.size, r.files) for r in runs}
    if len(sizes) > 1:
        raise UserError(f"runs differ in artifact size/files {sorted(sizes)}: calibrate one build at a time")
    cal = Calibration(runs=[r.label for r in runs], sizes=sorted({r.fleet_size for r in runs}),
                      size=runs[0].size, files=runs[0].files)
    groups = push_groups(runs)
    push_fit = fit_push(groups) if groups else None
    for transport in ("ssh", "daemon"):
        fitted = calibrate_push(runs, transport, push_fit) if push_fit else None
        if fitted:
            cal.push[transport] = fitted
    pull = calibrate_pull(runs)
    if pull:
        cal.pull = pull
        cal.wakeups = pull["to_bytes_values"]
    cal.network = network_of(cal)
    cal.contention = contention_terms(runs)
    if not runs[0].manifest.get("isolated", True):
        cal.notes.append("loopback runs (no namespaces, no shaping): bandwidths are the machine's, not a link's")
    return cal


def network_of(cal: Calibration) -> dict:
    """Deploy egress from the push fits, origin egress from the pull fit, and the per-flow ceiling."""
    push_fits = [p["transfer"] for p in cal.push.values()][:1]  # one joint fit for every transport
    net = {}
    if push_fits:
        net["deploy_egress"] = push_fits[0].capacity
    if cal.pull:
        net["origin_egress"] = cal.pull["transfer"].capacity
    fits = push_fits + ([cal.pull["transfer"]] if cal.pull else [])
    identified = [f for f in fits if f.ceiling_identified]
    net["per_flow_identified"] = bool(identified)
    net["per_flow"] = max(f.fastest_rate for f in fits) if fits else math.nan
    return net


# ---- the parameter file ----

def _s(x: float) -> str:
    """A duration for a scenario file, 4 significant digits."""
    return f"{x * 1e3:.4g}ms" if x < 1 else f"{x:.4g}s"


def _rate(x: float) -> str:
    return f"{x * 8 / 1e6:.4g}Mbps"


def _lognormal(fit: dict) -> str:
    return f"{{dist: lognormal, median: {_s(fit['median'])}, p95: {_s(fit['p95'])}}}"


def _sources(labels: list[str]) -> str:
    return "; ".join(labels)


def push_lines(name: str, parallel: int, p: dict, files: int) -> list[str]:
    t = p["transfer"]
    src = _sources(p["runs"])
    return [
        f"  {name}:",
        "    kind: push",
        f"    parallel: {parallel}                      # as on the bench (the including scenario wins)",
        f"    connect: {_lognormal(p['connect'])}",
        f"      # median and p95 of transfer_start - signal over {p['connect']['n']} first-attempt hosts ({src})",
        f"    scan_per_file: {_s(p['scan_per_file'])}",
        f"      # fitted fixed rsync overhead {_s(p['overhead'])} per host / {files} files: replay of {p['flows']} flows",
        "      # through sim.wave's processor sharing (joint fit, rmse " + f"{t.rmse:.3f}s); holds rsync's process",
        "      # start, and for ssh the encryption cost of this build size, too",
        f"    activation: {_lognormal(p['activation'])}",
        f"      # median and p95 of done - transfer_end over {p['activation']['n']} hosts ({src})",
    ]


def pull_lines(name: str, p: dict, empirical: str | None) -> list[str]:
    t, src = p["transfer"], _sources(p["runs"])
    kw = ("median and p95 of the recorded key writes" if p["key_write_recorded"] else
          "NOT recorded by the bench: estimated per deploy as the earliest agent's wake-up (an upper bound)")
    wake = (f"{{dist: empirical, file: {empirical}, column: to_first_byte}}" if empirical
            else _lognormal(p["to_first_byte"]))
    return [
        f"  {name}:",
        "    kind: pull",
        f"    key_write: {_lognormal(p['key_write'])}",
        f"      # {kw} ({p['key_write']['n']} deploys)",
        f"    wakeup: {wake}",
        f"      # key committed -> first byte requested: agent wake-up (median {_s(p['wakeup']['median'])}, "
        f"p95 {_s(p['wakeup']['p95'])})",
        f"      # plus request start and the fitted download overhead {_s(p['overhead'])}; {p['to_first_byte']['n']} hosts "
        f"({src}); per-host values in wakeup.csv",
        "    verify_rate: 1000GB/s",
        "      # the bench agent hashes while downloading: verification adds nothing after the transfer",
        f"    activation: {_lognormal(p['activation'])}",
        f"      # median and p95 of done - transfer_end (untar, rename, symlink) over {p['activation']['n']} hosts",
    ]


def network_lines(cal: Calibration) -> list[str]:
    net, lines = cal.network, ["network:"]
    if "deploy_egress" in net:
        t = next(iter(cal.push.values()))["transfer"]
        lines += [f"  deploy_egress: {_rate(net['deploy_egress'])}",
                  f"    # shared capacity of the push flows ({', '.join(cal.push)}; {t.flows} flows), replayed through",
                  f"    # sim.wave (rmse {t.rmse:.3f}s); fitted on the rsync-daemon flows when present (no cipher),",
                  "    # ssh's own costs then land in its overhead (scan_per_file). Weakly identified when few",
                  "    # pushes overlap on the link (k slots, transfers a fraction of each slot's time); on the",
                  "    # bench the deploy host also serves the pulls, so origin_egress measures the same link"]
    if "origin_egress" in net:
        t = cal.pull["transfer"]
        lines += [f"  origin_egress: {_rate(net['origin_egress'])}",
                  f"    # shared capacity of the pull downloads, replayed through sim.wave ({t.flows} flows, "
                  f"rmse {t.rmse:.3f}s)"]
    if net["per_flow_identified"]:
        lines += [f"  per_flow: {_rate(net['per_flow'])}", "    # fitted: a finite per-flow ceiling explained lone flows"]
    else:
        lines += [f"  per_flow: {_rate(max(net['per_flow'], net.get('deploy_egress', 0), net.get('origin_egress', 0)))}",
                  f"    # NOT identified: no flow ran below the shared capacity; lower bound {_rate(net['per_flow'])}",
                  "    # (written as at least the larger shared capacity, so it never binds)",
                  "  host_download: 10Gbps",
                  "    # NOT identified: the bench leaves host links unshaped (its tbf caps a member's egress)"]
    return lines


def render_params(cal: Calibration, push_names: dict, pull_name: str | None, command: str,
                  empirical: str | None = None) -> str:
    """The parameter file's text: partial scenario sections with a comment on every fitted value."""
    head = [
        "# deploysim parameters calibrated from real bench runs (include: this file from a scenario).",
        f"# written by: {command}",
        f"# on: {datetime.now(timezone.utc).date().isoformat()}; from: {_sources(cal.runs)}",
        f"# build on the bench: {cal.size:.0f} bytes in {cal.files} files; fleet sizes {cal.sizes}",
        "# Per-host values are first-attempt hosts that were updated. Fitting method: bench/calibrate.py.",
    ]
    for note in cal.notes:
        head.append(f"# note: {note}")
    if cal.contention:
        head.append("# Contention on the bench machine (median = a + b * hosts; in calibration.json, applied")
        head.append("# only by `deploysim validate-model --contention`):")
        for key, term in cal.contention.items():
            head.append(f"#   {key}: a {_s(term['intercept'])}, b {term['per_host'] * 1e3:+.3f} ms/host"
                        f" (sizes {term['sizes']})")
    body = network_lines(cal) + ["strategies:"]
    for transport, (name, parallel) in push_names.items():
        if transport in cal.push:
            body += push_lines(name, parallel, cal.push[transport], cal.files)
    if pull_name and cal.pull:
        body += pull_lines(pull_name, cal.pull, empirical)
    return "\n".join(head + body) + "\n"


def calibration_json(cal: Calibration) -> dict:
    """Everything fitted, machine-readable (written beside the parameter file)."""
    def clean(d: dict) -> dict:
        out = {}
        for k, v in d.items():
            if isinstance(v, TransferFit):
                out[k] = v.__dict__
            elif isinstance(v, np.ndarray):
                continue
            elif isinstance(v, dict):
                out[k] = clean(v)
            else:
                out[k] = v
        return out
    return {"format": "deploysim-calibration", "format_version": 1, "runs": cal.runs, "sizes": cal.sizes,
            "size": cal.size, "files": cal.files, "push": {k: clean(v) for k, v in cal.push.items()},
            "pull": clean(cal.pull), "network": cal.network, "contention": cal.contention, "notes": cal.notes}


def strategy_names(paths: list[Path | str]) -> tuple[dict, str | None]:
    """Bench strategy names: {transport: (name, parallel)} for pushes, and the pull's name."""
    pushes, pull = {}, None
    for run in find_runs(paths):
        for s in run.strategies():
            if s["kind"] == "push":
                pushes.setdefault(s.get("transport", "ssh"), (s["name"], int(s["parallel"])))
            elif pull is None:
                pull = s["name"]
    return pushes, pull


def write(paths: list[Path | str], out: Path, command: str, wakeup: str = "lognormal") -> Calibration:
    """Calibrate and write `out` (YAML), `calibration.json` and `wakeup.csv` beside it (atomic renames).

    `wakeup="empirical"` makes the file name wakeup.csv by its ABSOLUTE path: `sim` resolves an
    empirical file against the including scenario's folder, not the parameter file's.
    """
    cal = calibrate(paths)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    csv_path = out.with_name("wakeup.csv")
    empirical = str(csv_path.resolve()) if wakeup == "empirical" and cal.pull else None
    pushes, pull = strategy_names(paths)
    files = {out: render_params(cal, pushes, pull, command, empirical),
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
    from rich.console import Console

    try:
        if wakeup not in ("lognormal", "empirical"):
            raise UserError(f"--wakeup must be lognormal or empirical (got {wakeup!r})")
        cal = write(results, out, "deploysim calibrate " + " ".join(map(str, results)) + f" --out {out}", wakeup)
    except UserError as error:
        for problem in error.problems:
            Console(stderr=True).print(problem.render(), markup=False)
        raise typer.Exit(error.exit_code)
    print(f"calibrated from {len(cal.runs)} runs (fleet sizes {cal.sizes}); wrote {out}, "
          f"{out.with_name('calibration.json')}" + (f", {out.with_name('wakeup.csv')}" if cal.pull else ""))
    print(Path(out).read_text())
