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
engines to identical releases. A rollout with a canary step (Flagger's analysis, where every passing
check moves the release) is left to the per-check model.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import operator
from dataclasses import dataclass

import numpy as np

from sim import policies
from sim.policies import Verdict, argo
from sim.policies.rules import classify, measure_totals
from sim.rollout.context import ReleaseContext, intervals_ended, window_between, window_starts
from sim.rollout.facts import RoundMemo
from sim.rollout.pipeline import ClockTie, GateRun, Scripted, acted, clock_checks
from sim.rollout.release import ReleaseResult, blocked_reason, metrics_until, result_of, run_model, simulate_per_check
from sim.rollout.series import MetricSeries, compute_series
from sim.rollout.setup import ReleaseSetup, release_setup
from sim.spec.rollout import CanaryStep
from sim.spec.scenario import Scenario

# A round re-runs a release from its start, so a release with d decisions costs d + 1 rounds, and the
# per-check model about three: a release still undecided after ROUNDS rounds (many decisions: pages,
# resumes, repeated inconclusive analyses) is finished by the per-check model instead.
ROUNDS = 4


def run_batched(releases: list[tuple[Scenario, int]], entropy: int,
                setup: ReleaseSetup | None = None) -> list[ReleaseResult]:
    """Each (scenario, replication), as `simulate_per_check` would simulate it (`setup`: the scenarios'
    shared `ReleaseSetup`, when the caller has it; else one is built for each run of scenarios that share it).

    Releases that differ only in how their gates judge (the same replication under several policies of
    an evaluation, or the points of a sweep) share their first round: it does not depend on the
    judgement. They go on sharing later rounds while their scripts make the same moves (`dynamics`):
    the same runs end at the same checks with the same outcome and action, whatever the verdicts'
    values and rule texts, which only go into each release's own decision records."""
    setups = setups_for([scenario for scenario, _ in releases], setup)
    scripts: list[dict[int, Scripted]] = [{} for _ in releases]
    memos = [RoundMemo() for _ in releases]  # what a round computed that the next can reuse
    results: dict[int, ReleaseResult] = {}  # by release, as each finishes
    groups: dict[tuple, list[int]] = {}
    for i, (scenario, replication) in enumerate(releases):
        if moves_per_check(scenario):
            results[i] = simulate_per_check(scenario, replication, entropy, setups[i])
            continue
        groups.setdefault(_first_round_key(scenario, replication), []).append(i)
    for group in groups.values():
        for i in group[1:]:
            memos[i] = memos[group[0]]  # waves and noise do not depend on the gates either
    pending = list(groups.values())  # round 1: one run per group
    for _ in range(ROUNDS):
        if not pending:
            return _in_order(results, len(releases))
        ctxs = [run_model(*releases[group[0]], entropy, setups[group[0]], script=scripts[group[0]], memo=memos[group[0]])
                for group in pending]
        series = compute_series([(ctx, 0, int(intervals_ended(ctx, metrics_until(ctx)))) for ctx in ctxs])
        regrouped: dict[tuple, list[int]] = {}
        for k, (group, ctx, metrics) in enumerate(zip(pending, ctxs, series)):
            shared: dict = {}  # each gate run's checks, judged by every release of the group
            finished: ReleaseResult | None = None  # the group's result, for the releases that end here
            for i in group:
                try:
                    found = next_decision(ctx, metrics, scripts[i], releases[i][0].gates, shared)
                except ClockTie:  # only the order of SimPy's events can say: ask the per-check model
                    results[i] = simulate_per_check(*releases[i], entropy, setups[i])
                    continue
                if found is None:
                    decisions = own_decisions(ctx, scripts[i])
                    if finished is None:
                        finished = result_of(ctx, releases[i][1], metrics, decisions)
                    results[i] = with_decisions(finished, ctx, decisions)
                else:
                    scripts[i][found[0]] = found[1]
                    regrouped.setdefault((k, dynamics(scripts[i])), []).append(i)
        pending = list(regrouped.values())
    for group in pending:
        for i in group:
            results[i] = simulate_per_check(*releases[i], entropy, setups[i])
    return _in_order(results, len(releases))


def moves_per_check(scenario: Scenario) -> bool:
    """Whether a passing check (not only a final verdict) moves the release: a canary step's
    (`sim.rollout.canary`). Such releases are the per-check model's."""
    return scenario.rollout is not None and any(isinstance(step, CanaryStep) for step in scenario.rollout.steps)


def setups_for(scenarios: list[Scenario], setup: ReleaseSetup | None = None) -> list[ReleaseSetup]:
    """A setup for each scenario: `setup` where it fits, else the last one built if it fits, else a new one."""
    out: list[ReleaseSetup] = []
    built = setup
    for scenario in scenarios:
        if built is None or not built.fits(scenario):
            built = release_setup(scenario)
        out.append(built)
    return out


