"""A deploysim policy written back as a controller's own objects: the reverse of `sim.controllers.argo`
and `sim.controllers.flagger`, built so that importing the export gives the policy back.

    export_policy(scenario, "argo" | "flagger", policy=None, name=None) -> Exported

The policy is the scenario's `rollout:` steps with its `gates:`, or with `policy` one policy of
`evaluation.policies` (its own steps in `evaluation.rollouts` if it has them). What each part becomes:

    Argo (a Rollout, one AnalysisTemplate per gate, named TEMPLATE.METRIC after the gate's name)
    set_weight / pause / approval      setWeight (a whole percent) / pause {duration} / pause {}
    analysis: {gates}                  analysis: {templates}, one per gate
    background_gates (_from_step)      canary.analysis: {templates} (startingStep)
    semantics: argo with `measure`     the metric as written: interval, initialDelay, count, the limits,
                                         successCondition, failureCondition; dry_run in the template's dryRun
    semantics: argo with max/max_ratio  a metric whose failureCondition is `result[0] > LIMIT` on the measure
                                         (the ratio for max_ratio), with no_data as Argo would judge an
                                         empty result: the same verdict for every window
    Flagger (a Canary, one MetricTemplate per custom metric)
    approval, canary:, approval, 100   confirm-rollout, spec.analysis, confirm-promotion (canary.approval:
                                         confirm-traffic-increase); weights as stepWeight + maxWeight when
                                         Flagger walks them so, else stepWeights
    semantics: flagger gates           request-success-rate {min} where 1 - min/100 is the limit exactly,
                                         request-duration {max} for a p99 latency ceiling, else a custom
                                         metric of the measure (mapped in `metrics:`; never named as a
                                         built-in, which Flagger would run as one whatever its templateRef)

Nothing that changes a decision is dropped: what a controller cannot express (a stage step, a gate of
another semantics, min_requests, consecutive, an action other than rollback, ...) is refused with every
reason at its key (`ExportError`); what has no effect, or an effect outside the object (an approval's
simulated wait), is dropped with a note. Queries are placeholders the user replaces; `Exported.metrics`
is the `metrics:` mapping that makes deploysim simulate each one as before.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from sim.controllers.objects import KINDS, GateNames, render
from sim.errors import Problem, UserError
from sim.spec.rollout import (
    STEP_KINDS,
    AnalysisStep,
    ApprovalSpec,
    ApprovalStep,
    CanaryStep,
    PauseStep,
    SetWeightStep,
    StageStep,
)
from sim.units import parse_duration

TARGETS = ("argo", "flagger")
PROMETHEUS = "http://prometheus.invalid:9090"  # a placeholder (.invalid never resolves: RFC 2606)
APPROVAL_URL = "http://approval-gate.invalid/"
DNS = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SEMANTICS_WHY = {
    "threshold": "deploysim's own semantics (N breaches in a row): neither controller counts so",
    "kayenta": "Kayenta's Mann-Whitney judge: not exported (Argo's kayenta provider delegates to a Kayenta "
               "server, which deploysim does not import)",
    "sequential": "deploysim's sequential test: neither controller has it",
    "flagger": "Flagger's cumulative failed checks: Argo fails on failures over failureLimit per metric "
               "(export a canary: step with --to flagger)",
    "argo": "an Argo AnalysisTemplate metric: Flagger counts failed checks over the whole analysis "
            "(export with --to argo)",
}
QUERIES = {  # what each measure is, for the placeholder query (a share; seconds)
    "error_rate": ("the new build's error rate: errors / requests", 'code=~"5.."', ""),
    "success_rate": ("the new build's success rate: 1 - errors / requests", 'code!~"5.."', ""),
    "error_rate_ratio": ("the new build's error rate / the old build's", 'code=~"5.."', "ratio"),
    "latency": ("the new build's mean latency in seconds", "", "latency"),
    "latency_ratio": ("the new build's mean latency / the old build's", "", "latency ratio"),
    **{f"latency_{q}": (f"the new build's {q} latency in seconds (its {q[1:]}th percentile)", "", q)
       for q in ("p50", "p95", "p99")},
}


@dataclass(frozen=True)
class Refusal:
    """A part of the policy the controller cannot express, at its key path in the scenario."""

    path: tuple
    message: str
    got: str | None = None
    allowed: str | None = None


class ExportError(UserError):
    """Every part of a policy that the target controller cannot express (`refusals`, to be located)."""

    def __init__(self, source: str, refusals: list[Refusal]):
        self.refusals = list(refusals)
        super().__init__([Problem(source, None, None, render(r.path), r.message, r.got, r.allowed)
                          for r in self.refusals])


@dataclass(frozen=True)
class Note:
    """What the export changed at a key: `exact` when every decision stays the same (a rewriting),
    otherwise an approximation to warn about."""

    path: tuple
    message: str
    exact: bool = False


@dataclass
class Exported:
    target: str
    objects: list[dict] = field(default_factory=list)
    comments: list[tuple[int, tuple, str]] = field(default_factory=list)
    """(object index, key path in it, text): PLACEHOLDER marks and `deploysim:` notes for the YAML."""
    metrics: dict[str, Any] = field(default_factory=dict)
    """The scenario's `metrics:` entries that importing the objects needs (metric name -> measure)."""
    names: dict[str, str] = field(default_factory=dict)
    """Each exported gate's name -> the name importing the objects gives it."""
    notes: list[Note] = field(default_factory=list)


