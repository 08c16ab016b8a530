"""The batched release engine: many releases at once, with the per-check model's results.

The per-check model (`sim.rollout.release`) spends most of a release in its gates: one SimPy event, one
window and one policy check per gate per minute, each reading metric intervals computed a few at a
time. Yet a gate's checks cannot change anything until one of them is final (fail, pass or
inconclusive), and before that moment the release's exposure is whatever its steps made it. So a
release is simulated in rounds:

1. Run the SimPy model with gates that keep their clock of checks but judge nothing (they record when
   they checked), acting only on the decisions already known (the release's *script*, empty at first).
2. Compute the metric intervals of every release in the batch in one vectorised draw
   (`sim.rollout.series`), from the exposure the run produced.
3. Judge every recorded check of every gate run in bulk, and find each release's first final verdict
   that the script does not have yet.
4. A release without one is finished: its run is the per-check model's run. A release with one adds it
   to its script and goes to the next round (after `ROUNDS` rounds, the per-check model finishes it).

Why this is exact: a change of exposure (a wave, a rollback) only ever affects the future, so up to the
first unscripted decision a round's intervals and checks are the ones the per-check model sees; the
decision, once scripted, happens at the same check of the same run, in the same SimPy event order,
because the gates keep the very same clock of events. Most releases (a good build that is promoted)
take one round; a bad build that is rolled back takes two. `tests/rollout/test_batch.py` holds the two
engines to identical releases.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from sim import policies
from sim.policies.rules import classify, measure_totals
from sim.rollout.context import ReleaseContext, intervals_ended, window_between, window_starts
from sim.rollout.pipeline import ClockTie, GateRun, Scripted, clock_checks
from sim.rollout.release import ReleaseResult, end_of, result_of, run_model, simulate_release
from sim.rollout.series import MetricSeries, compute_series
from sim.scenario import Scenario

# A round re-runs a release from its start, so a release with d decisions costs d + 1 rounds, and the
# per-check model about three: a release still undecided after ROUNDS rounds (many decisions: pages,
# resumes, repeated inconclusive analyses) is finished by the per-check model instead.
ROUNDS = 4


def simulate_releases(releases: list[tuple[Scenario, int]], entropy: int) -> list[ReleaseResult]:
    """Each (scenario, replication), as `simulate_release(..., batched=False)` would simulate it.

    Releases that differ only in how their gates judge (the same replication under several policies of
    an evaluation) share their first round: it does not depend on the judgement."""
    scripts: list[dict[int, Scripted]] = [{} for _ in releases]
    memos: list[dict] = [{} for _ in releases]  # what a round computed that the next can reuse
    results: list[ReleaseResult | None] = [None] * len(releases)
    groups: dict[tuple, list[int]] = {}
    for i, (scenario, replication) in enumerate(releases):
        groups.setdefault(_first_round_key(scenario, replication), []).append(i)
    for group in groups.values():
        for i in group[1:]:
            memos[i] = memos[group[0]]  # waves and noise do not depend on the gates either
    pending = [group for group in groups.values()]  # round 1: one run per group
    for _ in range(ROUNDS):
        if not pending:
            return results
        ctxs = [run_model(*releases[group[0]], entropy, script=scripts[group[0]], memo=memos[group[0]])
                for group in pending]
        series = compute_series([(ctx, 0, int(intervals_ended(ctx, end_of(ctx)))) for ctx in ctxs])
        still = []
        for group, ctx, metrics in zip(pending, ctxs, series):
            for i in group:
                try:
                    found = next_decision(ctx, metrics, scripts[i], releases[i][0].gates)
                except ClockTie:  # only the order of SimPy's events can say: ask the per-check model
                    results[i] = simulate_release(*releases[i], entropy, batched=False)
                    continue
                if found is None:
                    results[i] = result_of(ctx, releases[i][1], metrics)
                else:
                    run, scripted = found
                    scripts[i][run] = scripted
                    still.append([i])  # later rounds: a release of its own
        pending = still
    for group in pending:
        for i in group:
            results[i] = simulate_release(*releases[i], entropy, batched=False)
    return results


def _first_round_key(scenario: Scenario, replication: int) -> tuple:
    """What a release's first round depends on: its replication, its build, the clock of its gates (their
    names and intervals), and every other section of the scenario (by identity: the policies of an
    evaluation are copies of one scenario that share them)."""
    clocks = tuple(sorted((name, spec.interval) for name, spec in scenario.gates.items()))
    sections = tuple(id(getattr(scenario, name)) for name in Scenario.model_fields if name not in ("gates", "build"))
    return replication, scenario.build, clocks, sections


def next_decision(ctx: ReleaseContext, metrics: MetricSeries, script: dict[int, Scripted],
                  gates: dict | None = None) -> tuple[int, Scripted] | None:
    """The earliest final verdict of a gate run that the script does not have (ties: the run started
    first, whose check SimPy runs first), or None. `gates` judge the checks (default: the run's own)."""
    best = None
    for run in ctx.gate_runs:
        found = first_final(ctx, run, metrics, gates)
        known = script.get(run.index)
        if known is not None:
            if found is None or found[0] != known.check:
                raise RuntimeError(f"gate run {run.index} ({run.gate}): scripted at check {known.check}, "
                                   f"judged final at {found and found[0]}")
            continue
        if found is not None:
            when = clock_checks(run, ctx.scenario.rollout.horizon)[found[0] - 1]
            if best is None or when < best[0]:
                best = (when, run.index, Scripted(found[0], found[1], run.start))
    return None if best is None else (best[1], best[2])


def first_final(ctx: ReleaseContext, run: GateRun, metrics: MetricSeries, gates: dict | None = None):
    """(check number from 1, verdict) of the run's first final verdict among its recorded checks, or None."""
    checks = clock_checks(run, ctx.scenario.rollout.horizon)
    if not checks:
        return None
    spec = (gates if gates is not None else ctx.scenario.gates)[run.gate]
    semantics = policies.POLICIES[spec.semantics]
    state = semantics.start(spec)
    since = np.concatenate([[run.start], checks[:-1]])
    ends = intervals_ended(ctx, checks)
    if semantics.judge is not None and spec.metric == "error_rate":
        total = _totals(metrics, since, ends)
        if not semantics.settles_on_success(spec):
            success, breach = classify(spec, total["new_requests"], _rates(total["new_errors"], total["new_requests"]),
                                       _rates(total["old_errors"], total["old_requests"]))
            if success.all():
                return None  # every check a success, and successes alone never end this run
            if semantics.may_fail is not None and not semantics.may_fail(spec, breach, success):
                return None  # the breaches never line up into a failure
        for j, m in enumerate(_measurements(spec, total), start=1):
            state, verdict = semantics.judge(spec, state, m)
            if verdict.final:
                return j, verdict
        return None
    # Semantics that read whole windows (Kayenta's Mann-Whitney, the sequential test) are judged check
    # by check; a check whose run and windows so far are those of an earlier round is not judged again.
    judged = ctx.memo.setdefault("judged", {}) if ctx.memo is not None else {}
    key = hashlib.blake2b(repr((spec, run.gate, run.start)).encode(), digest_size=16)
    for j, (prev, now, end) in enumerate(zip(since, checks, ends), start=1):
        window = window_between(metrics.part(0, end), prev, now)
        for column in (window.new_requests, window.new_errors, window.old_requests, window.old_errors,
                       window.new_latency, window.old_latency):
            key.update(np.ascontiguousarray(column).tobytes())
        key.update(repr(float(now)).encode())
        digest = key.digest()
        if digest not in judged:
            judged[digest] = semantics.check(spec, state, window)
        state, verdict = judged[digest]
        if verdict.final:
            return j, verdict
    return None


def _totals(metrics: MetricSeries, since: np.ndarray, ends: np.ndarray) -> dict[str, np.ndarray]:
    """Each check's summed counts, from prefix sums over its window: the intervals that ended in
    (since, now], as `context.window_between` chooses them (`ends` counts the intervals ended by now)."""
    lo = np.minimum(window_starts(metrics, since), ends)
    return {name: cum[ends] - cum[lo] for name, cum in metrics.prefix_counts.items()}


def _rates(errors: np.ndarray, requests: np.ndarray) -> np.ndarray:
    """errors / requests per check (NaN without requests), as `window.error_rate` divides them."""
    return np.divide(errors, requests, out=np.full(len(requests), np.nan), where=requests > 0)


def _measurements(spec, total: dict[str, np.ndarray]):
    """Each check's measurement, as `rules.measure` makes it from the check's window."""
    for requests, errors, old_requests, old_errors in zip(total["new_requests"].tolist(), total["new_errors"].tolist(),
                                                          total["old_requests"].tolist(), total["old_errors"].tolist()):
        new = float(errors) / requests if requests > 0 else math.nan
        old = float(old_errors) / old_requests if old_requests > 0 else math.nan
        yield measure_totals(spec, requests, new, old)
