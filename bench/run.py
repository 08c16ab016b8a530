"""One bench run: deploy a real build by pull and by push, and return `DeployRecord`s (source="bench").

Times in records are seconds from the moment the deploy was started (the release key write for
pull, the first rsync slot for push), on the CLOCK_MONOTONIC that every process of the machine
shares. Pull's `extra` holds the fan-out latency (key commit to each agent waking).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from bench import agent, netns, push
from bench.artifact import Build, make_build, tree_digest
from bench.consul_cluster import RELEASE_KEY, STATUS_PREFIX
from bench.fleet import BenchConfig, Fleet, StrategySpec, fleet
from sim.results.records import DeployRecord

NAN = float("nan")


@dataclass(frozen=True)
class HostRow:
    host: str
    attempts: int
    signal: float
    transfer_start: float
    transfer_end: float
    done: float
    reason: str


@dataclass(frozen=True)
class BenchResult:
    run_id: str
    config: BenchConfig
    isolated: bool
    records: list[DeployRecord]
    not_reproduced: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def host_index(name: str) -> int:
    return int(name.lstrip("h"))


def to_record(strategy: str, kind: str, rows: list[HostRow], signalled: float, extra: dict) -> DeployRecord:
    col = lambda attr, dtype=float: np.array([getattr(r, attr) for r in rows], dtype=dtype)  # noqa: E731
    n = len(rows)
    return DeployRecord(strategy=strategy, kind=kind, fleet_size=n, replication=0, release_signalled=signalled,
                        host=np.array([host_index(r.host) for r in rows], dtype=np.int64),
                        tier=np.array(["production"] * n, dtype=object), zone=np.zeros(n, dtype=np.int64),
                        attempts=col("attempts", np.int64), signal=col("signal"),
                        transfer_start=col("transfer_start"), transfer_end=col("transfer_end"),
                        done=col("done"), reason=np.array([r.reason for r in rows], dtype=object),
                        source="bench", extra=extra)


def publish(f: Fleet, build: Build) -> None:
    (f.folder / "artifacts" / build.tarball.name).write_bytes(build.tarball.read_bytes())


def write_release(f: Fleet, build: Build, percent: float, url: str | None = None) -> tuple[float, float, int]:
    """Write the release key as the deploy host; returns (start, commit, modify index)."""
    value = json.dumps({"build": build.build_id, "url": url or f.server.url(build.tarball.name),
                        "sha256": build.sha256, "percent": percent,
                        "serial": time.monotonic_ns()})  # an identical value would not bump the index
    with netns.inside(f.deploy.ns):
        c = f.cluster.api(f.cluster.tokens.deploy)
        t0 = time.monotonic()
        if not c.kv.put(RELEASE_KEY, value):
            raise RuntimeError("release key write refused")
        t1 = time.monotonic()
        _, entry = c.kv.get(RELEASE_KEY)
    return t0, t1, int(entry["ModifyIndex"])


def read_statuses(f: Fleet, index: int) -> dict[str, dict]:
    with netns.inside(f.deploy.ns):
        _, entries = f.cluster.api(f.cluster.tokens.deploy).kv.get(STATUS_PREFIX, recurse=True)
    out = {}
    for e in entries or []:
        st = json.loads(e["Value"])
        if st.get("release_index") == index:
            out[st["host"]] = st
    return out


def settled(st: dict | None, max_attempts: int = 4) -> bool:
    return st is not None and (st["state"] in ("active", "skipped") or st["attempts"] >= max_attempts)


def wait_pull(f: Fleet, index: int, expect: list[str], timeout: float) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    statuses: dict[str, dict] = {}
    while time.monotonic() < deadline:
        statuses = read_statuses(f, index)
        if all(settled(statuses.get(h)) for h in expect):
            break
        time.sleep(0.2)
    return statuses


def pull_row(name: str, st: dict | None, t0: float, chosen: bool) -> HostRow:
    if not chosen:
        return HostRow(name, 0, NAN, NAN, NAN, NAN, "not selected (rollout bucket or earlier step)")
    if st is None:
        return HostRow(name, 0, NAN, NAN, NAN, NAN, "no status: agent down or unreachable")
    rel = lambda k: st[k] - t0 if st.get(k) is not None else NAN  # noqa: E731
    done = rel("done") if st["state"] == "active" else NAN
    return HostRow(name, st["attempts"], rel("woke"), rel("transfer_start"), rel("transfer_end"), done,
                   st["reason"] if st["state"] != "active" else "")


def fanout(statuses: dict[str, dict], t_write: float) -> dict:
    """Latency from the start of the release write to each agent waking (includes the Raft commit)."""
    lat = np.array([s["first_woke"] - t_write for s in statuses.values()], dtype=float)
    if not len(lat):
        return {"fanout_n": 0}
    return {"fanout_n": int(len(lat)), "fanout_p50": float(np.percentile(lat, 50)),
            "fanout_p99": float(np.percentile(lat, 99)), "fanout_max": float(lat.max())}


def deploy_pull(f: Fleet, build: Build, percent: float = 100.0, timeout: float | None = None,
                name: str = "pull") -> DeployRecord:
    """Write the release key, wait for every selected host to settle, return the record."""
    t0, t_commit, index = write_release(f, build, percent)
    return collect_pull(f, build, index, t0, t_commit, percent, timeout, name)


def collect_pull(f: Fleet, build: Build, index: int, t0: float, t_commit: float, percent: float = 100.0,
                 timeout: float | None = None, name: str = "pull") -> DeployRecord:
    """Wait for the hosts to settle on release `index` (or the timeout); every host gets a row.

    Called again after a fault ends, it measures convergence: times stay relative to the write.
    """
    names = [m.name for m in f.hosts]
    chosen = {h: agent.selected(h, percent) for h in names}
    statuses = wait_pull(f, index, [h for h in names if chosen[h]], timeout or f.config.timeout)
    rows = [pull_row(h, statuses.get(h), t0, chosen[h]) for h in names]
    extra = {"percent": percent, "build": build.build_id, "release_index": index, "release_signalled": t_commit - t0,
             **fanout(statuses, t0)}
    return to_record(name, "pull", rows, t_commit - t0, extra)


def deploy_push(f: Fleet, build: Build, parallel: int | None = None, name: str | None = None,
                transport: str = "ssh") -> DeployRecord:
    """rsync the build to every host, `parallel` at a time, into the strategy's own app folder."""
    k = parallel or f.config.parallel
    name = name or f"push-{transport}-k{k}"
    roots = {m.name: f.push_root(m.name, name) for m in f.hosts}
    results = push.push_all(f.hosts, f.deploy.ns, build.tree, build.build_id, roots, f.keys,
                            f.folder / "push-work" / name, parallel=k, timeout=f.config.timeout,
                            transport=transport)
    t0 = min(r.signal for r in results)
    rows = [HostRow(r.host, r.attempts, r.signal - t0, r.transfer_start - t0, r.transfer_end - t0,
                    r.done - t0, r.reason) for r in results]
    connect = np.array([r.connect for r in results])
    extra = {"parallel": k, "transport": transport, "build": build.build_id,
             "connect_mean": float(connect.mean()), "connect_max": float(connect.max())}
    return to_record(name, "push", rows, 0.0, extra)


