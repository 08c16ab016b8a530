"""Rollback policies: gate specs for the scenario file and pure functions that judge metric windows.

Each semantics copies a real controller (or is our own) and lives in its own module:

    threshold   fail after N breaches in a row (deploysim)          threshold.py
    argo        Argo Rollouts AnalysisRun counters and limits      argo.py
    flagger     Flagger's cumulative failed-check counter          flagger.py
    kayenta     Kayenta's Mann-Whitney judge and scores            kayenta.py, mannwhitney.py
    sequential  anytime-valid mixture SPRT on error counts         sequential.py

Usage, one analysis run of one gate::

    spec = parse_policy({"semantics": "argo", "metric": "error_rate", "max": "1%", "failure_limit": 3})
    state = start(spec)
    for window in windows:                 # the intervals since the previous check
        state, verdict = check(spec, state, window)
        if verdict.final:
            break

A spec without `semantics:` is read as `threshold`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Callable, Union

from pydantic import BeforeValidator, Field, TypeAdapter

from sim.policies import argo, flagger, kayenta, sequential, threshold
from sim.policies.verdict import Verdict
from sim.policies.window import Window, window_of


@dataclass(frozen=True)
class Semantics:
    """One entry of the registry: the spec model and its two functions."""

    spec: type
    start: Callable[[Any], Any]
    check: Callable[[Any, Any, Window], tuple[Any, Verdict]]
    judge: Callable[[Any, Any, Any], tuple[Any, Verdict]] | None = None
    """check(spec, state, window) == judge(spec, state, rules.measure(spec, window)), for semantics
    that see a window only through its measurement (the batched engine measures windows in bulk)."""
    settles_on_success: Callable[[Any], bool] | None = None
    """Whether a run of successful measurements alone can end the analysis (with `judge`)."""
    may_fail: Callable[[Any, Any, Any], bool] | None = None
    """may_fail(spec, breach, success): False if these measurements can never end the run (with `judge`)."""


POLICIES: dict[str, Semantics] = {
    "threshold": Semantics(threshold.ThresholdSpec, threshold.start, threshold.check, threshold.judge,
                            threshold.settles_on_success, threshold.may_fail),
    "argo": Semantics(argo.ArgoSpec, argo.start, argo.check, argo.judge,
                            argo.settles_on_success),
    "flagger": Semantics(flagger.FlaggerSpec, flagger.start, flagger.check, flagger.judge,
                            flagger.settles_on_success),
    "kayenta": Semantics(kayenta.KayentaSpec, kayenta.start, kayenta.check),
    "sequential": Semantics(sequential.SequentialSpec, sequential.start, sequential.check),
}


def _default_semantics(value: Any) -> Any:
    if isinstance(value, dict) and "semantics" not in value:
        return {**value, "semantics": "threshold"}
    return value


_Tagged = Annotated[
    Union[threshold.ThresholdSpec, argo.ArgoSpec, flagger.FlaggerSpec, kayenta.KayentaSpec,
          sequential.SequentialSpec],
    Field(discriminator="semantics"),
]
Policy = Annotated[_Tagged, BeforeValidator(_default_semantics)]
"""A gate spec; the `semantics:` key picks the model (default `threshold`)."""


def parse_policy(data: Any) -> Any:
    """Validate one gate spec (a mapping as read from the scenario file)."""
    return TypeAdapter(Policy).validate_python(data)


def measured_in_bulk(spec: Any) -> bool:
    """Whether the gate sees each window only through its error counts (`rules.measure_totals`, or
    `argo.condition_totals` for the conditions of an error measure), so the batched engine may measure
    its checks in bulk (`Semantics.judge`): a counting semantics on `error_rate`."""
    return POLICIES[spec.semantics].judge is not None and spec.metric == "error_rate"


def start(spec: Any) -> Any:
    """A fresh state for one analysis run of this gate."""
    return POLICIES[spec.semantics].start(spec)


def check(spec: Any, state: Any, window: Window) -> tuple[Any, Verdict]:
    """One check (one measurement): the new state and the verdict."""
    return POLICIES[spec.semantics].check(spec, state, window)


__all__ = ["POLICIES", "Policy", "Semantics", "Verdict", "Window", "check", "measured_in_bulk", "parse_policy",
           "start", "window_of"]
