"""Field by field, what the Flagger importer (`sim.controllers.flagger.import_canary`) makes of a Canary.

test_flagger_import.py checks the import end to end (a loaded scenario, its releases). This file pins each
branch of the translation on its own, calling `import_canary` on small Canaries written here, so that a
change in any branch shows up as a changed value:

- each `thresholdRange` as the gate limit it becomes (`_limit`), at the edges where a bound is dropped
  (a floor of 0, a ceiling of 100%), kept (an error rate of at most 100%) or refused (a limit of 0, an
  error rate over 100%), with the refusals' exact message, `got`, `allowed` and location;
- each webhook type as an approval step, a note that it is assumed to pass, a note that it is ignored,
  or a refusal (`_approvals`);
- the Canary's other fields: a missing analysis is refused, every other `spec` and `analysis` key is
  listed as ignored with the reason it has no effect.

Mutation testing (mutmut) found that nothing else held these: changing a message, a bound's comparison or
a webhook type's name passed every other test.
"""

from __future__ import annotations

import pytest

from sim.controllers.flagger import import_canary
from sim.controllers.objects import Imported, ManifestError, Note, objects_of
from sim.load.yaml_input import parse_yaml

SOURCE = "canary.yaml"
HEAD = "apiVersion: flagger.app/v1beta1\nkind: Canary\nmetadata: {name: shop}\n"  # lines 1-3
# Lines 4-11: the analysis, with one metric (its name on line 10, its thresholdRange on line 11).
ANALYSIS = """spec:
  analysis:
    interval: 1m
    threshold: 2
    stepWeight: 50
{extra}    metrics:
    - name: {name}
      thresholdRange: {bounds}
"""
SUCCESS = "request-success-rate", "{min: 99}"
# The scenario's `metrics:` mapping: custom metrics simulated as each measure, most in percent.
MEASURES = {
    "errors": {"measure": "error_rate", "scale": 100},
    "error-ratio": {"measure": "error_rate_ratio", "scale": 100},
    "latency-ratio": "latency_ratio",
    "latency-ms": {"measure": "latency", "scale": 1000},
    "median-ms": {"measure": "latency_p50", "scale": 1000},
}
WEBHOOK_TYPES = ("confirm-rollout, confirm-traffic-increase, confirm-promotion, pre-rollout, rollout, post-rollout, "
                 "event, rollback")


def canary_of(text: str):
    [canary] = objects_of(parse_yaml(HEAD + text, SOURCE, documents=True), SOURCE)
    return canary


def imported(text: str) -> Imported:
    return import_canary(canary_of(text), [], MEASURES, "pull")


def refused(text: str) -> list[tuple]:
    """Each problem as (line, column, path, message, got, allowed)."""
    with pytest.raises(ManifestError) as caught:
        imported(text)
    return [(p.line, p.column, p.path, p.message, p.got, p.allowed) for p in caught.value.problems]


def analysis(metric: tuple[str, str] = SUCCESS, extra: str = "") -> str:
    name, bounds = metric
    return ANALYSIS.format(name=name, bounds=bounds, extra=extra)


def notes(notes_: list[Note]) -> dict[str, tuple[int | None, str]]:
    return {n.path: (n.line, n.note) for n in notes_ if n.source == SOURCE}


# --- thresholdRange -> the gate's limit (_limit) -------------------------------------------------------------

@pytest.mark.parametrize("metric, limit", [
    # a success rate of at least min% is an error rate of at most 1 - min/100
    (("request-success-rate", "{min: 99}"), {"metric": "error_rate", "max": pytest.approx(0.01)}),
    # a ceiling of 100% on a success rate always holds: dropped, the floor is the limit
    (("request-success-rate", "{min: 99, max: 100}"), {"metric": "error_rate", "max": pytest.approx(0.01)}),
    # a floor of 0%: an error rate of at most 100%, which still fails a check that finds no values
    (("request-success-rate", "{min: 0}"), {"metric": "error_rate", "max": 1.0}),
    (("errors", "{max: 100}"), {"metric": "error_rate", "max": 1.0}),
    # a floor of 0 on an error rate always holds: dropped, the ceiling is the limit
    (("errors", "{min: 0, max: 5}"), {"metric": "error_rate", "max": 0.05}),
    # P99 latency in ms: the latency gate reading the p99, in seconds (a limit over 1 s is a latency, not a share)
    (("request-duration", "{max: 2000}"), {"metric": "latency", "quantile": "p99", "max": 2.0}),
    (("median-ms", "{max: 250}"), {"metric": "latency", "quantile": "p50", "max": 0.25}),
    (("latency-ms", "{max: 1500}"), {"metric": "latency", "max": 1.5}),
    # a ratio measure: at most max (in the metric's unit) times the baseline
    (("error-ratio", "{max: 150}"), {"metric": "error_rate", "max_ratio": 1.5}),
    (("latency-ratio", "{max: 1.2}"), {"metric": "latency", "max_ratio": 1.2}),
])
def test_a_threshold_range_becomes_the_equivalent_limit_of_a_flagger_gate(metric, limit):
    out = imported(analysis(metric))
    assert out.gates == {metric[0]: {"semantics": "flagger", "interval": 60.0, **limit}}