def _in_order(results: dict[int, ReleaseResult], count: int) -> list[ReleaseResult]:
    """The results of releases 0..count-1 (each has one by now: rounds end when none is pending)."""
    return [results[i] for i in range(count)]


def dynamics(script: dict[int, Scripted]) -> tuple:
    """What of a script moves the release: which run ends at which check, passing or alarming, with
    which action (not the verdicts' values or rule texts)."""
    return tuple(sorted((run, s.check, s.start, s.verdict.outcome, s.verdict.action) for run, s in script.items()))


def with_decisions(result: ReleaseResult, ctx: ReleaseContext, decisions: list) -> ReleaseResult:
    """`result` (of a run shared by releases from the same replication) with another release's decision
    records: only the records and a blocked release's reason depend on them."""
    if decisions == result.decisions:
        return result
    outcome = result.outcome
    if outcome.outcome == "blocked":
        outcome = dataclasses.replace(outcome, blocked_reason=blocked_reason(ctx, decisions))
    return dataclasses.replace(result, outcome=outcome, decisions=decisions)


def own_decisions(ctx: ReleaseContext, script: dict[int, Scripted]) -> list:
    """The run's decision records with this release's own verdicts (its run shared the moves of another
    release's script; every decision of a scripted run comes from the script)."""
    own = []
    for decision, run in zip(ctx.decisions, ctx.decision_runs):
        v = script[run].verdict
        own.append(dataclasses.replace(decision, outcome=v.outcome, action=v.action, metric=v.metric,
                                       value=float(v.value), rule=v.rule, measurement=v.measurement))
    return own


def _first_round_key(scenario: Scenario, replication: int) -> tuple:
    """What a release's first round depends on: its replication, its build, the clock of its gates (their
    names and intervals), and every other section of the scenario (by identity: the policies of an
    evaluation are copies of one scenario that share them)."""
    clocks = tuple(sorted((name, spec.interval) for name, spec in scenario.gates.items()))
    return replication, scenario.build, clocks, tuple(map(id, _OTHER_SECTIONS(scenario)))


_OTHER_SECTIONS = operator.attrgetter(*(name for name in Scenario.model_fields if name not in ("gates", "build")))


def next_decision(ctx: ReleaseContext, metrics: MetricSeries, script: dict[int, Scripted],
                  gates: dict | None = None, shared: dict | None = None) -> tuple[int, Scripted] | None:
    """The earliest final verdict of a gate run that the script does not have (ties: the run started
    first, whose check SimPy runs first), or None. `gates` judge the checks (default: the run's own);
    `shared` keeps each run's checks for the next release judged on the same round.

    Runs the script has are judged first (each must end where the script says); then those whose
    successes alone can end them, which usually end soonest; a run is judged only up to the earliest
    final verdict found so far (a later check cannot be the earliest)."""
    shared = {} if shared is None else shared
    gates = ctx.scenario.gates if gates is None else gates
    best = None
    order = sorted(ctx.gate_runs, key=lambda run: (run.index not in script, not _settles(gates[run.gate]), run.index))
    for run in order:
        checks = shared.get(run.index)
        if checks is None:
            checks = shared[run.index] = run_checks(ctx, run, metrics)
        spec = gates[run.gate]
        key = _spec_key(spec)
        known = script.get(run.index)
        found = checks.judged.get(key)
        if key not in checks.judged:  # releases whose gate is the same judge the run once
            bound = math.inf if known is not None or best is None else best[0]
            found, complete = first_final(ctx, run, checks, spec, bound)
            if complete:
                checks.judged[key] = found
        if known is not None:
            if found is None or found[0] != known.check:
                raise RuntimeError(f"gate run {run.index} ({run.gate}): scripted at check {known.check}, "
                                   f"judged final at {found and found[0]}")
            continue
        if found is not None:
            when = checks.times[found[0] - 1]
            if best is None or (when, run.index) < best[:2]:
                best = (when, run.index, Scripted(found[0], found[1], run.start))
    return None if best is None else (best[1], best[2])


def _settles(spec) -> bool:
    """Whether a run of this gate can end on successes alone (such runs usually end first)."""
    settles = policies.POLICIES[spec.semantics].settles_on_success
    return settles is not None and settles(spec)


@dataclass
class RunChecks:
    """One gate run's checks in one round: when, over which intervals, and their summed counts. The same
    for every release judged on the round, whatever its gates."""

    times: list[float]
    since: np.ndarray
    ends: np.ndarray  # intervals ended by each check
    metrics: MetricSeries
    judged: dict = dataclasses.field(default_factory=dict)  # gate spec -> its first final verdict

    @functools.cached_property
    def totals(self) -> dict[str, np.ndarray]:
        return _totals(self.metrics, self.since, self.ends)

    @functools.cached_property
    def rates(self) -> tuple[np.ndarray, np.ndarray]:
        """Each check's (new, old) error rate, NaN without requests."""
        t = self.totals
        return _rates(t["new_errors"], t["new_requests"]), _rates(t["old_errors"], t["old_requests"])


