"""A Flagger `Canary` (progressive traffic shifting) with its MetricTemplates, as deploysim's own rollout
steps: one `canary:` step (`sim.rollout.canary`) and a `semantics: flagger` gate per metric.

What each part becomes (Flagger v1.44 field names; docs: docs.flagger.app, "Deployment strategies",
"Metrics analysis", "Webhooks"):

    analysis.stepWeight, maxWeight     canary.weights: stepWeight, 2 x stepWeight, ... until one reaches
                                         maxWeight (default 100; at most 100), as Flagger's nextStepWeight
    analysis.stepWeights               canary.weights as written (the last is the max weight)
    analysis.interval                  canary.interval and each gate's interval (default 1m; under 10s: 10s)
    analysis.threshold                 canary.threshold (default 1, as Flagger's code)
    metrics[i] with thresholdRange     a flagger gate: the metric's measure within {min, max} (a built-in
                                         metric's deprecated `threshold`: its min or max)
      request-success-rate               success rate in percent (built in): error_rate max 1 - min/100
      request-duration                   P99 latency in milliseconds (built in): latency quantile p99 max,
                                           max/1000 s (the p99 of deploysim's latency model, traffic.latency_shape)
      templateRef / query                the scenario's `metrics:` mapping, by metric name
    webhooks confirm-rollout           an approval step before the analysis
             confirm-traffic-increase  canary.approval: a person approves each weight increase
             confirm-promotion         an approval step after the analysis, before 100%
    the promotion                      set_weight: 100 (the primary is updated to the new build)

A metric within {min, max} becomes the equivalent limit on what deploysim measures: a success rate at
least `min` is an error rate at most 1 - min (a breach when the error rate exceeds it, as Flagger's
`val < min`); a ratio at most `max` is `max_ratio`. A floor on an error rate or a latency, or a ceiling
on a success rate, has no such limit and is refused. Fields with no effect on a simulated release are
listed in `Imported.ignored`; pre-rollout and rollout webhooks are assumed to pass (approximated); A/B
testing (`iterations` with `match`), blue/green (`iterations` alone) and session affinity are refused.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, TypeGuard

from sim.controllers.objects import (
    NO_EFFECT,
    GateNames,
    Imported,
    KubeObject,
    ManifestError,
    find,
    ignore,
    note_at,
    where_of,
)
from sim.errors import Problem
from sim.policies.measures import MEASURES, mapping_of
from sim.units import parse_duration

BUILT_IN = {  # Flagger's built-in metrics: (measure, the unit its thresholdRange is in)
    "request-success-rate": ("success_rate", 100.0),
    "request-duration": ("latency_p99", 1000.0),
}
APPROVALS = {"confirm-rollout": "before", "confirm-traffic-increase": "each", "confirm-promotion": "after"}
ASSUMED_TO_PASS = ("pre-rollout", "rollout")
ANALYSIS_SEEN = {"interval", "threshold", "maxWeight", "stepWeight", "stepWeights", "metrics", "webhooks",
                 "iterations", "match", "sessionAffinity"}
MIN_INTERVAL = 10.0  # Flagger's GetAnalysisInterval raises anything shorter to 10s
DEFAULT_INTERVAL = 60.0


def import_canary(canary: KubeObject, templates: list[KubeObject], measures: Mapping[str, Any],
                  strategy: str) -> Imported:
    """The Canary's analysis as `rollout:` data (moving hosts by `strategy`) and its gates."""
    out = Imported(rollout={"strategy": strategy, "steps": []}, gates={})
    spec = canary.get("spec", default={})
    analysis = canary.get("spec", "analysis")
    if not isinstance(analysis, dict):
        raise ManifestError([canary.problem(("spec", "analysis"), "a Canary needs an analysis", got=repr(analysis),
                                            allowed="analysis: {interval, threshold, stepWeight, maxWeight, metrics}")])
    for key in spec:
        if key != "analysis":
            ignore(out, canary, ("spec", key), NO_EFFECT)
    problems = _refused(canary, analysis)
    if problems:
        raise ManifestError(problems)
    path = ("spec", "analysis")
    for key in analysis:
        if key not in ANALYSIS_SEEN:
            why = NO_EFFECT
            if key == "stepWeightPromotion":
                why = "no effect: promotion shifts traffic from the canary to the updated primary, both on the new build"
            elif key in ("mirror", "mirrorWeight"):
                why = "no effect on exposure: mirrored requests' responses are never seen by users"
            ignore(out, canary, path + (key,), why)
    interval = _interval(out, canary, analysis.get("interval"), problems)
    weights = _weights(canary, analysis, problems)
    threshold = analysis.get("threshold", 1)
    if "threshold" not in analysis:
        out.approximated.append(note_at(canary, path, "no threshold: Flagger's code rolls back at the first failed check (1)"))
    elif not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
        problems.append(canary.problem(path + ("threshold",), "not a count of failed checks", got=repr(threshold),
                                       allowed="a whole number >= 1"))
    names = GateNames()
    gates: list[str] = []
    for i, metric in enumerate(analysis.get("metrics") or []):
        gate, found = _gate(out, canary, templates, measures, metric, path + ("metrics", i), interval)
        problems += found
        if gate is not None:
            name = names.of(str(metric.get("name", i)), gate)
            out.gates[name] = gate
            out.origins[("gates", name)] = where_of(canary, path + ("metrics", i))
            gates.append(name)
    if not analysis.get("metrics"):
        problems.append(canary.problem(path, "an analysis without metrics promotes every build: nothing to simulate",
                                       allowed="metrics: [{name: request-success-rate, thresholdRange: {min: 99}}]"))
    approvals = _approvals(out, canary, analysis.get("webhooks") or [], problems)
    if problems:
        raise ManifestError(problems)
    step: dict[str, Any] = {"gates": gates, "weights": weights, "interval": interval, "threshold": threshold}
    if "each" in approvals:
        step["approval"] = {}
    steps = out.rollout["steps"]
    if "before" in approvals:
        steps.append({"approval": {}})
    out.origins[("rollout", "steps", len(steps))] = where_of(canary, path)
    steps.append({"canary": step})
    if "after" in approvals:
        steps.append({"approval": {}})
    steps.append({"set_weight": 100})
    return out