@pytest.mark.parametrize("metric, problem", [
    # a floor on anything but a success rate (a floor of 0 is dropped, any other is refused)
    (("errors", "{min: 0.5}"), (11, 29, "spec.analysis.metrics[0].thresholdRange.min",
                                "a floor on error_rate has no equivalent limit in deploysim", "min: 0.5",
                                "min on a success_rate metric; max on the others")),
    (("request-duration", "{min: 100, max: 500}"), (11, 29, "spec.analysis.metrics[0].thresholdRange.min",
                                                    "a floor on latency_p99 has no equivalent limit in deploysim",
                                                    "min: 100", "min on a success_rate metric; max on the others")),
    # a ceiling on a success rate under 100%
    (("request-success-rate", "{max: 99.5}"), (11, 29, "spec.analysis.metrics[0].thresholdRange.max",
                                               "a ceiling on a success rate has no equivalent limit in deploysim",
                                               "max: 99.5", "min on a success_rate metric")),
    # bounds that always hold leave nothing to check
    (("errors", "{min: 0}"), (11, 23, "spec.analysis.metrics[0].thresholdRange",
                              "the range always holds: nothing to check", "{'min': 0}",
                              "min on a success_rate metric; max on the others")),
    (("request-success-rate", "{max: 100}"), (11, 23, "spec.analysis.metrics[0].thresholdRange",
                                              "the range always holds: nothing to check", "{'max': 100}",
                                              "min on a success_rate metric; max on the others")),
    # a limit no window can pass (an error rate of at most 0) or none can fail (of at most 150%)
    (("request-success-rate", "{min: 100}"), (11, 23, "spec.analysis.metrics[0].thresholdRange",
                                              "outside what success_rate (x 100) can be", "{'min': 100}",
                                              "a limit that some windows pass and some fail")),
    (("errors", "{max: 0}"), (11, 23, "spec.analysis.metrics[0].thresholdRange",
                              "outside what error_rate (x 100) can be", "{'max': 0}",
                              "a limit that some windows pass and some fail")),
    (("errors", "{max: 150}"), (11, 23, "spec.analysis.metrics[0].thresholdRange",
                                "outside what error_rate (x 100) can be", "{'max': 150}",
                                "a limit that some windows pass and some fail")),
    (("request-duration", "{max: 0}"), (11, 23, "spec.analysis.metrics[0].thresholdRange",
                                        "outside what latency_p99 (x 1000) can be", "{'max': 0}",
                                        "a limit that some windows pass and some fail")),
])
def test_a_threshold_range_with_no_equivalent_limit_is_refused_where_it_is_written(metric, problem):
    assert refused(analysis(metric)) == [problem]


# --- webhooks (_approvals) -----------------------------------------------------------------------------------

def with_webhooks(hooks: str) -> str:
    """The analysis with `webhooks:` (lines 9 on; its metrics then start on line 9 + the hooks' lines)."""
    return analysis(extra="    webhooks:\n" + hooks)


@pytest.mark.parametrize("kind, steps", [
    ("confirm-rollout", [{"approval": {}}, {"canary": {}}, {"set_weight": 100}]),
    ("confirm-traffic-increase", [{"canary": {"approval": {}}}, {"set_weight": 100}]),
    ("confirm-promotion", [{"canary": {}}, {"approval": {}}, {"set_weight": 100}]),
])
def test_a_confirm_webhook_is_an_approval_before_the_analysis_at_each_increase_or_before_promotion(kind, steps):
    out = imported(with_webhooks(f"    - {{name: gate, type: {kind}}}\n"))
    canary_step = {"gates": ["request-success-rate"], "weights": [50.0, 100.0], "interval": 60.0, "threshold": 2}
    expected = [{"canary": {**canary_step, **s["canary"]}} if "canary" in s else s for s in steps]
    assert out.rollout == {"strategy": "pull", "steps": expected}
    assert notes(out.approximated) == {"spec.analysis.webhooks[0]": (
        10, f"{kind}: a person approves (the approval wait of the scenario's approval steps)")}
    assert notes(out.ignored) == {}


