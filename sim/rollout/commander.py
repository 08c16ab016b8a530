"""The deploy commander: what happens after an alarm, a failed smoke test, or a pause.

An automatic rollback deploys the previous build to every host serving the candidate, through the
same strategy (so push or pull sets how long users suffer). A page waits for a person (reaction time
by business hours). A hotfix finds the culprit, reverts it, cherry-picks the revert, builds, and ships
the new build through the pipeline again (optionally the fast path: weights only).

Each handler is a generator for the main process; it returns what the pipeline does next:
"resume" (same step, fresh gates), "stop", or "restart" (step 0 with a new candidate build).
"""

from __future__ import annotations

import numpy as np

from sim.rollout.context import BASELINE, ReleaseContext


def handle_alarm(ctx: ReleaseContext, gate: str, verdict):
    detect(ctx, gate)
    if verdict.action == "rollback":
        yield from rollback(ctx)
        return (yield from after_rollback(ctx))
    yield ctx.env.timeout(ctx.reaction_time(f"page.{len(ctx.decisions)}"))
    if verdict.action == "hotfix":
        return (yield from hotfix(ctx, roll_back_first=False))
    # pause: a person looks, tells a bad build from noise, and acts
    yield ctx.env.timeout(ctx.draw(ctx.scenario.commander.investigate, f"investigate.{len(ctx.decisions)}"))
    if not ctx.candidate.bad:
        ctx.stage_event("resumed")
        return "resume"
    ctx.facts.decided(ctx.env.now)
    yield from rollback(ctx)
    return (yield from after_rollback(ctx))


def handle_smoke_failure(ctx: ReleaseContext):
    detect(ctx, "smoke test")
    ctx.facts.mitigated(ctx.env.now)  # staging serves no users: nobody is exposed any more
    ctx.candidate.aborted_at = ctx.label
    ctx.stage_event("smoke-test-failed")
    if ctx.scenario.commander.on_failure != "hotfix":
        return "stop"
    return (yield from hotfix(ctx, roll_back_first=False))


def detect(ctx: ReleaseContext, by: str) -> None:
    if ctx.candidate.bad:
        ctx.facts.detected(ctx.env.now, by, ctx.label)


def after_rollback(ctx: ReleaseContext):
    if ctx.candidate.bad and ctx.scenario.commander.on_failure == "hotfix":
        yield ctx.env.timeout(ctx.reaction_time(f"hotfix-page.{ctx.candidate.number}"))
        return (yield from hotfix(ctx, roll_back_first=False))
    return "stop"


def rollback(ctx: ReleaseContext):
    """Stop the candidate's waves and deploy the previous build to every host serving it."""
    ctx.facts.decided(ctx.env.now)
    ctx.exposure.cancel_pending(ctx.env.now)
    ctx.waves_finish = ctx.env.now
    build = ctx.candidate.number
    hosts = ctx.exposure.live_hosts(build, ctx.env.now)
    ctx.facts.rollbacks += 1
    ctx.candidate.aborted_at = ctx.label
    ctx.stage_event("rollback")
    if len(hosts):
        wave = ctx.wave(hosts, BASELINE, f"rollback.{build}")
        ctx.exposure.end(build, hosts, wave.done)
        ctx.facts.hosts_not_rolled_back += int(np.isnan(wave.done).sum())
        yield ctx.env.timeout(wave.finished - ctx.env.now)
    if ctx.candidate.bad and not ctx.facts.hosts_not_rolled_back:
        ctx.facts.mitigated(ctx.env.now)
    ctx.stage_event("rolled-back")


def hotfix(ctx: ReleaseContext, roll_back_first: bool):
    """Find the culprit, revert, cherry-pick, build; then ship the new build (fix-forward or restart)."""
    spec = ctx.scenario.commander.hotfix
    number = ctx.candidate.number
    yield ctx.env.timeout(ctx.draw(spec.find_culprit, f"hotfix.{number}.culprit"))
    yield ctx.env.timeout(ctx.draw(spec.revert_and_cherry_pick, f"hotfix.{number}.revert"))
    yield ctx.env.timeout(ctx.draw(ctx.scenario.build.build_time, f"build.{number + 1}"))
    bad_hosts = ctx.exposure.live_hosts(number, ctx.env.now)
    ctx.exposure.cancel_pending(ctx.env.now)
    ctx.new_build(bad=False)
    ctx.stage_event("hotfix-build")
    if len(bad_hosts):  # fix forward: the hotfix replaces the bad build where it runs
        ctx.assigned[bad_hosts] = True
        wave = ctx.wave(bad_hosts, ctx.candidate.number, f"b{ctx.candidate.number}.fix-forward")
        ctx.exposure.end(number, bad_hosts, wave.done)
        ctx.exposure.go_live(ctx.candidate.number, bad_hosts, wave.done, np.full(len(bad_hosts), np.inf))
        yield ctx.env.timeout(wave.finished - ctx.env.now)
        if not np.isnan(wave.done).any():
            ctx.facts.mitigated(ctx.env.now)
    return "restart"
