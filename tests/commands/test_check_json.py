"""`deploysim check --format json`: the same findings as the table, as one object in the shape every command
prints (`sim.results.envelope`): a valid scenario's contents, warnings, import notes and predictions; an
invalid one's problems (exit 2, the same lines on stderr)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from sim.cli import app
from sim.units import format_duration
from tests.rollout.test_warnings import SCENARIO as WARNED

ROOT = Path(__file__).resolve().parents[2]


def check(*args):
    return CliRunner().invoke(app, ["check", *map(str, args)])


def test_a_valid_scenario_is_described_as_the_file_says(tmp_path):
    path = ROOT / "scenarios" / "push_vs_pull.yaml"
    result = check(path, "--format", "json", "--set", "replications=3")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["command"] == "check" and data["format_version"] == 2
    found = data["results"]
    source = yaml.safe_load(path.read_text())
    assert found["ok"] is True and found["problems"] == [] and found["source"] == str(path)
    assert found["strategies"] == list(source["strategies"]) and found["replications"] == 3
    assert data["scenario"] == source["name"] and found["rollout"] is None and found["predictions"] == []
    table = check(path, "--set", "replications=3").stdout
    assert f"sha256 {found['sha256'][:12]}" in table and len(found["sha256"]) == 64


def test_warnings_are_records_located_like_the_lines_on_stderr(tmp_path):
    path = tmp_path / "warned.yaml"
    path.write_text(WARNED)
    result = check(path, "--format", "json")
    assert result.exit_code == 0
    [warning] = json.loads(result.stdout)["results"]["warnings"]
    assert (warning["file"], warning["line"], warning["column"], warning["key"]) == \
        (str(path), 12, 50, "gates.g.min_requests")
    assert warning["message"].startswith("warning: threshold gate g")
    [line] = result.stderr.splitlines()  # stderr says it too, as without --format json
    assert line.startswith(f"{path}:12:50: gates.g.min_requests: {warning['message'][:30]}")


def test_an_invalid_scenario_prints_its_problems_as_json_and_exits_2(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text((ROOT / "scenarios" / "push_vs_pull.yaml").read_text().replace("kind: pull", "kind: pul", 1))
    result = check(path, "--format", "json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["command"] == "check" and data["results"]["ok"] is False
    [problem] = data["results"]["problems"]
    assert problem["key"].endswith(".kind") and problem["got"] == "'pul'" and "'pull'" in problem["allowed"]
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "kind: pul" in text)
    assert problem["file"] == str(path) and problem["line"] == line
    assert f"{path}:{line}:" in result.stderr


def test_predictions_of_imported_policies_are_the_numbers_the_table_prints():
    path = ROOT / "scenarios" / "controller_policies.yaml"
    data = json.loads(check(path, "--format", "json").stdout)["results"]
    assert len(data["imported"]) > 0 and all(note["file"] and note["key"] for note in data["imported"])
    predictions = data["predictions"]
    assert [(p["policy"], p["measure"]) for p in predictions] == \
        [(policy, measure) for policy in data["rollout"]["policies"] for measure in ("promotion", "abort")]
    table = check(path).stdout
    for p in predictions:
        assert p["of"] <= p["among"] == 60 and p["confidence"] == 0.95
        assert p["p50"]["low_s"] <= p["p50"]["value_s"] <= p["p50"]["high_s"]
        assert f"predicted ({p['policy']}): {p['what']}: p50 {format_duration(p['p50']['value_s'])} " in table


def test_a_bad_format_exits_2():
    result = check(ROOT / "scenarios" / "push_vs_pull.yaml", "--format", "yaml")
    assert result.exit_code == 2 and "--format" in result.output
