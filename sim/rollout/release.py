"""One release, end to end: branch cut, build, every step of the pipeline, alarms, and the outcome.

`simulate_per_check(scenario, replication, entropy)` is a pure function of its arguments: everything
random comes from named streams of that replication. This module is the per-check model: every gate
check is a SimPy event that reads the metric intervals computed so far. `sim.rollout.batch` runs the
same model for many releases at once and gives the same results; `sim.rollout.simulate` is the entry
that callers use.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

import numpy as np
import simpy

from sim.backtest import resample
from sim.policies.rules import is_low_traffic
from sim.rollout import clock
from sim.rollout.commander import handle_alarm, handle_smoke_failure
from sim.rollout.context import Release, ReleaseContext, draw_incidents, settled_stages
from sim.rollout.exposure import FleetExposure
from sim.rollout.facts import RoundMemo
from sim.rollout.pipeline import Alarm, SmokeTestFailed, run_step, start_gate, stop_gates
from sim.rollout.records import Decision, MetricSample, ReleaseOutcome, StageChange
from sim.rollout.series import MetricSeries
from sim.rollout.setup import ReleaseSetup, release_setup, rollout_of
from sim.rollout.traffic import NoiseBlocks, Replay
from sim.spec.rollout import AnalysisStep, ApprovalStep, CanaryStep, SetWeightStep, StageStep
from sim.spec.scenario import Scenario
from sim.streams import Streams


@dataclass(frozen=True)
class ReleaseResult:
    outcome: ReleaseOutcome
    changes: list[StageChange]  # as recorded, before their shares are read (see `stages`)
    metrics: MetricSeries
    decisions: list[Decision]
    exposure: FleetExposure | None
    production: np.ndarray | None  # mask of production hosts

    @functools.cached_property
    def stages(self) -> list[StageChange]:
        """The stage changes with their production shares (computed when first asked for: an
        evaluation never asks)."""
        if self.exposure is None or self.production is None:  # (both set, or both dropped by `settled`)
            return self.changes  # settled already
        return settled_stages(self.changes, self.exposure, self.production)

    def settled(self) -> "ReleaseResult":
        """This result with its stages' shares read, without the exposure they were read from (a
        fleet's worth of arrays: too much to keep or send for every release)."""
        return dataclasses.replace(self, changes=self.stages, exposure=None, production=None)

    @property
    def samples(self) -> list[MetricSample]:
        return self.metrics.samples()


def make_context(scenario: Scenario, replication: int, entropy: int, setup: ReleaseSetup,
                 memo: RoundMemo | None = None) -> ReleaseContext:
    """A release of `scenario` (which `setup` fits), ready to run."""
    assert setup.fits(scenario), "the release's setup was built from a scenario with other fleet, traffic, strategies or horizon"
    streams = Streams(entropy, replication)
    release = Release(
        scenario=scenario, setup=setup, streams=streams,
        start_wall=clock.release_start(scenario.schedule, scenario.commander.business_hours, streams("schedule")),
        noise=_noise(scenario, streams, setup.intervals, memo),
        incidents=draw_incidents(scenario, streams("incidents"), rollout_of(scenario).horizon),
        replay=None if setup.history is None else replay_history(setup, streams),
        first_bad=bool(streams("build.bad").random() < scenario.build.bad_probability),  # (a named stream: drawn in any order)
    )
    return ReleaseContext(release=release, env=simpy.Environment(), exposure=FleetExposure(weight=setup.weight), memo=memo)


def _noise(scenario: Scenario, streams: Streams, intervals: int, memo: RoundMemo | None) -> NoiseBlocks:
    """The release's interval noise: kept in `memo` for the next round (its blocks are drawn when needed)."""
    if memo is None:
        return NoiseBlocks(scenario.traffic, streams, intervals)
    if memo.noise is None:
        memo.noise = NoiseBlocks(scenario.traffic, streams, intervals)
    return memo.noise


def replay_history(setup: ReleaseSetup, streams: Streams) -> Replay:
    """This release's slice of real traffic: a time-of-day aligned block bootstrap of the history."""
    assert setup.history is not None
    sample = resample(setup.history, streams("backtest"), setup.intervals, block=setup.history_block)
    return Replay(sample.requests.astype(np.int64), sample.errors.astype(np.int64), sample.latency)


