"""The deploy engine: one strategy, one fleet size, one replication -> a `DeployRecord`.

SimPy orchestrates the deploy (the signal, then the wave); the wave of hosts, which nothing but their
own draws distinguishes, is computed at once by the compiled kernel in `sim.deploy.wave`. `sim.deploy.reference`
runs the same plan with one SimPy process per host, and the tests hold the two to the same times.
A p2p strategy plans a `SwarmPlan` instead, run by `sim.deploy.swarm` (held to `sim.deploy.swarm_reference`):
hosts there share no single bottleneck, so the one-bottleneck wave stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from sim.deploy.faults import HostFaults, draw_faults
from sim.deploy.fleet import layout_fleet
from sim.deploy.plan import WavePlan, WaveTimes
from sim.deploy.strategies import PLANNERS
from sim.deploy.swarm import run_swarm
from sim.deploy.swarm_plan import SwarmPlan, SwarmTimes
from sim.deploy.unfair import run_unfair_wave
from sim.deploy.wave import run_wave
from sim.deploy.zoned import zoned_wave
from sim.results.records import DeployRecord
from sim.spec.scenario import Scenario
from sim.streams import Streams


@dataclass(frozen=True)
class Job:
    """One unit of work for an executor: picklable, and enough to reproduce its draws."""

    strategy: str
    fleet_size: int
    replication: int
    entropy: int


Plan = WavePlan | SwarmPlan
Times = WaveTimes | SwarmTimes


def build_plan(scenario: Scenario, strategy: str, hosts: int, streams: Streams, spec=None) -> tuple[Plan, HostFaults]:
    """Draw everything a deploy needs before time 0 (fails here, not mid-run, on a bad name).

    `spec` replaces the named strategy's spec (a rollout's later waves skip the pull publish step)."""
    spec = spec or scenario.strategies[strategy]
    faults = draw_faults(scenario.faults, hosts, streams)
    return PLANNERS[spec.kind](scenario, spec, hosts, faults, streams), faults


def deploy(env: simpy.Environment, plan: Plan, out: list):
    """SimPy process: wait for the signal, compute the wave, advance the clock to its last event."""
    if plan.signal_delay > 0:
        yield env.timeout(plan.signal_delay)
    times = run_swarm(plan, start=env.now) if isinstance(plan, SwarmPlan) else fast_wave(plan, start=env.now)
    finished = np.fmax.reduce(times.done, initial=env.now)  # NaN (never updated) is ignored
    yield env.timeout(max(0.0, finished - env.now))
    out.append(times)


def fast_wave(plan: WavePlan, start: float) -> WaveTimes:
    if plan.zones is not None:
        return zoned_wave(plan, start)
    attempt_start, transfer_start, transfer_end, done, attempts = _run(plan, start)
    return WaveTimes(attempt_start + plan.signal_offset, transfer_start, transfer_end, done, attempts)


def wave_done(plan: Plan, start: float) -> np.ndarray:
    """Only the hosts' done times of `fast_wave(plan, start)` (NaN: never updated); `start` is when
    the hosts are signalled (for a p2p plan: the key's commit)."""
    if isinstance(plan, SwarmPlan):
        return run_swarm(plan, start).done
    if plan.zones is not None:
        return zoned_wave(plan, start).done
    return _run(plan, start)[3]


def _run(plan: WavePlan, start: float) -> tuple[np.ndarray, ...]:
    """The kernel's arrays for this plan: attempt start, transfer start and end, done, attempts."""
    args = (float(start), int(plan.slots), plan.pre, plan.post, plan.fail_attempts, float(plan.fail_cost),
            plan.backoff, float(plan.size), float(plan.capacity), float(plan.flow_cap), arrival_order(plan))
    if plan.share_weight is not None:
        return run_unfair_wave(*args, plan.share_weight)
    return run_wave(*args)


def arrival_order(plan: WavePlan) -> np.ndarray:
    """The order in which first attempts reach the bottleneck when no slot makes hosts wait."""
    if plan.slots >= plan.hosts:
        return np.argsort(plan.pre).astype(np.int64)
    return np.empty(0, dtype=np.int64)


def simulate(scenario: Scenario, job: Job) -> DeployRecord:
    """Run one deploy and return its host rows."""
    streams = Streams(job.entropy, job.replication)
    plan, faults = build_plan(scenario, job.strategy, job.fleet_size, streams)
    env = simpy.Environment()
    out: list[Times] = []
    env.process(deploy(env, plan, out))
    env.run()
    return to_record(scenario, job, plan, faults, out[0])


def to_record(scenario: Scenario, job: Job, plan: Plan, faults: HostFaults, times: Times) -> DeployRecord:
    layout = layout_fleet(scenario.fleet, job.fleet_size)
    return DeployRecord(
        strategy=job.strategy,
        kind=scenario.strategies[job.strategy].kind,
        fleet_size=job.fleet_size,
        replication=job.replication,
        release_signalled=plan.signal_delay,
        host=np.arange(job.fleet_size),
        tier=layout.tier_names(),
        zone=layout.zone,
        attempts=times.attempts,
        signal=times.signal,
        transfer_start=times.transfer_start,
        transfer_end=times.transfer_end,
        done=times.done,
        reason=faults.reasons(times.done),
        origin_bytes=times.origin_bytes,
        cross_zone_bytes=getattr(times, "cross_zone_bytes", float("nan")),
    )
