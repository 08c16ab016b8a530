"""deploysim export: a policy written as an Argo Rollout or a Flagger Canary validates against the upstream
CRD schemas, imports back as the same policy (the same steps and gates, or for a rule rewritten as a
condition, the same verdict on every window), releases exactly as the original does, and what the
controller cannot express is refused with the reason at its key."""

import copy
import dataclasses
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from sim.cli import app
from sim.commands.export import render
from sim.controllers.export import ExportError, export_policy, policy_of
from sim.load.loader import load_mapping, load_scenario
from sim.policies import check, start
from sim.policies.window import Window
from sim.results.output import write_manifest
from sim.rollout.simulate import simulate_release

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = Path(__file__).resolve().parents[3] / "shared" / "upstream"
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
EXPORTABLE = [("native.yaml", None, "argo"), ("flagger_native.yaml", None, "flagger"),
              ("export_argo.yaml", "absolute", "argo"), ("export_argo.yaml", "conditions", "argo"),
              ("export_argo.yaml", "quantile", "argo"), ("export_flagger.yaml", "builtin", "flagger"),
              ("export_flagger.yaml", "custom", "flagger"), ("export_flagger.yaml", "no-effect", "flagger")]
REWRITTEN = ("measure", "scale", "max", "max_ratio", "success_condition", "failure_condition", "no_data", "quantile")
NO_EFFECT_IN_CANARY = ("interval", "initial_delay", "threshold", "step_weight", "max_weight",
                       "rollback_on_next_check")
runner = CliRunner()


def reimport(loaded, exported, folder: Path, policy=None):
    """The scenario with its rollout: the exported file (as docs/controllers.md says) and the mapping,
    instead of its own steps and gates."""
    file = folder / f"exported-{exported.target}-{policy}.yaml"
    file.write_text(render(exported, "# a test\n"))
    data = copy.deepcopy(loaded.data)
    rollout = loaded.scenario.rollout
    data["rollout"] = {exported.target: str(file), "strategy": rollout.strategy, "watch": rollout.watch,
                       "horizon": rollout.horizon}
    for key in ("gates", "evaluation"):
        data.pop(key, None)
    data["metrics"] = {**{k: v.model_dump() for k, v in loaded.scenario.metrics.items()}, **exported.metrics}
    return load_mapping(data, Path(loaded.source), Path(loaded.source).parent).scenario


def renamed(dump: dict, names: dict) -> dict:
    """A step's data with its gate names as the import names them."""
    for kind in ("analysis", "canary"):
        if kind in dump:
            dump[kind]["gates"] = [names[g] for g in dump[kind]["gates"]]
    return dump