@pytest.mark.parametrize("hook, kind", [
    ("{name: load, type: pre-rollout}", "pre-rollout"),
    ("{name: load, type: rollout}", "rollout"),
    ("{name: load, url: 'http://loadtester/'}", "rollout"),  # no type: Flagger's default, a rollout hook
])
def test_pre_rollout_and_rollout_webhooks_are_assumed_to_pass(hook, kind):
    out = imported(with_webhooks(f"    - {hook}\n"))
    assert [list(s) for s in out.rollout["steps"]] == [["canary"], ["set_weight"]]
    assert "approval" not in out.rollout["steps"][0]["canary"]
    assert notes(out.approximated) == {"spec.analysis.webhooks[0]": (
        10, f"{kind} webhook assumed to succeed (a failing one would count as a failed check)")}
    assert notes(out.ignored) == {}


@pytest.mark.parametrize("kind", ["post-rollout", "event", "rollback", "confirm-rollback"])
def test_webhooks_that_do_not_change_the_decision_are_listed_as_ignored(kind):
    out = imported(with_webhooks(f"    - {{name: hook, type: {kind}}}\n"))
    assert [list(s) for s in out.rollout["steps"]] == [["canary"], ["set_weight"]]
    assert notes(out.ignored) == {"spec.analysis.webhooks[0]": (10, f"{kind} webhook: no effect on the simulated decision")}
    assert notes(out.approximated) == {}


def test_each_webhook_is_read_in_its_own_place():
    out = imported(with_webhooks("    - {name: a, type: event}\n    - {name: b, type: confirm-rollout}\n"
                                 "    - {name: c, type: post-rollout}\n"))
    assert [list(s) for s in out.rollout["steps"]] == [["approval"], ["canary"], ["set_weight"]]
    assert notes(out.ignored) == {"spec.analysis.webhooks[0]": (10, "event webhook: no effect on the simulated decision"),
                                  "spec.analysis.webhooks[2]": (12, "post-rollout webhook: no effect on the simulated decision")}
    assert list(notes(out.approximated)) == ["spec.analysis.webhooks[1]"]


@pytest.mark.parametrize("hook, got, column", [
    ("{name: gate, type: confirm-everything}", "'confirm-everything'", 26),
    ("{name: gate, type: Confirm-Rollout}", "'Confirm-Rollout'", 26),  # types are case-sensitive, as in the CRD
    ("confirm-rollout", "None", 7),  # a webhook that is not a mapping has no type
])
def test_a_webhook_of_no_known_type_is_refused_with_the_types_there_are(hook, got, column):
    assert refused(with_webhooks(f"    - {hook}\n")) == [
        (10, column, "spec.analysis.webhooks[0].type", "not a webhook type", got, WEBHOOK_TYPES)]


@pytest.mark.parametrize("hooks, where, got", [
    # the `-` forgotten: one webhook written as a mapping (its approval would be lost)
    ("      name: gate\n      type: confirm-promotion\n", (10, 7), "{'name': 'gate', 'type': 'confirm-promotion'}"),
    ("confirm-promotion", (9, 15), "'confirm-promotion'"),
])
def test_webhooks_that_are_not_a_list_are_refused_rather_than_dropped(hooks, where, got):
    text = analysis(extra="    webhooks:" + ("\n" if hooks.startswith(" ") else " ") + hooks.rstrip("\n") + "\n")
    assert refused(text) == [(*where, "spec.analysis.webhooks", "a list of webhooks", got,
                              "webhooks: [{name: gate, type: confirm-promotion, url: ...}, ...]")]


# --- the rest of the Canary (import_canary) ------------------------------------------------------------------

@pytest.mark.parametrize("spec, got, where", [
    ("spec:\n  provider: linkerd\n", "None", (5, 3)),  # located at the spec it is missing from
    ("spec:\n  analysis: 3\n", "3", (5, 13)),
    ("spec:\n  analysis: [interval: 1m]\n", "[{'interval': '1m'}]", (5, 13)),
    ("spec: []\n", "None", (4, 7)),
])
def test_a_canary_without_an_analysis_mapping_is_refused(spec, got, where):
    assert refused(spec) == [(*where, "spec.analysis", "a Canary needs an analysis", got,
                              "analysis: {interval, threshold, stepWeight, maxWeight, metrics}")]


