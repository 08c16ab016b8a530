"""A release as it runs: the state shared by the pipeline, the gates and the commander.

`Release` is what one release is before it runs (its scenario, the scenario's shared `ReleaseSetup`,
its named streams, when its branch is cut, its interval noise, unrelated incidents, a backtest's slice
of real traffic). `ReleaseContext` is what happens to it: the SimPy environment, the fleet's exposure,
the builds, the stage changes and decisions, the gate runs, the typed `ReleaseFacts` that its outcome
is read from, and the per-check model's `MetricCursor`. With `script` set (the batched engine,
`sim.rollout.batch`) no metric is computed during the run: gates only keep their clock, and the
intervals are drawn afterwards, for many releases at once; `memo` carries what one of its rounds
computed into the next.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import simpy

from sim.deploy.engine import build_plan, wave_done
from sim.deploy.fleet import TIERS
from sim.distributions import sample, sample_named
from sim.policies import Window
from sim.rollout import clock
from sim.rollout.exposure import FleetExposure
from sim.rollout.facts import ReleaseFacts, RoundMemo
from sim.rollout.records import Decision, StageChange
from sim.rollout.series import MetricSeries, compute_series, empty_series
from sim.rollout.setup import ReleaseSetup, rollout_of
from sim.rollout.traffic import NoiseBlocks, Replay
from sim.spec.rollout import Rollout
from sim.spec.scenario import PeerStrategy, PullStrategy, Scenario
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


@dataclass(frozen=True, eq=False)
class Release:
    """What one release is, fixed before it runs."""

    scenario: Scenario  # as this release sees it (an evaluation's policy: its gates and its build)
    setup: ReleaseSetup  # what every release of the scenario shares
    streams: Streams  # the replication's named streams
    start_wall: float  # when the branch is cut (seconds since Monday 00:00)
    noise: NoiseBlocks  # each metric interval's noise (drawn when first needed)
    incidents: tuple[tuple[float, float], ...]  # unrelated incidents: (start, end)
    replay: Replay | None  # a backtest's resampled real traffic
    first_bad: bool  # whether the first build (the candidate from the start) is bad


@dataclass
class ReleaseContext:
    release: Release
    env: simpy.Environment
    exposure: FleetExposure
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
    script: dict | None = None  # the batched engine's known decisions, by gate run (None: the per-check model)
    gate_runs: list = field(default_factory=list)  # every analysis run of a gate, in start order
    memo: RoundMemo | None = None  # what an earlier round of the batched engine computed
    ended: float | None = None  # when the pipeline ended (None: still running at the horizon)

    def __post_init__(self) -> None:
        traffic = self.scenario.traffic
        self.cursor = MetricCursor(empty_series(traffic.metric_interval, self.scenario.build.bad.added_latency,
                                                traffic.latency_shape))
        self.new_build(self.release.first_bad)

    @property
    def scenario(self) -> Scenario:
        return self.release.scenario

    @property
    def rollout(self) -> Rollout:
        """The release's own pipeline (an evaluation policy may bring its own steps)."""
        return rollout_of(self.release.scenario)

    @property
    def streams(self) -> Streams:
        return self.release.streams

    # ---- hosts and builds -------------------------------------------------------------------------
    @property
    def production(self) -> np.ndarray:
        """Production hosts in rollout order (the canary tier first)."""
        return self.release.setup.production

    @property
    def production_mask(self) -> np.ndarray:
        return self.release.setup.production_mask

    def tier_hosts(self, tier: str) -> np.ndarray:
        return np.flatnonzero(self.release.setup.layout.tier == TIERS.index(tier))

    def new_build(self, bad: bool) -> Build:
        build = Build(number=len(self.builds) + 1, bad=bad)
        self.builds.append(build)
        self.candidate = build
        self.assigned = np.zeros(self.release.setup.layout.size, dtype=bool)
        return build

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
        if isinstance(spec, (PullStrategy, PeerStrategy)) and (target is None or target.waves > 0):
            spec = self.release.setup.published[name]
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
        in_hours = clock.is_business_hours(commander.business_hours, self.release.start_wall + self.env.now)
        spec = commander.reaction_business_hours if in_hours else commander.reaction_off_hours
        return float(sample_named(spec, self.streams, f"commander.{purpose}", 1)[0])

    def draw(self, spec, purpose: str) -> float:
        return float(sample_named(spec, self.streams, purpose, 1)[0])

    def record_decision(self, gate: str, run: int, verdict) -> None:
        self.decision_runs.append(run)
        self.decisions.append(Decision(self.env.now, gate, self.label, verdict.outcome, verdict.action,
                                       verdict.metric, float(verdict.value), verdict.rule, verdict.measurement))


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
    return np.minimum(np.floor((np.asarray(times) + 1e-9) / step).astype(np.int64), ctx.release.noise.intervals)


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
                  new_latency=metrics.new_latency[chosen], old_latency=metrics.old_latency[chosen],
                  new_affected=metrics.new_affected[chosen], added_latency=metrics.added_latency,
                  latency_shape=metrics.latency_shape)


def draw_incidents(scenario: Scenario, rng: np.random.Generator, horizon: float) -> tuple[tuple[float, float], ...]:
    """Unrelated incidents: Poisson arrivals over the horizon, each with a drawn duration."""
    per_second = scenario.incidents.per_day / clock.DAY
    count = rng.poisson(per_second * horizon) if per_second > 0 else 0
    starts = np.sort(rng.uniform(0, horizon, size=count))
    durations = sample(scenario.incidents.duration, rng, count)
    return tuple((float(s), float(s + d)) for s, d in zip(starts, durations))
