"""The state of one release simulation, shared by the pipeline, the gates and the commander.

It owns the SimPy environment, the named streams, the fleet's exposure, the candidate build, the
metric sampler (which computes intervals lazily up to `now`), the records, and the deploy waves that
move hosts between builds through the scenario's strategy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import simpy

from sim.distributions import Constant, sample
from sim.engine import build_plan, fast_wave
from sim.fleet import FleetLayout, TIERS
from sim.policies import Window
from sim.rollout import clock
from sim.rollout.exposure import FleetExposure
from sim.rollout.records import Decision, MetricSample, StageChange
from sim.rollout.traffic import IntervalNoise, Replay, draw_many, draw_replayed
from sim.scenario import PullStrategy, Scenario
from sim.streams import Streams

BASELINE = 0


@dataclass
class Build:
    number: int
    bad: bool
    waves: int = 0  # deploy waves so far (pull publishes the build once, on its first wave)


@dataclass
class WaveResult:
    hosts: np.ndarray
    done: np.ndarray  # absolute times; NaN where the host was not updated
    finished: float


@dataclass
class ReleaseContext:
    scenario: Scenario
    env: simpy.Environment
    streams: Streams
    layout: FleetLayout
    exposure: FleetExposure
    start_wall: float
    noise: IntervalNoise
    incidents: list[tuple[float, float]]
    candidate: Build
    builds: list[Build] = field(default_factory=list)
    assigned: np.ndarray = None  # hosts given to the candidate (live or in flight)
    waves_finish: float = 0.0  # when the candidate's waves so far will have finished
    samples: list[MetricSample] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    stages: list[StageChange] = field(default_factory=list)
    label: str = "build"
    step: int = -1
    main: simpy.Process | None = None
    gates: list[simpy.Process] = field(default_factory=list)
    facts: dict = field(default_factory=dict)  # detection, mitigation, ... (first occurrence wins)
    ahead: list = field(default_factory=list)  # metric samples computed ahead of time (see advance_metrics)
    ahead_version: tuple = ()
    replay: Replay | None = None  # a backtest's resampled real traffic

    # ---- hosts and builds -------------------------------------------------------------------------
    @property
    def production(self) -> np.ndarray:
        """Production hosts in rollout order (the canary tier first)."""
        return np.flatnonzero(self.layout.tier >= TIERS.index("canary"))

    def tier_hosts(self, tier: str) -> np.ndarray:
        return np.flatnonzero(self.layout.tier == TIERS.index(tier))

    def new_build(self, bad: bool) -> Build:
        build = Build(number=len(self.builds) + 1, bad=bad)
        self.builds.append(build)
        self.candidate = build
        self.assigned = np.zeros(self.layout.size, dtype=bool)
        return build

    def production_share(self) -> float:
        production = self.layout.tier >= TIERS.index("canary")
        live = self.exposure.live_hosts(self.candidate.number, self.env.now)
        total = int(production.sum())
        return float(production[live].sum()) / total if total else 0.0

    # ---- deploy waves -------------------------------------------------------------------------------
    def wave(self, hosts: np.ndarray, build: int, purpose: str) -> WaveResult:
        """Start moving `hosts` to `build` now through the rollout strategy; returns their go-live times."""
        name = self.scenario.rollout.strategy
        spec = self.scenario.strategies[name]
        target = self.candidate if build == self.candidate.number else None
        if isinstance(spec, PullStrategy) and (target is None or target.waves > 0):
            spec = spec.model_copy(update={"publish": Constant(dist="constant", value=0.0)})
        if target is not None:
            target.waves += 1
        streams = self.streams.child(f"{purpose}.")
        plan, _ = build_plan(self.scenario, name, len(hosts), streams, spec=spec)
        times = fast_wave(plan, self.env.now + plan.signal_delay)
        finished = float(np.nanmax(times.done)) if np.isfinite(times.done).any() else self.env.now
        return WaveResult(hosts=hosts, done=times.done, finished=max(finished, self.env.now))

    def onset_delays(self, n: int, purpose: str) -> np.ndarray:
        if not self.candidate.bad:
            return np.full(n, np.inf)
        return sample(self.scenario.build.bad.onset, self.streams(f"{purpose}.onset"), n)

    # ---- records ------------------------------------------------------------------------------------
    def stage_event(self, event: str) -> None:
        self.stages.append(StageChange(self.env.now, self.candidate.number, self.step, self.label, event,
                                       self.production_share()))

    def note(self, key: str, value) -> None:
        self.facts.setdefault(key, value)

    # ---- metrics --------------------------------------------------------------------------------------
    # Intervals are computed in batches ahead of time (`ahead`): exposure in the future is known until
    # something changes it (a wave starts, a rollback, a cancel, a new build), and every such change
    # happens now, so a change drops whatever was computed ahead. Noise is fixed per interval index, so
    # a recomputed interval is the interval that would have been computed anyway, had it waited.
    AHEAD = 16

    def advance_metrics(self, until: float | None = None) -> None:
        """Compute every metric interval that has ended by now (or by `until`)."""
        step = self.scenario.traffic.metric_interval
        until = self.env.now if until is None else until
        needed = int(np.floor((until + 1e-9) / step))
        version = (self.exposure.version, len(self.builds))
        if version != self.ahead_version:
            self.ahead, self.ahead_version = [], version
        while len(self.samples) < needed:
            if not self.ahead:
                self.ahead = self._samples(len(self.samples), max(needed, len(self.samples) + self.AHEAD), step)
            self.samples.append(self.ahead.pop(0))

    def _samples(self, k0: int, k1: int, step: float) -> list[MetricSample]:
        k1 = min(k1, len(self.noise.u_requests))
        ks = np.arange(k0, k1)
        a, b = ks * step, (ks + 1) * step
        fleet = float(self.exposure.weight.sum()) * step
        new = self.exposure.host_seconds_many(a, b)
        bad_builds = {x.number for x in self.builds if x.bad}
        bad_live = self.exposure.host_seconds_many(a, b, builds=bad_builds)
        bad_onset = self.exposure.host_seconds_many(a, b, builds=bad_builds, after_onset=True)
        affected = self.scenario.build.bad.affected_share * np.divide(bad_onset, new, out=np.zeros_like(new), where=new > 0)
        incident = np.array([any(s < bk and e > ak for s, e in self.incidents) for ak, bk in zip(a, b)], dtype=bool)
        old = np.where(fleet - new > 1e-9 * fleet, fleet - new, 0.0)
        if self.replay is not None:
            counts = draw_replayed(self.scenario.traffic, self.scenario.build.bad, self.noise, ks, self.replay,
                                   new / fleet, affected, incident, self.scenario.incidents.error_multiplier)
        else:
            counts = draw_many(self.scenario.traffic, self.scenario.build.bad, self.noise, ks,
                               self.start_wall + (a + b) / 2, np.stack([new, old], axis=1), affected, incident,
                               self.scenario.incidents.error_multiplier)
        total = counts.requests.sum(axis=1)
        share = np.divide(counts.requests[:, 0], total, out=np.zeros(len(ks)), where=total > 0)
        return [MetricSample(time=float(b[i]), interval=step, new_requests=int(counts.requests[i, 0]),
                             new_errors=int(counts.errors[i, 0]), old_requests=int(counts.requests[i, 1]),
                             old_errors=int(counts.errors[i, 1]), new_latency=float(counts.latency[i, 0]),
                             old_latency=float(counts.latency[i, 1]), new_true_rate=float(counts.true_rates[i, 0]),
                             old_true_rate=float(counts.true_rates[i, 1]), new_share=float(share[i]),
                             bad_share=float(bad_live[i] / fleet) if fleet else 0.0, incident=bool(incident[i]))
                for i in range(len(ks))]

    def window(self, since: float) -> Window:
        """The metric intervals that ended in (since, now]."""
        self.advance_metrics()
        step = self.scenario.traffic.metric_interval
        first = max(int(np.floor(since / step + 1e-9)), 0)  # samples[k] ends at (k + 1) * step
        chosen = self.samples[first:]  # every sample computed so far ended by now
        chosen = [s for s in chosen if s.time > since]  # (guards the boundary against rounding)
        column = lambda name, kind: np.array([getattr(s, name) for s in chosen], dtype=kind)
        return Window(time=self.env.now, new_requests=column("new_requests", np.int64),
                      new_errors=column("new_errors", np.int64), old_requests=column("old_requests", np.int64),
                      old_errors=column("old_errors", np.int64), new_latency=column("new_latency", float),
                      old_latency=column("old_latency", float))

    # ---- people ----------------------------------------------------------------------------------------
    def reaction_time(self, purpose: str) -> float:
        commander = self.scenario.commander
        in_hours = clock.is_business_hours(commander.business_hours, self.start_wall + self.env.now)
        spec = commander.reaction_business_hours if in_hours else commander.reaction_off_hours
        return float(sample(spec, self.streams(f"commander.{purpose}"), 1)[0])

    def draw(self, spec, purpose: str) -> float:
        return float(sample(spec, self.streams(purpose), 1)[0])

    def record_decision(self, gate: str, verdict) -> None:
        self.decisions.append(Decision(self.env.now, gate, self.label, verdict.outcome, verdict.action,
                                       verdict.metric, float(verdict.value), verdict.rule, verdict.measurement))


def draw_incidents(scenario: Scenario, rng: np.random.Generator, horizon: float) -> list[tuple[float, float]]:
    """Unrelated incidents: Poisson arrivals over the horizon, each with a drawn duration."""
    per_second = scenario.incidents.per_day / clock.DAY
    count = rng.poisson(per_second * horizon) if per_second > 0 else 0
    starts = np.sort(rng.uniform(0, horizon, size=count))
    durations = sample(scenario.incidents.duration, rng, count)
    return [(float(s), float(s + d)) for s, d in zip(starts, durations)]


def interval_count(scenario: Scenario) -> int:
    return int(math.ceil(scenario.rollout.horizon / scenario.traffic.metric_interval)) + 2
