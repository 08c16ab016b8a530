"""The pipeline on paper: which hosts run the new build during each step, and when each step runs.

A nominal walk through `rollout.steps` for a good build that nothing stops: deploys take no time,
approvals take their median wait, and an analysis lasts until every gate passes on its own or its
`duration` ends. The host counts are those of `sim.rollout.pipeline` (a set_weight step moves
ceil(weight% x production hosts), the canary tier first; hosts already on the new build stay on it; a
canary step is seen at its first weight),
so a warning can say how much traffic a gate sees at each step without simulating a release.

    walk(scenario, scenario.gates)[3].cohort.production   # production hosts on the new build at step 3
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.distributions import median_of
from sim.policies.flagger import checks_to_promote
from sim.spec.rollout import AnalysisStep, ApprovalStep, CanaryStep, PauseStep, SetWeightStep, StageStep


@dataclass(frozen=True)
class Cohort:
    """Hosts on the new build, by tier group, and the label of the step that put them there."""

    label: str = "none"
    staging: int = 0
    dogfood: int = 0
    production: int = 0
    """Canary and production hosts (a set_weight step counts them together)."""

    def describe(self) -> str:
        """`2%: 39 production + 40 dogfood hosts on the new build` (staging only when nothing else is)."""
        parts = [f"{n} {tier}" for tier, n in (("production", self.production), ("dogfood", self.dogfood)) if n]
        parts = parts or ([f"{self.staging} staging"] if self.staging else ["no"])
        return f"{self.label}: {' + '.join(parts)} hosts on the new build"


@dataclass(frozen=True)
class StepView:
    """One step of the nominal walk: its hosts on the new build and its time span."""

    index: int
    step: object
    cohort: Cohort
    start: float
    """Seconds since the first step began."""
    end: float
    serving: bool
    """Background gates watch during this step (it is the first step with real traffic, or later)."""


def production_hosts(scenario) -> int:
    tiers = scenario.fleet.tiers
    return scenario.fleet.hosts - tiers.staging - tiers.dogfood


def after_step(scenario, cohort: Cohort, step) -> Cohort:
    """The hosts on the new build once `step` has deployed (unchanged by steps that deploy nothing)."""
    if isinstance(step, SetWeightStep):
        moved = math.ceil(step.set_weight / 100.0 * production_hosts(scenario))
        return Cohort(f"{step.set_weight:g}%", cohort.staging, cohort.dogfood, max(cohort.production, moved))
    if isinstance(step, CanaryStep):  # seen at its first weight, where its gates have the least traffic
        weight = step.canary.weights[0]
        moved = math.ceil(weight / 100.0 * production_hosts(scenario))
        return Cohort(f"{weight:g}%", cohort.staging, cohort.dogfood, max(cohort.production, moved))
    if isinstance(step, StageStep):
        count = getattr(scenario.fleet.tiers, step.stage)
        return Cohort(step.stage, **{**_counts(cohort), step.stage: count})
    return cohort


def _counts(cohort: Cohort) -> dict:
    return {"staging": cohort.staging, "dogfood": cohort.dogfood, "production": cohort.production}


def passes_after(spec) -> float | None:
    """Seconds after which a gate passes on its own when every check succeeds (None: it never does)."""
    if spec.semantics == "flagger":
        checks = checks_to_promote(spec.max_weight, spec.step_weight) if spec.step_weight is not None else None
    elif spec.semantics == "kayenta":
        checks = spec.count or 1  # without count: passes at the first score >= pass
    elif spec.semantics == "argo" and getattr(spec, "consecutive_success_limit", 0) > 0:
        checks = min(spec.count or math.inf, spec.consecutive_success_limit)  # Argo v1.8+ success streak
    else:
        checks = spec.count
    return None if checks is None else checks * spec.interval


def step_length(scenario, step, gates: dict) -> float:
    """How long a step takes in the nominal walk (an analysis that never ends: the rollout's horizon)."""
    if isinstance(step, PauseStep):
        return step.pause
    if isinstance(step, ApprovalStep):
        return median_of(step.approval.wait)
    if isinstance(step, StageStep):
        return step.smoke_test.duration if step.smoke_test is not None else 0.0
    if isinstance(step, CanaryStep):  # one passing check per weight, an approval before each increase
        approvals = median_of(step.canary.approval.wait) if step.canary.approval is not None else 0.0
        return len(step.canary.weights) * step.canary.interval + (len(step.canary.weights) - 1) * approvals
    if isinstance(step, AnalysisStep):
        ends = [passes_after(gates[name]) if name in gates else None for name in step.analysis.gates]
        known = [e for e in ends if e is not None]
        own = max(known) if len(known) == len(ends) else None  # None: some gate never passes
        limits = [x for x in (own, step.analysis.duration) if x is not None]
        return min(limits) if limits else scenario.rollout.horizon
    return 0.0


def serves(step) -> bool:
    """Whether this step gives the new build real traffic (where background gates start)."""
    return isinstance(step, (SetWeightStep, CanaryStep)) or (isinstance(step, StageStep) and step.stage == "dogfood")


def walk(scenario, gates: dict) -> list[StepView]:
    """The nominal walk through the rollout's steps with this set of gates (name -> spec)."""
    views, cohort, now, serving = [], Cohort(), 0.0, False
    for index, step in enumerate(scenario.rollout.steps):
        cohort = after_step(scenario, cohort, step)
        serving = serving or serves(step)
        length = step_length(scenario, step, gates)
        views.append(StepView(index, step, cohort, now, now + length, serving))
        now += length
    return views
