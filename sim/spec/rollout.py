"""What a scenario says about a release: pipeline steps, traffic, the build's effect, incidents, people.

These sections are optional in a scenario; when `rollout` is present, `deploysim run` simulates
releases instead of (only) fleet-growth sweeps. Defaults cite docs/sources.md or say "guess".
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Discriminator, Field, Tag, ValidationInfo, field_validator, model_validator

from sim.backtest import read_history
from sim.distributions import Constant, Distribution, LogNormal, scenario_folder
from sim.quantities import NonNegativeDuration, Percent, PositiveDuration, Share
from sim.section import Section
from sim.spec.references import located


def _lognormal(median: float, p95: float) -> LogNormal:
    return LogNormal(dist="lognormal", median=median, p95=p95)


class SmokeTest(Section):
    """Automated smoke tests in staging (production-like, no public traffic)."""

    duration: NonNegativeDuration = 600.0
    """How long the tests run. Guess: 10m."""
    detection: Share = 0.5
    """Probability that the tests catch a bad build. Guess."""


class StageStep(Section):
    """Deploy a pre-production tier (`staging` runs smoke tests; `dogfood` serves employees)."""

    stage: Literal["staging", "dogfood"]
    smoke_test: SmokeTest | None = None
    """Staging only: tests that may catch a bad build before production."""


class SetWeightStep(Section):
    """Move production to this share of hosts on the new build (Argo `setWeight`)."""

    set_weight: Percent = Field(..., gt=0, le=100)
    """Percent of production hosts on the new build once this step has deployed (the canary tier counts
    first): `10%` or `10`. The unit is percent, so a bare number is a percent: `0.5` is 0.5%, not 50%."""


class PauseStep(Section):
    """Bake: wait this long while background gates keep watching (Argo `pause: {duration}`)."""

    pause: PositiveDuration


class AnalysisStep(Section):
    """Run gates until they pass, fail or `duration` ends (Argo inline `analysis`)."""

    analysis: "AnalysisSpec"


class AnalysisSpec(Section):
    gates: list[str] = Field(..., min_length=1)
    """Names of gates (from `gates:`) to run in this step."""
    duration: PositiveDuration | None = None
    """Stop and pass after this long if nothing failed (default: until every gate passes or fails)."""


class ApprovalStep(Section):
    """Wait for a person to approve the next step (manual judgement)."""

    approval: "ApprovalSpec"


class ApprovalSpec(Section):
    wait: Distribution = Field(default_factory=lambda: _lognormal(120.0, 600.0))
    """Time until someone approves, once asked. Guess."""


def _step_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return next(k for k in ("stage", "set_weight", "pause", "analysis", "approval") if k in type(value).model_fields)
    if isinstance(value, dict):
        kinds = [k for k in ("stage", "set_weight", "pause", "analysis", "approval") if k in value]
        return kinds[0] if len(kinds) == 1 else None
    return None


STEP_KINDS = ("stage", "set_weight", "pause", "analysis", "approval")

Step = Annotated[
    Union[
        Annotated[StageStep, Tag("stage")], Annotated[SetWeightStep, Tag("set_weight")],
        Annotated[PauseStep, Tag("pause")], Annotated[AnalysisStep, Tag("analysis")],
        Annotated[ApprovalStep, Tag("approval")],
    ],
    Discriminator(_step_kind, custom_error_type="step_kind",
                  custom_error_message="a step needs exactly one of: " + ", ".join(STEP_KINDS)),
]


class Rollout(Section):
    """The pipeline one release goes through, in order."""

    strategy: str
    """The strategy (from `strategies:`) that moves hosts between builds, for deploys and rollbacks."""
    steps: list[Step] = Field(..., min_length=1)
    background_gates: list[str] = Field(default_factory=list)
    """Gates that watch from the first step with real traffic (dogfood or a set_weight) to the end
    (Argo background analysis)."""
    background_from_step: int | None = Field(None, ge=0)
    """Start the background gates when this step (0-based) begins, whatever its traffic (Argo
    `startingStep`); default: the first step with real traffic."""
    watch: NonNegativeDuration = 3600.0
    """After the pipeline's last step, the release is watched this long before its outcome is read: a
    bad build still serving then is a miss, and its users are counted until then. Guess: 1h."""
    horizon: PositiveDuration = 2 * 86400.0
    """A release whose pipeline has not ended this long after the branch cut is `blocked` (and is
    watched no longer): the longest a team would wait for one release."""

    @model_validator(mode="after")
    def _ends_at_100(self) -> "Rollout":
        weights = [(i, s.set_weight) for i, s in enumerate(self.steps) if isinstance(s, SetWeightStep)]
        problems: list[tuple[tuple, Any, str]] = [(("steps", i, "set_weight"), w, f"set_weight must not decrease (the step before sets {p:g})")
                    for (_, p), (i, w) in zip(weights, weights[1:]) if w < p]
        if weights and weights[-1][1] != 100:
            i, w = weights[-1]
            problems.append((("steps", i, "set_weight"), w, "the last set_weight must be 100"))
        if self.background_from_step is not None and self.background_from_step >= len(self.steps):
            problems.append((("background_from_step",), self.background_from_step,
                             f"not a step: the rollout has steps 0 to {len(self.steps) - 1}"))
        if problems:
            raise located("Rollout", problems)
        return self


class Diurnal(Section):
    """Load that rises and falls over the day (a sine with its peak at `peak_hour`)."""

    amplitude: Share = 0.5
    """Peak-to-mean swing: load = mean x (1 + amplitude x cos(...)). Guess."""
    peak_hour: float = Field(15.0, ge=0, lt=24)
    """Hour of day (wall clock) of peak load. Guess: mid-afternoon."""


class Traffic(Section):
    """Requests and their errors and latency, drawn per cohort and metric interval (never per request)."""

    requests_per_host: float = Field(50.0, gt=0)
    """Mean requests per second one production host serves at mean load. Guess."""
    dogfood_requests_per_host: float = Field(5.0, ge=0)
    """Mean requests per second of a dogfood host (employees only). Guess."""
    diurnal: Diurnal = Diurnal()
    dispersion: float = Field(0.05, ge=0, le=10)
    """Over-dispersion: each interval's rates are multiplied by gamma noise with this coefficient of
    variation (0: Poisson counts, binomial errors). Guess."""
    error_rate: Share = 0.001
    """Baseline share of requests that fail, both builds. Guess: 0.1%."""
    latency: PositiveDuration = 0.120
    """Baseline mean latency. Guess."""
    latency_noise: float = Field(0.05, ge=0, le=10)
    """Coefficient of variation of each interval's mean latency. Guess."""
    metric_interval: PositiveDuration = 60.0
    """Length of one metric interval (a scrape/aggregation step). 1m as in Argo's examples."""
    history: str | None = None
    """Backtest: a metric history (CSV: timestamp, requests, errors[, latency]; or a Prometheus
    range-query JSON export) that replaces the synthetic baseline. Each release replays a time-of-day
    aligned block bootstrap of it; the bad build's spike is injected into it. Path relative to the
    scenario file; `--metrics FILE` sets it."""
    history_block: int | None = Field(None, ge=1, le=100_000)
    """Bootstrap block length in intervals (default: chosen from the data, Politis-White)."""

    @field_validator("history")
    @classmethod
    def _from_scenario_folder(cls, history: str | None, info: ValidationInfo) -> str | None:
        """The history's path, relative to the scenario file's folder unless absolute."""
        if history is None:
            return None
        return str(Path(history) if Path(history).is_absolute() else (scenario_folder(info) / history).resolve())

    @model_validator(mode="after")
    def _readable_history(self) -> "Traffic":
        if self.history is None:
            return self
        history = read_history(self.history)  # raises MetricsError, located in the history file
        if abs(history.interval - self.metric_interval) > 1e-9:
            raise ValueError(f"history: its interval is {history.interval:g}s but traffic.metric_interval is "
                             f"{self.metric_interval:g}s; set traffic.metric_interval to {history.interval:g}s")
        return self


