"""User documentation of the scenario format stays generated from the models; examples validate."""

import json

import jsonschema
import pytest
from ruamel.yaml import YAML

from sim.load.includes import resolve_includes
from sim.load.loader import load_scenario, read_yaml
from sim.spec.reference_doc import json_schema, markdown_reference


def test_reference_page_and_schema_are_up_to_date(root):
    assert (root / "docs/scenario-reference.md").read_text() == markdown_reference(), \
        "regenerate with: deploysim schema --markdown > docs/scenario-reference.md"
    assert json.loads((root / "docs/scenario.schema.json").read_text()) == json_schema(), \
        "regenerate with: deploysim schema > docs/scenario.schema.json"


def test_every_model_field_is_documented(root):
    page = markdown_reference()
    for key in ("deploy_egress", "straggle_factor", "scan_per_file", "wakeup", "verify_rate", "host_rows"):
        assert f"`{key}`" in page


@pytest.mark.parametrize("name", ["push_vs_pull.yaml", "slack_2020_pipeline.yaml", "threshold_policies.yaml"])
def test_shipped_scenarios_load_and_match_the_json_schema(root, name):
    path = root / "scenarios" / name
    load_scenario(path)
    data = read_yaml(path)
    jsonschema.validate(YAML(typ="safe").load(path.read_text()), {**json_schema(), "required": []})  # as written
    resolve_includes(data, path, read_yaml)
    jsonschema.validate(json.loads(json.dumps(data)), json_schema())  # with its includes merged


def test_the_json_schema_rejects_what_the_loader_rejects():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": 1, "name": "x", "fleet": {"hostz": 3}}, json_schema())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": 1, "name": "x", "network": {"per_flow": "fast"}}, json_schema())
