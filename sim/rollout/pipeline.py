"""The pipeline as SimPy processes: one generator per step kind, gates that watch and raise alarms.

A gate that fails or is inconclusive interrupts the main process with an `Alarm`; the commander
(`sim.rollout.commander`) handles it and says whether the pipeline resumes, stops, or restarts with a
new build. Steps are written to be re-entered after a resume: a weight already assigned is not
deployed twice.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import simpy

from sim import policies
from sim.policies import Verdict
from sim.rollout.canary import canary
from sim.rollout.context import GateWatch, ReleaseContext
from sim.rollout.moves import Alarm, GateRun, deploy_to, set_weight
from sim.spec.rollout import AnalysisStep, ApprovalStep, CanaryStep, PauseStep, SetWeightStep, StageStep


def label_of(step) -> str:
    if isinstance(step, StageStep):
        return step.stage
    if isinstance(step, SetWeightStep):
        return f"{step.set_weight:g}%"
    if isinstance(step, PauseStep):
        return "bake"
    if isinstance(step, AnalysisStep):
        return "analysis"
    if isinstance(step, CanaryStep):
        return "canary"
    return "approval"


def run_step(ctx: ReleaseContext, step, index: int):
    """The generator for one step (yield from it inside the main process)."""
    ctx.step = index
    if isinstance(step, (StageStep, SetWeightStep)):
        ctx.label = label_of(step)
    ctx.stage_event("start")
    if isinstance(step, StageStep):
        yield from stage(ctx, step)
    elif isinstance(step, SetWeightStep):
        yield from set_weight(ctx, step.set_weight)
    elif isinstance(step, PauseStep):
        yield ctx.env.timeout(step.pause)
    elif isinstance(step, AnalysisStep):
        yield from analysis(ctx, step.analysis.gates, step.analysis.duration)
    elif isinstance(step, CanaryStep):
        yield from canary(ctx, step.canary)
    elif isinstance(step, ApprovalStep):
        yield ctx.env.timeout(ctx.draw(step.approval.wait, f"approval.{ctx.candidate.number}.{index}"))
    ctx.stage_event("reached")


def stage(ctx: ReleaseContext, step: StageStep):
    yield from deploy_to(ctx, ctx.tier_hosts(step.stage), f"b{ctx.candidate.number}.{step.stage}")
    if step.smoke_test is None:
        return
    yield ctx.env.timeout(step.smoke_test.duration)
    caught = ctx.streams(f"smoke.{ctx.candidate.number}").random() < step.smoke_test.detection
    if ctx.candidate.bad and caught:
        raise SmokeTestFailed()


class SmokeTestFailed(Exception):
    """Staging's smoke tests caught the build; production never saw it."""


def analysis(ctx: ReleaseContext, names: list[str], duration: float | None):
    """Run these gates until all pass (or `duration` ends); a failure interrupts the main process."""
    passed = [ctx.env.event() for _ in names]
    for name, done in zip(names, passed):
        start_gate(ctx, name, done)
    waiting: simpy.Event = ctx.env.all_of(passed)
    if duration is not None:
        waiting = ctx.env.any_of([waiting, ctx.env.timeout(duration)])
    yield waiting
    stop_gates(ctx, background=False)


def start_gate(ctx: ReleaseContext, name: str, passed: simpy.Event | None, background: bool = False) -> None:
    ctx.gates.append(GateWatch(ctx.env.process(watch(ctx, name, passed)), background))


def stop_gates(ctx: ReleaseContext, background: bool = True) -> None:
    for gate in list(ctx.gates):
        if gate.process.is_alive and (background or not gate.background):
            gate.process.interrupt("stop")
        if not gate.process.is_alive or background or not gate.background:
            ctx.gates.remove(gate)


def clock_checks(run: GateRun, horizon: float) -> list[float]:
    """The checks a waiting background run would have made: every interval from its start, before it
    was stopped. A check at the very moment it was stopped is a tie that only the order of SimPy's
    events settles, so it raises `ClockTie` (the caller then runs the per-check model)."""
    if run.checks is not None:
        return run.checks
    stop = horizon if run.stopped is None else run.stopped
    count = int((stop - run.start) / run.interval) + 2
    # the floats SimPy's timeouts reach: one addition after another (add.accumulate is sequential)
    times = np.add.accumulate(np.concatenate([[run.start], np.full(count, run.interval)]))[1:]
    if run.stopped is not None and (times == stop).any():
        raise ClockTie(f"gate run {run.index} ({run.gate}) was stopped at the time of a check ({stop})")
    return times[times < stop].tolist()


class ClockTie(Exception):
    """A waiting gate run's check coincides with its stop."""


@dataclass(frozen=True)
class Scripted:
    """A decision the batched engine already knows: run `run` is final at its `check`-th check."""

    check: int
    verdict: Verdict
    start: float  # the run's start time (a guard: the run must be the same run)


def acted(spec, verdict: Verdict) -> Verdict:
    """The verdict as the controller acts on it: a dry-run gate's final verdict does nothing."""
    if spec.dry_run and verdict.final:
        return dataclasses.replace(verdict, action="none", rule=f"{verdict.rule} (dry run: not acted on)")
    return verdict


def watch(ctx: ReleaseContext, name: str, passed: simpy.Event | None):
    """One gate's analysis run: check every interval on the intervals since the previous check.

    With `ctx.script` (the batched engine) a run does not judge anything: it keeps the same clock of
    checks, records them, and acts on the decision the script gives it, at the check the script says."""
    spec = ctx.scenario.gates[name]
    if spec.initial_delay > 0:
        try:
            yield ctx.env.timeout(spec.initial_delay)
        except simpy.Interrupt:
            return  # stopped before it started measuring: no run
    checks: list[float] = []  # the run's, while it ticks
    run = GateRun(len(ctx.gate_runs), name, ctx.env.now, checks, spec.interval)
    ctx.gate_runs.append(run)
    scripted = ctx.script.get(run.index) if ctx.script is not None else None
    if scripted is not None and scripted.start != run.start:
        raise RuntimeError(f"gate run {run.index} ({name}) started at {run.start}, not {scripted.start} as scripted")
    if ctx.script is not None and scripted is None:
        run.checks = None  # nothing to act on this round (a step waiting for its pass waits on): no need to tick
        try:
            yield ctx.env.event()
        except simpy.Interrupt:
            run.stopped = ctx.env.now
        return
    state, since = policies.start(spec), ctx.env.now
    try:
        while True:
            yield ctx.env.timeout(spec.interval)
            checks.append(ctx.env.now)
            if ctx.script is None:
                state, verdict = policies.check(spec, state, ctx.window(since))
                verdict = acted(spec, verdict)
                since = ctx.env.now
            elif scripted is not None and len(checks) == scripted.check:
                verdict = scripted.verdict
            else:
                continue
            if not verdict.final:
                continue
            ctx.record_decision(name, run.index, verdict)
            if verdict.outcome == "pass" or spec.dry_run:  # a dry run's end, whatever it says, ends its wait
                if passed is not None:
                    passed.succeed()
                return
            if ctx.main is not None and ctx.main.is_alive:
                ctx.main.interrupt(Alarm(name, verdict))
            return
    except simpy.Interrupt:
        return
