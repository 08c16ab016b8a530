"""What a controller's metric query returns, simulated: one number per check, read from the window.

An imported metric's PromQL is not run; the scenario maps each metric, by name, to one of these
measures (`metrics:`), and a condition sees it as `result` (`[value]`, or `[]` when the new build had
no requests in the window, as an empty Prometheus vector).

    error_rate          new build's errors / requests over the window
    success_rate        1 - error_rate
    error_rate_ratio    new build's error rate / old build's (0/0 = 1, x/0 = +inf)
    latency             new build's mean latency, seconds (request-weighted over the window)
    latency_ratio       new build's mean latency / old build's
    latency_p50         new build's median latency, seconds (modelled: `Window.latency_quantile`)
    latency_p95         new build's 95th percentile latency, seconds (Argo: histogram_quantile(0.95, ...))
    latency_p99         new build's 99th percentile latency, seconds (Flagger's request-duration, in s)
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, model_validator

from sim.policies.rules import ratio
from sim.policies.window import Window, error_rate, mean_latency
from sim.section import Section

Measure = Literal["error_rate", "success_rate", "error_rate_ratio", "latency", "latency_ratio", "latency_p50",
                  "latency_p95", "latency_p99"]
MEASURES: tuple[str, ...] = Measure.__args__  # type: ignore[attr-defined]


class MappedMetric(Section):
    """An imported metric simulated as `measure`, in the unit its query returns: `measure x scale`.
    Written as the measure alone (`success-rate: success_rate`) when the query returns the measure's
    own unit (a share; seconds)."""

    measure: Measure
    scale: float = Field(1.0, gt=0, le=1e6)
    """100: the query returns a percentage (`99` for 99%); 1000: latency in milliseconds."""

    @model_validator(mode="before")
    @classmethod
    def _measure_alone(cls, data: Any) -> Any:
        return {"measure": data} if isinstance(data, str) else data


def mapping_of(entry: Any) -> tuple[Any, float]:
    """(measure, scale) of a `metrics:` entry as written (a measure name, or {measure, scale})."""
    if isinstance(entry, dict):
        scale = entry.get("scale", 1.0)
        return entry.get("measure"), scale
    return entry, 1.0


def metric_of(measure: str) -> str:
    """The gate metric a measure reads (for its records): `error_rate` or `latency`."""
    return "latency" if measure.startswith("latency") else "error_rate"


def measure_value(measure: str, window: Window) -> float:
    """The measure over the window; NaN when the cohorts it reads had no requests."""
    if measure.startswith("latency_p"):
        return window.latency_quantile("new", measure.removeprefix("latency_"))
    if measure in ("latency", "latency_ratio"):
        new = mean_latency(window.new_requests, window.new_latency)
        old = mean_latency(window.old_requests, window.old_latency)
    else:
        new = error_rate(window.new_requests, window.new_errors)
        old = error_rate(window.old_requests, window.old_errors)
    return error_measure(measure, new, old) if metric_of(measure) == "error_rate" else (
        _ratio(new, old) if measure == "latency_ratio" else new)


def error_measure(measure: str, new: float, old: float) -> float:
    """An error measure from the two cohorts' error rates over the window."""
    if measure == "success_rate":
        return 1.0 - new
    if measure == "error_rate_ratio":
        return _ratio(new, old)
    return new


def _ratio(new: float, old: float) -> float:
    """`rules.ratio` (0/0 = 1, x/0 = +inf), NaN when either cohort had no requests."""
    return math.nan if math.isnan(new) or math.isnan(old) else ratio(new, old)
