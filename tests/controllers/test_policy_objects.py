"""Policies of an evaluation given as the controller objects a team runs: each brings its own steps
(`evaluation.rollouts`), and `evaluate` judges them on the same releases exactly as their hand
translation into deploysim's own dialect."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.commands.evaluate import evaluate
from sim.errors import UserError
from sim.load.loader import load_scenario

DATA = Path(__file__).parent / "data"


def rows(path: Path, overrides=()) -> pd.DataFrame:
    loaded = load_scenario(path, list(overrides))
    return evaluate(loaded, loaded.scenario.seed, 1, None, releases=16).rows


def test_imported_policies_evaluate_like_their_hand_translation():
    imported, native = rows(DATA / "evaluate_objects.yaml"), rows(DATA / "evaluate_native.yaml")
    assert len(imported) == 32 and set(imported.policy) == {"current", "proposed"}
    pd.testing.assert_frame_equal(imported, native)
    outcomes = imported.groupby("policy").outcome.apply(set).to_dict()
    assert "rolled_back" in outcomes["current"] and "rolled_back" in outcomes["proposed"]


def test_the_policies_run_their_own_steps():
    scenario = load_scenario(DATA / "evaluate_objects.yaml").scenario
    own = scenario.evaluation.rollouts
    assert [type(s).__name__ for s in own["proposed"].steps] == ["CanaryStep", "ApprovalStep", "SetWeightStep"]
    assert own["current"].background_gates == ["error-rate.error-rate"] and own["current"].background_from_step == 1
    assert scenario.rollout.steps == own["current"].steps  # a rollout without steps runs the first policy's


def test_an_override_changes_the_imported_policy():
    changed = load_scenario(DATA / "evaluate_objects.yaml", ["evaluation.rollouts.proposed.steps[0].canary.threshold=1"])
    assert changed.scenario.evaluation.rollouts["proposed"].steps[0].canary.threshold == 1


def test_the_policy_option_imports_a_manifest_by_its_kind(tmp_path):
    base = tmp_path / "base.yaml"
    text = (DATA / "evaluate_objects.yaml").read_text()
    base.write_text(text[:text.index("  policies:")] + "  acceptance: {max_false_rollback_rate: 10%, max_blocked_rate: null}\n")
    result = CliRunner().invoke(app, ["evaluate", str(base), "--releases", "16", "--workers", "1", "--format", "json",
                                      "--policy", f"current={DATA / 'rollout.yaml'},{DATA / 'analysis.yaml'}",
                                      "--policy", f"proposed={DATA / 'canary.yaml'},{DATA / 'metric-templates.yaml'}"])
    assert result.exit_code in (0, 3), result.stderr
    expected = CliRunner().invoke(app, ["evaluate", str(DATA / "evaluate_objects.yaml"), "--releases", "16",
                                        "--workers", "1", "--format", "json"])
    assert json.loads(result.stdout)["results"]["estimates"] == json.loads(expected.stdout)["results"]["estimates"]


@pytest.mark.parametrize("option, message", [
    ("current", "--policy: write NAME=MANIFEST[,TEMPLATES...]"),
    ("current=" + str(DATA / "analysis.yaml"), "holds no Rollout or Canary (got AnalysisTemplate, AnalysisTemplate"),
])
def test_a_bad_policy_option_is_refused(option, message):
    result = CliRunner().invoke(app, ["evaluate", str(DATA / "evaluate_objects.yaml"), "--policy", option])
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def problems(path: Path, overrides=()) -> list[str]:
    with pytest.raises(UserError) as caught:
        load_scenario(path, list(overrides))
    return [p.render() for p in caught.value.problems]


def test_own_steps_must_use_the_policys_gates():
    found = problems(DATA / "evaluate_native.yaml", ["evaluation.rollouts.proposed.steps[0].canary.gates[1]=latency"])
    assert any("evaluation.rollouts.proposed.steps[0].canary.gates[1]: gate 'latency' is not defined" in m
               and "allowed not-found-percentage, request-duration, request-success-rate" in m for m in found), found


def test_own_steps_must_belong_to_a_policy():
    found = problems(DATA / "evaluate_native.yaml", ["evaluation.rollouts.nobody={steps: [{set_weight: 100}]}"])
    assert any("evaluation.rollouts.nobody: policy 'nobody' is not defined in evaluation.policies" in m for m in found), found


def test_an_imported_policy_takes_no_other_keys(tmp_path):
    for name in ("rollout.yaml", "analysis.yaml", "canary.yaml", "metric-templates.yaml", "evaluate_objects.yaml"):
        shutil.copy(DATA / name, tmp_path / name)
    path = tmp_path / "evaluate_objects.yaml"
    path.write_text(path.read_text().replace("templates: [analysis.yaml]}", "templates: [analysis.yaml], errors: {}}"))
    found = problems(path)
    assert any(":22:" in m and "evaluation.policies.current.errors: an imported policy takes only" in m for m in found), found
