"""Flagger canary analysis semantics: a cumulative failed-check counter against `threshold`.

Mirrors fluxcd/flagger `pkg/controller/scheduler.go` (`advanceCanary`) and
`pkg/controller/scheduler_metrics.go` (`runBuiltinMetricChecks`, `runMetricChecks`):
- every `interval` the metrics are checked against `thresholdRange`; `val > max` halts advancement
  (strict comparison; a value equal to max passes);
- a query returning no values (`ErrNoValuesFound`: "Halt advancement no values found ... probably not
  receiving traffic") also returns false, so NO DATA IS A FAILED CHECK;
- each failed check calls `SetStatusFailedChecks(cd, cd.Status.FailedChecks+1)`; nothing resets the
  counter during the run (only a new revision restarting the analysis does), so it is CUMULATIVE;
- rollback when `FailedChecks >= GetAnalysisThreshold()`; the threshold defaults to 1 when unset
  (`GetAnalysisThreshold`, pkg/apis/flagger/v1beta1, tested in its canary_test.go). The docs call it
  the "max number of failed metric checks before rollback", which reads as one more than the code
  allows: threshold 5 rolls back on the 5th failed check, not the 6th.
In the code the comparison runs at the START of the next tick, before that tick's analysis, so the real
controller rolls back one interval after the failing check; `rollback_on_next_check: true` copies that
lag, the default decides at the failing check (the documented interval x threshold).

Below `min_requests` is treated as no values (a failed check), as Flagger has no inconclusive state.

Example::

    gates:
      errors: {semantics: flagger, metric: error_rate, max: 1%, threshold: 5, step_weight: 10, max_weight: 50}
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from sim.policies.gate import Limits
from sim.policies.rules import Measurement, measure
from sim.policies.verdict import Verdict, failed, keep_measuring, passed
from sim.policies.window import Window

MIN_INTERVAL = 10.0  # Flagger's GetAnalysisInterval raises anything shorter to 10s


class FlaggerSpec(Limits):
    """A Flagger Canary `analysis` block (`max` is `thresholdRange.max`)."""

    semantics: Literal["flagger"]
    threshold: int = Field(1, ge=1, le=10_000)
    """Roll back when failed checks (cumulative over the run) reach this. Flagger's code default is 1."""
    step_weight: float | None = Field(None, gt=0, le=100)
    """Traffic percentage added after each successful check (informational; sets when the gate passes)."""
    max_weight: float | None = Field(None, gt=0, le=100)
    """Traffic percentage at which the canary is promoted."""
    rollback_on_next_check: bool = False
    """Copy the code's one-interval lag: decide at the check after the threshold is reached."""

    @model_validator(mode="after")
    def _flagger_limits(self) -> "FlaggerSpec":
        if self.interval < MIN_INTERVAL:
            raise ValueError(f"interval must be >= 10s for flagger semantics (got {self.interval}s; "
                             "Flagger raises shorter intervals to 10s)")
        if (self.step_weight is None) != (self.max_weight is None):
            raise ValueError("give step_weight and max_weight together")
        if self.step_weight is not None and self.max_weight < self.step_weight:
            raise ValueError(f"max_weight must be >= step_weight (got {self.max_weight} < {self.step_weight})")
        return self


def checks_to_promote(max_weight: float, step_weight: float) -> int:
    """Successful checks before promotion: maxWeight / stepWeight, rounded up to whole steps."""
    return math.ceil(max_weight / step_weight - 1e-9)


def time_to_promote(interval: float, max_weight: float, step_weight: float) -> float:
    """Flagger docs: minimum time to promote = interval x (maxWeight / stepWeight)."""
    return interval * (max_weight / step_weight)


def time_to_rollback(interval: float, threshold: int) -> float:
    """Flagger docs: time until rollback when every check fails = interval x threshold."""
    return interval * threshold


@dataclass(frozen=True)
class FlaggerState:
    failed_checks: int = 0
    successful_checks: int = 0
    final: Verdict | None = None


def start(spec: FlaggerSpec) -> FlaggerState:
    return FlaggerState()


def _rollback(spec: FlaggerSpec, failed_checks: int, metric: str, value: float, why: str, own: str) -> Verdict:
    return failed(spec.action_on_fail, metric, value,
                  f"{why}; failed checks {failed_checks} >= threshold {spec.threshold}", own)


def check(spec: FlaggerSpec, state: FlaggerState, window: Window) -> tuple[FlaggerState, Verdict]:
    return judge(spec, state, measure(spec, window))


def settles_on_success(spec) -> bool:
    """Whether successes alone can end an analysis run (promotion weight reached)."""
    return spec.step_weight is not None


def judge(spec: FlaggerSpec, state: FlaggerState, m: Measurement) -> tuple[FlaggerState, Verdict]:
    """One check, given its window's measurement (unused when the previous check already decided)."""
    if state.final is not None:
        return state, state.final
    if spec.rollback_on_next_check and state.failed_checks >= spec.threshold:
        v = _rollback(spec, state.failed_checks, spec.metric, math.nan, "checked at the next tick", "error")
        return FlaggerState(state.failed_checks, state.successful_checks, v), v
    if m.result == "success":
        ok = state.successful_checks + 1
        s = FlaggerState(state.failed_checks, ok)
        if spec.step_weight is not None and ok >= checks_to_promote(spec.max_weight, spec.step_weight):
            v = passed(m.metric, m.value, f"{m.rule}; weight reached max_weight {spec.max_weight:g}", "success")
            return FlaggerState(state.failed_checks, ok, v), v
        return s, keep_measuring(m.metric, m.value, f"{m.rule}; failed checks {state.failed_checks}", "success")
    why = "no values found (no data counts as a failed check)" if m.result != "breach" else m.rule
    fails = state.failed_checks + 1
    if fails >= spec.threshold and not spec.rollback_on_next_check:
        v = _rollback(spec, fails, m.metric, m.value, why, "failure")
        return FlaggerState(fails, state.successful_checks, v), v
    return (FlaggerState(fails, state.successful_checks),
            keep_measuring(m.metric, m.value, f"halt advancement: {why}; failed checks {fails}/{spec.threshold}",
                           "failure"))
