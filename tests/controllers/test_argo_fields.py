"""Field by field, what the Argo importer (`sim.controllers.argo.import_rollout`) makes of a Rollout and
its AnalysisTemplates, calling it on small objects written here (test_argo_import.py checks the import
end to end):

- steps: a step of no kind, or of two, is refused with the kinds there are; experiment, setHeaderRoute
  and plugin steps are refused with what they do; setCanaryScale and setMirrorRoute are listed as ignored
  and become no native step, so a background analysis's `startingStep` counts the native steps before it;
  an indefinite pause is an approval; the steps end at 100%;
- analyses: templates found by kind and name (clusterScope), the step's args over the template's
  defaults, dryRun patterns from the step and the template (an entry without metricName marks none),
  every other key listed as ignored, a template without a spec giving no gates, and each template not
  found refused with the names given;
- metrics: each field as the gate's (counts written as `{{args.n}}` become numbers), the provider's
  query noted as not run (a provider that is not a mapping names none), a metric without an interval
  measured once, and every refusal (no name, a provider that cannot be simulated, an unmapped name,
  each field using an arg without a value, a count above 1 without an interval) with its message,
  `got`, `allowed` and location;
- the rest of the Rollout: blue/green refused, every field without effect listed with its reason.

Mutation testing (mutmut) found that nothing else held these messages, locations and names.
"""

from __future__ import annotations

import pytest

from sim.controllers.argo import import_rollout
from sim.controllers.objects import Imported, ManifestError, objects_of
from sim.load.yaml_input import parse_yaml

SOURCE = "rollout.yaml"
HEAD = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: shop}\nspec:\n  strategy:\n    canary:\n"
TEMPLATE = ("apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: errors}\nspec:\n  metrics:\n"
            "  - name: errors\n    interval: 1m\n    failureCondition: result[0] > 0.02\n"
            "    provider: {prometheus: {query: x}}\n")
MEASURES = {"errors": {"measure": "error_rate"}}
KINDS = "analysis, experiment, pause, plugin, setCanaryScale, setHeaderRoute, setMirrorRoute, setWeight"


def imported(steps: str, templates: str = TEMPLATE, measures=None, head: str = HEAD) -> Imported:
    """The Rollout with `steps` (lines 7 on: `steps:`, then one line per step from line 8)."""
    [rollout] = objects_of(parse_yaml(head + steps, SOURCE, documents=True), SOURCE)
    given = objects_of(parse_yaml(templates, "t.yaml", documents=True), "t.yaml")
    return import_rollout(rollout, given, MEASURES if measures is None else measures, "pull")


def refused(steps: str, templates: str = TEMPLATE, head: str = HEAD) -> list[tuple]:
    """Each problem as (file, line, column, path, message, got, allowed), files other than the Rollout's
    named; the Rollout's as before without the file."""
    with pytest.raises(ManifestError) as caught:
        imported(steps, templates, head=head)
    return [(p.line, p.column, p.path, p.message, p.got, p.allowed) if p.source == SOURCE
            else (p.source, p.line, p.column, p.path, p.message, p.got, p.allowed) for p in caught.value.problems]


def notes(found) -> dict:
    return {(n.source, n.path): (n.line, n.note) for n in found}


def test_steps_of_no_kind_or_two_kinds_and_steps_not_modelled_are_refused_where_they_are():
    steps = ("      steps:\n      - setWeight: 20\n      - {setWeight: 30, pause: {}}\n      - 7\n      - {replicas: 3}\n"
             "      - experiment: {}\n      - setHeaderRoute: {}\n      - plugin: {}\n")
    assert refused(steps) == [
        (9, 9, "spec.strategy.canary.steps[1]", "a step needs exactly one kind", "setWeight, pause", KINDS),
        (10, 9, "spec.strategy.canary.steps[2]", "a step needs exactly one kind", "7", KINDS),
        (11, 9, "spec.strategy.canary.steps[3]", "a step needs exactly one kind", "replicas", KINDS),
        (12, 21, "spec.strategy.canary.steps[4].experiment", "cannot be simulated: it starts experiment ReplicaSets",
         "experiment", "setWeight, pause, analysis"),
        (13, 25, "spec.strategy.canary.steps[5].setHeaderRoute", "cannot be simulated: it routes requests by header",
         "setHeaderRoute", "setWeight, pause, analysis"),
        (14, 17, "spec.strategy.canary.steps[6].plugin", "cannot be simulated: it runs a step plugin", "plugin",
         "setWeight, pause, analysis"),
    ]


