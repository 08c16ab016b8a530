"""Argo Rollouts AnalysisRun semantics, as coded (not as first documented).

Mirrors argoproj/argo-rollouts `analysis/analysis.go`:
- `runMeasurements`: a Successful, Failed or Inconclusive measurement increments its counter and
  `Count` and RESETS `ConsecutiveError` to 0; an Error increments `Error` and `ConsecutiveError` and
  does NOT increment `Count`.
- `assessMetricStatus`, in this order: `Failed > failureLimit` -> Failed; `Inconclusive >
  inconclusiveLimit` -> Inconclusive; `ConsecutiveError > consecutiveErrorLimit` -> Error;
  `Count >= count` -> Successful; otherwise Running.
So a metric FAILS when failures EXCEED `failureLimit`: `failureLimit: 3` fails on the fourth failed
measurement (test `TestAssessMetricStatusFailureLimit` in `analysis/analysis_test.go`: Failed 3 with
limit 2 is Failed, with limit 3 is Running). Defaults: failureLimit 0, inconclusiveLimit 0,
consecutiveErrorLimit 4 (`DefaultConsecutiveErrorLimit`, `utils/defaults/defaults.go`).
Failed and Error abort the rollout (here: `action_on_fail`); Inconclusive pauses it for a human.

Measurements: a breach is Failed; below `min_requests` is Inconclusive (Argo's result when neither
successCondition nor failureCondition holds); no data follows `no_data` (default Error: a Prometheus
query returning an empty vector makes the condition evaluation error).

Example::

    gates:
      errors: {semantics: argo, metric: error_rate, max: 1%, failure_limit: 3, interval: 1m}
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from pydantic import Field

from sim.policies.gate import Limits
from sim.policies.rules import Measurement, measure, streak
from sim.policies.verdict import Verdict, failed, keep_measuring, passed, undecided
from sim.policies.window import Window


class ArgoSpec(Limits):
    """An Argo Rollouts AnalysisTemplate metric."""

    semantics: Literal["argo"]
    failure_limit: int = Field(0, ge=0)
    """The metric fails when failed measurements EXCEED this (3: fails on the 4th). Argo default 0."""
    inconclusive_limit: int = Field(0, ge=0)
    """Inconclusive when inconclusive measurements exceed this (0: the first one pauses). Argo default 0."""
    consecutive_error_limit: int = Field(4, ge=0)
    """Error when errors in a row exceed this; any completed measurement resets the run. Argo default 4."""
    count: int | None = Field(None, ge=1, le=1_000_000)
    """Measurements (errors excluded, as in Argo) after which the metric is Successful; omitted: runs
    until the stage ends it (Argo: indefinite when `interval` is set without `count`)."""
    no_data: Literal["error", "failed", "inconclusive"] = "error"
    """What a window without new-build requests is: `error` (empty query result, Argo's Error),
    `failed` (a NaN value fails `successCondition`), or `inconclusive`."""
    consecutive: int = Field(1, ge=1, le=10_000)
    """deploysim extension (argo-rollouts #4792): a breach counts as a Failed measurement only when it
    is the N-th in a row. 1 is plain Argo."""


@dataclass(frozen=True)
class ArgoState:
    """The MetricResult counters of Argo, plus the breach streak of the `consecutive` extension."""

    count: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0
    consecutive_error: int = 0
    run: int = 0
    final: Verdict | None = None


def start(spec: ArgoSpec) -> ArgoState:
    return ArgoState()


def _phase(spec: ArgoSpec, m: Measurement, run: int) -> str:
    """The measurement phase: Successful, Failed, Inconclusive or Error."""
    if m.result == "no_data":
        return {"error": "Error", "failed": "Failed", "inconclusive": "Inconclusive"}[spec.no_data]
    if m.result == "low_traffic":
        return "Inconclusive"
    if m.result == "breach" and run >= spec.consecutive:
        return "Failed"
    return "Successful"


def _count(state: ArgoState, phase: str, run: int) -> ArgoState:
    """`runMeasurements`: bump the counters for one completed measurement."""
    if phase == "Error":
        return replace(state, error=state.error + 1, consecutive_error=state.consecutive_error + 1, run=run)
    bumped = replace(state, count=state.count + 1, consecutive_error=0, run=run)
    if phase == "Failed":
        return replace(bumped, failed=state.failed + 1)
    if phase == "Inconclusive":
        return replace(bumped, inconclusive=state.inconclusive + 1)
    return bumped


def _assess(spec: ArgoSpec, s: ArgoState) -> tuple[str, str]:
    """`assessMetricStatus`: the metric phase and the message Argo would log."""
    if s.failed > spec.failure_limit:
        return "Failed", f"failed ({s.failed}) > failureLimit ({spec.failure_limit})"
    if s.inconclusive > spec.inconclusive_limit:
        return "Inconclusive", f"inconclusive ({s.inconclusive}) > inconclusiveLimit ({spec.inconclusive_limit})"
    if s.consecutive_error > spec.consecutive_error_limit:
        return "Error", (f"consecutiveErrors ({s.consecutive_error}) > "
                         f"consecutiveErrorLimit ({spec.consecutive_error_limit})")
    if spec.count is not None and s.count >= spec.count:
        return "Successful", f"count ({spec.count}) reached"
    return "Running", f"failed {s.failed}/{spec.failure_limit}, inconclusive {s.inconclusive}, errors in a row {s.consecutive_error}"


def check(spec: ArgoSpec, state: ArgoState, window: Window) -> tuple[ArgoState, Verdict]:
    return judge(spec, state, measure(spec, window))


def settles_on_success(spec) -> bool:
    """Whether successes alone can end an analysis run (count reached)."""
    return spec.count is not None


def judge(spec: ArgoSpec, state: ArgoState, m: Measurement) -> tuple[ArgoState, Verdict]:
    """One check, given its window's measurement."""
    if state.final is not None:
        return state, state.final
    run = streak(state.run, m.result)
    phase = _phase(spec, m, run)
    new = _count(state, phase, run)
    metric_phase, message = _assess(spec, new)
    own = {"Successful": "success", "Failed": "failure", "Inconclusive": "inconclusive", "Error": "error"}[phase]
    if m.result == "breach" and phase == "Successful":
        own = "failure"
        message += f"; breach {run}/{spec.consecutive} in a row, not counted"
    rule = f"{m.rule}; {message}"
    if metric_phase in ("Failed", "Error"):
        v = failed(spec.action_on_fail, m.metric, m.value, f"{metric_phase}: {rule}", own)
    elif metric_phase == "Inconclusive":
        v = undecided(m.metric, m.value, f"Inconclusive: {rule}", own)
    elif metric_phase == "Successful":
        v = passed(m.metric, m.value, f"Successful: {rule}", own)
    else:
        return new, keep_measuring(m.metric, m.value, rule, own)
    return replace(new, final=v), v