def _refused(canary: KubeObject, analysis: dict) -> list[Problem]:
    """What deploysim does not model: A/B testing, blue/green, session affinity, no analysis at all."""
    path = ("spec", "analysis")
    if canary.get("spec", "skipAnalysis") is True:
        return [canary.problem(("spec", "skipAnalysis"), "promotes every build without analysis: nothing to judge",
                               got="true", allowed="false")]
    if analysis.get("match"):
        return [canary.problem(path + ("match",), "A/B testing routes requests by header or cookie for a number of "
                               "iterations: not modelled", got="match", allowed="stepWeight or stepWeights")]
    if analysis.get("iterations"):
        return [canary.problem(path + ("iterations",), "blue/green switches all traffic at once after the iterations: "
                               "not modelled", got=f"iterations: {analysis['iterations']}", allowed="stepWeight or stepWeights")]
    if analysis.get("sessionAffinity"):
        return [canary.problem(path + ("sessionAffinity",), "session affinity pins users to a build: not modelled",
                               got="sessionAffinity", allowed="no sessionAffinity")]
    return []


def _interval(out: Imported, canary: KubeObject, value: Any, problems: list[Problem]) -> float:
    path = ("spec", "analysis", "interval")
    if value is None:
        out.approximated.append(note_at(canary, ("spec", "analysis"), "no interval: Flagger checks every 1m"))
        return DEFAULT_INTERVAL
    try:
        seconds = parse_duration(value)
    except ValueError as error:
        problems.append(canary.problem(path, str(error), got=repr(value), allowed="a duration such as 1m or 30s"))
        return DEFAULT_INTERVAL
    if seconds < MIN_INTERVAL:
        out.approximated.append(note_at(canary, path, f"{value} is under 10s: Flagger checks every 10s"))
        return MIN_INTERVAL
    return seconds


