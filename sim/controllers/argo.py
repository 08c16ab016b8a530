"""An Argo Rollouts `Rollout` (canary strategy) with its AnalysisTemplates, as deploysim's own rollout
steps and `semantics: argo` gates.

What each part becomes (Argo Rollouts v1.10 field names; docs: argo-rollouts.readthedocs.io, "Canary",
"Analysis & Progressive Delivery"):

    steps[i].setWeight: N              set_weight: N (percent of production on the new build)
    steps[i].pause: {duration: D}      pause: D
    steps[i].pause: {}                 approval (an indefinite pause ends when a person promotes)
    steps[i].analysis                  analysis: {gates: one per metric of its templates}
    canary.analysis (background)       background_gates, from `startingStep` (default: the first step)
    the end of the steps               set_weight: 100 if the steps stop short (Argo then promotes fully)
    metric interval, initialDelay,     the gate's interval, initial_delay, count, failure_limit,
      count, *Limit, conditions          inconclusive_limit, consecutive_*_limit, success_condition,
                                         failure_condition (Argo's expression language, `sim.policies.expr`)
    dryRun: [{metricName}]             the gate's dry_run: measured and recorded, never deciding
    {{args.NAME}}                      substituted: the step's or background analysis's args, else the
                                         template's default value

A metric's query is not run: each metric is mapped by name to a simulated measure (the scenario's
`metrics:` mapping, `measures`); an unmapped metric is refused with the names to map. Fields with no
effect on a simulated release (pod template, services, traffic routing, a query's text, ...) are
listed in `Imported.ignored` by path; a step or provider that would change a decision but cannot be
simulated (experiment, setHeaderRoute, plugin steps; job, web, kayenta and plugin providers) is refused.
Blue/green strategies are refused.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from sim.controllers.objects import (
    NO_EFFECT,
    GateNames,
    Imported,
    KubeObject,
    ManifestError,
    Note,
    find,
    ignore,
    note_at,
    where_of,
)
from sim.errors import Problem
from sim.policies.measures import MEASURES, mapping_of

ARG = re.compile(r"\{\{\s*args\.([A-Za-z0-9_.-]+)\s*\}\}")
NUMERIC_PROVIDERS = ("prometheus", "datadog", "newRelic", "cloudWatch", "wavefront", "graphite", "influxdb",
                     "skywalking")
REFUSED_PROVIDERS = {"job": "runs a Kubernetes Job", "web": "calls a web endpoint",
                     "kayenta": "delegates the judgement to Kayenta", "plugin": "runs a provider plugin"}
REFUSED_STEPS = {"experiment": "starts experiment ReplicaSets", "setHeaderRoute": "routes requests by header",
                 "plugin": "runs a step plugin"}
METRIC_FIELDS = {  # Argo field -> the gate's field (values may be {{args.x}})
    "count": "count", "failureLimit": "failure_limit", "inconclusiveLimit": "inconclusive_limit",
    "consecutiveErrorLimit": "consecutive_error_limit", "consecutiveSuccessLimit": "consecutive_success_limit",
}
STEP_SEEN = {"setWeight", "pause", "analysis", "setCanaryScale", "setMirrorRoute", *REFUSED_STEPS}


def import_rollout(rollout: KubeObject, templates: list[KubeObject], measures: Mapping[str, Any],
                   strategy: str) -> Imported:
    """The Rollout's canary strategy as `rollout:` data (moving hosts by `strategy`) and its gates."""
    problems: list[Problem] = []
    out = Imported(rollout={"strategy": strategy, "steps": []}, gates={})
    spec = rollout.get("spec", default={})
    strategy_spec = rollout.get("spec", "strategy", default={})
    if not isinstance(strategy_spec, dict) or "canary" not in strategy_spec:
        found = ", ".join(strategy_spec) if isinstance(strategy_spec, dict) else "nothing"
        raise ManifestError([rollout.problem(("spec", "strategy"), "only canary strategies are simulated "
                                             "(blue/green switches all traffic at once: not modelled)",
                                             got=found, allowed="canary")])
    canary = strategy_spec["canary"] or {}
    for key in spec:
        if key != "strategy":
            ignore(out, rollout, ("spec", key), NO_EFFECT)
    for key in strategy_spec:
        if key != "canary":
            ignore(out, rollout, ("spec", "strategy", key), NO_EFFECT)
    for key in canary:
        if key not in ("steps", "analysis"):
            ignore(out, rollout, ("spec", "strategy", "canary", key),
                    NO_EFFECT if key != "trafficRouting" else "no effect: setWeight is the share of production "
                    "hosts on the new build, which traffic routing would set without scaling pods")
    names = GateNames()
    steps = canary.get("steps") or []
    for i, step in enumerate(steps):
        problems += _step(out, rollout, templates, measures, names, step, ("spec", "strategy", "canary", "steps", i))
    background = canary.get("analysis")
    if background is not None:  # `analysis: {}` or `analysis: 5` is refused as a step's would be
        path: tuple = ("spec", "strategy", "canary", "analysis")
        gates, background_problems = _analysis(out, rollout, templates, measures, names, background, path)
        problems += background_problems
        out.rollout["background_gates"] = gates
        starting = background.get("startingStep") if isinstance(background, dict) else None
        if starting is not None:
            if not isinstance(starting, int) or not 0 <= starting < max(len(steps), 1):
                problems.append(rollout.problem(path + ("startingStep",), "not a step of this rollout",
                                                got=repr(starting), allowed=f"0 to {max(len(steps) - 1, 0)}"))
            else:
                out.rollout["background_from_step"] = _native_index(steps, starting)
    if problems:
        raise ManifestError(problems)
    weights = [s["set_weight"] for s in out.rollout["steps"] if "set_weight" in s]
    if not weights or weights[-1] != 100:
        out.rollout["steps"].append({"set_weight": 100})
        out.approximated.append(Note(rollout.source, None, "spec.strategy.canary.steps",
                                     "Argo promotes to 100% after the last step: a set_weight: 100 step is added"))
    return out