def _spec_key(spec):
    """The spec itself where it hashes (equal specs judge alike); else its identity (a Kayenta spec holds
    dicts; the specs of one round's releases outlive the round, so identities are not reused)."""
    try:
        hash(spec)
        return spec
    except TypeError:
        return id(spec)


def run_checks(ctx: ReleaseContext, run: GateRun, metrics: MetricSeries) -> RunChecks:
    times = clock_checks(run, ctx.rollout.horizon)
    since = np.concatenate([[run.start], times[:-1]]) if times else np.empty(0)
    return RunChecks(times, since, intervals_ended(ctx, times), metrics)


def first_final(ctx: ReleaseContext, run: GateRun, checks: RunChecks, spec,
                before: float = math.inf) -> tuple[tuple[int, Verdict] | None, bool]:
    """((check number from 1, verdict) of the run's first final verdict among its recorded checks,
    judged by the gate `spec`, or None; and whether the search was complete). Checks after `before`
    are not judged: the search then stops there, incomplete."""
    if not checks.times:
        return None, True
    semantics = policies.POLICIES[spec.semantics]
    state = semantics.start(spec)
    judge = semantics.judge
    if judge is not None and policies.measured_in_bulk(spec):
        total = checks.totals
        settles_on_success = semantics.settles_on_success
        assert settles_on_success is not None  # every semantics with `judge` has one (`sim.policies.Semantics`)
        if not settles_on_success(spec) and getattr(spec, "measure", None) is None:
            success, breach = classify(spec, total["new_requests"], *checks.rates)
            if success.all():
                return None, True  # every check a success, and successes alone never end this run
            may_fail = semantics.may_fail
            if may_fail is not None and not may_fail(spec, breach, success):
                return None, True  # the breaches never line up into a failure
        for j, m in enumerate(_measurements(spec, total), start=1):
            if checks.times[j - 1] > before:
                return None, False
            state, verdict = judge(spec, state, m)
            if verdict.final:
                return (j, acted(spec, verdict)), True
        return None, True
    # Semantics that read whole windows (Kayenta's Mann-Whitney, the sequential test) are judged check
    # by check; a check whose run and windows so far are those of an earlier round is not judged again.
    judged = ctx.memo.judged if ctx.memo is not None else {}
    key = hashlib.blake2b(repr((spec, run.gate, run.start)).encode(), digest_size=16)
    for j, (prev, now, end) in enumerate(zip(checks.since, checks.times, checks.ends), start=1):
        if now > before:
            return None, False
        window = window_between(checks.metrics.part(0, end), prev, now)
        affected = () if window.new_affected is None else (window.new_affected,)  # (latency quantiles read it)
        for column in (window.new_requests, window.new_errors, window.old_requests, window.old_errors,
                       window.new_latency, window.old_latency, *affected):
            key.update(np.ascontiguousarray(column).tobytes())
        key.update(repr(float(now)).encode())
        digest = key.digest()
        if digest not in judged:
            judged[digest] = semantics.check(spec, state, window)
        state, verdict = judged[digest]
        if verdict.final:
            return (j, acted(spec, verdict)), True
    return None, True


def _totals(metrics: MetricSeries, since: np.ndarray, ends: np.ndarray) -> dict[str, np.ndarray]:
    """Each check's summed counts, from prefix sums over its window: the intervals that ended in
    (since, now], as `context.window_between` chooses them (`ends` counts the intervals ended by now)."""
    lo = np.minimum(window_starts(metrics, since), ends)
    return {name: cum[ends] - cum[lo] for name, cum in metrics.prefix_counts.items()}


def _rates(errors: np.ndarray, requests: np.ndarray) -> np.ndarray:
    """errors / requests per check (NaN without requests), as `window.error_rate` divides them."""
    return np.divide(errors, requests, out=np.full(len(requests), np.nan), where=requests > 0)


def _measurements(spec, total: dict[str, np.ndarray]):
    """Each check's measurement, as `rules.measure` (or an Argo gate's conditions) makes it from the window."""
    for requests, errors, old_requests, old_errors in zip(total["new_requests"].tolist(), total["new_errors"].tolist(),
                                                          total["old_requests"].tolist(), total["old_errors"].tolist()):
        new = float(errors) / requests if requests > 0 else math.nan
        old = float(old_errors) / old_requests if old_requests > 0 else math.nan
        yield (measure_totals(spec, requests, new, old) if getattr(spec, "measure", None) is None
               else argo.condition_totals(spec, requests, new, old))
