"""An Argo Rollout with its AnalysisTemplates becomes deploysim's own rollout and gates: checked against
a hand translation of the test manifests, with every ignored field listed and every refusal located."""

import shutil
from pathlib import Path

import pytest

from sim.errors import UserError
from sim.load.loader import load_scenario
from sim.rollout.simulate import simulate_release
from sim.spec.rollout import AnalysisStep, ApprovalStep, PauseStep, SetWeightStep

DATA = Path(__file__).parent / "data"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("rollout.yaml", "analysis.yaml", "scenario.yaml"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


def kinds(steps) -> list:
    out = []
    for step in steps:
        if isinstance(step, SetWeightStep):
            out.append(("set_weight", step.set_weight))
        elif isinstance(step, PauseStep):
            out.append(("pause", step.pause))
        elif isinstance(step, AnalysisStep):
            out.append(("analysis", tuple(step.analysis.gates)))
        elif isinstance(step, ApprovalStep):
            out.append(("approval",))
    return out


def test_the_rollout_becomes_steps_and_gates_as_translated_by_hand(folder):
    loaded = load_scenario(folder / "scenario.yaml")
    rollout, gates = loaded.scenario.rollout, loaded.scenario.gates
    assert kinds(rollout.steps) == [("set_weight", 10), ("pause", 300.0), ("analysis", ("success-rate.success-rate",)),
                                    ("set_weight", 50), ("approval",), ("set_weight", 80), ("set_weight", 100)]
    assert rollout.background_gates == ["error-rate.error-rate"] and rollout.background_from_step == 1
    assert (rollout.strategy, rollout.watch) == ("pull", 1800.0)  # the scenario's own keys are kept
    success = gates["success-rate.success-rate"]
    assert (success.semantics, success.measure, success.interval, success.count, success.failure_limit,
            success.success_condition, success.failure_condition) == (
        "argo", "success_rate", 60.0, 5, 2, "result[0] >= 0.95", None)  # {{args.limit}}: the template's default
    errors = gates["error-rate.error-rate"]
    assert (errors.measure, errors.interval, errors.initial_delay, errors.count, errors.failure_limit,
            errors.failure_condition) == ("error_rate", 120.0, 60.0, None, 1, "len(result) > 0 && result[0] > 0.02")
    notes = [(n.path, n.note.split(":")[0]) for n in loaded.imported]
    ignored = {path for path, _ in notes}
    assert {"spec.replicas", "spec.selector", "spec.template", "spec.strategy.canary.canaryService",
            "spec.strategy.canary.stableService", "spec.strategy.canary.trafficRouting",
            "spec.strategy.canary.steps[5].setCanaryScale", "spec.metrics[0].provider.prometheus"} <= ignored
    assert any(path == "spec.strategy.canary.steps[4].pause" for path, _ in notes)  # pause {}: an approval


def test_an_imported_rollout_releases_like_its_hand_translation(folder):
    for bad in ("0%", "100%"):
        imported = load_scenario(folder / "scenario.yaml", [f"build.bad_probability={bad}"]).scenario
        native = load_scenario(DATA / "native.yaml", [f"build.bad_probability={bad}"]).scenario
        for replication in range(3):
            a, b = simulate_release(imported, replication, 9), simulate_release(native, replication, 9)
            assert repr(a.outcome) == repr(b.outcome) and a.decisions == b.decisions


def test_a_bad_build_is_caught_by_the_imported_gates(folder):
    scenario = load_scenario(folder / "scenario.yaml", ["build.bad_probability=100%"]).scenario
    outcomes = [simulate_release(scenario, r, 5).outcome for r in range(4)]
    assert all(o.detected and o.outcome == "rolled_back" for o in outcomes)  # 5% errors: far past both conditions
    assert {o.detected_by for o in outcomes} <= {"success-rate.success-rate", "error-rate.error-rate"}


def edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(UserError) as caught:
        load_scenario(path)
    return [p.render() for p in caught.value.problems]


def test_an_unmapped_metric_names_the_metric_to_map(folder):
    edit(folder / "scenario.yaml", "  error-rate: error_rate\n", "")
    [message] = problems(folder / "scenario.yaml")
    assert message.startswith(f"{folder / 'analysis.yaml'}:29:") and "spec.metrics[0].name" in message
    assert "metrics: {error-rate: <measure>}" in message


@pytest.mark.parametrize("old, new, expected", [
    ("      - setCanaryScale: {weight: 60}\n", "      - experiment: {templates: []}\n", "rollout.yaml:41:21: spec.strategy.canary.steps[5].experiment: cannot be simulated"),
    ("    canary:\n", "    blueGreen: {}\n    canary_:\n", "rollout.yaml:18:5: spec.strategy: only canary strategies"),
    ("          - templateName: success-rate\n", "          - templateName: success-rat\n", "spec.strategy.canary.steps[2].analysis.templates[0].templateName: no AnalysisTemplate of this name"),
    ("kind: Rollout\n", "kind: Deployment\n", "rollout.argo: the file must hold exactly one Rollout, or say which with "
     "rollout.name (got no Rollout: it holds Deployment"),
    ("apiVersion: argoproj.io/v1alpha1\nkind: Rollout", "apiVersion: argoproj.io/v1\nkind: Rollout", "apiVersion: Rollout is served as argoproj.io/v1alpha1"),
])
def test_what_cannot_be_simulated_is_refused_where_it_is_written(folder, old, new, expected):
    edit(folder / "rollout.yaml", old, new)
    assert any(expected in m for m in problems(folder / "scenario.yaml")), problems(folder / "scenario.yaml")


def test_a_job_provider_is_refused(folder):
    edit(folder / "analysis.yaml", "      prometheus:\n        address: http://prometheus.example:9090\n        query: sum(rate(http_requests_total{service=\"{{args.service}}\",code=~\"5..\"}[2m]))",
         "      job:\n        spec: {}\n        query: x")
    [message] = [m for m in problems(folder / "scenario.yaml")]
    assert "spec.metrics[0].provider.job: cannot be simulated: it runs a Kubernetes Job" in message


def test_a_bad_condition_is_located_in_the_template(folder):
    edit(folder / "analysis.yaml", "successCondition: result[0] >= {{args.limit}}", "successCondition: result[0] >=> 1")
    [message] = problems(folder / "scenario.yaml")
    assert str(folder / "analysis.yaml") in message and "success_condition" in message


def test_dry_run_marks_only_the_metrics_its_pattern_names(folder):
    """Argo's `dryRun: [{metricName}]` puts the metrics it names in dry-run mode and leaves the others acting
    (docs: "Dry-Run Mode"; the controller matches each metric's name against the rule,
    `analysisutil.GetDryRunMetrics`). `error*` names error-rate and not success-rate, read as a wildcard or as
    Argo's regular expression alike."""
    edit(folder / "rollout.yaml", "          - templateName: success-rate\n",
         "          - templateName: success-rate\n          - templateName: error-rate\n"
         "          dryRun:\n          - metricName: error*\n")
    scenario = load_scenario(folder / "scenario.yaml").scenario
    [step] = [s for s in scenario.rollout.steps if isinstance(s, AnalysisStep)]
    dry = {name: scenario.gates[name].dry_run for name in step.analysis.gates}
    assert dry == {"success-rate.success-rate": False, "error-rate.error-rate": True}
    [background] = scenario.rollout.background_gates  # the same metric in the background analysis: no dryRun there
    assert background != "error-rate.error-rate" and scenario.gates[background].dry_run is False