class BadBuild(Section):
    """What a bad build does once live on a host (after `onset`)."""

    error_multiplier: float = Field(1.0, ge=1, le=10_000)
    """Multiplies the baseline error rate of affected requests."""
    added_error_rate: Share = 0.0
    """Adds this share of failing requests among affected requests."""
    added_latency: NonNegativeDuration = 0.0
    """Adds to the mean latency of affected requests."""
    affected_share: Share = 1.0
    """Share of the new build's requests that hit the broken code path."""
    onset: Distribution = Field(default_factory=lambda: Constant(dist="constant", value=0.0))
    """Delay after a host goes live before the effect shows (a cache warming up, a cron job)."""


class Build(Section):
    """Is the build under test good or bad?"""

    bad_probability: Share = 1.0
    """Probability that a release's build is bad (1: always bad; 0: always good)."""
    bad: BadBuild = BadBuild(added_error_rate=0.02)
    """The effect when it is bad. Default: +2% errors on every request. Guess."""
    build_time: Distribution = Field(default_factory=lambda: _lognormal(600.0, 1200.0))
    """Branch cut (or cherry-pick) to a deployable build. Guess: 10 min."""


class Incidents(Section):
    """Unrelated incidents that raise errors for BOTH cohorts (the cause of false alarms)."""

    per_day: float = Field(0.0, ge=0, le=1000)
    """Mean incidents per day (Poisson)."""
    duration: Distribution = Field(default_factory=lambda: _lognormal(600.0, 3600.0))
    error_multiplier: float = Field(3.0, ge=1, le=10_000)
    """Multiplies both cohorts' error rate while an incident lasts."""


