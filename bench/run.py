"""One bench run: bring a fleet up, deploy a build by each strategy in turn, tear everything down.

Orchestration only: the fleet is the harness's (`bench.harness.fleet`), the deploys are the
protocols' (`bench.deploy.pull`, `push`, `rollout`). Each deploy yields a `DeployRecord`
(source="bench"); its times are seconds from the start of that deploy.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bench.config import BenchConfig, StrategySpec
from bench.deploy import rollout
from bench.deploy.p2p import deploy_p2p
from bench.deploy.pull import deploy_pull
from bench.deploy.push import deploy_push
from bench.harness.fleet import fleet, new_build
from sim.api import DeployRecord


@dataclass(frozen=True)
class BenchResult:
    run_id: str
    config: BenchConfig
    isolated: bool
    records: list[DeployRecord]
    not_reproduced: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    host_limits: dict = field(default_factory=dict)  # what each host had: container, cpu cores, memory bytes


def runnable(specs: tuple[StrategySpec, ...]) -> tuple[tuple[StrategySpec, ...], list[str]]:
    """Without root there is no sshd: ssh pushes go over the rsync daemon instead, and say so."""
    if os.geteuid() == 0:
        return specs, []
    moved = [s.name for s in specs if s.kind == "push" and s.transport == "ssh"]
    specs = tuple(replace(s, transport="daemon") if s.name in moved else s for s in specs)
    return specs, [f"no root: {name} pushed over the rsync daemon, not ssh" for name in moved]


def phases(cfg: BenchConfig, steps: list[float] | None = None, with_rollback: bool = False) -> int:
    """How many phases `run_bench` reports done (its progress bar's total): the fleet brought up, the
    baseline, each strategy's deploy, the staged rollout, the rollback."""
    return 1 + 2 * with_rollback + len(runnable(cfg.strategies)[0]) + bool(steps)


def deploy(f, build, s: StrategySpec, cfg: BenchConfig) -> DeployRecord:
    """One strategy's deploy of `build` on fleet `f`, by its kind."""
    if s.kind == "pull":
        return deploy_pull(f, build, name=s.name)
    if s.kind == "p2p":
        return deploy_p2p(f, build, piece_size=s.piece_size, seed_time=s.seed_time, connections=s.connections,
                          name=s.name)
    return deploy_push(f, build, parallel=s.parallel or cfg.parallel, name=s.name, transport=s.transport)


def run_bench(cfg: BenchConfig, steps: list[float] | None = None, with_rollback: bool = False,
              done: Callable[[str], None] = lambda phase: None) -> BenchResult:
    """Bring a fleet up, deploy one build by each strategy in turn, tear everything down.

    `steps` adds a staged pull rollout of a second build (one record per step); `with_rollback`
    deploys a baseline build first and, at the end, rolls the pull fleet back to it. `done` is told the
    name of each phase as it ends (`phases` counts them).
    """
    specs, notes = runnable(cfg.strategies)
    with fleet(cfg) as f:
        done("fleet up")
        baseline = new_build(f, f"b{cfg.seed}-base", seed=cfg.seed + 1) if with_rollback else None
        if baseline is not None:
            deploy_pull(f, baseline, name="baseline")
            done("baseline")
        build = new_build(f, f"b{cfg.seed}")
        records = []
        for s in specs:
            records.append(deploy(f, build, s, cfg))
            done(s.name)
        if steps:
            records += rollout.staged_rollout(f, new_build(f, f"b{cfg.seed}-staged", seed=cfg.seed + 2), steps)
            done("staged rollout")
        if baseline is not None:
            records.append(rollout.rollback(f, baseline))
            done("rollback")
        if not f.net.isolated:
            notes.append("loopback fallback: hosts are plain processes on 127.77.x.x, links unshaped")
        if f.fallback:
            notes.append(f.fallback)
        return BenchResult(f.run_id, cfg, f.net.isolated, records, not_reproduced=["latency", "loss", "jitter"],
                           notes=notes, host_limits=f.host_limits)
