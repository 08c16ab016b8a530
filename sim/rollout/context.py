"""The state of one release simulation, shared by the pipeline, the gates and the commander.

It owns the SimPy environment, the named streams, the fleet's exposure, the candidate build, the
metric sampler of the per-check model (which computes intervals lazily up to `now`), the records, the
gate runs, and the deploy waves that move hosts between builds through the scenario's strategy. With
`script` set (the batched engine, `sim.rollout.batch`) no metric is computed during the run: gates
only keep their clock, and the intervals are drawn afterwards, for many releases at once.
"""

from __future__ import annotations

import functools
import math
from dataclasses import InitVar, dataclass, field

import numpy as np
import simpy

from sim.deploy.engine import build_plan, wave_done
from sim.deploy.fleet import TIERS, FleetLayout
from sim.distributions import Constant, sample, sample_named
from sim.policies import Window
from sim.rollout import clock
from sim.rollout.exposure import FleetExposure
from sim.rollout.facts import ReleaseFacts, RoundMemo
from sim.rollout.records import Decision, StageChange
from sim.rollout.series import MetricSeries, compute_series, empty_series
from sim.rollout.traffic import NoiseBlocks, Replay
from sim.spec.rollout import Rollout
from sim.spec.scenario import PullStrategy, Scenario
from sim.streams import Streams

BASELINE = 0


@dataclass
class Build:
    number: int
    bad: bool
    waves: int = 0  # deploy waves so far (pull publishes the build once, on its first wave)
    full: float | None = None  # when it first reached 100% of production
    aborted_at: str | None = None  # the stage where it was rolled back or failed its smoke tests


@dataclass
class WaveResult:
    hosts: np.ndarray
    done: np.ndarray  # absolute times; NaN where the host was not updated
    finished: float


@dataclass(eq=False)
class GateWatch:
    """A running gate process; `background`: it watches the whole release, not one analysis step."""

    process: simpy.Process
    background: bool