def _weights(canary: KubeObject, analysis: dict, problems: list[Problem]) -> list[float]:
    """The canary's weights, as Flagger's `nextStepWeight` walks them (0 until the first increase)."""
    path = ("spec", "analysis")
    listed = analysis.get("stepWeights")
    if listed:
        bad = [w for w in listed if not _number(w) or not 0 < w <= 100]
        if bad or any(b <= a for a, b in zip(listed, listed[1:])):
            problems.append(canary.problem(path + ("stepWeights",), "weights must be numbers in (0, 100], increasing",
                                           got=repr(list(listed)), allowed="[5, 10, 20, 50]"))
            return [100.0]
        return [float(w) for w in listed]
    step, most = analysis.get("stepWeight"), analysis.get("maxWeight", 100)
    if not _number(step) or not 0 < step <= 100:
        problems.append(canary.problem(path + ("stepWeight",), "a canary needs stepWeight (or stepWeights)",
                                       got=repr(step), allowed="a percentage in (0, 100]"))
        return [100.0]
    if not _number(most) or not 0 < most <= 100:
        problems.append(canary.problem(path + ("maxWeight",), "not a percentage", got=repr(most), allowed="(0, 100]"))
        return [100.0]
    count = math.ceil(most / step - 1e-9)
    return [float(min(step * k, 100)) for k in range(1, count + 1)]


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _gate(out: Imported, canary: KubeObject, templates: list[KubeObject], measures: Mapping[str, Any], metric: Any,
          path: tuple, interval: float) -> tuple[dict | None, list[Problem]]:
    if not isinstance(metric, dict) or not isinstance(metric.get("name"), str):
        return None, [canary.problem(path, "a metric needs a name", allowed="name, thresholdRange, ...")]
    name = metric["name"]
    for key in metric:
        if key == "interval" and parse_or_none(metric[key]) not in (None, interval):
            out.approximated.append(note_at(canary, path + (key,), f"the query's window ({metric[key]}) is read as the "
                                            "metric intervals since the previous check (the analysis interval)"))
        elif key in ("templateRef", "query", "templateVariables"):
            ignore(out, canary, path + (key,), f"the query is not run: {name!r} is simulated (metrics:)")
        elif key not in ("name", "thresholdRange", "interval", "threshold"):
            ignore(out, canary, path + (key,), NO_EFFECT)
    ref = metric.get("templateRef")
    if isinstance(ref, dict) and find(templates, "MetricTemplate", str(ref.get("name"))) is None:
        known = sorted(t.name for t in templates if t.kind == "MetricTemplate")
        return None, [canary.problem(path + ("templateRef", "name"), "no MetricTemplate of this name among the templates given",
                                     got=repr(ref.get("name")), allowed=", ".join(known) or "none: give the file with the MetricTemplate")]
    if name in BUILT_IN:  # Flagger runs a metric of a built-in's name as the built-in, whatever else it says
        measure, scale = BUILT_IN[name]
        if ref is not None or "query" in metric:
            out.approximated.append(note_at(canary, path + ("name",), f"Flagger runs {name} as its built-in check: "
                                            "the templateRef or query is not used"))
    elif name in measures:
        measure, scale = mapping_of(measures[name])
    else:
        return None, [canary.problem(path + ("name",), "map this metric to a simulated measure in the scenario's "
                                     "`metrics:` section", got=repr(name),
                                     allowed="metrics: {" + f"{name}: {{measure: <measure>, scale: <unit>}}" + "}, <measure> one of "
                                     + ", ".join(MEASURES))]
    bounds = metric.get("thresholdRange")
    if bounds is None and name in BUILT_IN and _number(metric.get("threshold")):
        # the deprecated form, still read by Flagger's built-in checks: a floor on the success rate, a
        # ceiling on the duration
        bounds = {"min" if name == "request-success-rate" else "max": metric["threshold"]}
    if not isinstance(bounds, dict) or not any(_number(bounds.get(k)) for k in ("min", "max")):
        return None, [canary.problem(path + ("thresholdRange",), "a metric without thresholdRange fails only when its "
                                     "query returns nothing: give the range it must stay in", got=repr(bounds),
                                     allowed="thresholdRange: {min: ..., max: ...}")]
    limit, problem = _limit(canary, path + ("thresholdRange",), str(measure), float(scale), bounds)
    if problem is not None:
        return None, [problem]
    return {"semantics": "flagger", "interval": interval, **limit}, []


