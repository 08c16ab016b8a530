"""The shared measurement rules: absolute ceiling, ratio and difference to the old cohort, minimum
request count, and the consecutive-breach streak.

`measure` turns one window into one `Measurement`; each semantics then decides what a breach, low
traffic or no data means for it (Flagger: no data is a failed check; Argo: an Error; ours: inconclusive).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from sim.policies.gate import Limits
from sim.policies.window import Window, error_rate, mean_latency

Result = Literal["success", "breach", "low_traffic", "no_data", "inconclusive", "error"]
"""`inconclusive` and `error`: a condition's own verdicts (`sim.policies.argo.measure_conditions`)."""


@dataclass(frozen=True)
class Measurement:
    """One window measured against the rules: the result, the value that decided it, and the rule."""

    result: Result
    metric: str
    value: float
    rule: str


def cohort_values(metric: str, window: Window, quantile: str | None = None, old: bool = True) -> tuple[float, float]:
    """The (new, old) value of `metric` over the window; NaN for a cohort without requests. A latency is
    the request-weighted mean, or with `quantile` (`p50`, `p95`, `p99`) that quantile of the requests'
    latencies (`Window.latency_quantile`); `old=False` leaves the old cohort's quantile out (NaN)."""
    if metric == "error_rate":
        return (error_rate(window.new_requests, window.new_errors),
                error_rate(window.old_requests, window.old_errors))
    if quantile is None:
        return (mean_latency(window.new_requests, window.new_latency),
                mean_latency(window.old_requests, window.old_latency))
    return (window.latency_quantile("new", quantile),
            window.latency_quantile("old", quantile) if old else float("nan"))


def label(spec: Limits) -> str:
    """What the gate's rules read, in its rule texts: `error_rate`, `latency` (the mean), `latency p99`."""
    return spec.metric if spec.quantile is None else f"{spec.metric} {spec.quantile}"


def ratio(new: float, old: float) -> float:
    """new / old, with 0/0 = 1 and x/0 = inf for x > 0."""
    if old == 0:
        return 1.0 if new == 0 else math.inf
    return new / old


def _breaches(spec: Limits, new: float, old: float) -> list[tuple[str, float]]:
    found = []
    name = label(spec)
    if spec.max is not None and new > spec.max:
        found.append((f"{name} {new:.6g} > max {spec.max:.6g}", new))
    if spec.max_ratio is not None and not math.isnan(old) and ratio(new, old) > spec.max_ratio:
        found.append((f"{name} new/old {ratio(new, old):.6g} > max_ratio {spec.max_ratio:.6g}",
                      ratio(new, old)))
    if spec.max_increase is not None and not math.isnan(old) and new - old > spec.max_increase:
        found.append((f"{name} new-old {new - old:.6g} > max_increase {spec.max_increase:.6g}",
                      new - old))
    return found


def measure(spec: Limits, window: Window) -> Measurement:
    """Measure the window: no data, low traffic, the first broken rule, or success.

    Rules comparing with the old cohort are skipped when the old cohort had no requests.
    Comparisons are strict (`value > max` breaches), as in Flagger's `thresholdRange` code. With
    `quantile`, the latency read is that quantile of each cohort's requests over the window.
    """
    compared = spec.max_ratio is not None or spec.max_increase is not None  # (else the old cohort is not read)
    new, old = cohort_values(spec.metric, window, spec.quantile, old=compared)
    return measure_totals(spec, int(np.sum(window.new_requests)), new, old)


NO_DATA_RULE = "no requests on the new build"
LOW_TRAFFIC_RULE = "< min_requests"


def is_low_traffic(rule: str) -> bool:
    """Whether a decision's rule text says its measurement had no data or too few requests."""
    return NO_DATA_RULE in rule or LOW_TRAFFIC_RULE in rule


def measure_totals(spec: Limits, requests: int, new: float, old: float) -> Measurement:
    """`measure`, from the window's new-cohort request count and the two cohorts' values."""
    if requests == 0 or math.isnan(new):
        return Measurement("no_data", spec.metric, float("nan"), NO_DATA_RULE)
    if requests < spec.min_requests:
        return Measurement("low_traffic", spec.metric, float(requests),
                           f"requests {requests} {LOW_TRAFFIC_RULE} {spec.min_requests}")
    broken = _breaches(spec, new, old)
    if broken:
        rule, value = broken[0]
        return Measurement("breach", spec.metric, value, rule)
    return Measurement("success", spec.metric, new, f"{label(spec)} {new:.6g} within limits")


def classify(spec: Limits, requests: np.ndarray, new: np.ndarray, old: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(success, breach) per measurement, as `measure_totals` would call them (vectorised, for screening
    many checks at once; the same comparisons in the same floating point). Neither: low traffic or no
    data. `new` and `old` are the values the spec reads: with `quantile`, each check's latency quantiles
    (`cohort_values`)."""
    measurable = (requests > 0) & (requests >= spec.min_requests) & ~np.isnan(new)
    broken = np.zeros(len(requests), dtype=bool)
    has_old = ~np.isnan(old)
    if spec.max is not None:
        broken |= new > spec.max
    if spec.max_ratio is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.where(old == 0, np.where(new == 0, 1.0, np.inf), new / np.where(old == 0, 1.0, old))
        broken |= has_old & (ratios > spec.max_ratio)
    if spec.max_increase is not None:
        broken |= has_old & (new - old > spec.max_increase)
    return measurable & ~broken, measurable & broken


def streak(previous: int, result: Result) -> int:
    """Breaches in a row after this measurement: a success resets, low traffic / no data leave it alone."""
    if result == "breach":
        return previous + 1
    if result == "success":
        return 0
    return previous
