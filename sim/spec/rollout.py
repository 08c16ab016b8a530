"""What a scenario says about a release: pipeline steps, traffic, the build's effect, incidents, people.

These sections are optional in a scenario; when `rollout` is present, `deploysim run` simulates
releases instead of (only) fleet-growth sweeps. Defaults cite docs/sources.md or say "guess".
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Discriminator, Field, Tag, ValidationInfo, field_validator, model_validator

from sim.backtest import read_history
from sim.backtest.live import LiveHistory, LiveSource, instant, live_url, url_problem
from sim.backtest.timeline import iso
from sim.distributions import Constant, Distribution, LogNormal, scenario_folder
from sim.policies.window import LATENCY_SHAPE
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


class CanaryStep(Section):
    """Flagger's canary analysis: move production to each weight in turn, each after an interval whose
    checks all pass; roll back when failed checks reach `threshold` (`sim.rollout.canary`)."""

    canary: "CanarySpec"


class CanarySpec(Section):
    gates: list[str] = Field(..., min_length=1)
    """Gates (`semantics: flagger`, from `gates:`) checked together every `interval` (Flagger's metrics).
    Each check of each gate is its measurement: within its limits passes; a breach, no requests or fewer
    than `min_requests` is a failed check. The step counts failed checks; a gate's own `threshold`,
    `step_weight` and `max_weight` apply only where it runs as an analysis step or background gate."""
    weights: list[Percent] = Field(..., min_length=1, max_length=100)
    """Percent of production hosts on the new build at each stage of the analysis, increasing (Flagger
    `stepWeights`, or stepWeight, 2 x stepWeight, ... up to maxWeight). The step starts at the first; the
    analysis ends (the canary is promoted) after a passing check at the last."""
    interval: PositiveDuration = 60.0
    """Time between checks (Flagger `analysis.interval`; Flagger raises anything under 10s to 10s)."""
    threshold: int = Field(1, ge=1, le=10_000)
    """Roll back when failed checks, counted over the whole analysis and all its gates (one per interval
    at most), reach this (Flagger `threshold`; 1 when unset, as in Flagger's code)."""
    approval: "ApprovalSpec | None" = None
    """Wait for a person before each weight increase (Flagger's confirm-traffic-increase webhook)."""

    @model_validator(mode="after")
    def _increasing(self) -> "CanarySpec":
        problems: list[tuple[tuple, Any, str]] = [
            (("weights", i + 1), w, f"weights must increase (the one before is {p:g})")
            for i, (p, w) in enumerate(zip(self.weights, self.weights[1:])) if w <= p]
        problems += [(("weights", i), w, "a weight must be above 0 and at most 100")
                     for i, w in enumerate(self.weights) if not 0 < w <= 100]
        if self.interval < 10:
            problems.append((("interval",), self.interval, "must be >= 10s (Flagger raises shorter intervals to 10s)"))
        if problems:
            raise located("CanarySpec", problems)
        return self


class ApprovalStep(Section):
    """Wait for a person to approve the next step (manual judgement)."""

    approval: "ApprovalSpec"


class ApprovalSpec(Section):
    wait: Distribution = Field(default_factory=lambda: _lognormal(120.0, 600.0))
    """Time until someone approves, once asked. Guess."""


def _step_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return next(k for k in STEP_KINDS if k in type(value).model_fields)
    if isinstance(value, dict):
        kinds = [k for k in STEP_KINDS if k in value]
        return kinds[0] if len(kinds) == 1 else None
    return None


STEP_KINDS = ("stage", "set_weight", "pause", "analysis", "canary", "approval")

Step = Annotated[
    Union[
        Annotated[StageStep, Tag("stage")], Annotated[SetWeightStep, Tag("set_weight")],
        Annotated[PauseStep, Tag("pause")], Annotated[AnalysisStep, Tag("analysis")],
        Annotated[CanaryStep, Tag("canary")], Annotated[ApprovalStep, Tag("approval")],
    ],
    Discriminator(_step_kind, custom_error_type="step_kind",
                  custom_error_message="a step needs exactly one of: " + ", ".join(STEP_KINDS)),
]


def _step_problems(steps: list, background_from_step: int | None) -> list[tuple[tuple, Any, str]]:
    """What is wrong with the order of a pipeline's steps (key paths relative to its section)."""
    weights = [(i, s.set_weight) for i, s in enumerate(steps) if isinstance(s, SetWeightStep)]
    problems: list[tuple[tuple, Any, str]] = [(("steps", i, "set_weight"), w, f"set_weight must not decrease (the step before sets {p:g})")
                for (_, p), (i, w) in zip(weights, weights[1:]) if w < p]
    if weights and weights[-1][1] != 100:
        i, w = weights[-1]
        problems.append((("steps", i, "set_weight"), w, "the last set_weight must be 100"))
    canaries = [i for i, s in enumerate(steps) if isinstance(s, CanaryStep)]
    if canaries and not any(i > canaries[-1] and w == 100 for i, w in weights):
        problems.append((("steps", canaries[-1], "canary"), "canary",
                         "a canary analysis promotes into a later `set_weight: 100` step: add one after it"))
    if background_from_step is not None and background_from_step >= len(steps):
        problems.append((("background_from_step",), background_from_step,
                         f"not a step: the rollout has steps 0 to {len(steps) - 1}"))
    return problems


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
        problems = _step_problems(self.steps, self.background_from_step)
        if problems:
            raise located("Rollout", problems)
        return self

    def with_steps(self, own: "PolicySteps | None") -> "Rollout":
        """This rollout with a policy's own steps and background gates (itself when `own` is None)."""
        if own is None:
            return self
        return self.model_copy(update={name: getattr(own, name) for name in PolicySteps.model_fields})


class PolicySteps(Section):
    """An evaluation policy's own steps and background gates (`evaluation.rollouts`): the policy runs them
    instead of `rollout:`'s, with the rollout's strategy, watch and horizon."""

    steps: list[Step] = Field(..., min_length=1)
    background_gates: list[str] = Field(default_factory=list)
    """As `rollout.background_gates`."""
    background_from_step: int | None = Field(None, ge=0)
    """As `rollout.background_from_step`."""

    @model_validator(mode="after")
    def _ends_at_100(self) -> "PolicySteps":
        problems = _step_problems(self.steps, self.background_from_step)
        if problems:
            raise located("PolicySteps", problems)
        return self


class Diurnal(Section):
    """Load that rises and falls over the day (a sine with its peak at `peak_hour`)."""

    amplitude: Share = 0.5
    """Peak-to-mean swing: load = mean x (1 + amplitude x cos(...)). Guess."""
    peak_hour: float = Field(15.0, ge=0, lt=24)
    """Hour of day (wall clock) of peak load. Guess: mid-afternoon."""


def _instant_schema(schema: dict[str, Any]) -> None:
    schema.pop("type", None)
    schema["anyOf"] = [{"type": "string", "format": "date-time"}, {"type": "number", "minimum": 0}]


class HistoryQueries(Section):
    """PromQL of a live history, one query per role, each returning one series of per-interval values."""

    requests: str = Field(..., min_length=1, max_length=10_000)
    """Requests per interval, e.g. `sum(increase(http_requests_total[1m]))`."""
    errors: str = Field(..., min_length=1, max_length=10_000)
    """Failed requests per interval, e.g. `sum(increase(http_requests_total{code=~"5.."}[1m])) or vector(0)`."""
    latency: str | None = Field(None, min_length=1, max_length=10_000)
    """Mean latency in seconds per interval, e.g. `sum(rate(http_request_duration_seconds_sum[1m])) /
    sum(rate(http_request_duration_seconds_count[1m]))`. Optional."""


class HistoryRange(Section):
    """The window of a live Prometheus history to replay (`history: prometheus+http://HOST:PORT`)."""

    start: float = Field(..., json_schema_extra=_instant_schema)
    """Time of the first point: ISO-8601 with a zone (`2024-03-04T00:00:00Z`) or unix seconds. Each point
    counts the step before it (`increase(x[1m])`), so the history starts one step earlier."""
    end: float = Field(..., json_schema_extra=_instant_schema)
    """Time of the last point (as `start`); at least one step after `start`."""
    step: PositiveDuration | None = None
    """Query resolution: must be traffic.metric_interval (the default)."""
    queries: HistoryQueries
    """The PromQL to run over the window, one query per role."""

    @field_validator("start", "end", mode="before")
    @classmethod
    def _unix_seconds(cls, value: Any) -> float:
        return instant(value)


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
    latency_shape: float = Field(LATENCY_SHAPE, ge=0.01, le=3)
    """Spread of single requests' latencies within an interval, for latency quantiles (p50, p95, p99):
    each request takes its interval's mean latency times a lognormal factor of mean 1 and this shape
    (sigma), plus the bad build's added_latency if affected, so p99/p50 = exp(2.326 x shape): 0.6 gives
    4.0, 1 gives 10, 3 (the most) about 1000.
    Only quantile gates and measures read it; a history's mean latency is spread the same way. Guess
    (docs/sources.md, L1)."""
    metric_interval: PositiveDuration = 60.0
    """Length of one metric interval (a scrape/aggregation step). 1m as in Argo's examples."""
    # before `history`, whose validator reads it (pydantic validates fields in the order they are declared)
    history_range: HistoryRange | None = None
    """Backtest on a live Prometheus (`history: prometheus+http://HOST:PORT`): the window to replay and the
    queries, sent to /api/v1/query_range once per process. Only with a live history."""
    history: str | None = None
    """Backtest: a metric history (CSV: timestamp, requests, errors[, latency]; or a Prometheus
    range-query JSON export; or a live Prometheus server, `prometheus+http://HOST:PORT` or
    `prometheus+https://...`, with `history_range`) that replaces the synthetic baseline. Each release
    replays a time-of-day aligned block bootstrap of it; the bad build's spike is injected into it. Path
    relative to the scenario file; `--metrics FILE` (or `--metrics URL`) sets it."""
    history_block: int | None = Field(None, ge=1, le=100_000)
    """Bootstrap block length in intervals (default: chosen from the data, Politis-White)."""

    @field_validator("history")
    @classmethod
    def _from_scenario_folder(cls, history: str | None, info: ValidationInfo) -> str | None:
        """The history's path, relative to the scenario file's folder unless absolute; a live server's URL
        with its window and queries (a `LiveHistory`, which `read_history` asks the server for)."""
        if history is None:
            return None
        url = live_url(history)
        if url is None:
            return str(Path(history) if Path(history).is_absolute() else (scenario_folder(info) / history).resolve())
        problem = url_problem(url)
        if problem:
            raise ValueError(problem)
        window, step = info.data.get("history_range"), info.data.get("metric_interval")
        if window is None or step is None:  # no window (said by _readable_history), or a bad one (said already)
            return url
        queries = tuple((role, q) for role, q in window.queries.model_dump().items() if q is not None)
        return LiveHistory(LiveSource(url, window.start, window.end, window.step or step, queries))

    @model_validator(mode="after")
    def _readable_history(self) -> "Traffic":
        self._live_history_range()
        if self.history is None:
            return self
        history = read_history(self.history)  # raises MetricsError, located in the history file (or at the server)
        if abs(history.interval - self.metric_interval) > 1e-9:
            raise ValueError(f"history: its interval is {history.interval:g}s but traffic.metric_interval is "
                             f"{self.metric_interval:g}s; set traffic.metric_interval to {history.interval:g}s")
        return self

    def _live_history_range(self) -> None:
        """`history_range` with a live history and only then; its step the metric interval; two points or more."""
        live, window = self.history is not None and live_url(self.history) is not None, self.history_range
        problems: list[tuple[tuple, Any, str]] = []
        if live and window is None:
            problems.append((("history",), self.history, "a live Prometheus history needs traffic.history_range "
                             "(start, end, queries: {requests, errors[, latency]})"))
        elif window is not None and not live:
            problems.append((("history_range",), "history_range", "only for a live Prometheus history (history: "
                             "prometheus+http://HOST:PORT); drop it (--set traffic.history_range=null) for a file"))
        elif window is not None and window.step is not None and abs(window.step - self.metric_interval) > 1e-9:
            problems.append((("history_range", "step"), window.step, f"must equal traffic.metric_interval "
                             f"({self.metric_interval:g}s): each point of the history is one metric interval"))
        elif window is not None and window.end - window.start < (window.step or self.metric_interval) - 1e-9:
            problems.append((("history_range", "end"), iso(window.end), "the window needs two points or more: end at "
                             "least one step after start"))
        if problems:
            raise located("Traffic", problems)


class BadBuild(Section):
    """What a bad build does once live on a host (after `onset`)."""

    error_multiplier: float = Field(1.0, ge=1, le=10_000)
    """Multiplies the baseline error rate of affected requests."""
    added_error_rate: Share = 0.0
    """Adds this share of failing requests among affected requests."""
    added_latency: NonNegativeDuration = 0.0
    """Adds to the latency of each affected request (a shift: the mean and every quantile of the affected
    requests move by this much)."""
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
CanaryStep.model_rebuild()
CanarySpec.model_rebuild()
ApprovalStep.model_rebuild()