class BusinessHours(Section):
    start: float = Field(9.0, ge=0, lt=24)
    end: float = Field(17.0, gt=0, le=24)
    weekdays_only: bool = True


class Hotfix(Section):
    """Find the culprit change, revert it, cherry-pick the revert, build, ship again."""

    find_culprit: Distribution = Field(default_factory=lambda: _lognormal(900.0, 3600.0))
    """Time to find the culprit PR. Guess."""
    revert_and_cherry_pick: Distribution = Field(default_factory=lambda: _lognormal(300.0, 900.0))
    fast_path: bool = False
    """Ship the hotfix build without pauses and analyses (straight through the set_weight steps)."""


class Commander(Section):
    """The deploy commander: a person paged when a gate asks for one."""

    reaction_business_hours: Distribution = Field(default_factory=lambda: _lognormal(180.0, 600.0))
    """Page to decision in business hours. Guess: 3 min median."""
    reaction_off_hours: Distribution = Field(default_factory=lambda: _lognormal(900.0, 2700.0))
    """Page to decision outside business hours. Guess: 15 min median."""
    investigate: Distribution = Field(default_factory=lambda: _lognormal(300.0, 900.0))
    """On a pause: time to tell a bad build from noise (assumed to get it right)."""
    on_failure: Literal["rollback", "hotfix"] = "rollback"
    """After an automatic rollback: stop there, or also hotfix and ship again (Slack: roll back first,
    then revert the culprit)."""
    business_hours: BusinessHours = BusinessHours()
    hotfix: Hotfix = Hotfix()


class Schedule(Section):
    """When releases start: about 12 scheduled deploys a day in business hours (Slack, 2020)."""

    deploys_per_day: int = Field(12, ge=1, le=1000)
    business_hours_only: bool = True
    """Releases start only inside the commander's business hours, on weekdays."""
    start: str | None = Field(None, pattern=r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{2}:\d{2}$")
    """A fixed start (`Tue 10:00`) instead of a random scheduled slot."""


AnalysisStep.model_rebuild()
ApprovalStep.model_rebuild()
