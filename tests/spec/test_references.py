"""Names used across sections (strategies, gates, policies, tiers): each bad one is reported at the line and
column of the reference itself, with its key path, the bad name, a "did you mean" and the names allowed,
and all of them at once, together with ordinary field errors.

Expected places are found in the test's own text (`at`: the line number and the column of a needle on
it), independently of the YAML parser that the loader uses.
"""

from pathlib import Path

import pytest

from sim.errors import ScenarioError
from sim.load.loader import load_scenario

BASE = """\
version: 1
name: refs
fleet: {hosts: 50, tiers: {staging: 2}}
strategies:
  pull: {kind: pull}
  push: {kind: push, parallel: 4}
rollout:
  strategy: pull
  steps:
    - stage: staging
    - set_weight: 10%
    - analysis: {gates: [canary-errors]}
    - set_weight: 100
  background_gates: [errors]
gates:
  errors: {semantics: argo, max: 1%}
  canary-errors: {max_ratio: 2}
"""

EVALUATION = """\
evaluation:
  releases: 10
  policies:
    strict:
      errors: {semantics: argo, max: 1%}
      canary-errors: {max_ratio: 2}
    loose:
      errors: {semantics: argo, max: 2%}
      canary-errors: {max_ratio: 3}
  sweep:
    base: strict
    grid:
      gates.errors.max: [1%, 2%]
"""