@dataclass(frozen=True)
class Policy:
    """The steps and gates to export, with the key paths they were written at."""

    steps: list
    background_gates: list[str]
    background_from_step: int | None
    gates: dict[str, Any]
    steps_at: tuple  # ("rollout",) or ("evaluation", "rollouts", NAME)
    gates_at: tuple  # ("gates",) or ("evaluation", "policies", NAME)


def export_policy(scenario: Any, target: str, policy: str | None = None, name: str | None = None,
                  source: str = "") -> Exported:
    """The policy as `target`'s objects (raises ExportError with every reason it cannot be)."""
    chosen = policy_of(scenario, policy, source)
    name = name or object_name(scenario.name)
    out = argo(chosen, name, source) if target == "argo" else flagger(chosen, name, source)
    if scenario.commander.on_failure == "hotfix":
        out.notes.append(Note(("commander", "on_failure"), "hotfix: after a rollback the scenario's commander ships a "
                              "hotfix; the controller only rolls back (the hotfix stays your team's)"))
    return out


def policy_of(scenario: Any, policy: str | None, source: str = "") -> Policy:
    """The scenario's rollout and gates, or its evaluation policy `policy` (with its own steps, if any)."""
    if scenario.rollout is None:
        raise ExportError(source, [Refusal(("rollout",), "export needs a rollout: section (its steps and gates are the "
                                                         "policy)", allowed="a scenario with rollout:")])
    evaluation = scenario.evaluation
    policies = dict(evaluation.policies) if evaluation is not None else {}
    steps_at: tuple = ("rollout",)
    gates_at: tuple = ("gates",)
    if policy is None:
        rollout, gates = scenario.rollout, dict(scenario.gates)
        missing = [g for g in used_gates(rollout.steps, rollout.background_gates) if g not in gates]
        if missing:
            raise ExportError(source, [Refusal(("gates",), f"the rollout's gates ({', '.join(missing)}) come from "
                                               "evaluation.policies: name one with --policy",
                                               allowed=", ".join(policies) or "a policy")])
    elif policy not in policies:
        raise ExportError(source, [Refusal(("evaluation", "policies"), "no policy of this name", got=repr(policy),
                                           allowed=", ".join(policies) or "none: the scenario has no evaluation:")])
    else:
        own = (getattr(evaluation, "rollouts", None) or {}).get(policy)
        rollout = scenario.rollout if own is None else own
        steps_at = ("rollout",) if own is None else ("evaluation", "rollouts", policy)
        gates, gates_at = dict(policies[policy]), ("evaluation", "policies", policy)
    return Policy(list(rollout.steps), list(rollout.background_gates), rollout.background_from_step, gates,
                  steps_at, gates_at)


def used_gates(steps: list, background: list[str]) -> list[str]:
    """The gates the steps and background analysis run, each once, in order."""
    names = [g for s in steps if isinstance(s, AnalysisStep) for g in s.analysis.gates]
    names += [g for s in steps if isinstance(s, CanaryStep) for g in s.canary.gates]
    return list(dict.fromkeys(names + list(background)))


def object_name(text: str, taken: set[str] | None = None) -> str:
    """`text` as a Kubernetes object name (lower case, digits, `-`), unique among `taken` (which it joins)."""
    base = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:55].strip("-") or "policy"
    name, n = base, 1
    while taken is not None and name in taken:
        n += 1
        name = f"{base}-{n}"
    if taken is not None:
        taken.add(name)
    return name