def test_scale_and_mirror_steps_are_ignored_and_the_background_start_counts_native_steps():
    """Argo's step 4 (the pause) follows one setWeight and two ignored steps: it is native step 1."""
    out = imported("      steps:\n      - setWeight: 20\n      - setCanaryScale: {replicas: 2}\n"
                   "      - setMirrorRoute: {name: m}\n      - pause: {duration: 60}\n      - setWeight: 100\n"
                   "      analysis:\n        templates: [{templateName: errors}]\n        startingStep: 3\n")
    assert out.rollout["steps"] == [{"set_weight": 20}, {"pause": 60}, {"set_weight": 100}]
    assert out.rollout["background_from_step"] == 1
    why = "no effect on exposure: it scales pods or mirrors requests whose responses users never see"
    ignored = {n.path: (n.line, n.note) for n in out.ignored if n.source == SOURCE}
    assert ignored == {"spec.strategy.canary.steps[1].setCanaryScale": (9, why),
                       "spec.strategy.canary.steps[2].setMirrorRoute": (10, why)}
    assert out.origins[("rollout", "steps", 1)] == (SOURCE, 11, 16)  # the pause's value, where Argo has it


# --- pauses, the last step, the rest of the Rollout ----------------------------------------------------------

def test_an_indefinite_pause_is_an_approval_and_the_steps_end_at_100_percent():
    out = imported("      steps:\n      - setWeight: 20\n      - pause: {}\n      - pause: {duration: 30}\n")
    assert out.rollout["steps"] == [{"set_weight": 20}, {"approval": {}}, {"pause": 30}, {"set_weight": 100}]
    assert notes(out.approximated) == {
        (SOURCE, "spec.strategy.canary.steps[1].pause"): (
            9, "an indefinite pause ends when a person promotes: the scenario's approval wait"),
        (SOURCE, "spec.strategy.canary.steps"): (
            None, "Argo promotes to 100% after the last step: a set_weight: 100 step is added")}
    assert [out.origins[("rollout", "steps", i)] for i in range(3)] == [(SOURCE, 8, 20), (SOURCE, 9, 16),
                                                                      (SOURCE, 10, 16)]


ROLLOUT_HEAD = ("apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: shop}\nspec:\n  replicas: 3\n"
                "  strategy:\n    abortScaleDownDelaySeconds: 30\n    canary:\n")


def test_the_rollouts_fields_without_effect_are_listed_with_the_reason():
    out = imported("      trafficRouting: {nginx: {}}\n      maxSurge: 1\n      steps:\n      - setWeight: 100\n",
                   head=ROLLOUT_HEAD)
    assert out.rollout["steps"] == [{"set_weight": 100}] and notes(out.approximated) == {}
    assert notes(out.ignored) == {
        (SOURCE, "spec.replicas"): (5, "no effect on the simulation"),
        (SOURCE, "spec.strategy.abortScaleDownDelaySeconds"): (7, "no effect on the simulation"),
        (SOURCE, "spec.strategy.canary.trafficRouting"): (9, "no effect: setWeight is the share of production hosts "
                                                             "on the new build, which traffic routing would set "
                                                             "without scaling pods"),
        (SOURCE, "spec.strategy.canary.maxSurge"): (10, "no effect on the simulation")}


@pytest.mark.parametrize("strategy, where, got", [
    ("  strategy:\n    blueGreen: {activeService: a}\n", (6, 5), "blueGreen"),
    ("  strategy: 5\n", (5, 13), "nothing"),
])
def test_a_rollout_that_is_not_a_canary_is_refused(strategy, where, got):
    head = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: shop}\nspec:\n" + strategy
    assert refused("", head=head) == [(*where, "spec.strategy", "only canary strategies are simulated (blue/green "
                                       "switches all traffic at once: not modelled)", got, "canary")]


@pytest.mark.parametrize("starting, got", [("1", "1"), ("-1", "-1"), ("two", "'two'")])
def test_a_background_start_that_is_not_a_step_is_refused(starting, got):
    steps = ("      steps:\n      - setWeight: 100\n      analysis:\n        templates: [{templateName: errors}]\n"
             f"        startingStep: {starting}\n")
    assert refused(steps) == [(11, 23, "spec.strategy.canary.analysis.startingStep", "not a step of this rollout", got,
                               "0 to 0")]


# --- analyses and their templates ----------------------------------------------------------------------------