def test_the_specs_other_fields_are_listed_as_having_no_effect():
    out = imported("spec:\n  provider: linkerd\n  targetRef: {kind: Deployment, name: shop}\n"
                   + analysis().removeprefix("spec:\n") + "  progressDeadlineSeconds: 600\n")
    assert notes(out.ignored) == {"spec.provider": (5, "no effect on the simulation"),
                                  "spec.targetRef": (6, "no effect on the simulation"),
                                  "spec.progressDeadlineSeconds": (14, "no effect on the simulation")}


@pytest.mark.parametrize("key, why", [
    ("stepWeightPromotion: 20", "no effect: promotion shifts traffic from the canary to the updated primary, both on "
                                "the new build"),
    ("mirror: true", "no effect on exposure: mirrored requests' responses are never seen by users"),
    ("mirrorWeight: 10", "no effect on exposure: mirrored requests' responses are never seen by users"),
    ("primaryReadyThreshold: 100", "no effect on the simulation"),
    ("canaryReadyThreshold: 100", "no effect on the simulation"),
])
def test_analysis_fields_without_effect_are_listed_with_the_reason(key, why):
    out = imported(analysis(extra=f"    {key}\n"))
    path = "spec.analysis." + key.partition(":")[0]
    assert notes(out.ignored) == {path: (9, why)}
    assert out.gates == {"request-success-rate": {"semantics": "flagger", "interval": 60.0, "metric": "error_rate",
                                                  "max": pytest.approx(0.01)}}


# --- a metric's own fields (_gate) ---------------------------------------------------------------------------

@pytest.mark.parametrize("metrics, got_at", [
    ("    metrics:\n    - thresholdRange: {min: 99}\n", (10, 7)),  # a metric without a name (line 10)
    ("    metrics:\n    - request-success-rate\n", (10, 7)),  # a metric written as a bare string
])
def test_a_metric_without_a_name_is_refused_where_it_is_written(metrics, got_at):
    text = "spec:\n  analysis:\n    interval: 1m\n    threshold: 2\n    stepWeight: 50\n" + metrics
    [(line, column, path, message, got, allowed)] = refused(text)
    assert (line, column) == got_at
    assert (path, message, allowed) == ("spec.analysis.metrics[0]", "a metric needs a name",
                                        "name, thresholdRange, ...")


@pytest.mark.parametrize("window, noted", [("1m", False), ("60s", False), ("5m", True), ("soon", False)])
def test_a_metric_window_other_than_the_interval_is_noted_as_read_as_the_interval(window, noted):
    """Flagger's `interval` on a metric is its query's window; deploysim reads each check's window as the
    metric intervals since the previous check, which equals it when it is the analysis interval (1m)."""
    text = analysis(extra="").replace("      thresholdRange: {min: 99}\n",
                                      f"      thresholdRange: {{min: 99}}\n      interval: {window}\n")
    out = imported(text)
    approximated = {n.path: n.note for n in out.approximated if n.source == SOURCE}
    key = "spec.analysis.metrics[0].interval"
    assert (key in approximated) == noted
    assert notes(out.ignored) == {}  # a metric's interval is read, never listed as without effect
    if noted:
        assert approximated[key].startswith(f"the query's window ({window}) is read as the metric intervals")


def with_metric_lines(metric: tuple[str, str], lines: str) -> str:
    """The analysis with more lines in its one metric, after its thresholdRange (line 12 on)."""
    name, bounds = metric
    return analysis(metric).replace(f"      thresholdRange: {bounds}\n", f"      thresholdRange: {bounds}\n{lines}")


def with_threshold_only(name: str, threshold: str) -> str:
    """A metric with the deprecated `threshold` on line 11 and no thresholdRange."""
    return ANALYSIS.format(name=name, bounds="{}", extra="").replace("      thresholdRange: {}\n",
                                                                     f"      threshold: {threshold}\n")


def test_a_metric_the_scenario_does_not_map_is_refused_with_the_mapping_to_write():
    assert refused(analysis(("orders", "{max: 5}"))) == [(
        10, 13, "spec.analysis.metrics[0].name",
        "map this metric to a simulated measure in the scenario's `metrics:` section", "'orders'",
        "metrics: {orders: {measure: <measure>, scale: <unit>}}, <measure> one of error_rate, success_rate, "
        "error_rate_ratio, latency, latency_ratio, latency_p50, latency_p95, latency_p99")]