def _native_index(steps: list, argo_index: int) -> int:
    """The native step that Argo's step `argo_index` became (ignored steps become none)."""
    return sum(1 for step in steps[:argo_index] if isinstance(step, dict) and _kind(step) not in ("setCanaryScale", "setMirrorRoute"))


def _kind(step: dict) -> str | None:
    kinds = [k for k in step if k in STEP_SEEN]
    return kinds[0] if len(kinds) == 1 else None


def _step(out: Imported, rollout: KubeObject, templates, measures, names, step: Any, path: tuple) -> list[Problem]:
    kind = _kind(step) if isinstance(step, dict) else None
    if kind is None:
        return [rollout.problem(path, "a step needs exactly one kind", got=", ".join(step) if isinstance(step, dict)
                                else repr(step), allowed=", ".join(sorted(STEP_SEEN)))]
    value = step[kind]
    if kind in REFUSED_STEPS:
        return [rollout.problem(path + (kind,), f"cannot be simulated: it {REFUSED_STEPS[kind]}", got=kind,
                                allowed="setWeight, pause, analysis")]
    if kind in ("setCanaryScale", "setMirrorRoute"):
        ignore(out, rollout, path + (kind,), "no effect on exposure: it scales pods or mirrors requests whose "
                                              "responses users never see")
        return []
    native_path = ("rollout", "steps", len(out.rollout["steps"]))
    out.origins[native_path] = where_of(rollout, path + (kind,))
    if kind == "setWeight":
        out.rollout["steps"].append({"set_weight": value})
        return []
    if kind == "pause":
        duration = value.get("duration") if isinstance(value, dict) else None
        if duration is None:
            out.rollout["steps"].append({"approval": {}})
            out.approximated.append(note_at(rollout, path + (kind,), "an indefinite pause ends when a person promotes: "
                                          "the scenario's approval wait"))
        else:
            out.rollout["steps"].append({"pause": duration})
        return []
    gates, problems = _analysis(out, rollout, templates, measures, names, value, path + (kind,))
    out.rollout["steps"].append({"analysis": {"gates": gates}})
    return problems


def _analysis(out: Imported, rollout: KubeObject, templates: list[KubeObject], measures, names,
              analysis: Any, path: tuple) -> tuple[list[str], list[Problem]]:
    """The gates of one analysis (inline or background): one per metric of each template it names."""
    problems: list[Problem] = []
    if not isinstance(analysis, dict) or not analysis.get("templates"):
        return [], [rollout.problem(path, "an analysis needs templates", allowed="templates: [{templateName: ...}]")]
    for key in analysis:
        if key not in ("templates", "args", "dryRun", "startingStep"):
            ignore(out, rollout, path + (key,), NO_EFFECT)
    args = {a.get("name"): a for a in analysis.get("args") or [] if isinstance(a, dict)}
    dry = [d.get("metricName", "") for d in analysis.get("dryRun") or [] if isinstance(d, dict)]
    gates: list[str] = []
    for j, ref in enumerate(analysis["templates"]):
        ref_path = path + ("templates", j)
        kind = "ClusterAnalysisTemplate" if isinstance(ref, dict) and ref.get("clusterScope") else "AnalysisTemplate"
        name = ref.get("templateName") if isinstance(ref, dict) else None
        template = find(templates, kind, str(name))
        if template is None:
            known = sorted(t.name for t in templates if t.kind == kind)
            problems.append(rollout.problem(ref_path + ("templateName",), f"no {kind} of this name among the templates given",
                                            got=repr(name), allowed=", ".join(known) or f"none: give the file with the {kind}"))
            continue
        found, template_problems = _template_gates(out, template, args, dry, measures, names)
        gates += found
        problems += template_problems
    return gates, problems