RICH = """apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: errors}
spec:
  args:
  - {name: limit, value: "0.02"}
  - {name: n, value: "3"}
  dryRun: [{metricName: lat*}]
  measurementRetention: [{metricName: errors, limit: 5}]
  metrics:
  - name: errors
    interval: 1m
    initialDelay: 30s
    count: "{{args.n}}"
    failureLimit: 2
    inconclusiveLimit: 1
    consecutiveErrorLimit: 4
    consecutiveSuccessLimit: 2
    failureCondition: result[0] > {{args.limit}}
    successCondition: result[0] <= {{args.limit}}
    provider: {prometheus: {query: x}}
    weird: 1
  - name: latency
    provider: {datadog: {query: y}}
    successCondition: result[0] < 0.5
---
apiVersion: argoproj.io/v1alpha1
kind: ClusterAnalysisTemplate
metadata: {name: errors}
spec:
  metrics:
  - name: errors
    interval: 2m
    provider: {prometheus: {query: x}}
"""
RICH_MEASURES = {"errors": {"measure": "error_rate", "scale": 100}, "latency": "latency"}


def test_every_metric_field_becomes_the_gates_with_the_steps_args_over_the_templates():
    out = imported("      steps:\n      - analysis:\n          templates: [{templateName: errors}]\n"
                   "          args: [{name: limit, value: '0.05'}]\n          dryRun: [{metricName: err*}]\n"
                   "          extra: 1\n", RICH, RICH_MEASURES)
    assert out.rollout["steps"] == [{"analysis": {"gates": ["errors.errors", "errors.latency"]}}, {"set_weight": 100}]
    assert out.gates == {
        "errors.errors": {"semantics": "argo", "measure": "error_rate", "scale": 100, "interval": "1m",
                          "initial_delay": "30s", "count": 3, "failure_limit": 2, "inconclusive_limit": 1,
                          "consecutive_error_limit": 4, "consecutive_success_limit": 2,
                          "failure_condition": "result[0] > 0.05", "success_condition": "result[0] <= 0.05",
                          "dry_run": True},  # the step's dryRun pattern err*
        "errors.latency": {"semantics": "argo", "measure": "latency", "success_condition": "result[0] < 0.5",
                           "count": 1, "dry_run": True}}  # the template's lat*
    assert notes(out.ignored) == {
        (SOURCE, "spec.strategy.canary.steps[0].analysis.extra"): (12, "no effect on the simulation"),
        ("t.yaml", "spec.measurementRetention"): (9, "no effect on the simulation"),
        ("t.yaml", "spec.metrics[0].provider.prometheus"): (
            21, "the query is not run: 'errors' is simulated as error_rate x 100 (metrics:)"),
        ("t.yaml", "spec.metrics[0].weird"): (22, "no effect on the simulation"),
        ("t.yaml", "spec.metrics[1].provider.datadog"): (
            24, "the query is not run: 'latency' is simulated as latency (metrics:)")}
    assert notes(out.approximated)[("t.yaml", "spec.metrics[1]")] == (
        23, "without an interval Argo measures once: one check after the gate's default interval (1m) of traffic")
    assert out.origins[("gates", "errors.errors")] == ("t.yaml", 11, 5)
    assert out.origins[("gates", "errors.latency")] == ("t.yaml", 23, 5)


def test_the_template_defaults_hold_without_args_and_cluster_scope_finds_the_cluster_template():
    out = imported("      steps:\n      - analysis:\n          templates: [{templateName: errors}]\n"
                   "      - analysis:\n          templates: [{templateName: errors, clusterScope: true}]\n",
                   RICH, RICH_MEASURES)
    assert out.gates["errors.errors"]["failure_condition"] == "result[0] > 0.02"
    assert "dry_run" not in out.gates["errors.errors"]
    # the cluster template's metric has the same name and another interval: a gate of its own
    assert out.gates["errors.errors-2"] == {"semantics": "argo", "measure": "error_rate", "scale": 100,
                                            "interval": "2m"}
    assert [s["analysis"]["gates"] for s in out.rollout["steps"][:2]] == [["errors.errors", "errors.latency"],
                                                                        ["errors.errors-2"]]


