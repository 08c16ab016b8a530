"""Argo Rollouts AnalysisRun semantics, as coded (not as first documented), up to consecutiveSuccessLimit.

Mirrors argoproj/argo-rollouts `analysis/analysis.go`. What was read, and where it came from:
- `runMeasurements` (read at commit c9dd7ea, the newest stored copy, and at 045c1cf, the older copy this
  module first followed; unchanged between them): a Successful, Failed or Inconclusive measurement
  increments its counter and `Count` and RESETS `ConsecutiveError` to 0; an Error increments `Error`
  and `ConsecutiveError` and does NOT increment `Count`.
- `assessMetricStatus` (c9dd7ea) delegates the limits to `assessMetricFailureInconclusiveOrError`,
  which tests `Failed > failureLimit`, then `Inconclusive > inconclusiveLimit`, then
  `ConsecutiveError > consecutiveErrorLimit`, each later hit OVERRIDING the earlier one (Error >
  Inconclusive > Failed). CHANGED since 045c1cf, which returned at the first hit (Failed >
  Inconclusive > Error); the change came with argo-rollouts PR #434 (March 2020). One measurement
  moves at most one counter past its limit, so the order only shows when the counters are given
  directly (`_assess`); no run of checks here changes outcome. Then `Count >= count` -> Successful;
  otherwise Running. Logs CHANGED too: "Metric Assessment Result - Failed: failed (4) > failureLimit
  (3)" and "Metric Assessment Result - Successful: Count (3) Reached" (045c1cf: "metric assessed
  Failed: ...", "count (3) reached"); the verdict's rule quotes the current line.
So a metric FAILS when failures EXCEED `failureLimit`: `failureLimit: 3` fails on the fourth failed
measurement (TestAssessMetricStatusFailureLimit). Defaults: failureLimit 0, inconclusiveLimit 0,
consecutiveErrorLimit 4 (`DefaultConsecutiveErrorLimit`, `utils/defaults/defaults.go`).

Argo Rollouts v1.8 (PR #3970; docs PR #3996, commit 21d5716: "`consecutiveSuccessLimit` available
since v1.8") adds `consecutiveSuccessLimit` (default 0: not applicable) and lets `failureLimit: -1`
mean "not applicable"; one of the two must apply, or the spec is invalid. The docs name no such value
for inconclusiveLimit or consecutiveErrorLimit, so they stay >= 0. NOT READ: no stored copy of
analysis.go is v1.8 or later, so the rest follows the feature's docs and description (issue #3969,
PR #3970), not its code, and is to be checked against the v1.8 code: (a) the success streak counts
Successful measurements, and every other completed measurement, an Error included, resets it; (b) the
streak is tested after the limits and before `count`; (c) `count` reached without the streak is
Inconclusive if failureLimit also applies, else Failed; (d) the wording of those three log lines.
Failed and Error abort the rollout (here: `action_on_fail`); Inconclusive pauses it for a human.

Measurements: a breach is Failed; below `min_requests` is Inconclusive (Argo's result when neither
successCondition nor failureCondition holds); no data follows `no_data` (default Error: a Prometheus
query returning an empty vector makes the condition evaluation error).

Example::

    gates:
      errors: {semantics: argo, metric: error_rate, max: 1%, failure_limit: 3, interval: 1m}
      ready:  {semantics: argo, metric: error_rate, max: 1%, failure_limit: -1, consecutive_success_limit: 5}
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from sim.policies.gate import Limits, check_rules
from sim.policies.measures import MEASURES, Measure, error_measure, measure_value, metric_of
from sim.policies.rules import LOW_TRAFFIC_RULE, Measurement, measure, streak
from sim.policies.verdict import Verdict, failed, keep_measuring, passed, undecided
from sim.policies.window import Window

if TYPE_CHECKING:
    from sim.policies.expr import Condition


class ArgoSpec(Limits):
    """An Argo Rollouts AnalysisTemplate metric."""

    semantics: Literal["argo"]
    failure_limit: int = Field(0, ge=-1)
    """The metric fails when failed measurements EXCEED this (3: fails on the 4th); -1: not applicable,
    failures never fail it (Argo v1.8+, needs consecutive_success_limit). Argo default 0."""
    inconclusive_limit: int = Field(0, ge=0)
    """Inconclusive when inconclusive measurements exceed this (0: the first one pauses). Argo default 0."""
    consecutive_error_limit: int = Field(4, ge=0)
    """Error when errors in a row exceed this; any completed measurement resets the run. Argo default 4."""
    consecutive_success_limit: int = Field(0, ge=0, le=1_000_000)
    """Successful once this many Successful measurements come in a row; any other measurement, an
    Error included, restarts the streak. 0: not applicable. Argo v1.8+, default 0."""
    count: int | None = Field(None, ge=1, le=1_000_000)
    """Measurements (errors excluded, as in Argo) after which the metric ends: Successful, or with
    consecutive_success_limit not reached, Inconclusive (failure_limit applies) or Failed (-1);
    omitted: runs until the stage ends it (Argo: indefinite when `interval` is set without `count`)."""
    no_data: Literal["error", "failed", "inconclusive"] = "error"
    """What a window without new-build requests is: `error` (empty query result, Argo's Error),
    `failed` (a NaN value fails `successCondition`), or `inconclusive`."""
    consecutive: int = Field(1, ge=1, le=10_000)
    """deploysim extension (argo-rollouts #4792): a breach counts as a Failed measurement only when it
    is the N-th in a row. 1 is plain Argo. A breach not counted is Successful for the counters but
    restarts the consecutive_success_limit streak."""

    measure: Measure | None = None
    """What the metric's query returns, simulated (`sim.policies.measures`): with it, the gate judges each
    measurement by `success_condition` / `failure_condition` (Argo's expression language) on `result`,
    instead of max / max_ratio / max_increase. Set for every metric imported from an AnalysisTemplate."""
    scale: float = Field(1.0, gt=0, le=1e6)
    """`result[0]` is the measure times this: the query's unit (100: a percentage; 1000: latency in
    milliseconds). From the scenario's `metrics:` mapping."""
    success_condition: str | None = Field(None, max_length=2000)
    """Argo `successCondition`, e.g. `result[0] >= 0.95` (see `sim.policies.expr` for the language)."""
    failure_condition: str | None = Field(None, max_length=2000)
    """Argo `failureCondition`, e.g. `len(result) == 0 || result[0] > 0.01`."""

    @model_validator(mode="before")
    @classmethod
    def _metric_of_measure(cls, data: Any) -> Any:
        """With a `measure`, the metric its records name follows from it."""
        if isinstance(data, dict) and isinstance(data.get("measure"), str) and "metric" not in data:
            return {**data, "metric": metric_of(data["measure"])}
        return data

    @model_validator(mode="after")
    def _some_rule(self) -> "ArgoSpec":
        """Limits' rule check, or with a `measure` the conditions (overrides `Limits._some_rule`)."""
        if self.measure is None:
            if self.success_condition is not None or self.failure_condition is not None:
                raise ValueError("success_condition and failure_condition need `measure`: what result[0] is "
                                 f"(one of {', '.join(MEASURES)})")
            return check_rules(self)
        rules = [name for name in ("max", "max_ratio", "max_increase") if getattr(self, name) is not None]
        if rules:
            raise ValueError(f"a gate with `measure` is judged by its conditions: drop {', '.join(rules)}")
        if self.metric != metric_of(self.measure):
            raise ValueError(f"measure {self.measure} is a {metric_of(self.measure)} measure (got metric {self.metric})")
        if self.success_condition is None and self.failure_condition is None:
            return self
        from sim.policies import expr  # (lark loads for gates with conditions only: most runs never need it)

        for field_name in ("success_condition", "failure_condition"):
            text = getattr(self, field_name)
            if text is not None:
                try:
                    expr.parse(text)
                except expr.ExprError as error:
                    raise ValueError(f"{field_name}: {error}") from None
        return self

    @functools.cached_property
    def conditions(self) -> tuple[Condition | None, Condition | None]:
        """(success, failure) conditions, parsed once (None where not given)."""
        from sim.policies import expr  # (see _some_rule)

        return tuple(None if t is None else expr.parse(t) for t in (self.success_condition, self.failure_condition))  # type: ignore[return-value]

    @model_validator(mode="after")
    def _a_limit_applies(self) -> "ArgoSpec":
        if self.failure_limit < 0 and self.consecutive_success_limit == 0:
            raise ValueError("failure_limit -1 (not applicable) needs consecutive_success_limit >= 1: "
                             "Argo requires failureLimit or consecutiveSuccessLimit to apply")
        return self


@dataclass(frozen=True)
class ArgoState:
    """The MetricResult counters of Argo (`consecutive_success`: v1.8's ConsecutiveSuccess), plus the
    breach streak of the `consecutive` extension."""

    count: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0
    consecutive_error: int = 0
    consecutive_success: int = 0
    run: int = 0
    final: Verdict | None = None


def start(spec: ArgoSpec) -> ArgoState:
    return ArgoState()


def _phase(spec: ArgoSpec, m: Measurement, run: int) -> str:
    """The measurement phase: Successful, Failed, Inconclusive or Error."""
    if m.result in ("inconclusive", "error"):
        return "Inconclusive" if m.result == "inconclusive" else "Error"
    if m.result == "no_data":
        return {"error": "Error", "failed": "Failed", "inconclusive": "Inconclusive"}[spec.no_data]
    if m.result == "low_traffic":
        return "Inconclusive"
    if m.result == "breach" and run >= spec.consecutive:
        return "Failed"
    return "Successful"


def _count(state: ArgoState, phase: str, run: int, success: bool = True) -> ArgoState:
    """`runMeasurements`: bump the counters for one completed measurement. `success` False: a
    Successful phase that breached (the `consecutive` extension) does not extend the success streak."""
    if phase == "Error":
        return replace(state, error=state.error + 1, consecutive_error=state.consecutive_error + 1,
                       consecutive_success=0, run=run)
    bumped = replace(state, count=state.count + 1, consecutive_error=0, consecutive_success=0, run=run)
    if phase == "Failed":
        return replace(bumped, failed=state.failed + 1)
    if phase == "Inconclusive":
        return replace(bumped, inconclusive=state.inconclusive + 1)
    return replace(bumped, consecutive_success=state.consecutive_success + 1 if success else 0)


def _limit_hit(spec: ArgoSpec, s: ArgoState) -> tuple[str, str] | None:
    """`assessMetricFailureInconclusiveOrError`: every limit in turn, a later hit overriding an earlier."""
    hit = None
    if spec.failure_limit >= 0 and s.failed > spec.failure_limit:
        hit = "Failed", f"failed ({s.failed}) > failureLimit ({spec.failure_limit})"
    if s.inconclusive > spec.inconclusive_limit:
        hit = "Inconclusive", f"inconclusive ({s.inconclusive}) > inconclusiveLimit ({spec.inconclusive_limit})"
    if s.consecutive_error > spec.consecutive_error_limit:
        hit = "Error", (f"consecutiveErrors ({s.consecutive_error}) > "
                        f"consecutiveErrorLimit ({spec.consecutive_error_limit})")
    return hit


def _count_reached(spec: ArgoSpec) -> tuple[str, str]:
    """The phase once `count` is reached without the success streak (nor a limit hit)."""
    success_limit, failure_applies = spec.consecutive_success_limit, spec.failure_limit >= 0
    if success_limit and failure_applies:
        return "Inconclusive", (f"ConsecutiveSuccessLimit ({success_limit}) Not Reached and "
                                f"FailureLimit ({spec.failure_limit}) Not Violated")
    if success_limit:
        return "Failed", f"ConsecutiveSuccessLimit ({success_limit}) Not Reached"
    return "Successful", f"Count ({spec.count}) Reached"


def _assess(spec: ArgoSpec, s: ArgoState) -> tuple[str, str]:
    """`assessMetricStatus`: the metric phase and the line Argo logs (progress while Running)."""
    hit = _limit_hit(spec, s)
    if hit is None and spec.consecutive_success_limit and s.consecutive_success >= spec.consecutive_success_limit:
        hit = "Successful", f"ConsecutiveSuccessLimit ({spec.consecutive_success_limit}) Reached"
    if hit is None and spec.count is not None and s.count >= spec.count:
        hit = _count_reached(spec)
    if hit is not None:
        return hit[0], f"Metric Assessment Result - {hit[0]}: {hit[1]}"
    streak_note = (f", successes in a row {s.consecutive_success}/{spec.consecutive_success_limit}"
                   if spec.consecutive_success_limit else "")
    return "Running", (f"failed {s.failed}/{spec.failure_limit}, inconclusive {s.inconclusive}, "
                       f"errors in a row {s.consecutive_error}{streak_note}")


def check(spec: ArgoSpec, state: ArgoState, window: Window) -> tuple[ArgoState, Verdict]:
    return judge(spec, state, measure(spec, window) if spec.measure is None else measure_conditions(spec, window))


def measure_conditions(spec: ArgoSpec, window: Window) -> Measurement:
    """One measurement of a gate with a `measure`, judged as Argo's `EvaluateResult` judges a metric's
    result (argo-rollouts `utils/evaluate/evaluate.go`): an error evaluating a condition is an Error;
    without conditions, Successful; with only successCondition, Failed unless it holds; with only
    failureCondition, Successful unless it holds; with both, Failed if failureCondition holds, else
    Successful if successCondition holds, else Inconclusive. `result` is `[value]`, or `[]` when the new
    build had no requests (an empty vector); below `min_requests` the measurement is Inconclusive."""
    requests = int(np.sum(window.new_requests))
    assert spec.measure is not None
    return judge_value(spec, requests, measure_value(spec.measure, window) if requests > 0 else math.nan)


def condition_totals(spec: ArgoSpec, requests: int, new: float, old: float) -> Measurement:
    """`measure_conditions` from a window's new-cohort request count and the two cohorts' error rates
    (the batched engine's bulk path; error measures only)."""
    assert spec.measure is not None and metric_of(spec.measure) == "error_rate"
    return judge_value(spec, requests, error_measure(spec.measure, new, old) if requests > 0 else math.nan)


def judge_value(spec: ArgoSpec, requests: int, value: float) -> Measurement:
    """The measurement of `value` (of `requests` new-build requests) under the gate's conditions."""
    if 0 < requests < spec.min_requests:
        return Measurement("low_traffic", spec.metric, float(requests),
                           f"requests {requests} {LOW_TRAFFIC_RULE} {spec.min_requests}")
    value = value * spec.scale
    result = [value] if requests > 0 else []
    shown = f"{spec.measure} {value:.6g}" if result else f"{spec.measure}: no data (result [])"
    success, failure = spec.conditions
    from sim.policies import expr  # (loaded by `conditions` already)

    try:
        succeeded = expr.evaluate(success, result) if success is not None else None
        failing = expr.evaluate(failure, result) if failure is not None else None
    except expr.EvalError as error:
        return Measurement("error", spec.metric, value, f"{shown}; condition error: {error}")
    if succeeded is None and failing is None:
        return Measurement("success", spec.metric, value, f"{shown}; no condition: Successful")
    if failing is None:
        failing = not succeeded
    if succeeded is None:
        succeeded = not failing
    if failing:
        held = spec.failure_condition if spec.failure_condition is not None else f"not ({spec.success_condition})"
        return Measurement("breach", spec.metric, value, f"{shown}; {held}")
    if not succeeded:
        return Measurement("inconclusive", spec.metric, value,
                           f"{shown}; neither {spec.success_condition} nor {spec.failure_condition}")
    return Measurement("success", spec.metric, value, f"{shown}; {spec.success_condition or 'not (' + str(spec.failure_condition) + ')'}")


def settles_on_success(spec) -> bool:
    """Whether successes alone can end an analysis run: `count` reached, or
    `consecutive_success_limit` successes in a row."""
    return spec.count is not None or spec.consecutive_success_limit > 0


def judge(spec: ArgoSpec, state: ArgoState, m: Measurement) -> tuple[ArgoState, Verdict]:
    """One check, given its window's measurement."""
    if state.final is not None:
        return state, state.final
    run = streak(state.run, m.result)
    phase = _phase(spec, m, run)
    new = _count(state, phase, run, success=m.result != "breach")
    metric_phase, message = _assess(spec, new)
    own = {"Successful": "success", "Failed": "failure", "Inconclusive": "inconclusive", "Error": "error"}[phase]
    if m.result == "breach" and phase == "Successful":
        own = "failure"
        message += f"; breach {run}/{spec.consecutive} in a row, not counted"
    rule = f"{m.rule}; {message}"
    if metric_phase in ("Failed", "Error"):
        v = failed(spec.action_on_fail, m.metric, m.value, rule, own)
    elif metric_phase == "Inconclusive":
        v = undecided(m.metric, m.value, rule, own)
    elif metric_phase == "Successful":
        v = passed(m.metric, m.value, rule, own)
    else:
        return new, keep_measuring(m.metric, m.value, rule, own)
    return replace(new, final=v), v