def windows(seed: int, latency: bool, n: int = 12) -> list[Window]:
    """Check windows of every kind a gate meets: no new requests, no old requests, an error rate at the
    limit exactly (1 in 100), spikes, slow and fast intervals."""
    rng = np.random.default_rng(seed)
    found = []
    for k in range(n):
        size = int(rng.integers(1, 4))
        new = rng.choice([0, 100, 1000, 5000], size=size, p=[0.1, 0.3, 0.3, 0.3])
        old = rng.choice([0, 1000, 20000], size=size, p=[0.1, 0.4, 0.5])
        new_err = np.minimum(new, rng.choice([0, 1, 10, 30, 200], size=size) * (new // 100))
        old_err = np.minimum(old, rng.binomial(old, 0.004))
        new_lat = np.where(new > 0, rng.choice([0.1, 0.3, 0.35, 0.5, 0.9], size=size), np.nan)
        old_lat = np.where(old > 0, 0.12, np.nan)
        found.append(Window(60.0 * (k + 1), new, new_err, old, old_err, new_lat if latency else new_lat * 0 + 0.12,
                            old_lat, new_affected=rng.uniform(0, 1, size=size), added_latency=0.2))
    return found


def same_verdicts(a, b) -> None:
    """`a` and `b` reach the same verdicts, check after check, on many runs of windows, with the same
    values (but where a max_ratio rule passes: it shows the new error rate, the condition the ratio)."""
    for seed in range(150):
        sa, sb = start(a), start(b)
        for window in windows(seed, latency=a.metric == "latency"):
            sa, va = check(a, sa, window)
            sb, vb = check(b, sb, window)
            assert (va.outcome, va.action, va.measurement) == (vb.outcome, vb.action, vb.measurement), (seed, va, vb)
            if a.max_ratio is None or va.measurement != "success":  # (a passing max_ratio rule shows the error
                assert va.value == vb.value or (math.isnan(va.value) and math.isnan(vb.value)), (va, vb)  # rate)


def assert_same_policy(original, scenario, exported, canary_interval=None) -> None:
    """The re-imported scenario runs the original policy: its steps (gate names as imported), background
    gates, and gates equal, or the same but for a rewritten rule or a field without effect (noted)."""
    names = exported.names
    rollout = scenario.rollout
    assert [renamed(s.model_dump(), names) for s in original.steps] == [s.model_dump() for s in rollout.steps]
    assert rollout.background_gates == [names[g] for g in original.background_gates]
    assert rollout.background_from_step == (original.background_from_step if original.background_gates else None)
    assert set(scenario.gates) == {names[g] for g in names}
    noted = {n.path[-2:] for n in exported.notes}
    for gate, imported_name in names.items():
        a, b = original.gates[gate], scenario.gates[imported_name]
        if a.semantics == "flagger":
            a = a.model_copy(update={k: (canary_interval if k == "interval" else type(a).model_fields[k].default)
                                     for k in NO_EFFECT_IN_CANARY if (gate, k) in noted})
        if a == b:
            continue
        assert a.semantics == "argo" and a.measure is None, (gate, a, b)  # only a rule may be rewritten
        assert {(gate, "max"), (gate, "max_ratio")} & noted
        differ = {k for k in type(a).model_fields if getattr(a, k) != getattr(b, k)}
        assert differ <= set(REWRITTEN), differ
        same_verdicts(a, b)


def cases() -> list[tuple[Path, str | None]]:
    """Every policy of the shipped scenarios with a rollout: its plain gates (when they are complete) and
    each policy of evaluation.policies."""
    found = []
    for path in SHIPPED:
        scenario = load_scenario(path).scenario
        if scenario.rollout is None:
            continue
        policies = list(scenario.evaluation.policies) if scenario.evaluation is not None else []
        try:
            policy_of(scenario, None)
            found.append((path, None))
        except ExportError:
            assert policies
        found += [(path, p) for p in policies]
    return found


@pytest.mark.parametrize("target", ["argo", "flagger"])
@pytest.mark.parametrize("path, policy", cases(), ids=lambda x: getattr(x, "name", str(x)))
def test_every_shipped_policy_round_trips_or_is_refused_with_its_reasons(tmp_path, path, policy, target):
    loaded = load_scenario(path)
    try:
        exported = export_policy(loaded.scenario, target, policy, source=loaded.source)
    except ExportError as error:
        assert error.refusals
        for refusal in error.refusals:  # at a key of the scenario, saying why
            assert refusal.path and refusal.message and loaded.data is not None
            node = loaded.data
            for part in refusal.path:
                node = node[part]
        return
    original = policy_of(loaded.scenario, policy)
    assert_same_policy(original, reimport(loaded, exported, tmp_path, policy), exported)


def test_the_shipped_pipeline_is_refused_for_what_argo_cannot_express():
    loaded = load_scenario(ROOT / "scenarios" / "slack_2020_pipeline.yaml")
    with pytest.raises(ExportError) as caught:
        export_policy(loaded.scenario, "argo", source=loaded.source)
    reasons = {".".join(map(str, r.path)): r.message for r in caught.value.refusals}
    assert "pre-production tier" in reasons["rollout.steps.0.stage"] and "rollout.steps.1.stage" in reasons
    assert "no time limit" in reasons["rollout.steps.5.analysis.duration"]
    assert "N breaches in a row" in reasons["gates.canary-errors.semantics"]
    assert "no request count" in reasons["gates.errors.min_requests"]
    with pytest.raises(ExportError) as caught:
        export_policy(loaded.scenario, "flagger", source=loaded.source)
    [refusal] = caught.value.refusals
    assert "one canary: step" in refusal.message and refusal.got.startswith("stage, stage, pause")


@pytest.mark.parametrize("name, policy, target", EXPORTABLE)
def test_an_exported_policy_imports_back_as_itself(tmp_path, name, policy, target):
    loaded = load_scenario(DATA / name)
    exported = export_policy(loaded.scenario, target, policy, source=loaded.source)
    original = policy_of(loaded.scenario, policy)
    canaries = [s.canary.interval for s in original.steps if hasattr(s, "canary")]
    scenario = reimport(loaded, exported, tmp_path, policy)
    assert_same_policy(original, scenario, exported, canaries[0] if canaries else None)


def test_the_hand_translations_round_trip_exactly_names_and_all(tmp_path):
    """native.yaml was translated by hand from an imported Rollout: its export imports back with the very
    same names and gates; flagger_native.yaml's gates come back equal (named after their custom metrics)."""
    loaded = load_scenario(DATA / "native.yaml")
    exported = export_policy(loaded.scenario, "argo")
    scenario = reimport(loaded, exported, tmp_path)
    assert scenario.gates == loaded.scenario.gates and scenario.rollout == loaded.scenario.rollout
    loaded = load_scenario(DATA / "flagger_native.yaml")
    exported = export_policy(loaded.scenario, "flagger")
    scenario = reimport(loaded, exported, tmp_path)
    duration = "request-duration" if loaded.scenario.gates["request-duration"].quantile == "p99" else "mean-latency"
    assert exported.names == {"request-success-rate": "error-rate", "request-duration": duration,  # (a custom metric
                              "not-found-percentage": "not-found-percentage"}  # is never named as a built-in)
    assert {exported.names[g]: s for g, s in loaded.scenario.gates.items()} == scenario.gates


def test_flagger_built_ins_where_they_read_back_exactly():
    loaded = load_scenario(DATA / "export_flagger.yaml")
    canary = export_policy(loaded.scenario, "flagger", "builtin").objects[0]["spec"]["analysis"]
    assert canary["metrics"][:2] == [
        {"name": "request-success-rate", "thresholdRange": {"min": 99.21875}, "interval": "1m"},
        {"name": "request-duration", "thresholdRange": {"max": 500.0}, "interval": "1m"}]
    assert (canary["stepWeight"], canary["maxWeight"], canary["threshold"]) == (10, 40, 2)
    assert [h["type"] for h in canary["webhooks"]] == ["confirm-rollout", "confirm-traffic-increase", "confirm-promotion"]
    custom = export_policy(loaded.scenario, "flagger", "custom")
    assert [m["name"] for m in custom.objects[0]["spec"]["analysis"]["metrics"]] == ["errors", "latency", "ratio"]
    assert custom.metrics == {"errors": {"measure": "error_rate", "scale": 100.0},
                              "latency": {"measure": "latency", "scale": 1000.0}, "ratio": "latency_ratio"}


def test_what_a_controller_cannot_express_is_refused_with_every_reason():
    argo = load_scenario(DATA / "export_argo.yaml")
    with pytest.raises(ExportError) as caught:
        export_policy(argo.scenario, "argo", "refused")
    assert {r.path[-1] for r in caught.value.refusals} == {"semantics", "min_requests", "action_on_fail",
                                                            "max_increase", "consecutive"}
    with pytest.raises(ExportError) as caught:
        export_policy(argo.scenario, "argo")  # the gates are the policies'
    assert "--policy" in caught.value.refusals[0].message
    flagger = load_scenario(DATA / "export_flagger.yaml")
    with pytest.raises(ExportError) as caught:
        export_policy(flagger.scenario, "flagger", "refused")
    assert {r.path[-1] for r in caught.value.refusals} == {"min_requests", "action_on_fail", "max_ratio", "dry_run"}
    with pytest.raises(ExportError) as caught:
        export_policy(flagger.scenario, "argo", "builtin")
    assert {r.path[-1] for r in caught.value.refusals} == {"canary", "semantics"}


def release_key(result, names: dict, exact: bool) -> tuple:
    """A release's outcome and decisions with gate names as imported (rule texts, and a passing check's
    value, only where every gate came back as it was: a rule rewritten as a condition says so in other
    words, and a passing max_ratio rule shows the error rate where the condition shows the ratio)."""
    outcome = dataclasses.asdict(result.outcome)
    outcome["detected_by"] = names.get(outcome["detected_by"], outcome["detected_by"])
    if not exact:
        outcome.pop("blocked_reason")
    decisions = [(d.time, names.get(d.gate, d.gate), d.stage, d.outcome, d.action, d.metric,
                  None if math.isnan(d.value) or (not exact and d.measurement == "success") else d.value,
                  d.measurement, d.rule if exact else "")
                 for d in result.decisions]
    return repr(outcome), decisions


@pytest.mark.parametrize("name, policy, target", [("native.yaml", None, "argo"), ("flagger_native.yaml", None, "flagger"),
                                                  ("export_argo.yaml", "absolute", "argo"),
                                                  ("export_argo.yaml", "conditions", "argo"),
                                                  ("export_argo.yaml", "quantile", "argo"),
                                                  ("export_flagger.yaml", "builtin", "flagger"),
                                                  ("export_flagger.yaml", "no-effect", "flagger")])
def test_the_export_releases_as_the_original_does(tmp_path, name, policy, target):
    loaded = load_scenario(DATA / name)
    exported = export_policy(loaded.scenario, target, policy)
    original = loaded.scenario
    if policy is not None:
        original = original.model_copy(update={"gates": original.evaluation.policies[policy], "evaluation": None})
    again = reimport(loaded, exported, tmp_path, policy)
    exact = not any(n.exact and n.path[-1] in ("max", "max_ratio") for n in exported.notes)
    decided = 0
    for bad in (0.0, 1.0):
        a_scenario = original.model_copy(update={"build": original.build.model_copy(update={"bad_probability": bad})})
        b_scenario = again.model_copy(update={"build": again.build.model_copy(update={"bad_probability": bad})})
        for replication in range(3):
            a, b = simulate_release(a_scenario, replication, 9), simulate_release(b_scenario, replication, 9)
            assert release_key(a, {}, exact) == release_key(b, {v: k for k, v in exported.names.items()}, exact)
            decided += len(a.decisions)
    assert decided  # (the gates did decide something)


@pytest.fixture(scope="module")
def schemas() -> dict:
    """kind -> the served version's openAPIV3Schema, strict: an object's unknown field is an error (as
    `kubectl apply --validate=strict`), `x-kubernetes-*` markers dropped."""
    if not UPSTREAM.is_dir():
        pytest.skip(f"the upstream CRDs are not here ({UPSTREAM})")
    found = {}
    files = [UPSTREAM / "argo-rollouts" / "crds" / f"{name}-crd.yaml" for name in ("rollout", "analysis-template")]
    files.append(UPSTREAM / "flagger" / "crds" / "crd.yaml")
    for file in files:
        for document in YAML(typ="safe").load_all(file.read_text()):
            if document and document.get("kind") == "CustomResourceDefinition":
                version = next(v for v in document["spec"]["versions"] if v.get("served", True))
                found[document["spec"]["names"]["kind"]] = strict(version["schema"]["openAPIV3Schema"])
    return found


def strict(schema):
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items() if not k.startswith("x-kubernetes-")}
    if ("properties" in out and "additionalProperties" not in out
            and not schema.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


@pytest.mark.parametrize("name, policy, target", EXPORTABLE)
def test_every_exported_object_validates_against_its_upstream_crd(schemas, name, policy, target):
    import jsonschema

    loaded = load_scenario(DATA / name)
    exported = export_policy(loaded.scenario, target, policy)
    text = render(exported, "")
    for written, obj in zip(YAML(typ="safe").load_all(text), exported.objects, strict=True):
        assert written == obj  # what the YAML holds is the object
        jsonschema.Draft7Validator(schemas[obj["kind"]]).validate(obj)
        name_ = obj["metadata"]["name"]
        assert len(name_) <= 63 and jsonschema.Draft7Validator({"pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}).is_valid(name_)
    kinds = [o["kind"] for o in exported.objects]
    assert kinds[0] == ("Rollout" if target == "argo" else "Canary")


def test_the_schema_check_catches_a_misspelt_field(schemas):
    import jsonschema

    loaded = load_scenario(DATA / "flagger_native.yaml")
    canary = export_policy(loaded.scenario, "flagger").objects[0]
    canary["spec"]["analysis"]["stepWeigth"] = canary["spec"]["analysis"].pop("stepWeight")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schemas["Canary"]).validate(canary)


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_cli_prints_yaml_with_placeholders_and_says_how_to_import_it(tmp_path):
    result = invoke("export", DATA / "export_argo.yaml", "--to", "argo", "--policy", "absolute", "--name", "web")
    assert result.exit_code == 0, result.output
    documents = list(YAML(typ="safe").load_all(io.StringIO(result.stdout)))
    assert [d["kind"] for d in documents] == ["Rollout", "AnalysisTemplate", "AnalysisTemplate", "AnalysisTemplate"]
    assert documents[0]["metadata"]["name"] == "web"
    assert "PLACEHOLDER" in documents[1]["spec"]["metrics"][0]["provider"]["prometheus"]["query"]
    assert "# deploysim: from max 0.01 on the error_rate" in result.stdout
    assert "export_argo.yaml:30:58: evaluation.policies.absolute.errors.max: note: written as a condition" in result.stderr
    assert "deploysim check" in result.stdout and "evaluation.policies.exported=" in result.stdout


def test_cli_refusal_exits_2_naming_each_reason():
    result = invoke("export", DATA / "export_argo.yaml", "--to", "argo", "--policy", "refused")
    assert result.exit_code == 2 and not result.stdout
    assert "export_argo.yaml:48:77: evaluation.policies.refused.latency.min_requests: a metric's result carries no " \
           "request count" in result.stderr
    for args, message in ((["--to", "kube"], "--to: not one of the choices"),
                          (["--to", "argo", "--name", "Web_1"], "--name: not a Kubernetes object name"),
                          (["--to", "argo", "--policy", "nope"], "evaluation.policies: no policy of this name")):
        result = invoke("export", DATA / "export_argo.yaml", *args)
        assert result.exit_code == 2 and message in result.stderr, result.output


def test_cli_out_is_atomic_and_replaces_only_its_own_file(tmp_path):
    out = tmp_path / "k8s" / "web.yaml"
    args = ["export", DATA / "flagger_native.yaml", "--to", "flagger", "--out", out]
    result = invoke(*args)
    assert result.exit_code == 0 and not result.stdout and out.read_text().startswith("# <!-- written by deploysim")
    assert invoke(*args).exit_code == 2  # exists
    assert invoke(*args, "--overwrite").exit_code == 0
    foreign = tmp_path / "mine.yaml"
    foreign.write_text("kind: ConfigMap\n")
    result = invoke("export", DATA / "flagger_native.yaml", "--to", "flagger", "--out", foreign, "--overwrite")
    assert result.exit_code == 2 and "was not written by deploysim" in result.stderr
    assert foreign.read_text() == "kind: ConfigMap\n"
    result = invoke("export", DATA / "export_flagger.yaml", "--to", "flagger", "--policy", "refused", "--out", tmp_path / "x.yaml")
    assert result.exit_code == 2 and not (tmp_path / "x.yaml").exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["k8s", "mine.yaml", "web.yaml"]  # no partial file


def test_the_documented_command_imports_the_export_beside_the_original(tmp_path):
    """The header's command: the export as policy `exported` of the scenario it came from."""
    scenario = tmp_path / "s.yaml"
    scenario.write_text((DATA / "export_argo.yaml").read_text())
    out = tmp_path / "k8s" / "web.yaml"
    assert invoke("export", scenario, "--to", "argo", "--policy", "conditions", "--out", out).exit_code == 0
    command = next(line for line in out.read_text().splitlines() if "deploysim check" in line)
    import shlex

    args = shlex.split(command.removeprefix("#"))
    assert args[:3] == ["deploysim", "check", str(scenario)] and args[3::2] == ["--set"] * len(args[3::2])
    loaded = load_scenario(scenario, args[4::2])  # what `check` loads and validates
    policies = loaded.scenario.evaluation.policies
    renames = {"errors.errors": "errors", "latency.latency": "latency", "ratio.ratio": "ratio"}
    assert {renames[k]: v for k, v in policies["exported"].items()} == policies["conditions"]


def test_policy_sweep_exports_the_recommended_point(tmp_path):
    loaded = load_scenario(DATA / "export_argo.yaml")
    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / "summary.json").write_text(json.dumps({"results": {"recommended": "max=0.5%, failure_limit=0"}}))
    write_manifest(folder, "sweep", loaded, 0)
    result = invoke("export", DATA / "export_argo.yaml", "--to", "argo", "--policy", "sweep", "--sweep", folder)
    assert result.exit_code == 0, result.output
    template = next(d for d in YAML(typ="safe").load_all(io.StringIO(result.stdout)) if d["metadata"]["name"] == "errors")
    metric = template["spec"]["metrics"][0]
    assert (metric["failureCondition"], metric["failureLimit"]) == ("result[0] > 0.005", 0)
    assert "(policy absolute at the point deploysim sweep recommended in" in result.stdout
    result = invoke("export", DATA / "export_argo.yaml", "--to", "argo", "--policy", "sweep")
    assert result.exit_code == 2 and "--policy: sweep: the point deploysim sweep recommended needs" in result.stderr
    result = invoke("export", DATA / "export_argo.yaml", "--to", "argo", "--policy", "sweep", "--sweep", folder,
                    "--set", "evaluation.policies.absolute.errors.count=6")
    assert result.exit_code == 2 and "the sweep ran another scenario" in result.stderr


@pytest.mark.parametrize("policy, target", [("current", "argo"), ("proposed", "flagger")])
def test_the_shipped_controller_policies_export_to_their_own_controller_and_back(tmp_path, policy, target):
    """The shipped scenario whose policies are controller objects: each exports (no refusal) and imports back
    as the same policy."""
    loaded = load_scenario(ROOT / "scenarios" / "controller_policies.yaml")
    exported = export_policy(loaded.scenario, target, policy, source=loaded.source)
    assert_same_policy(policy_of(loaded.scenario, policy), reimport(loaded, exported, tmp_path, policy), exported)