@dataclass
class ReleaseContext:
    scenario: Scenario
    rollout: Rollout  # the scenario's (see `rollout_of`)
    env: simpy.Environment
    streams: Streams
    layout: FleetLayout
    exposure: FleetExposure
    start_wall: float
    noise: NoiseBlocks
    incidents: list[tuple[float, float]]
    first_bad: InitVar[bool]  # whether the first build (the candidate from the start) is bad
    builds: list[Build] = field(default_factory=list)
    candidate: Build = field(init=False)  # the newest build (see `new_build`)
    assigned: np.ndarray = field(init=False)  # hosts given to the candidate (live or in flight)
    waves_finish: float = 0.0  # when the candidate's waves so far will have finished
    decisions: list[Decision] = field(default_factory=list)
    decision_runs: list[int] = field(default_factory=list)  # the gate run (index) of each decision
    stages: list[StageChange] = field(default_factory=list)
    label: str = "build"
    step: int = -1
    main: simpy.Process | None = None
    gates: list[GateWatch] = field(default_factory=list)
    facts: ReleaseFacts = field(default_factory=ReleaseFacts)
    cursor: MetricCursor = field(init=False)  # the per-check model's metric intervals so far
    replay: Replay | None = None  # a backtest's resampled real traffic
    script: dict | None = None  # the batched engine's known decisions, by gate run (None: the per-check model)
    gate_runs: list = field(default_factory=list)  # every analysis run of a gate, in start order
    memo: RoundMemo | None = None  # what an earlier round of the batched engine computed
    ended: float | None = None  # when the pipeline ended (None: still running at the horizon)

    def __post_init__(self, first_bad: bool) -> None:
        self.cursor = MetricCursor(empty_series(self.scenario.traffic.metric_interval))
        self.new_build(first_bad)

    # ---- hosts and builds -------------------------------------------------------------------------
    @functools.cached_property
    def production(self) -> np.ndarray:
        """Production hosts in rollout order (the canary tier first)."""
        return np.flatnonzero(self.production_mask)

    def tier_hosts(self, tier: str) -> np.ndarray:
        return np.flatnonzero(self.layout.tier == TIERS.index(tier))

    def new_build(self, bad: bool) -> Build:
        build = Build(number=len(self.builds) + 1, bad=bad)
        self.builds.append(build)
        self.candidate = build
        self.assigned = np.zeros(self.layout.size, dtype=bool)
        return build

    @functools.cached_property
    def production_mask(self) -> np.ndarray:
        return self.layout.tier >= TIERS.index("canary")

    @functools.cached_property
    def serving_mask(self) -> np.ndarray:
        """Hosts that serve users (production and dogfood; staging serves no public traffic)."""
        return self.exposure.weight > 0

    def production_share(self) -> float:
        production = self.production_mask
        total = int(production.sum())
        return self.exposure.live_count(self.candidate.number, self.env.now, production) / total if total else 0.0

    # ---- deploy waves -------------------------------------------------------------------------------
    def wave(self, hosts: np.ndarray, build: int, purpose: str) -> WaveResult:
        """Start moving `hosts` to `build` now through the rollout strategy; returns their go-live times."""
        name = self.rollout.strategy
        spec = self.scenario.strategies[name]
        target = self.candidate if build == self.candidate.number else None
        if isinstance(spec, PullStrategy) and (target is None or target.waves > 0):
            spec = _published(spec)
        if target is not None:
            target.waves += 1
        key = (purpose, self.env.now, len(hosts), spec is not self.scenario.strategies[name])
        if self.memo is not None and key in self.memo.waves:
            done = self.memo.waves[key]
        else:
            plan, _ = build_plan(self.scenario, name, len(hosts), self.streams.child(f"{purpose}."), spec=spec)
            done = wave_done(plan, self.env.now + plan.signal_delay)
            if self.memo is not None:
                self.memo.waves[key] = done
        finished = float(np.fmax.reduce(done, initial=-np.inf))  # NaN (never updated) is ignored
        return WaveResult(hosts=hosts, done=done, finished=max(finished, self.env.now))

    def onset_delays(self, n: int, purpose: str) -> np.ndarray:
        if not self.candidate.bad:
            return np.full(n, np.inf)
        return sample_named(self.scenario.build.bad.onset, self.streams, f"{purpose}.onset", n)

    # ---- records ------------------------------------------------------------------------------------
    def stage_event(self, event: str) -> None:
        """Record a stage change; its production share is read later from the final exposure
        (`settled_stages`)."""
        self.stages.append(StageChange(self.env.now, self.candidate.number, self.step, self.label, event, math.nan))

    # ---- metrics (the per-check model) ----------------------------------------------------------------
    def advance_metrics(self, until: float | None = None) -> MetricSeries:
        """Every metric interval that has ended by now (or by `until`), computed as needed."""
        return self.cursor.advance(self, int(intervals_ended(self, self.env.now if until is None else until)))

    def window(self, since: float) -> Window:
        """The metric intervals that ended in (since, now]."""
        return window_between(self.advance_metrics(), since, self.env.now)

    # ---- people ----------------------------------------------------------------------------------------
    def reaction_time(self, purpose: str) -> float:
        commander = self.scenario.commander
        in_hours = clock.is_business_hours(commander.business_hours, self.start_wall + self.env.now)
        spec = commander.reaction_business_hours if in_hours else commander.reaction_off_hours
        return float(sample_named(spec, self.streams, f"commander.{purpose}", 1)[0])

    def draw(self, spec, purpose: str) -> float:
        return float(sample_named(spec, self.streams, purpose, 1)[0])

    def record_decision(self, gate: str, run: int, verdict) -> None:
        self.decision_runs.append(run)
        self.decisions.append(Decision(self.env.now, gate, self.label, verdict.outcome, verdict.action,
                                       verdict.metric, float(verdict.value), verdict.rule, verdict.measurement))


_PUBLISHED: dict[int, tuple[PullStrategy, PullStrategy]] = {}


def _published(spec: PullStrategy) -> PullStrategy:
    """The pull strategy for a build already published: no publish step. (Cached by identity: the
    entry keeps `spec` alive, so its id cannot be reused; hashing a model walks all its fields.)"""
    entry = _PUBLISHED.get(id(spec))
    if entry is None or entry[0] is not spec:
        if len(_PUBLISHED) > 256:
            _PUBLISHED.clear()
        entry = _PUBLISHED[id(spec)] = (spec, spec.model_copy(update={"publish": Constant(dist="constant", value=0.0)}))
    return entry[1]