def release(ctx: ReleaseContext):
    """The main process: build, then the steps; alarms go to the commander."""
    yield ctx.env.timeout(ctx.draw(ctx.scenario.build.build_time, "build.1"))
    steps = list(ctx.rollout.steps)
    i = 0
    while i < len(steps):
        try:
            if i == 0 or not ctx.gates:
                _start_background(ctx, steps[i], i)
            yield from run_step(ctx, steps[i], i)
            i += 1
            continue
        except simpy.Interrupt as interrupt:
            if not isinstance(interrupt.cause, Alarm):
                raise
            stop_gates(ctx)
            next_move = yield from handle_alarm(ctx, interrupt.cause.gate, interrupt.cause.verdict)
        except SmokeTestFailed:
            stop_gates(ctx)
            next_move = yield from handle_smoke_failure(ctx)
        if next_move == "stop":
            break
        if next_move == "restart":
            i = 0
            if ctx.scenario.commander.hotfix.fast_path:
                steps = [s for s in ctx.rollout.steps if isinstance(s, SetWeightStep)]
    stop_gates(ctx)
    ctx.ended = ctx.env.now


def _start_background(ctx: ReleaseContext, step, index: int) -> None:
    """Background gates watch from `rollout.background_from_step` (Argo `startingStep`), else from the
    first step that gives the candidate real traffic."""
    start = ctx.rollout.background_from_step
    if start is not None:
        if index >= start:
            for name in ctx.rollout.background_gates:
                start_gate(ctx, name, None, background=True)
        return
    serves = isinstance(step, (SetWeightStep, CanaryStep)) or (isinstance(step, StageStep) and step.stage == "dogfood")
    if serves or ctx.production_share() > 0:
        for name in ctx.rollout.background_gates:
            start_gate(ctx, name, None, background=True)


def simulate_per_check(scenario: Scenario, replication: int, entropy: int,
                       setup: ReleaseSetup | None = None) -> ReleaseResult:
    """One release by the per-check model (the batched engine's reference and its fallback); `setup`:
    `release_setup(scenario)`, when the caller has it already."""
    ctx = run_model(scenario, replication, entropy, setup or release_setup(scenario))
    return result_of(ctx, replication, ctx.advance_metrics(until=metrics_until(ctx)))


def run_model(scenario: Scenario, replication: int, entropy: int, setup: ReleaseSetup, script=None,
              memo: RoundMemo | None = None) -> ReleaseContext:
    """Run the release's SimPy model to its end (per check, or with the batched engine's `script`).

    `memo` carries what an earlier run of the same release computed (its noise, its waves) into the next."""
    ctx = make_context(scenario, replication, entropy, setup, memo)
    ctx.script = script
    ctx.main = ctx.env.process(release(ctx))
    ctx.env.run(until=ctx.rollout.horizon)
    return ctx


def end_of(ctx: ReleaseContext) -> float:
    """The release's horizon: the pipeline's end plus the watch period, or `rollout.horizon` if that
    comes first or the pipeline never ended. Outcomes are read and metrics cover intervals up to then."""
    rollout = ctx.rollout
    return rollout.horizon if ctx.ended is None else min(ctx.ended + rollout.watch, rollout.horizon)


def metrics_until(ctx: ReleaseContext) -> float:
    """How far a release's metric intervals go: to its horizon while a bad build still serves users when
    its pipeline ends (or it never ends), since its users count until then; else to the pipeline's end
    (after it nothing changes: the last build serves on)."""
    if ctx.ended is None or bad_build_serving(ctx, ctx.ended):
        return end_of(ctx)
    return ctx.ended


def bad_build_serving(ctx: ReleaseContext, when: float) -> bool:
    """Whether some host that serves users runs a bad build at `when`."""
    return any(ctx.exposure.live_count(b.number, when, ctx.release.setup.serving_mask) for b in ctx.builds if b.bad)


def result_of(ctx: ReleaseContext, replication: int, metrics: MetricSeries,
              decisions: list[Decision] | None = None) -> ReleaseResult:
    """The release's result; `decisions` replace the run's own records (the batched engine's releases that
    shared a run: same dynamics, each with its own verdicts)."""
    decisions = ctx.decisions if decisions is None else decisions
    return ReleaseResult(outcome(ctx, replication, metrics, decisions), ctx.stages, metrics, decisions,
                         ctx.exposure, ctx.production_mask)


def final_state(ctx: ReleaseContext, decisions: list[Decision]) -> tuple[str, str, str]:
    """(outcome, rollback stage, blocked reason) of the release at its horizon (see `ReleaseOutcome`)."""
    final = ctx.candidate
    if ctx.ended is None:
        return "blocked", "", blocked_reason(ctx, decisions)
    if final.aborted_at is not None:
        return "rolled_back", final.aborted_at, ""
    return ("promoted" if final.number == ctx.builds[0].number else "hotfixed"), "", ""