def _template_gates(out: Imported, template: KubeObject, args: dict, dry: list[str], measures, names) -> tuple[list[str], list[Problem]]:
    spec = template.get("spec")
    if spec is not None and not isinstance(spec, dict):
        return [], [template.problem(("spec",), "an AnalysisTemplate's spec is a mapping", got=repr(spec)[:80],
                                     allowed="spec: {metrics: [...], args: [...]}")]
    problems: list[Problem] = []
    defaults = {a.get("name"): a for a in template.get("spec", "args", default=[]) or [] if isinstance(a, dict)}
    for key in spec or {}:  # an empty spec (`spec:` and nothing under it) is no spec: no metrics, no gates
        if key not in ("metrics", "args", "dryRun"):
            ignore(out, template, ("spec", key), NO_EFFECT)
    dry = dry + [d.get("metricName", "") for d in template.get("spec", "dryRun", default=[]) or [] if isinstance(d, dict)]
    gates = []
    for k, metric in enumerate(template.get("spec", "metrics", default=[]) or []):
        path = ("spec", "metrics", k)
        gate, found = _gate(out, template, metric, path, {**defaults, **args}, measures)
        problems += found
        if gate is None:
            continue
        if any(_matches(pattern, metric.get("name", "")) for pattern in dry):
            gate["dry_run"] = True
        name = names.of(f"{template.name}.{metric.get('name', k)}", gate)
        out.gates[name] = gate
        out.origins[("gates", name)] = where_of(template, path)
        gates.append(name)
    return gates, problems


def _gate(out: Imported, template: KubeObject, metric: Any, path: tuple, args: dict,
          measures: Mapping[str, Any]) -> tuple[dict | None, list[Problem]]:
    if not isinstance(metric, dict) or "name" not in metric:
        return None, [template.problem(path, "a metric needs a name", allowed="name, provider, ...")]
    provider = metric.get("provider") or {}
    kinds = list(provider) if isinstance(provider, dict) else []
    refused = [k for k in kinds if k in REFUSED_PROVIDERS]
    if refused:
        return None, [template.problem(path + ("provider", refused[0]), f"cannot be simulated: it {REFUSED_PROVIDERS[refused[0]]}",
                                       got=refused[0], allowed=", ".join(NUMERIC_PROVIDERS))]
    name = metric["name"]
    if name not in measures:
        return None, [template.problem(path + ("name",), "map this metric to a simulated measure in the scenario's "
                                       "`metrics:` section", got=repr(name),
                                       allowed="metrics: {" + f"{name}: <measure>" + "}, <measure> one of " + ", ".join(MEASURES))]
    measure, scale = mapping_of(measures[name])
    gate: dict[str, Any] = {"semantics": "argo", "measure": measure}
    if scale != 1.0:
        gate["scale"] = scale
    problems: list[Problem] = []
    for key, value in metric.items():
        here = path + (key,)
        if key in ("name",):
            continue
        if key == "provider":
            for kind in kinds:
                ignore(out, template, here + (kind,), f"the query is not run: {name!r} is simulated as {measure}"
                       + (f" x {scale:g}" if scale != 1.0 else "") + " (metrics:)")
            continue
        try:
            resolved = _substitute(value, args)
        except KeyError as missing:
            problems.append(template.problem(here, f"uses args.{missing.args[0]}, which has no value (valueFrom "
                                             "is read from the cluster: give a value)", got=repr(value), allowed="a value"))
            continue
        if key in ("interval", "initialDelay"):
            gate["interval" if key == "interval" else "initial_delay"] = resolved
        elif key in METRIC_FIELDS:
            gate[METRIC_FIELDS[key]] = _number(resolved)
        elif key == "successCondition":
            gate["success_condition"] = resolved
        elif key == "failureCondition":
            gate["failure_condition"] = resolved
        else:
            ignore(out, template, here, NO_EFFECT)
    if "interval" not in gate and isinstance(gate.get("count"), int) and gate["count"] > 1:
        problems.append(template.problem(path + ("count",), "a count above 1 needs an interval (Argo refuses it too)",
                                         got=str(gate["count"]), allowed="interval: 1m, or count: 1"))
    elif "interval" not in gate:
        gate["count"] = 1
        out.approximated.append(note_at(template, path, "without an interval Argo measures once: one check after the "
                                                      "gate's default interval (1m) of traffic"))
    return gate, problems


def _substitute(value: Any, args: dict) -> Any:
    """`value` with each `{{args.NAME}}` replaced by its value (KeyError: NAME has none)."""
    if not isinstance(value, str):
        return value

    def one(match: re.Match) -> str:
        arg = args.get(match.group(1))
        if arg is None or "value" not in arg:
            raise KeyError(match.group(1))
        return str(arg["value"])

    return ARG.sub(one, value)


def _number(value: Any) -> Any:
    """A count or limit written as text (after substitution) as a number, where it is one."""
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return value


def _matches(pattern: str, name: str) -> bool:
    """Argo's dryRun metricName: a name, or a wildcard pattern (`*` for every metric)."""
    regex = "".join(".*" if c == "*" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, name) is not None