def settled_stages(stages: list[StageChange], exposure: FleetExposure, production: np.ndarray) -> list[StageChange]:
    """Each stage change with its share of production hosts on its build, read from the final exposure
    (a change of exposure only ever affects the future, so the past reads the same from it)."""
    total = int(production.sum())
    shares: dict[int, float] = {}  # by stage change
    for build in {change.build for change in stages}:
        chosen = [i for i, change in enumerate(stages) if change.build == build]
        times = np.array([stages[i].time for i in chosen])
        counts = exposure.live_counts(build, times, production) if total else np.zeros(len(chosen))
        shares.update(zip(chosen, (counts / total if total else counts).tolist()))
    return [StageChange(c.time, c.build, c.step, c.label, c.event, shares[i]) for i, c in enumerate(stages)]


def intervals_ended(ctx: ReleaseContext, times):
    """How many metric intervals have ended by each of `times` (interval k ends at (k + 1) * step),
    at most as many as the release has noise for."""
    step = ctx.scenario.traffic.metric_interval
    return np.minimum(np.floor((np.asarray(times) + 1e-9) / step).astype(np.int64), ctx.noise.intervals)


@dataclass
class MetricCursor:
    """The per-check model's view of time: the metric intervals ended so far (`series`).

    Intervals are computed in batches ahead of time (`ahead`): exposure in the future is known until
    something changes it (a wave starts, a rollback, a cancel, a new build), and every such change
    happens now, so a change drops whatever was computed ahead. Noise is fixed per interval index, so
    a recomputed interval is the interval that would have been computed anyway, had it waited."""

    series: MetricSeries
    ahead: MetricSeries | None = None
    version: tuple = ()  # (exposure version, builds) that `ahead` was computed for
    AHEAD = 16  # intervals computed at once

    def advance(self, ctx: ReleaseContext, needed: int) -> MetricSeries:
        """The first `needed` intervals of `ctx` (or all computed so far, if more)."""
        version = (ctx.exposure.version, len(ctx.builds))
        if version != self.version:
            self.ahead, self.version = None, version
        have = len(self.series)
        if have >= needed:
            return self.series
        if self.ahead is None or len(self.ahead) < needed - have:
            [self.ahead] = compute_series([(ctx, have, max(needed, have + self.AHEAD))])
        self.series = self.series.extended(self.ahead.part(0, needed - have))
        self.ahead = self.ahead.part(needed - have)
        return self.series


def window_starts(metrics: MetricSeries, since) -> np.ndarray:
    """The first interval of each window that begins after `since`: the first to end after it."""
    first = np.maximum(np.floor(np.asarray(since) / metrics.interval + 1e-9).astype(np.int64), 0)
    return np.maximum(first, np.searchsorted(metrics.time, since, side="right"))  # (guards rounding at the edge)


def window_between(metrics: MetricSeries, since: float, now: float) -> Window:
    """The intervals of `metrics` that ended in (since, now] (metrics holds intervals 0.. up to now)."""
    chosen = slice(min(int(window_starts(metrics, since)), len(metrics)), len(metrics))
    return Window(time=now, new_requests=metrics.new_requests[chosen], new_errors=metrics.new_errors[chosen],
                  old_requests=metrics.old_requests[chosen], old_errors=metrics.old_errors[chosen],
                  new_latency=metrics.new_latency[chosen], old_latency=metrics.old_latency[chosen])


def draw_incidents(scenario: Scenario, rng: np.random.Generator, horizon: float) -> list[tuple[float, float]]:
    """Unrelated incidents: Poisson arrivals over the horizon, each with a drawn duration."""
    per_second = scenario.incidents.per_day / clock.DAY
    count = rng.poisson(per_second * horizon) if per_second > 0 else 0
    starts = np.sort(rng.uniform(0, horizon, size=count))
    durations = sample(scenario.incidents.duration, rng, count)
    return [(float(s), float(s + d)) for s, d in zip(starts, durations)]


def interval_count(scenario: Scenario) -> int:
    return int(math.ceil(rollout_of(scenario).horizon / scenario.traffic.metric_interval)) + 2


def rollout_of(scenario: Scenario) -> Rollout:
    """The scenario's `rollout:` section. Only a scenario with one has releases to simulate: the commands
    check that before they simulate, so a scenario without one here is a bug in the caller."""
    rollout = scenario.rollout
    assert rollout is not None, f"scenario {scenario.name!r} has no rollout: section, so no releases to simulate"
    return rollout