def duration_text(seconds: float, whole: bool = False) -> str | None:
    """`seconds` as Go's time.ParseDuration and deploysim both read it back exactly (`1h30m`, `90s`,
    `500ms`), or None; `whole`: whole seconds only."""
    if seconds == int(seconds):
        hours, rest = divmod(int(seconds), 3600)
        minutes, secs = divmod(rest, 60)
        text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
        text += f"{secs}s" if secs or not text else ""
    elif whole:
        return None
    else:
        text = f"{round(seconds * 1000)}ms" if seconds * 1000 == round(seconds * 1000) else f"{seconds!r}s"
    return text if "e" not in text and parse_duration(text) == seconds else None


def _approval(out: Exported, spec: ApprovalSpec, path: tuple) -> None:
    if spec.wait != ApprovalSpec().wait:
        out.notes.append(Note(path + ("wait",), "the simulated wait for a person is the scenario's, not the object's: "
                              f"importing the export gives the default wait (add --set {render(path)}.wait=... to keep it)"))


def _unchanged(spec: Any, handled: set[str]) -> list[str]:
    """Fields of `spec` outside `handled` that differ from their defaults (a field this module does not know)."""
    default = type(spec).model_fields
    return [k for k in default if k not in handled and getattr(spec, k) != default[k].default]


def _common(spec: Any, path: tuple, refusals: list[Refusal]) -> None:
    """What neither controller expresses, whatever the gate's semantics."""
    if spec.action_on_fail != "rollback":
        refusals.append(Refusal(path + ("action_on_fail",), "the controller rolls back (aborts) a failed analysis; "
                                f"{spec.action_on_fail} is the commander's, which the object cannot ask for",
                                got=spec.action_on_fail, allowed="rollback"))
    if spec.min_requests:
        refusals.append(Refusal(path + ("min_requests",), "a metric's result carries no request count, so its "
                                "condition cannot hold back on low traffic (write the minimum into your query "
                                "and drop min_requests to export)", got=str(spec.min_requests), allowed="0"))
    rules = [r for r in ("max", "max_ratio", "max_increase") if getattr(spec, r, None) is not None]
    if rules == ["max_ratio"] and getattr(spec, "quantile", None) is not None:
        refusals.append(Refusal(path + ("max_ratio",), f"no simulated measure reads the new build's latency "
                                f"{spec.quantile} over the old build's", got=str(spec.max_ratio),
                                allowed="max (the quantile), or max_ratio on the mean latency"))
    if "max_increase" in rules:
        refusals.append(Refusal(path + ("max_increase",), "no simulated measure reads new - old, which a metric "
                                "would return", got=str(spec.max_increase), allowed="max or max_ratio"))
    elif len(rules) > 1:
        refusals.append(Refusal(path + (rules[1],), "one metric returns one value: a gate with two rules would be "
                                "two metrics with their own counters", got=", ".join(rules), allowed="one rule"))


def measure_of(spec: Any) -> str | None:
    """The measure a gate's max (or max_ratio) rule reads, as an imported metric would return it; None for
    a ratio of latency quantiles, which no measure reads."""
    quantile = getattr(spec, "quantile", None)
    if spec.max is not None:
        return spec.metric if quantile is None else f"latency_{quantile}"
    return f"{spec.metric}_ratio" if quantile is None else None


def placeholder_query(measure: str, scale: float, window: str, flagger: bool) -> str:
    """A PromQL placeholder for the measure, marked on its first line (PromQL reads `#` as a comment)."""
    what, errors, kind = QUERIES[measure]
    unit = f" x {scale:g}" if scale != 1 else ""
    target = '{{ target }}' if flagger else "REPLACE-ME"
    labels = f'namespace="{{{{ namespace }}}}",workload="{target}"' if flagger else f'service="{target}"'
    window = "{{ interval }}" if flagger else window
    if kind == "":
        query = (f"sum(rate(http_requests_total{{{labels},{errors}}}[{window}]))\n"
                 f"/\nsum(rate(http_requests_total{{{labels}}}[{window}]))")
    elif kind == "ratio":
        query = (f"(sum(rate(http_requests_total{{{labels},{errors}}}[{window}])) / sum(rate(http_requests_total{{{labels}}}[{window}])))\n"
                 f"/\n(sum(rate(http_requests_total{{{labels.replace(target, 'STABLE-REPLACE-ME')},{errors}}}[{window}])) "
                 f"/ sum(rate(http_requests_total{{{labels.replace(target, 'STABLE-REPLACE-ME')}}}[{window}])))")
    elif kind.startswith("p"):
        query = (f"histogram_quantile(0.{kind[1:]}, sum by (le) "
                 f"(rate(http_request_duration_seconds_bucket{{{labels}}}[{window}])))")
    else:
        mean = (f"sum(rate(http_request_duration_seconds_sum{{{labels}}}[{window}])) / "
                f"sum(rate(http_request_duration_seconds_count{{{labels}}}[{window}]))")
        query = mean if kind == "latency" else f"({mean})\n/\n({mean.replace(target, 'STABLE-REPLACE-ME')})"
    if scale != 1:
        query = f"({query})\n* {scale:g}"
    return (f"# PLACEHOLDER (deploysim export): replace with your query. deploysim simulated this metric as\n"
            f"# {what}{unit}, over each interval.\n{query}\n")



