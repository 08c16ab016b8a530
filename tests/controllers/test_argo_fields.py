"""Step by step, what the Argo importer (`sim.controllers.argo.import_rollout`) makes of a Rollout's canary
steps, calling it on small Rollouts written here (test_argo_import.py checks the import end to end):

- a step of no kind, or of two, is refused with the kinds there are; experiment, setHeaderRoute and plugin
  steps are refused with what they do, each where it is written;
- setCanaryScale and setMirrorRoute steps are listed as ignored and become no native step, so a background
  analysis's `startingStep` counts the native steps before it (`_native_index`).

Mutation testing (mutmut) found that nothing else held these messages, locations and step names.
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


def imported(steps: str) -> Imported:
    """The Rollout with `steps` (lines 7 on: `steps:`, then one line per step from line 8)."""
    [rollout] = objects_of(parse_yaml(HEAD + steps, SOURCE, documents=True), SOURCE)
    templates = objects_of(parse_yaml(TEMPLATE, "t.yaml", documents=True), "t.yaml")
    return import_rollout(rollout, templates, MEASURES, "pull")


def refused(steps: str) -> list[tuple]:
    with pytest.raises(ManifestError) as caught:
        imported(steps)
    return [(p.line, p.column, p.path, p.message, p.got, p.allowed) for p in caught.value.problems]


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