def current_ok(root: Path, build: Build) -> bool:
    """`current` points at releases/<build> and its tree equals the build's tree."""
    link = root / "current"
    return (link.is_symlink() and Path(link.readlink()).name == build.build_id
            and tree_digest(link.resolve()) == tree_digest(build.tree))


def new_build(f: Fleet, build_id: str, seed: int | None = None) -> Build:
    cfg = f.config
    build = make_build(f.folder / "builds", build_id, cfg.size, cfg.files, cfg.seed if seed is None else seed)
    publish(f, build)
    return build


def runnable(specs: tuple[StrategySpec, ...]) -> tuple[tuple[StrategySpec, ...], list[str]]:
    """Without root there is no sshd: ssh pushes go over the rsync daemon instead, and say so."""
    if os.geteuid() == 0:
        return specs, []
    moved = [s.name for s in specs if s.kind == "push" and s.transport == "ssh"]
    specs = tuple(replace(s, transport="daemon") if s.name in moved else s for s in specs)
    return specs, [f"no root: {name} pushed over the rsync daemon, not ssh" for name in moved]


def run_bench(cfg: BenchConfig, steps: list[float] | None = None, with_rollback: bool = False) -> BenchResult:
    """Bring a fleet up, deploy one build by each strategy in turn, tear everything down.

    `steps` adds a staged pull rollout of a second build (one record per step); `with_rollback`
    deploys a baseline build first and, at the end, rolls the pull fleet back to it.
    """
    from bench import rollout

    specs, notes = runnable(cfg.strategies)
    with fleet(cfg) as f:
        baseline = new_build(f, f"b{cfg.seed}-base", seed=cfg.seed + 1) if with_rollback else None
        if baseline is not None:
            deploy_pull(f, baseline, name="baseline")
        build = new_build(f, f"b{cfg.seed}")
        records = [deploy_pull(f, build, name=s.name) if s.kind == "pull"
                   else deploy_push(f, build, parallel=s.parallel or cfg.parallel, name=s.name,
                                    transport=s.transport)
                   for s in specs]
        if steps:
            records += rollout.staged_rollout(f, new_build(f, f"b{cfg.seed}-staged", seed=cfg.seed + 2), steps)
        if baseline is not None:
            records.append(rollout.rollback(f, baseline))
        if not f.net.isolated:
            notes.append("loopback fallback: hosts are plain processes on 127.77.x.x, links unshaped")
        return BenchResult(f.run_id, cfg, f.net.isolated, records, not_reproduced=["latency", "loss", "jitter"],
                           notes=notes)