def test_analyses_without_templates_or_with_templates_not_given_are_refused():
    steps = ("      steps:\n      - analysis: {}\n      - analysis: {templates: []}\n      - analysis: 5\n"
             "      - analysis:\n          templates: [{templateName: nope}, {templateName: other, clusterScope: true}]\n")
    needs = ("an analysis needs templates", None, "templates: [{templateName: ...}]")
    assert refused(steps) == [
        (8, 19, "spec.strategy.canary.steps[0].analysis", *needs),
        (9, 19, "spec.strategy.canary.steps[1].analysis", *needs),
        (10, 19, "spec.strategy.canary.steps[2].analysis", *needs),
        (12, 38, "spec.strategy.canary.steps[3].analysis.templates[0].templateName",
         "no AnalysisTemplate of this name among the templates given", "'nope'", "errors"),
        (12, 60, "spec.strategy.canary.steps[3].analysis.templates[1].templateName",
         "no ClusterAnalysisTemplate of this name among the templates given", "'other'",
         "none: give the file with the ClusterAnalysisTemplate"),
    ]


BAD = """apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: bad}
spec:
  args: [{name: cluster, valueFrom: {secretKeyRef: {name: s, key: k}}}]
  metrics:
  - provider: {prometheus: {query: x}}
  - name: job
    provider: {job: {spec: {}}}
  - name: web
    provider: {web: {url: x}}
  - name: kay
    provider: {kayenta: {}}
  - name: plug
    provider: {plugin: {}}
  - name: orders
    provider: {prometheus: {query: x}}
  - name: errors
    interval: 1m
    failureCondition: result[0] > {{args.cluster}}
    provider: {prometheus: {query: x}}
  - name: errors
    interval: "{{ args.missing }}"
    provider: {prometheus: {query: x}}
  - name: errors
    count: 3
    provider: {prometheus: {query: x}}
"""


def test_metrics_that_cannot_be_simulated_are_refused_where_they_are_written():
    numeric = "prometheus, datadog, newRelic, cloudWatch, wavefront, graphite, influxdb, skywalking"
    no_value = "which has no value (valueFrom is read from the cluster: give a value)"
    assert refused("      steps:\n      - analysis: {templates: [{templateName: bad}]}\n", BAD) == [
        ("t.yaml", 7, 5, "spec.metrics[0]", "a metric needs a name", None, "name, provider, ..."),
        ("t.yaml", 9, 21, "spec.metrics[1].provider.job", "cannot be simulated: it runs a Kubernetes Job", "job", numeric),
        ("t.yaml", 11, 21, "spec.metrics[2].provider.web", "cannot be simulated: it calls a web endpoint", "web", numeric),
        ("t.yaml", 13, 25, "spec.metrics[3].provider.kayenta", "cannot be simulated: it delegates the judgement to "
         "Kayenta", "kayenta", numeric),
        ("t.yaml", 15, 24, "spec.metrics[4].provider.plugin", "cannot be simulated: it runs a provider plugin", "plugin",
         numeric),
        ("t.yaml", 16, 11, "spec.metrics[5].name", "map this metric to a simulated measure in the scenario's `metrics:` "
         "section", "'orders'", "metrics: {orders: <measure>}, <measure> one of error_rate, success_rate, "
         "error_rate_ratio, latency, latency_ratio, latency_p50, latency_p95, latency_p99"),
        ("t.yaml", 20, 23, "spec.metrics[6].failureCondition", f"uses args.cluster, {no_value}",
         "'result[0] > {{args.cluster}}'", "a value"),
        ("t.yaml", 23, 15, "spec.metrics[7].interval", f"uses args.missing, {no_value}", "'{{ args.missing }}'",
         "a value"),
        ("t.yaml", 26, 12, "spec.metrics[8].count", "a count above 1 needs an interval (Argo refuses it too)", "3",
         "interval: 1m, or count: 1"),
    ]


LATENCY = ("---\napiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: latency}\nspec:\n"
           "  metrics:\n  - name: errors\n    interval: 1m\n    provider: {prometheus: {query: x}}\n")


def test_each_template_not_found_is_refused_with_the_names_given_even_when_a_later_one_is_found():
    """A reference that is not a mapping names no template (got None); the third reference is found, and
    its template's (lack of) problems must not hide the first two."""
    steps = ("      steps:\n      - analysis:\n          templates:\n          - templateName: nope\n"
             "          - errors\n          - templateName: errors\n")
    missing = "no AnalysisTemplate of this name among the templates given"
    assert refused(steps, TEMPLATE + LATENCY) == [
        (10, 27, "spec.strategy.canary.steps[0].analysis.templates[0].templateName", missing, "'nope'",
         "errors, latency"),
        (11, 13, "spec.strategy.canary.steps[0].analysis.templates[1].templateName", missing, "None",
         "errors, latency"),
    ]