# --- Argo Rollouts: a Rollout (canary) and one AnalysisTemplate per gate ---------------------------------

ARGO_FIELDS = {"semantics", "metric", "interval", "action_on_fail", "initial_delay", "dry_run", "max", "max_ratio",
               "max_increase", "min_requests", "failure_limit", "inconclusive_limit", "consecutive_error_limit",
               "consecutive_success_limit", "count", "no_data", "consecutive", "measure", "scale",
               "success_condition", "failure_condition", "quantile"}
ARGO_LIMITS = (("count", "count", None), ("failure_limit", "failureLimit", None),
               ("inconclusive_limit", "inconclusiveLimit", 0), ("consecutive_error_limit", "consecutiveErrorLimit", 4),
               ("consecutive_success_limit", "consecutiveSuccessLimit", 0))


def argo(policy: Policy, name: str, source: str) -> Exported:
    """The policy as an Argo Rollout (canary strategy) and its AnalysisTemplates."""
    out, refusals = Exported("argo"), list[Refusal]()
    used = used_gates(policy.steps, policy.background_gates)
    names = _argo_names(used)
    steps = [_argo_step(out, policy, names, step, i, refusals) for i, step in enumerate(policy.steps)]
    if not any(isinstance(step, SetWeightStep) for step in policy.steps):
        refusals.append(Refusal(policy.steps_at + ("steps",), "Argo promotes to 100% after the last step, which "
                                "importing would add as a set_weight: 100 step", allowed="steps ending with set_weight: 100"))
    canary: dict[str, Any] = {}
    if policy.background_gates:
        canary["analysis"] = {"templates": [{"templateName": names[g][0]} for g in policy.background_gates]}
        if policy.background_from_step is not None:
            canary["analysis"]["startingStep"] = policy.background_from_step
    elif policy.background_from_step is not None:
        out.notes.append(Note(policy.steps_at + ("background_from_step",), "no effect without background gates: not "
                              "exported", exact=True))
    canary["steps"] = [step for step in steps if step is not None]
    out.objects.append({"apiVersion": KINDS["Rollout"], "kind": "Rollout", "metadata": {"name": name}, "spec": {
        "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}, "strategy": {"canary": canary}}})
    out.comments.append((0, ("spec", "workloadRef"), "PLACEHOLDER: your Deployment (or selector and template instead)"))
    for gate in used:
        refusals += _argo_template(out, gate, policy.gates[gate], names[gate], policy.gates_at + (gate,))
    _unused(out, policy, used)
    if refusals:
        raise ExportError(source, refusals)
    imported = GateNames()
    out.names = {gate: imported.of(f"{names[gate][0]}.{names[gate][1]}", {"gate": gate}) for gate in used}
    return out


def _argo_names(gates: list[str]) -> dict[str, tuple[str, str]]:
    """(template, metric) per gate: `a.b` as template a, metric b (importing gives back `a.b`), another
    name as template and metric both; templates and metrics unique (a metric name is a `metrics:` key)."""
    templates: set[str] = set()
    metrics: set[str] = set()
    found = {}
    for gate in gates:
        head, _, tail = gate.partition(".")
        template = object_name(head if tail else gate, templates)
        metric, n = tail or gate, 1
        while (metric if n == 1 else f"{metric}-{n}") in metrics:
            n += 1
        metric = metric if n == 1 else f"{metric}-{n}"
        metrics.add(metric)
        found[gate] = (template, metric)
    return found


def _argo_step(out: Exported, policy: Policy, names: dict, step: Any, i: int, refusals: list[Refusal]) -> dict | None:
    path = policy.steps_at + ("steps", i)
    if isinstance(step, SetWeightStep):
        if step.set_weight != int(step.set_weight):
            refusals.append(Refusal(path + ("set_weight",), "Argo's setWeight is a whole percent",
                                    got=f"{step.set_weight:g}", allowed="a whole number of percent"))
        return {"setWeight": int(step.set_weight)}
    if isinstance(step, PauseStep):
        text = duration_text(step.pause, whole=True)
        if text is None:
            refusals.append(Refusal(path + ("pause",), "Argo pauses for whole seconds", got=f"{step.pause:g}s",
                                    allowed="a whole number of seconds"))
        return {"pause": {"duration": text}}
    if isinstance(step, ApprovalStep):
        _approval(out, step.approval, path + ("approval",))
        return {"pause": {}}
    if isinstance(step, AnalysisStep):
        if step.analysis.duration is not None:
            refusals.append(Refusal(path + ("analysis", "duration"), "an Argo analysis runs until its metrics end: it "
                                    "has no time limit (give its gates a count instead)",
                                    got=f"{step.analysis.duration:g}s", allowed="no duration"))
        return {"analysis": {"templates": [{"templateName": names[g][0]} for g in step.analysis.gates]}}
    why = ("deploys a pre-production tier (staging, dogfood): a Rollout has no such step" if isinstance(step, StageStep)
           else "is Flagger's canary analysis (export it with --to flagger)")
    kind = "stage" if isinstance(step, StageStep) else "canary"
    refusals.append(Refusal(path + (kind,), f"cannot be an Argo step: it {why}", got=kind,
                            allowed="set_weight, pause, approval, analysis"))
    return None


def _argo_template(out: Exported, gate: str, spec: Any, names: tuple[str, str], path: tuple) -> list[Refusal]:
    """The gate's AnalysisTemplate (one metric), or why it cannot be one."""
    if spec.semantics != "argo":
        return [Refusal(path + ("semantics",), f"cannot be an Argo metric: {SEMANTICS_WHY.get(spec.semantics, 'no counterpart')}",
                        got=spec.semantics, allowed="argo")]
    refusals: list[Refusal] = []
    _common(spec, path, refusals)
    if spec.consecutive != 1:
        refusals.append(Refusal(path + ("consecutive",), "deploysim's extension (a breach counts only as the N-th in a "
                                "row): Argo counts every failed measurement", got=str(spec.consecutive), allowed="1"))
    refusals += [Refusal(path + (k,), "no Argo field for it", got=repr(getattr(spec, k))) for k in _unchanged(spec, ARGO_FIELDS)]
    interval, delay = duration_text(spec.interval), duration_text(spec.initial_delay)
    for key, text, seconds in (("interval", interval, spec.interval), ("initial_delay", delay, spec.initial_delay)):
        if text is None:
            refusals.append(Refusal(path + (key,), "not a duration Argo reads back exactly", got=f"{seconds!r}s",
                                    allowed="whole milliseconds"))
    if refusals:
        return refusals
    template, metric_name = names
    index = len(out.objects)
    metric: dict[str, Any] = {"name": metric_name, "interval": interval}
    if spec.initial_delay:
        metric["initialDelay"] = delay
    for key, argo_key, default in ARGO_LIMITS:
        value = getattr(spec, key)
        if value is not None and value != default:
            metric[argo_key] = value
    measure, scale, success, failure = _argo_judgement(out, spec, path)
    if spec.measure is None:
        out.comments.append((index, ("spec", "metrics", 0, "failureCondition"),
                             f"deploysim: from {'max' if spec.max is not None else 'max_ratio'} "
                             f"{spec.max if spec.max is not None else spec.max_ratio!r} on the {measure}"))
    if success is not None:
        metric["successCondition"] = success
    if failure is not None:
        metric["failureCondition"] = failure
    metric["provider"] = {"prometheus": {"address": PROMETHEUS,
                                         "query": placeholder_query(measure, scale, interval or "1m", flagger=False)}}
    out.comments.append((index, ("spec", "metrics", 0, "provider", "prometheus", "address"), "PLACEHOLDER: your Prometheus"))
    out.metrics[metric_name] = measure if scale == 1 else {"measure": measure, "scale": scale}
    body: dict[str, Any] = {"metrics": [metric]}
    if spec.dry_run:
        body["dryRun"] = [{"metricName": metric_name}]
    out.objects.append({"apiVersion": KINDS["AnalysisTemplate"], "kind": "AnalysisTemplate",
                        "metadata": {"name": template}, "spec": body})
    return []


def _argo_judgement(out: Exported, spec: Any, path: tuple) -> tuple[str, float, str | None, str | None]:
    """(measure, scale, successCondition, failureCondition): as written with `measure`; from a max or
    max_ratio rule, the condition that judges every window as the rule does (a breach is Failed; no
    data as `no_data` says: an empty result errs in `result[0]`)."""
    if spec.measure is not None:
        if spec.no_data != "error":
            out.notes.append(Note(path + ("no_data",), "no effect on a gate with measure (its conditions judge an "
                                  "empty result): not exported", exact=True))
        return spec.measure, spec.scale, spec.success_condition, spec.failure_condition
    rule = "max" if spec.max is not None else "max_ratio"
    measure = measure_of(spec)
    assert measure is not None  # (refused in _common)
    limit = repr(float(getattr(spec, rule)))
    if spec.scale != 1:
        out.notes.append(Note(path + ("scale",), "no effect without measure: not exported", exact=True))
    out.notes.append(Note(path + (rule,), f"written as a condition on the {measure} (result[0] > {limit}), which "
                          "judges every window as the rule does; importing it gives a gate with measure and "
                          "conditions", exact=True))
    if spec.no_data == "failed":
        return measure, 1.0, None, f"len(result) == 0 || result[0] > {limit}"
    if spec.no_data == "inconclusive":
        return measure, 1.0, f"len(result) > 0 && !(result[0] > {limit})", f"len(result) > 0 && result[0] > {limit}"
    return measure, 1.0, None, f"result[0] > {limit}"


def _unused(out: Exported, policy: Policy, used: list[str]) -> None:
    for gate in policy.gates:
        if gate not in used:
            out.notes.append(Note(policy.gates_at + (gate,), "not used by the rollout's steps: not exported", exact=True))


# --- Flagger: a Canary and one MetricTemplate per custom metric ------------------------------------------

FLAGGER_FIELDS = {"semantics", "metric", "interval", "action_on_fail", "initial_delay", "dry_run", "max",
                  "max_ratio", "max_increase", "min_requests", "threshold", "step_weight", "max_weight",
                  "rollback_on_next_check", "quantile"}
NO_EFFECT_IN_CANARY = ("initial_delay", "threshold", "step_weight", "max_weight", "rollback_on_next_check")
WEBHOOKS = ("confirm-rollout", "confirm-traffic-increase", "confirm-promotion")
BUILT_IN = ("request-success-rate", "request-duration")  # Flagger runs a metric so named as its built-in check
RESERVED_NAMES = {"error_rate": "error-rate", "latency": "mean-latency", "error_rate_ratio": "error-rate-ratio",
                  "latency_ratio": "latency-ratio", "latency_p50": "latency-p50", "latency_p95": "latency-p95",
                  "latency_p99": "latency-p99"}


def flagger(policy: Policy, name: str, source: str) -> Exported:
    """The policy (one canary: step, approvals around it, then 100%) as a Flagger Canary and its MetricTemplates."""
    out, refusals = Exported("flagger"), list[Refusal]()
    steps, at = policy.steps, policy.steps_at
    canaries = [i for i, step in enumerate(steps) if isinstance(step, CanaryStep)]
    if len(canaries) != 1:
        kinds = [next(k for k in STEP_KINDS if k in type(s).model_fields) for s in steps]
        raise ExportError(source, [Refusal(at + ("steps",), "a Canary is one canary: step (Flagger's analysis)",
                                           got=", ".join(kinds),
                                           allowed="approval?, canary:, approval?, set_weight: 100")])
    k = canaries[0]
    hooks = _flagger_shape(out, policy, k, refusals)
    if policy.background_gates:
        refusals.append(Refusal(at + ("background_gates",), "Flagger has no analysis running beside its canary "
                                "analysis", got=", ".join(policy.background_gates), allowed="none"))
    elif policy.background_from_step is not None:
        out.notes.append(Note(at + ("background_from_step",), "no effect without background gates: not exported",
                              exact=True))
    canary = steps[k].canary
    path = at + ("steps", k, "canary")
    if canary.approval is not None:
        hooks.add("confirm-traffic-increase")
        _approval(out, canary.approval, path + ("approval",))
    analysis = _flagger_analysis(canary, path, refusals)
    metrics, taken = [], set[str]()
    for gate in canary.gates:
        metric = _flagger_metric(out, gate, policy.gates[gate], canary.interval, policy.gates_at + (gate,), taken, refusals)
        if metric is not None:
            metrics.append(metric)
    analysis["metrics"] = metrics
    if hooks:
        analysis["webhooks"] = [{"name": h, "type": h, "url": APPROVAL_URL + h} for h in WEBHOOKS if h in hooks]
        for j in range(len(analysis["webhooks"])):
            out.comments.append((0, ("spec", "analysis", "webhooks", j, "url"), "PLACEHOLDER: your approval gate"))
    _unused(out, policy, list(canary.gates))
    if refusals:
        raise ExportError(source, refusals)
    out.objects.insert(0, {"apiVersion": KINDS["Canary"], "kind": "Canary", "metadata": {"name": name}, "spec": {
        "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}, "service": {"port": 80},
        "analysis": analysis}})
    out.comments = [(0, ("spec", "targetRef"), "PLACEHOLDER: your workload"),
                    (0, ("spec", "service", "port"), "PLACEHOLDER: your service's port"), *out.comments]
    imported = GateNames()
    out.names = {gate: imported.of(str(metric["name"]), {"gate": gate}) for gate, metric in zip(canary.gates, metrics)}
    return out


def _flagger_shape(out: Exported, policy: Policy, k: int, refusals: list[Refusal]) -> set[str]:
    """The confirm webhooks the approvals around the canary step make; a refusal per step a Canary has not."""
    hooks: set[str] = set()
    for i, step in enumerate(policy.steps):
        path = policy.steps_at + ("steps", i)
        if i == k:
            continue
        if isinstance(step, ApprovalStep) and i in (k - 1, k + 1) and (i == k - 1 or i + 1 < len(policy.steps)):
            hooks.add("confirm-rollout" if i < k else "confirm-promotion")
            _approval(out, step.approval, path + ("approval",))
        elif isinstance(step, SetWeightStep) and step.set_weight == 100 and i == len(policy.steps) - 1:
            continue
        else:
            refusals.append(Refusal(path, f"a Canary has no such step: {_misfit(step, i < k)}",
                                    allowed="approval?, canary:, approval?, set_weight: 100"))
    return hooks


def _misfit(step: Any, before: bool) -> str:
    if isinstance(step, StageStep):
        return "a stage deploys a pre-production tier"
    if isinstance(step, PauseStep):
        return "a bake outside the analysis (Flagger waits only between its checks)"
    if isinstance(step, SetWeightStep):
        return "Flagger moves traffic only by the analysis's weights, then promotes to 100% after it"
    if isinstance(step, AnalysisStep):
        return "an analysis step is Argo's (export it with --to argo)"
    return ("Flagger's confirm webhooks approve just before the analysis, before each weight, or just before the "
            "promotion" if isinstance(step, ApprovalStep) else "unknown step")


def _flagger_analysis(canary: Any, path: tuple, refusals: list[Refusal]) -> dict[str, Any]:
    """spec.analysis's interval, threshold and weights (stepWeight and maxWeight when they walk the weights)."""
    analysis: dict[str, Any] = {}
    seconds = canary.interval
    if seconds != int(seconds):
        refusals.append(Refusal(path + ("interval",), "Flagger's interval is whole seconds", got=f"{seconds!r}s",
                                allowed="a whole number of seconds"))
    analysis["interval"] = f"{int(seconds) // 60}m" if int(seconds) % 60 == 0 else f"{int(seconds)}s"
    analysis["threshold"] = canary.threshold
    weights = [float(w) for w in canary.weights]
    bad = [j for j, w in enumerate(weights) if w != int(w)]
    if bad:
        refusals.append(Refusal(path + ("weights", bad[0]), "Flagger's weights are whole percents",
                                got=f"{weights[bad[0]]:g}", allowed="whole numbers"))
        return analysis
    step, top = int(weights[0]), int(weights[-1])
    walk = [float(min(step * n, 100)) for n in range(1, math.ceil(top / step - 1e-9) + 1)]
    if walk == weights:
        analysis.update(stepWeight=step, maxWeight=top)
    else:
        analysis["stepWeights"] = [int(w) for w in weights]
    return analysis


def _flagger_metric(out: Exported, gate: str, spec: Any, interval: float, path: tuple, taken: set[str],
                    refusals: list[Refusal]) -> dict | None:
    """The gate as a Canary metric: request-success-rate where it maps back exactly, else a custom metric
    (and its MetricTemplate) of the gate's measure; None (with refusals) where it cannot be one."""
    if spec.semantics != "flagger":
        refusals.append(Refusal(path + ("semantics",), f"cannot be a Flagger metric: {SEMANTICS_WHY.get(spec.semantics, 'no counterpart')}",
                                got=spec.semantics, allowed="flagger"))
        return None
    found: list[Refusal] = []
    _common(spec, path, found)
    found += [Refusal(path + (k,), "no Flagger field for it", got=repr(getattr(spec, k))) for k in _unchanged(spec, FLAGGER_FIELDS)]
    limit = spec.max if spec.max is not None else spec.max_ratio
    if not found and not limit > 0:
        found.append(Refusal(path + ("max",), "a ceiling of 0 does not import back (deploysim's Flagger import "
                             "refuses a range no window can pass)", got="0", allowed="a ceiling above 0"))
    if spec.dry_run:
        found.append(Refusal(path + ("dry_run",), "Flagger has no dry run: every metric of a Canary counts",
                             got="true", allowed="false"))
    refusals += found
    if found:
        return None
    dropped = [k for k in NO_EFFECT_IN_CANARY if getattr(spec, k) != type(spec).model_fields[k].default]
    dropped += ["interval"] if spec.interval != interval else []
    for key in dropped:
        out.notes.append(Note(path + (key,), "no effect in a canary step (the step checks its gates at its own "
                              "interval and counts their failed checks itself): not exported", exact=True))
    window = f"{int(interval) // 60}m" if int(interval) % 60 == 0 else f"{int(interval)}s"
    measure = measure_of(spec)
    assert measure is not None  # (refused in _common)
    lowest = _success_min(limit) if measure == "error_rate" else None
    if lowest is not None and "request-success-rate" not in taken:
        taken.add("request-success-rate")
        return {"name": "request-success-rate", "thresholdRange": {"min": lowest}, "interval": window}
    if measure == "latency_p99" and limit * 1000.0 / 1000.0 == limit and "request-duration" not in taken:
        taken.add("request-duration")
        return {"name": "request-duration", "thresholdRange": {"max": limit * 1000.0}, "interval": window}
    base = RESERVED_NAMES[measure] if gate in BUILT_IN else gate  # Flagger runs a metric of such a name as its built-in
    name, n = base, 1
    while name in taken or name in BUILT_IN:
        n += 1
        name = f"{base}-{n}"
    taken.add(name)
    scale, shown = _scaled(limit, measure)
    index = len(out.objects) + 1  # the MetricTemplate's index once the Canary goes first
    if measure == "error_rate" and lowest is None:
        exact = 100.0 * (1.0 - limit)
        out.comments.append((0, ("spec", "analysis", "metrics", len(taken) - 1, "name"),
                             f"deploysim: a custom metric: request-success-rate {{min: {exact!r}}} would read back "
                             f"as {1.0 - exact / 100.0!r}, not {limit!r}"))
    template = object_name(name, {str(o["metadata"]["name"]) for o in out.objects})
    out.objects.append({"apiVersion": KINDS["MetricTemplate"], "kind": "MetricTemplate", "metadata": {"name": template},
                        "spec": {"provider": {"type": "prometheus", "address": PROMETHEUS},
                                 "query": placeholder_query(measure, scale, window, flagger=True)}})
    out.comments.append((index, ("spec", "provider", "address"), "PLACEHOLDER: your Prometheus"))
    out.metrics[name] = measure if scale == 1 else {"measure": measure, "scale": scale}
    return {"name": name, "templateRef": {"name": template}, "thresholdRange": {"max": shown}, "interval": window}


def _success_min(limit: float) -> float | None:
    """The request-success-rate floor (percent) that Flagger's import reads back as exactly `limit`
    (1 - min/100), or None when there is none: most limits (1%, 0.5%) have none in floating point."""
    for digits in range(16):
        low = round(100.0 * (1.0 - limit), digits)
        if 0 <= low < 100 and 1.0 - low / 100.0 == limit:
            return float(low)
    return None


def _scaled(limit: float, measure: str) -> tuple[float, float]:
    """(scale, the limit in the query's unit): a percentage for an error rate and milliseconds for a
    latency, as Flagger users write them, where that reads back exactly; else the measure's own unit."""
    preferred = 100.0 if measure == "error_rate" else 1000.0 if measure == "latency" or measure.startswith("latency_p") else 1.0
    for scale in (preferred, 1.0):
        if (limit * scale) / scale == limit:
            return scale, limit * scale
    return 1.0, limit