def write(tmp_path: Path, text: str, name: str = "refs.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(path: Path, overrides=()) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides)
    return [p.render() for p in caught.value.problems]


def at(text: str, needle: str, offset: int = 0, occurrence: int = 0) -> str:
    """`line:column` (1-based) of the start of `needle` (its `occurrence`-th appearance) in `text`, plus
    `offset` columns."""
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        column = line.find(needle)
        while column >= 0:
            if seen == occurrence:
                return f"{number}:{column + 1 + offset}"
            seen += 1
            column = line.find(needle, column + 1)
    raise AssertionError(f"{needle!r} not in the text")


def test_the_base_scenario_is_valid(tmp_path):
    scenario = load_scenario(write(tmp_path, BASE)).scenario
    assert scenario.rollout.strategy == "pull" and scenario.rollout.steps[1].set_weight == 10.0
    assert load_scenario(write(tmp_path, BASE + EVALUATION, "e.yaml")).scenario.evaluation.sweep.base == "strict"


def test_a_mistyped_strategy_is_reported_at_its_own_line(tmp_path):
    text = BASE.replace("strategy: pull", "strategy: pul")
    path = write(tmp_path, text)
    place = at(text, "strategy: pul", offset=len("strategy: "))
    assert problems(path) == [f"{path}:{place}: rollout.strategy: strategy 'pul' is not defined in "
                              "strategies; did you mean 'pull'? (got 'pul'; allowed pull, push)"]
    assert place == "8:13"  # the hand-counted place, not the top of the file


def test_without_strategies_the_default_names_are_allowed(tmp_path):
    text = BASE.replace("strategies:\n  pull: {kind: pull}\n  push: {kind: push, parallel: 4}\n", "").replace(
        "strategy: pull", "strategy: consul-pul")
    path = write(tmp_path, text)
    assert problems(path) == [
        f"{path}:{at(text, 'consul-pul')}: rollout.strategy: strategy 'consul-pul' is not defined in strategies; "
        "did you mean 'consul-pull'? (got 'consul-pul'; allowed rsync-serial, rsync-parallel-32, consul-pull)"]


def test_a_mistyped_gate_is_reported_at_the_list_item_with_its_key_path(tmp_path):
    text = BASE.replace("gates: [canary-errors]", "gates: [canary-erors]")
    path = write(tmp_path, text)
    assert problems(path) == [
        f"{path}:{at(text, 'canary-erors')}: rollout.steps[2].analysis.gates[0]: gate 'canary-erors' is not "
        "defined in gates; did you mean 'canary-errors'? (got 'canary-erors'; allowed errors, canary-errors)"]
    assert at(text, "canary-erors") == "12:26"


def test_a_mistyped_background_gate(tmp_path):
    text = BASE.replace("background_gates: [errors]", "background_gates: [errors, eror]")
    path = write(tmp_path, text)
    assert problems(path) == [
        f"{path}:{at(text, 'eror]')}: rollout.background_gates[1]: gate 'eror' is not defined in gates; "
        "did you mean 'errors'? (got 'eror'; allowed errors, canary-errors)"]


def test_every_problem_at_once_in_file_order_with_field_errors(tmp_path):
    text = (BASE.replace("strategy: pull", "strategy: pul").replace("gates: [canary-errors]", "gates: [canary-erors]")
            .replace("max: 1%}", "max: 1%, failure_limt: 2}").replace("hosts: 50", "hosts: 0")
            .replace("background_gates: [errors]", "background_gates: [errrors]"))
    path = write(tmp_path, text)
    found = problems(path)
    assert [line.split(": ")[0].removeprefix(f"{path}:") for line in found] == [
        at(text, "0,"), at(text, "strategy: pul", offset=10), at(text, "canary-erors"), at(text, "errrors"),
        at(text, "failure_limt")]
    assert [line.split(": ")[1] for line in found] == [
        "fleet.hosts", "rollout.strategy", "rollout.steps[2].analysis.gates[0]", "rollout.background_gates[0]",
        "gates.errors.failure_limt"]


def test_a_stage_whose_tier_has_no_hosts(tmp_path):
    text = BASE.replace("    - stage: staging\n", "    - stage: staging\n    - stage: dogfood\n")
    path = write(tmp_path, text)
    assert problems(path) == [
        f"{path}:{at(text, 'dogfood')}: rollout.steps[1].stage: fleet.tiers.dogfood is 0: this stage has no hosts "
        "(give the tier hosts, or drop the step) (got 'dogfood'; allowed staging)"]


def test_with_evaluation_a_gate_no_policy_defines_is_reported_at_its_use(tmp_path):
    text = (BASE + EVALUATION).replace("gates: [canary-errors]", "gates: [canary-erors]")
    path = write(tmp_path, text)
    assert problems(path) == [
        f"{path}:{at(text, 'canary-erors')}: rollout.steps[2].analysis.gates[0]: gate 'canary-erors' is not defined "
        "in any of evaluation.policies (or gates); did you mean 'canary-errors'? (got 'canary-erors'; "
        "allowed canary-errors, errors)"]


def test_a_policy_that_lacks_a_gate_is_reported_at_the_policy(tmp_path):
    text = (BASE + EVALUATION).replace("      canary-errors: {max_ratio: 3}\n", "")
    path = write(tmp_path, text)
    assert problems(path) == [
        f"{path}:{at(text, 'loose:')}: evaluation.policies.loose: defines no gate 'canary-errors', which the "
        "rollout uses at rollout.steps[2].analysis.gates[0] (got errors; allowed canary-errors, errors)"]


def test_a_misspelt_gate_key_in_a_policy_is_reported_at_that_key(tmp_path):
    text = (BASE + EVALUATION).replace("      canary-errors: {max_ratio: 3}", "      canary-erors: {max_ratio: 3}")
    path = write(tmp_path, text)
    assert problems(path) == [
        f"{path}:{at(text, 'canary-erors')}: evaluation.policies.loose.canary-erors: the rollout uses no gate of "
        "this name; did you mean 'canary-errors'? (got 'canary-erors'; allowed canary-errors, errors)"]


def test_sweep_base_and_grid_names(tmp_path):
    text = (BASE + EVALUATION).replace("base: strict", "base: strct")
    path = write(tmp_path, text)
    assert problems(path) == [
        f"{path}:{at(text, 'strct')}: evaluation.sweep.base: policy 'strct' is not defined in evaluation.policies; "
        "did you mean 'strict'? (got 'strct'; allowed strict, loose)"]
    text = (BASE + EVALUATION).replace("gates.errors.max", "gates.eror.max") + "      rollout.strategy: [pull, psh]\n"
    path = write(tmp_path, text, "grid.yaml")
    assert problems(path) == [
        f"{path}:{at(text, 'gates.eror')}: evaluation.sweep.grid['gates.eror.max']: gate 'eror' is not defined in "
        "the base policy 'strict'; did you mean 'errors'? (got 'eror'; allowed errors, canary-errors)",
        f"{path}:{at(text, 'psh')}: evaluation.sweep.grid['rollout.strategy'][1]: strategy 'psh' is not defined in "
        "strategies; did you mean 'push'? (got 'psh'; allowed pull, push)"]


def test_a_reference_in_an_included_file_is_located_there(tmp_path):
    pipeline = "rollout:\n  strategy: pull\n  steps:\n    - set_weight: 50\n    - analysis: {gates: [eror]}\n" \
               "    - set_weight: 100\n"
    included = write(tmp_path, pipeline, "pipeline.yaml")
    main_text = "include: pipeline.yaml\n" + BASE.split("rollout:")[0] + "gates: {errors: {max: 1%}}\n"
    path = write(tmp_path, main_text)
    assert problems(path) == [
        f"{included}:{at(pipeline, 'eror')}: rollout.steps[1].analysis.gates[0]: gate 'eror' is not defined in "
        "gates; did you mean 'errors'? (got 'eror'; allowed errors)"]


def test_a_reference_set_on_the_command_line_is_located_at_the_override(tmp_path):
    path = write(tmp_path, BASE)
    assert problems(path, ["rollout.strategy=puhs"]) == [
        "--set rollout.strategy: strategy 'puhs' is not defined in strategies; did you mean 'push'? "
        "(got 'puhs'; allowed pull, push)"]


def test_set_weight_problems_are_located_at_the_step(tmp_path):
    text = BASE.replace("set_weight: 100", "set_weight: 5%")
    path = write(tmp_path, text)
    assert problems(path) == [
        f"{path}:{at(text, '5%')}: rollout.steps[3].set_weight: set_weight must not decrease (the step before sets 10) "
        "(got 5.0)",
        f"{path}:{at(text, '5%')}: rollout.steps[3].set_weight: the last set_weight must be 100 (got 5.0)"]


def test_tiers_that_leave_no_production_are_located_at_the_tiers(tmp_path):
    text = BASE.replace("hosts: 50", "hosts: 2")
    path = write(tmp_path, text)
    [message] = problems(path)
    assert message.startswith(f"{path}:{at(text, '{staging: 2}')}: fleet.tiers: staging + dogfood (2) must leave "
                              "production hosts in the smallest fleet (2)")


def test_run_refuses_a_rollout_whose_gates_only_the_evaluation_defines(tmp_path):
    from sim.commands.run import run
    from sim.errors import UserError

    text = BASE.split("gates:\n  errors")[0] + EVALUATION
    path = write(tmp_path, text)
    assert load_scenario(path).scenario.gates == {}  # valid: evaluate judges with the policies' gates
    with pytest.raises(UserError) as caught:
        run(str(path), seed=1, workers=1, progress=False)
    assert [p.render() for p in caught.value.problems] == [
        f"{path}:{at(text, 'canary-errors')}: rollout.steps[2].analysis.gates[0]: run judges releases with the gates "
        "under gates:, and gate 'canary-errors' is not there (evaluation.policies define gates for deploysim "
        "evaluate) (got 'canary-errors'; allowed none)",
        f"{path}:{at(text, '[errors]', offset=1)}: rollout.background_gates[0]: run judges releases with the gates "
        "under gates:, and gate 'errors' is not there (evaluation.policies define gates for deploysim evaluate) "
        "(got 'errors'; allowed none)"]
