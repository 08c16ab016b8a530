"""The fields every gate spec shares (metric, interval, action) and the measurement-rule fields.

A gate in a scenario file is `gates: {name: <spec>}`; `semantics:` picks the controller it copies.
Limits are written with units: an error rate as a share (`1%`, `0.002`), a latency as a duration
(`500ms`, `1m30s`). The unit follows `metric`, so `metric` must come first in the model.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, WithJsonSchema, field_validator, model_validator
from pydantic_core import PydanticCustomError

from sim import units
from sim.quantities import DURATION_PATTERN, NonNegativeDuration, PositiveDuration
from sim.section import Section

Metric = Literal["error_rate", "latency"]

_NUM = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*"
MetricLimit = Annotated[
    float | None,
    WithJsonSchema({"anyOf": [
        {"type": "string", "pattern": _NUM + r"%\s*$"}, {"type": "string", "pattern": DURATION_PATTERN},
        {"type": "number"}, {"type": "null"}],
        "description": "a share for error_rate (1%, 0.002) or a duration for latency (500ms)"}),
]


class Gate(Section):
    """Fields every gate has, whatever its semantics."""

    metric: Metric = "error_rate"
    """What the gate watches: the new cohort's `error_rate` or mean `latency`."""
    interval: PositiveDuration = 60.0
    """How often the gate checks (one measurement per check). Default 1m (Argo and Flagger examples)."""
    action_on_fail: Literal["rollback", "pause", "hotfix"] = "rollback"
    """What the controller does when the gate fails: roll back (Argo abort), pause for a human, or hotfix."""
    initial_delay: NonNegativeDuration = 0.0
    """Wait this long after the gate starts before its first interval (Argo `initialDelay`)."""
    dry_run: bool = False
    """Measure and record the gate's verdicts, but never act on them (Argo `dryRun`): a final verdict,
    pass or fail, ends the gate's part in its step, and its failures show in the decision records only."""


def _quantity(metric: str, value: Any, field: str) -> float:
    parse = units.parse_share if metric == "error_rate" else units.parse_duration
    try:
        return parse(value)
    except units.UnitError as error:
        raise PydanticCustomError(
            "unit", "{field} for metric {metric}: {reason}; expected {allowed}",
            {"field": field, "metric": metric, "reason": error.reason, "allowed": error.allowed},
        ) from None


class Limits(Gate):
    """Measurement rules on the new cohort, alone or against the old cohort (shared by the counting
    semantics: threshold, argo, flagger). A measurement breaches when ANY given rule is broken."""

    max: MetricLimit = None
    """Absolute ceiling on the new cohort's value (`1%` for error_rate, `500ms` for latency)."""
    max_ratio: float | None = Field(None, gt=0)
    """Ceiling on new / old (0/0 counts as 1; x/0 with x > 0 as infinite)."""
    max_increase: MetricLimit = None
    """Ceiling on new - old, in the metric's unit (`0.5%`, `50ms`)."""
    min_requests: int = Field(0, ge=0)
    """Fewer new-cohort requests than this in the window: the measurement is inconclusive, not a failure
    (each semantics says what "no data" becomes)."""
    quantile: Literal["p50", "p95", "p99"] | None = None
    """With `metric: latency`: the rules read this quantile of each cohort's request latencies over the
    window (Flagger's `request-duration` is the p99) instead of the mean; modelled, see
    `traffic.latency_shape`."""

    @field_validator("max", "max_increase", mode="before")
    @classmethod
    def _with_unit(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        return _quantity(info.data.get("metric", "error_rate"), value, info.field_name)

    @model_validator(mode="after")
    def _some_rule(self) -> "Limits":
        return check_rules(self)

    @model_validator(mode="after")
    def _quantile_of_latency(self) -> "Limits":
        if self.quantile is not None and self.metric != "latency":
            raise ValueError(f"quantile needs metric: latency (got metric {self.metric})")
        if self.quantile is not None and getattr(self, "measure", None) is not None:
            raise ValueError(f"a gate with `measure` reads its measure: drop quantile, or use measure "
                             f"latency_{self.quantile}")
        return self


def check_rules(limits: Limits) -> Limits:
    """At least one rule, and a ceiling that is not negative."""
    if limits.max is None and limits.max_ratio is None and limits.max_increase is None:
        raise ValueError("give at least one rule: max, max_ratio or max_increase")
    if limits.max is not None and limits.max < 0:
        raise ValueError(f"max must be >= 0 (got {limits.max})")
    return limits