@pytest.mark.parametrize("name, threshold, limit", [
    # Flagger's built-in checks still read the deprecated `threshold`: a floor on the success rate ...
    ("request-success-rate", "99", {"metric": "error_rate", "max": pytest.approx(0.01)}),
    # ... and a ceiling on the P99 duration, in ms
    ("request-duration", "500", {"metric": "latency", "quantile": "p99", "max": 0.5}),
])
def test_a_built_in_metric_reads_the_deprecated_threshold(name, threshold, limit):
    out = imported(with_threshold_only(name, threshold))
    assert out.gates == {name: {"semantics": "flagger", "interval": 60.0, **limit}}
    assert notes(out.ignored) == {} and notes(out.approximated) == {}


@pytest.mark.parametrize("text, where, got", [
    (with_threshold_only("errors", "5"), (10, 7), "None"),  # only built-ins read `threshold`
    (analysis(("errors", "5")), (11, 23), "5"),  # a range that is not a mapping
    (analysis(("errors", "{floor: 1}")), (11, 23), "{'floor': 1}"),  # a mapping without min or max
])
def test_a_metric_without_a_usable_threshold_range_is_refused(text, where, got):
    assert refused(text) == [(*where, "spec.analysis.metrics[0].thresholdRange",
                              "a metric without thresholdRange fails only when its query returns nothing: give the "
                              "range it must stay in", got, "thresholdRange: {min: ..., max: ...}")]


def test_a_built_in_with_its_own_query_is_run_as_the_built_in_and_the_query_is_noted():
    out = imported(with_metric_lines(SUCCESS, "      query: sum(rate(x[1m]))\n      templateVariables: {a: b}\n"
                                              "      weight: 3\n"))
    assert out.gates == {"request-success-rate": {"semantics": "flagger", "interval": 60.0, "metric": "error_rate",
                                                  "max": pytest.approx(0.01)}}
    assert notes(out.approximated) == {"spec.analysis.metrics[0].name": (
        10, "Flagger runs request-success-rate as its built-in check: the templateRef or query is not used")}
    not_run = "the query is not run: 'request-success-rate' is simulated (metrics:)"
    assert notes(out.ignored) == {"spec.analysis.metrics[0].query": (12, not_run),
                                  "spec.analysis.metrics[0].templateVariables": (13, not_run),
                                  "spec.analysis.metrics[0].weight": (14, "no effect on the simulation")}


TEMPLATE = "apiVersion: flagger.app/v1beta1\nkind: MetricTemplate\nmetadata: {name: error-rate}\nspec: {query: x}\n"


@pytest.mark.parametrize("templates, allowed", [
    ("", "none: give the file with the MetricTemplate"),
    (TEMPLATE, "error-rate"),  # the templates there are
])
def test_a_template_ref_to_no_template_given_is_refused_with_those_there_are(templates, allowed):
    given = objects_of(parse_yaml(templates, "t.yaml", documents=True), "t.yaml") if templates else []
    text = with_metric_lines(("errors", "{max: 5}"), "      templateRef: {name: errs}\n")
    with pytest.raises(ManifestError) as caught:
        import_canary(canary_of(text), given, MEASURES, "pull")
    assert [(p.line, p.column, p.path, p.message, p.got, p.allowed) for p in caught.value.problems] == [
        (12, 27, "spec.analysis.metrics[0].templateRef.name", "no MetricTemplate of this name among the templates given",
         "'errs'", allowed)]


def test_a_custom_metric_from_a_template_is_simulated_and_its_query_noted():
    given = objects_of(parse_yaml(TEMPLATE, "t.yaml", documents=True), "t.yaml")
    text = with_metric_lines(("errors", "{max: 5}"), "      templateRef: {name: error-rate}\n")
    out = import_canary(canary_of(text), given, MEASURES, "pull")
    assert out.gates == {"errors": {"semantics": "flagger", "interval": 60.0, "metric": "error_rate", "max": 0.05}}
    assert notes(out.ignored) == {"spec.analysis.metrics[0].templateRef": (
        12, "the query is not run: 'errors' is simulated (metrics:)")}
    assert notes(out.approximated) == {}


