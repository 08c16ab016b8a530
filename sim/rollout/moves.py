"""What the steps of a release share: moving production hosts to the new build, a gate's analysis run,
and the alarm a gate (or a canary step) raises to stop the release (`sim.rollout.pipeline` runs the
steps; `sim.rollout.canary` is the step that moves hosts at each passing check)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.policies import Verdict
from sim.rollout.context import ReleaseContext


@dataclass(frozen=True)
class Alarm:
    """The cause of the interrupt that stops the main process: this gate's final verdict."""

    gate: str
    verdict: Verdict


@dataclass
class GateRun:
    """One analysis run of one gate: when it started and when it checked (both models record these)."""

    index: int  # start order within the release
    gate: str
    start: float
    checks: list[float] | None  # None: a background run that only waited (see `clock_checks`)
    interval: float = 60.0
    stopped: float | None = None  # when a waiting run was stopped (None: it never was)


def deploy_to(ctx: ReleaseContext, hosts: np.ndarray, purpose: str):
    """Move `hosts` (not yet assigned) to the candidate build; wait until the wave has finished."""
    hosts = hosts[~ctx.assigned[hosts]]
    if len(hosts):
        ctx.assigned[hosts] = True
        wave = ctx.wave(hosts, ctx.candidate.number, purpose)
        ctx.exposure.go_live(ctx.candidate.number, hosts, wave.done, ctx.onset_delays(len(hosts), purpose))
        ctx.waves_finish = max(ctx.waves_finish, wave.finished)
    if ctx.waves_finish > ctx.env.now:
        yield ctx.env.timeout(ctx.waves_finish - ctx.env.now)


def set_weight(ctx: ReleaseContext, weight: float):
    production = ctx.production
    target = production[: math.ceil(weight / 100.0 * len(production))]
    yield from deploy_to(ctx, target, f"b{ctx.candidate.number}.w{weight:g}")
    if weight >= 100 and ctx.candidate.full is None:
        ctx.candidate.full = ctx.env.now
