"""What the Argo importer (`sim.controllers.argo.import_rollout`) makes of the Rollout itself, beyond
test_argo_fields.py (whose helpers build the small objects here):

- the strategy: a Rollout without one, or whose strategy names no canary, is refused at `spec.strategy`
  with the strategy's keys as `got`;
- the background analysis (`canary.analysis`): its fields without effect listed and its templates not
  given refused, both at the Rollout's lines; a `startingStep` of 0 starts the gates at the first step,
  one past the last step is refused with the steps there are;
- a pause written with no value (`pause: null`) is an indefinite pause, as `pause: {}` is: an approval.

Mutation testing (mutmut) found that nothing else held these.
"""

from __future__ import annotations

import pytest

from tests.controllers.test_argo_fields import SOURCE, imported, notes, refused

ROLLOUT = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: shop}\n"
NOT_CANARY = "only canary strategies are simulated (blue/green switches all traffic at once: not modelled)"


@pytest.mark.parametrize("spec, where, got", [
    # no strategy: at `spec`'s first key (line 5); no keys to echo, so `got` is empty (rendered "got ;")
    ("spec:\n  replicas: 3\n", (5, 3), ""),
    # a strategy naming two keys, neither canary: both are echoed, in order
    ("spec:\n  strategy: {blueGreen: {activeService: a}, maxSurge: 1}\n", (5, 13), "blueGreen, maxSurge"),
])
def test_a_rollout_whose_strategy_names_no_canary_is_refused_with_the_strategys_keys(spec, where, got):
    assert refused("", head=ROLLOUT + spec) == [(*where, "spec.strategy", NOT_CANARY, got, "canary")]


# Three Argo steps: setWeight (line 8), setWeight (line 9), pause (line 10); the background analysis after.
THREE_STEPS = "      steps:\n      - setWeight: 20\n      - setWeight: 50\n      - pause: {duration: 60}\n"


def test_a_background_analysis_starting_at_step_0_gates_from_the_first_step_and_lists_its_other_fields():
    out = imported(THREE_STEPS + "      analysis:\n        templates: [{templateName: errors}]\n"
                   "        startingStep: 0\n        extra: 1\n")
    assert out.rollout == {"strategy": "pull",
                           "steps": [{"set_weight": 20}, {"set_weight": 50}, {"pause": 60}, {"set_weight": 100}],
                           "background_gates": ["errors.errors"], "background_from_step": 0}
    assert out.gates == {"errors.errors": {"semantics": "argo", "measure": "error_rate", "interval": "1m",
                                           "failure_condition": "result[0] > 0.02"}}
    assert notes(out.ignored)[(SOURCE, "spec.strategy.canary.analysis.extra")] == (14, "no effect on the simulation")


def test_a_background_analysis_refuses_a_template_not_given_and_a_start_past_the_last_step():
    """Steps 0 to 2 exist: startingStep 3 is refused, naming them."""
    steps = (THREE_STEPS + "      analysis:\n        templates: [{templateName: nope}]\n"
             "        startingStep: 3\n")
    assert refused(steps) == [
        (12, 36, "spec.strategy.canary.analysis.templates[0].templateName",
         "no AnalysisTemplate of this name among the templates given", "'nope'", "errors"),
        (13, 23, "spec.strategy.canary.analysis.startingStep", "not a step of this rollout", "3", "0 to 2"),
    ]


def test_a_pause_written_without_a_value_is_an_approval_like_an_empty_pause():
    out = imported("      steps:\n      - setWeight: 20\n      - pause: null\n      - setWeight: 50\n")
    assert out.rollout["steps"] == [{"set_weight": 20}, {"approval": {}}, {"set_weight": 50}, {"set_weight": 100}]
    assert notes(out.approximated)[(SOURCE, "spec.strategy.canary.steps[1].pause")] == (
        9, "an indefinite pause ends when a person promotes: the scenario's approval wait")
    assert out.origins[("rollout", "steps", 1)] == (SOURCE, 9, 16)


@pytest.mark.parametrize("background", ["5", "{}", "[errors]"])
def test_a_background_analysis_that_is_not_one_is_refused_where_it_is_written_as_a_steps_would_be(background):
    """`analysis: 5` crashed the importer (AttributeError) and `analysis: {}` was skipped without a word; both
    are now refused at the key, with the message a step's analysis gets."""
    text = f"      analysis: {background}\n      steps:\n      - setWeight: 50\n"
    assert refused(text) == [(7, 17, "spec.strategy.canary.analysis", "an analysis needs templates", None,
                              "templates: [{templateName: ...}]")]  # line 7: the analysis, at its value