@pytest.mark.parametrize("spec, problem", [
    ("spec:\n  skipAnalysis: true\n" + ANALYSIS.format(name=SUCCESS[0], bounds=SUCCESS[1], extra="").removeprefix("spec:\n"),
     (5, 17, "spec.skipAnalysis", "promotes every build without analysis: nothing to judge", "true", "false")),
    (ANALYSIS.format(name=SUCCESS[0], bounds=SUCCESS[1], extra="    match: [{headers: {x: {exact: y}}}]\n"),
     (9, 12, "spec.analysis.match", "A/B testing routes requests by header or cookie for a number of iterations: "
      "not modelled", "match", "stepWeight or stepWeights")),
    (ANALYSIS.format(name=SUCCESS[0], bounds=SUCCESS[1], extra="    iterations: 10\n"),
     (9, 17, "spec.analysis.iterations", "blue/green switches all traffic at once after the iterations: not modelled",
      "iterations: 10", "stepWeight or stepWeights")),
    (ANALYSIS.format(name=SUCCESS[0], bounds=SUCCESS[1], extra="    sessionAffinity: {cookieName: x}\n"),
     (9, 22, "spec.analysis.sessionAffinity", "session affinity pins users to a build: not modelled", "sessionAffinity",
      "no sessionAffinity")),
])
def test_what_deploysim_does_not_model_is_refused_where_it_is_written(spec, problem):
    assert refused(spec) == [problem]


def test_no_threshold_is_flaggers_default_of_one_failed_check_and_noted():
    out = imported(analysis().replace("    threshold: 2\n", ""))
    assert out.rollout["steps"][0]["canary"]["threshold"] == 1
    assert notes(out.approximated) == {"spec.analysis": (
        6, "no threshold: Flagger's code rolls back at the first failed check (1)")}


def test_a_threshold_of_one_is_kept_as_it_is():
    out = imported(analysis().replace("    threshold: 2\n", "    threshold: 1\n"))
    assert out.rollout["steps"][0]["canary"]["threshold"] == 1 and notes(out.approximated) == {}


@pytest.mark.parametrize("value, got", [("0", "0"), ("1.5", "1.5"), ("true", "True"), ("two", "'two'"), ("-3", "-3")])
def test_a_threshold_that_is_not_a_count_of_failed_checks_is_refused(value, got):
    assert refused(analysis().replace("    threshold: 2\n", f"    threshold: {value}\n")) == [
        (7, 16, "spec.analysis.threshold", "not a count of failed checks", got, "a whole number >= 1")]


@pytest.mark.parametrize("metrics", ["", "    metrics: []\n"])
def test_an_analysis_without_metrics_is_refused(metrics):
    text = "spec:\n  analysis:\n    interval: 1m\n    threshold: 2\n    stepWeight: 50\n" + metrics
    assert refused(text) == [(6, 5, "spec.analysis", "an analysis without metrics promotes every build: nothing to "
                              "simulate", None, "metrics: [{name: request-success-rate, thresholdRange: {min: 99}}]")]


def test_metrics_of_one_name_with_different_ranges_become_gates_of_their_own_and_say_where():
    """The same name with another range is another gate (`-2`); with the same range, the same gate. Each
    gate's origin is the metric it came from (where a later error about the gate points)."""
    text = with_metric_lines(SUCCESS, "    - name: request-success-rate\n      thresholdRange: {min: 95}\n"
                                      "    - name: request-success-rate\n      thresholdRange: {min: 99}\n")
    out = imported(text)
    assert out.rollout["steps"][0]["canary"]["gates"] == ["request-success-rate", "request-success-rate-2",
                                                          "request-success-rate"]
    assert out.gates["request-success-rate-2"]["max"] == pytest.approx(0.05)
    assert out.origins[("gates", "request-success-rate-2")] == (SOURCE, 12, 7)
    assert out.origins[("rollout", "steps", 0)] == (SOURCE, 6, 5)


@pytest.mark.parametrize("mapping", ["error_rate", {"measure": "error_rate"}, {"measure": "error_rate", "scale": 1}])
def test_a_mapping_without_a_scale_reads_the_measure_in_its_own_unit(mapping):
    """`{measure: error_rate}` is the bare name: scale 1, so `max: 0.05` is an error rate of 5%."""
    out = import_canary(canary_of(analysis(("errors", "{max: 0.05}"))), [], {"errors": mapping}, "pull")
    assert out.gates == {"errors": {"semantics": "flagger", "interval": 60.0, "metric": "error_rate",
                                    "max": pytest.approx(0.05)}}
