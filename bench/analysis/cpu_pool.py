"""Hosts that share one machine's cores: their activations replayed as processor sharing.

On the bench every host is a container on the same 2 cores, so a host's activation (untar, rename,
symlink) waits for the CPU that every other host activating at that moment wants too. Model: each
activation is `work` CPU-seconds; the n activations under way share `cores` equally, none faster
than one core (processor sharing). Replayed from each host's measured transfer end, the pool gives
its activation time; one `work` for every run (the machine's cores held) is fitted to the runs'
activation median, p95 and max on a log scale.

This is the term the simulator lacks (`bench/recorded/2026-12-03/README.md`): the calibration's
contention lines make activation a function of fleet size, but what sets it is how many hosts
activate at once, which the pulls' spread of ends decides (50 hosts behind 16 Mbit/s links took
0.32 s where 50 unshaped ones took 0.77 s). The simulator has no shared-CPU pool, so this is an
analysis of the recorded runs, not yet a fitted simulator parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bench.analysis.runs import BenchRun, phases

WORKS = np.geomspace(0.005, 2.0, 400)  # CPU-seconds per activation, searched


def pool_ends(arrivals: np.ndarray, work: float, cores: float) -> np.ndarray:
    """When each job ends if every job needs `work` CPU-seconds and the jobs under way share `cores`
    equally, each at most one core (arrival order kept: with equal work, jobs end in the order they came)."""
    order = np.argsort(arrivals, kind="stable")
    a = np.asarray(arrivals, dtype=float)[order]
    n = len(a)
    done, target = np.empty(n), np.empty(n)
    t, virtual, head, came = (a[0] if n else 0.0), 0.0, 0, 0  # virtual: CPU-seconds each active job has had
    while head < n:
        if came == head:  # nothing under way: jump to the next arrival
            t = max(t, a[came])
            target[came], came = virtual + work, came + 1
            continue
        rate = min(1.0, cores / (came - head))
        ends = t + (target[head] - virtual) / rate
        if came < n and a[came] < ends:
            virtual += (a[came] - t) * rate
            t = a[came]
            target[came], came = virtual + work, came + 1
        else:
            virtual, t = target[head], ends
            done[head], head = t, head + 1
    out = np.empty(n)
    out[order] = done
    return out


@dataclass(frozen=True)
class PoolDeploy:
    """One deploy's measured transfer ends and activation times, and its label."""

    label: str
    ends: np.ndarray
    activation: np.ndarray


def pool_deploys(runs: list[BenchRun], kind: str = "pull") -> list[PoolDeploy]:
    """Every run's deploy of the first strategy of `kind` (first-attempt, updated hosts)."""
    out = []
    for run in runs:
        name = next((s["name"] for s in run.strategies() if s["kind"] == kind), None)
        if name is not None:
            p = phases(run, name)
            out.append(PoolDeploy(run.label, p.end.to_numpy(dtype=float), p.activation.to_numpy(dtype=float)))
    return out


def summary(values: np.ndarray) -> tuple[float, float, float]:
    return float(np.median(values)), float(np.percentile(values, 95)), float(np.max(values))


def predicted(deploy: PoolDeploy, work: float, cores: float) -> tuple[float, float, float]:
    """Median, p95 and max activation the pool gives this deploy's hosts."""
    return summary(pool_ends(deploy.ends, work, cores) - deploy.ends)


@dataclass(frozen=True)
class PoolFit:
    work: float       # CPU-seconds per activation
    cores: float      # held: the machine's
    rms_log: float    # of predicted / measured median, p95 and max over the deploys

    def errors(self, deploy: PoolDeploy) -> tuple[float, float, float]:
        """Predicted / measured - 1 of the median, p95 and max activation."""
        return tuple(p / m - 1 for p, m in zip(predicted(deploy, self.work, self.cores), summary(deploy.activation)))


def fit_work(deploys: list[PoolDeploy], cores: float) -> PoolFit:
    """The CPU-seconds per activation that best replay the deploys' activation median, p95 and max."""
    if not deploys:
        raise ValueError("no deploys to fit")
    measured = np.log([summary(d.activation) for d in deploys])

    def loss(work: float) -> float:
        return float(np.mean((np.log([predicted(d, work, cores) for d in deploys]) - measured) ** 2))

    losses = [loss(w) for w in WORKS]
    best = int(np.argmin(losses))
    return PoolFit(work=float(WORKS[best]), cores=cores, rms_log=math.sqrt(losses[best]))