DRY = """apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: errors}
spec:
  dryRun: [{}]
  metrics:
  - name: errors
    interval: 1m
    provider: {prometheus: {query: x}}
  - name: XXXX
    interval: 1m
    provider: {prometheus: {query: y}}
"""


def test_a_dry_run_entry_without_a_metric_name_marks_no_metric():
    """Neither the step's `dryRun: [{}]` nor the template's marks a metric, whatever its name (XXXX too)."""
    out = imported("      steps:\n      - analysis: {templates: [{templateName: errors}], dryRun: [{}]}\n", DRY,
                   {"errors": "error_rate", "XXXX": "latency"})
    assert out.gates == {"errors.errors": {"semantics": "argo", "measure": "error_rate", "interval": "1m"},
                         "errors.xxxx": {"semantics": "argo", "measure": "latency", "interval": "1m"}}


def test_a_template_without_a_spec_gives_an_analysis_without_gates():
    out = imported("      steps:\n      - analysis: {templates: [{templateName: errors}]}\n",
                   "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: errors}\n")
    assert out.gates == {} and out.ignored == []
    assert out.rollout["steps"] == [{"analysis": {"gates": []}}, {"set_weight": 100}]


COUNTED = ("apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: errors}\nspec:\n  metrics:\n"
           "  - name: errors\n    count: {count}\n")  # the metric on line 6, its count on line 7
ANALYSIS_STEP = "      steps:\n      - analysis: {templates: [{templateName: errors}]}\n"


def test_without_an_interval_a_count_of_1_is_measured_once_and_a_count_of_2_is_refused():
    out = imported(ANALYSIS_STEP, COUNTED.replace("{count}", "1"))
    assert out.gates == {"errors.errors": {"semantics": "argo", "measure": "error_rate", "count": 1}}
    assert notes(out.approximated)[("t.yaml", "spec.metrics[0]")] == (
        6, "without an interval Argo measures once: one check after the gate's default interval (1m) of traffic")
    assert refused(ANALYSIS_STEP, COUNTED.replace("{count}", "2")) == [
        ("t.yaml", 7, 12, "spec.metrics[0].count", "a count above 1 needs an interval (Argo refuses it too)", "2",
         "interval: 1m, or count: 1")]


def test_every_field_of_a_metric_using_an_arg_without_a_value_is_refused_not_only_the_first():
    template = ("apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: errors}\nspec:\n"
                "  metrics:\n  - name: errors\n    interval: '{{args.every}}'\n"
                "    failureCondition: result[0] > {{args.limit}}\n")
    no_value = "which has no value (valueFrom is read from the cluster: give a value)"
    assert refused(ANALYSIS_STEP, template) == [
        ("t.yaml", 7, 15, "spec.metrics[0].interval", f"uses args.every, {no_value}", "'{{args.every}}'", "a value"),
        ("t.yaml", 8, 23, "spec.metrics[0].failureCondition", f"uses args.limit, {no_value}",
         "'result[0] > {{args.limit}}'", "a value"),
    ]


def test_a_provider_that_is_not_a_mapping_names_no_provider_to_note_or_refuse():
    template = ("apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: errors}\nspec:\n"
                "  metrics:\n  - name: errors\n    interval: 1m\n    provider: job\n")
    out = imported(ANALYSIS_STEP, template)
    assert out.gates == {"errors.errors": {"semantics": "argo", "measure": "error_rate", "interval": "1m"}}
    assert out.ignored == []


TEMPLATE_HEAD = "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: errors}\n"


def test_an_empty_template_spec_is_no_spec_and_a_spec_that_is_not_a_mapping_is_refused_where_written():
    """`spec:` with nothing under it imports as a template without a spec (no metrics: no gates), where it
    used to crash the importer; `spec: [metrics]` or `spec: errors` is refused at line 4."""
    empty = imported(ANALYSIS_STEP, TEMPLATE_HEAD + "spec:\n")
    assert empty.gates == {} and empty.rollout["steps"] == [{"analysis": {"gates": []}}, {"set_weight": 100}]
    long = "x" * 100  # the value is quoted in `got` up to 80 characters
    for spec, got in (("[metrics]", "['metrics']"), ("errors", "'errors'"), (long, repr(long)[:80])):
        assert refused(ANALYSIS_STEP, TEMPLATE_HEAD + f"spec: {spec}\n") == [
            ("t.yaml", 4, 7, "spec", "an AnalysisTemplate's spec is a mapping", got,
             "spec: {metrics: [...], args: [...]}")]
