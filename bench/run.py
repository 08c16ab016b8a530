"""One bench run: bring a fleet up, deploy a build by each strategy in turn, tear everything down.

Orchestration only: the fleet is the harness's (`bench.harness.fleet`), the deploys are the
protocols' (`bench.deploy.pull`, `push`, `rollout`). Each deploy yields a `DeployRecord`
(source="bench"); its times are seconds from the start of that deploy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from bench.config import BenchConfig, StrategySpec
from bench.deploy import rollout
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