def parse_or_none(value: Any) -> float | None:
    try:
        return parse_duration(value)
    except ValueError:
        return None


def _limit(canary: KubeObject, path: tuple, measure: str, scale: float, bounds: dict) -> tuple[dict, Problem | None]:
    """The gate's limit equivalent to `measure x scale` within `bounds` (see the module's docstring). A
    bound that always holds (a floor of 0 on an error rate, a ceiling of 100% on a success rate) is dropped."""
    low, high = (float(bounds[k]) if _number(bounds.get(k)) else None for k in ("min", "max"))
    rules: list[tuple[str, str, float]] = []
    if low is not None:
        if measure == "success_rate":
            rules.append(("error_rate", "max", 1.0 - low / scale))
        elif low > 0:
            return {}, canary.problem(path + ("min",), f"a floor on {measure} has no equivalent limit in deploysim",
                                      got=f"min: {low:g}", allowed="min on a success_rate metric; max on the others")
    if high is not None:
        if measure in ("error_rate", "latency") or measure.startswith("latency_p"):
            rules.append((measure, "max", high / scale))
        elif measure in ("error_rate_ratio", "latency_ratio"):
            rules.append((measure.removesuffix("_ratio"), "max_ratio", high / scale))
        elif high < scale:
            return {}, canary.problem(path + ("max",), "a ceiling on a success rate has no equivalent limit in deploysim",
                                      got=f"max: {high:g}", allowed="min on a success_rate metric")
    if not rules:
        return {}, canary.problem(path, "the range always holds: nothing to check", got=repr(dict(bounds)),
                                  allowed="min on a success_rate metric; max on the others")
    metric, key, value = rules[0]
    if not value > 0 or (metric == "error_rate" and key == "max" and value > 1):
        return {}, canary.problem(path, f"outside what {measure} (x {scale:g}) can be", got=repr(dict(bounds)),
                                  allowed="a limit that some windows pass and some fail")
    if metric.startswith("latency_p"):  # a quantile measure: the latency gate reading that quantile
        return {"metric": "latency", "quantile": metric.removeprefix("latency_"), key: value}, None
    return {"metric": metric, key: value}, None


def _approvals(out: Imported, canary: KubeObject, hooks: Any, problems: list[Problem]) -> set[str]:
    found: set[str] = set()
    if not isinstance(hooks, list):  # a forgotten `-` must not drop the approval it holds
        problems.append(canary.problem(("spec", "analysis", "webhooks"), "a list of webhooks", got=repr(hooks),
                                       allowed="webhooks: [{name: gate, type: confirm-promotion, url: ...}, ...]"))
        return found
    for i, hook in enumerate(hooks):
        path = ("spec", "analysis", "webhooks", i)
        kind = hook.get("type", "rollout") if isinstance(hook, dict) else None
        if kind in APPROVALS:
            found.add(APPROVALS[kind])
            out.approximated.append(note_at(canary, path, f"{kind}: a person approves (the approval wait of the "
                                            "scenario's approval steps)"))
        elif kind in ASSUMED_TO_PASS:
            out.approximated.append(note_at(canary, path, f"{kind} webhook assumed to succeed (a failing one would "
                                            "count as a failed check)"))
        elif kind in ("post-rollout", "event", "rollback", "confirm-rollback"):
            ignore(out, canary, path, f"{kind} webhook: no effect on the simulated decision")
        else:
            problems.append(canary.problem(path + ("type",), "not a webhook type", got=repr(kind),
                                           allowed=", ".join([*APPROVALS, *ASSUMED_TO_PASS, "post-rollout", "event", "rollback"])))
    return found
