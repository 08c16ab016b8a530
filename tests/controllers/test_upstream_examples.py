"""Every upstream example Rollout and Canary (../shared/upstream, Apache-2.0, not copied into the repo)
imports, or is refused with the reason a user needs; the fields left out are the expected ones."""

import tempfile
from pathlib import Path

import pytest

from sim.errors import UserError
from sim.load.controllers import read_manifests
from sim.load.loader import LoadedScenario, load_scenario

UPSTREAM = Path(__file__).resolve().parents[3] / "shared" / "upstream"
ARGO, FLAGGER = UPSTREAM / "argo-rollouts" / "examples", UPSTREAM / "flagger" / "examples"
pytestmark = pytest.mark.skipif(not UPSTREAM.is_dir(), reason=f"the upstream examples are not here ({UPSTREAM})")
ARGO_TEMPLATES = ("analysis-templates.yaml", "cluster-analysis-templates.yaml")


def load(kind: str, manifest: Path, templates: list[Path]) -> LoadedScenario:
    metrics = sorted({m["name"] for f in templates for o in read_manifests(f) for m in o.get("spec", "metrics") or []})
    folder = Path(tempfile.mkdtemp())
    (folder / "s.yaml").write_text(
        "version: 1\nname: upstream\nfleet: {hosts: 200, tiers: {canary: 5%}}\nstrategies: {pull: {kind: pull}}\n"
        f"rollout: {{{kind}: {manifest}, templates: [{', '.join(map(str, templates))}], strategy: pull}}\n"
        f"metrics: {{{', '.join(f'{name}: error_rate' for name in metrics)}}}\n")
    return load_scenario(folder / "s.yaml")


def refusal(kind: str, manifest: Path, templates: list[Path]) -> list[str]:
    with pytest.raises(UserError) as caught:
        load(kind, manifest, templates)
    return [p.render() for p in caught.value.problems]


@pytest.mark.parametrize("name, steps", [
    ("rollout-canary.yaml", 9), ("notifications-rollout-canary.yaml", 9), ("rollout-template-ref.yaml", 3),
    ("traffic-management-rollout-linkerd.yaml", 3),
])
def test_argo_examples_import(name, steps):
    loaded = load("argo", ARGO / name, [ARGO / t for t in ARGO_TEMPLATES])
    assert len(loaded.scenario.rollout.steps) == steps
    ignored = {n.path for n in loaded.imported}
    assert {"spec.replicas", "spec.revisionHistoryLimit"} <= ignored
    if name == "traffic-management-rollout-linkerd.yaml":
        assert {"spec.strategy.canary.trafficRouting", "spec.strategy.canary.canaryService"} <= ignored


@pytest.mark.parametrize("name, reason", [
    ("rollout-analysis-step.yaml", "spec.metrics[0].provider.job: cannot be simulated: it runs a Kubernetes Job"),
    ("rollout-background-analysis.yaml", "spec.metrics[0].provider.job: cannot be simulated"),
    ("rollout-baseline-vs-canary.yaml", "spec.strategy.canary.steps[0].experiment: cannot be simulated"),
    ("rollout-experiment-step.yaml", "spec.strategy.canary.steps[1].experiment: cannot be simulated"),
    ("rollout-bluegreen.yaml", "spec.strategy: only canary strategies are simulated"),
])
def test_argo_examples_that_cannot_be_simulated_say_why(name, reason):
    found = refusal("argo", ARGO / name, [ARGO / t for t in ARGO_TEMPLATES])
    assert any(reason in m for m in found), found


@pytest.mark.parametrize("name, weights, threshold", [
    ("istio-canary.yaml", [5.0 * k for k in range(1, 11)], 10),
    ("linkerd-canary.yaml", [5.0 * k for k in range(1, 11)], 10),
    ("linkerd-canary-steps.yaml", [5.0 * k for k in range(1, 12)], 10),
    ("kuma-canary.yaml", [10.0, 20.0, 30.0, 40.0, 50.0], 15),  # the deprecated metric `threshold` form
])
def test_flagger_examples_import(name, weights, threshold):
    loaded = load("flagger", FLAGGER / name, [])
    step = loaded.scenario.rollout.steps[0].canary
    assert (step.weights, step.threshold, step.interval) == (weights, threshold, 15.0)
    gates = loaded.scenario.gates
    assert gates["request-success-rate"].max == pytest.approx(0.01) and gates["request-duration"].max == 0.5
    notes = {n.path: n.note for n in loaded.imported}
    assert {"spec.targetRef", "spec.service", "spec.progressDeadlineSeconds"} <= set(notes)
    assert gates["request-duration"].quantile == "p99"  # Flagger's request-duration is the P99: no approximation
    assert "spec.analysis.metrics[1].name" not in notes


def test_flagger_ab_testing_is_refused():
    found = refusal("flagger", FLAGGER / "istio-abtest.yaml", [])
    assert any("spec.analysis.match: A/B testing" in m for m in found), found


def test_a_template_of_an_old_api_version_is_refused_at_its_line():
    found = refusal("flagger", FLAGGER / "linkerd-canary.yaml", [FLAGGER / "metric-templates-from-docs.yaml"])
    assert any("metric-templates-from-docs.yaml:" in m and "MetricTemplate is served as flagger.app/v1beta1" in m
               for m in found), found
