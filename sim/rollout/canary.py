"""A `canary:` step: Flagger's canary analysis, where the new build's share grows one weight at a time.

Mirrors fluxcd/flagger `pkg/controller/scheduler.go` (`advanceCanary`, `runCanary`, `nextStepWeight`) for
a canary (progressive traffic shifting):

- the step first moves production to `weights[0]` (Flagger's first tick runs no analysis at weight 0
  and makes the first increase); the first check comes one interval after those hosts have moved;
- every `interval` each gate is measured on the metric intervals since the previous check
  (`sim.policies.rules.measure`); a measurement within its limits passes; a breach, no requests, or
  fewer than `min_requests` (Flagger: "no values found") fails the check (a `dry_run` gate is measured
  and never fails it: a deploysim extension, Flagger has none). Flagger stops at the first
  failing metric and adds ONE failed check for the interval, so one interval counts once whichever
  gates failed;
- failed checks are counted over the whole analysis (Flagger's `status.failedChecks`: never reset
  during a run); when they reach `threshold` the release is rolled back (the failing gate's
  `action_on_fail`). Like `semantics: flagger`, the decision is taken at the failing check (the
  documented interval x threshold; the code acts at the start of the next tick);
- when every gate passes: below the last weight, the next weight (after a person's approval when the
  step has one: Flagger's confirm-traffic-increase webhook); at the last weight, the analysis ends and
  the canary is promoted (the steps that follow: a `set_weight: 100`, an approval for
  confirm-promotion).

Flagger shifts traffic between pods that already run; deploysim moves hosts, so a weight increase
waits for its wave, and the next interval starts when the hosts have moved.

Only the per-check model runs this step: each passing check moves the release, so the batched engine
(`sim.rollout.batch`), which only knows final verdicts in advance, hands such releases to the per-check
model.
"""

from __future__ import annotations

import simpy

from sim.policies.rules import Measurement, measure
from sim.policies.verdict import failed, passed
from sim.rollout.context import ReleaseContext
from sim.rollout.moves import Alarm, GateRun, set_weight
from sim.spec.rollout import CanarySpec


def canary(ctx: ReleaseContext, spec: CanarySpec):
    """The step's generator (yield from it inside the main process); a rollback leaves it as the
    Interrupt that the release's main loop handles for any gate's alarm."""
    gates = {name: ctx.scenario.gates[name] for name in spec.gates}
    checks: list[float] = []  # the check times, shared by the step's gate runs
    runs = {name: _start_run(ctx, name, spec.interval, checks) for name in gates}
    failed_checks, level = 0, 0
    yield from _move(ctx, spec.weights[0])
    since = ctx.env.now
    while True:
        yield ctx.env.timeout(spec.interval)
        window = ctx.window(since)
        since = ctx.env.now
        checks.append(ctx.env.now)
        weight = spec.weights[level]
        measured = _measure(gates, window)
        failing = next(((name, m) for name, m in measured if m.result != "success" and not gates[name].dry_run), None)
        if failing is not None:
            name, m = failing
            failed_checks += 1
            if failed_checks >= spec.threshold:
                why = "no values found (no data counts as a failed check)" if m.result != "breach" else m.rule
                verdict = failed(gates[name].action_on_fail, m.metric, m.value,
                                 f"{why}; failed checks {failed_checks} >= threshold {spec.threshold} at {weight:g}%",
                                 "failure")
                ctx.record_decision(name, runs[name].index, verdict)
                raise simpy.Interrupt(Alarm(name, verdict))
            continue
        if level == len(spec.weights) - 1:
            first, m = measured[0]
            verdict = passed(m.metric, m.value, f"every check passed at the last weight {weight:g}% "
                             f"(failed checks {failed_checks}, threshold {spec.threshold}): promote", "success")
            ctx.record_decision(first, runs[first].index, verdict)
            return
        if spec.approval is not None:
            yield ctx.env.timeout(ctx.draw(spec.approval.wait, f"approval.{ctx.candidate.number}.{ctx.step}.{level}"))
        level += 1
        yield from _move(ctx, spec.weights[level])


def _start_run(ctx: ReleaseContext, name: str, interval: float, checks: list[float]) -> GateRun:
    run = GateRun(len(ctx.gate_runs), name, ctx.env.now, checks, interval)
    ctx.gate_runs.append(run)
    return run


def _move(ctx: ReleaseContext, weight: float):
    """Production to `weight`, as its own stage of the release (labelled `10%`)."""
    ctx.label = f"{weight:g}%"
    ctx.stage_event("start")
    yield from set_weight(ctx, weight)
    ctx.stage_event("reached")


def _measure(gates: dict, window) -> list[tuple[str, Measurement]]:
    """Each gate's measurement of the window, in the step's order."""
    return [(name, measure(spec, window)) for name, spec in gates.items()]