def blocked_reason(ctx: ReleaseContext, decisions: list[Decision]) -> str:
    """Why a pipeline had not ended by the horizon: the last gate decision that held it, else the step
    it was in."""
    last = decisions[-1] if decisions else None
    if last is not None and last.outcome != "pass":
        if last.outcome == "inconclusive" and is_low_traffic(last.rule):
            return f"not enough data: gate {last.gate} at {last.stage} ({last.rule})"
        return f"{last.outcome}: gate {last.gate} at {last.stage}, then {last.action} ({last.rule})"
    step = ctx.rollout.steps[ctx.step] if 0 <= ctx.step < len(ctx.rollout.steps) else None
    if isinstance(step, ApprovalStep):
        return f"awaiting approval at {ctx.label}"
    if isinstance(step, AnalysisStep):
        return f"analysis at {ctx.label} never decided"
    if isinstance(step, CanaryStep):
        return f"canary analysis at {ctx.label} never reached its last weight"
    return f"unfinished: still at {ctx.label} (step {ctx.step + 1}) at the horizon"


def outcome(ctx: ReleaseContext, replication: int, metrics: MetricSeries, decisions: list[Decision]) -> ReleaseOutcome:
    facts, first = ctx.facts, ctx.builds[0]
    result, rollback_stage, reason = final_state(ctx, decisions)
    horizon = end_of(ctx)
    exposure_start = _first_bad_exposure(ctx) if first.bad else _first_exposure(ctx, first.number)
    detection = np.nan if facts.detection_time is None else facts.detection_time
    mitigated = np.nan if facts.mitigated_time is None else facts.mitigated_time
    bad_requests = float(np.sum(metrics.new_requests * np.maximum(metrics.new_true_rate - metrics.old_true_rate, 0.0)))
    serving = bad_build_serving(ctx, horizon)
    full = ctx.candidate.full
    lead_time = full if result in ("promoted", "hotfixed") and full is not None else np.nan  # (NaN: not shipped)
    return ReleaseOutcome(
        replication=replication, start=clock.iso(ctx.release.start_wall), bad_build=first.bad, outcome=result,
        rollback_stage=rollback_stage, blocked_reason=reason, horizon=horizon,
        ended=np.nan if ctx.ended is None else ctx.ended,
        detected=facts.detection_time is not None, detected_by=facts.detected_by,
        detection_stage=facts.detection_stage, detection_time=detection,
        detection_delay=detection - exposure_start if exposure_start is not None else np.nan,
        exposure_at_detection=_exposure_at(ctx, detection),
        decision_time=np.nan if facts.decision_time is None else facts.decision_time, mitigated_time=mitigated,
        time_to_mitigate=mitigated - detection, served_traffic=exposure_start is not None and exposure_start <= horizon,
        bad_serving_at_horizon=serving, peak_bad_share=float(metrics.bad_share.max(initial=0.0)),
        bad_requests=float(bad_requests), lead_time=lead_time,
        false_rollback=bool(facts.rollbacks) and not first.bad, rollbacks=facts.rollbacks,
        hosts_not_rolled_back=facts.hosts_not_rolled_back,
    )


def _exposure_at(ctx: ReleaseContext, detection: float) -> float:
    """The peak share of the fleet's request weight served by bad builds up to `detection` (NaN: none).

    Read from the hosts' go-live and roll-back times, not from the metric intervals: those stop when
    the pipeline ends, which a quick rollback makes fall inside the interval of the detection."""
    if math.isnan(detection):
        return float("nan")
    return ctx.exposure.peak_share({b.number for b in ctx.builds if b.bad}, detection)


def _first_bad_exposure(ctx: ReleaseContext) -> float | None:
    """When a bad build first served requests (weight > 0) on any host."""
    found = [t for t in (_first_exposure(ctx, b.number) for b in ctx.builds if b.bad) if t is not None]
    return min(found) if found else None


def _first_exposure(ctx: ReleaseContext, build: int) -> float | None:
    """When `build` first served requests (weight > 0) on any host; None if it never did."""
    times = [seg.start[(ctx.exposure.weight[seg.hosts] > 0) & np.isfinite(seg.start)]
             for seg in ctx.exposure.segments if seg.build == build]
    found = np.concatenate(times) if times else np.empty(0)
    return float(found.min()) if len(found) else None
