"""The shipped scenarios' outputs, byte for byte, against digests recorded before a refactoring.

Each case runs one command on a shipped scenario at a small size with a fixed seed and compares the
sha256 of every CSV and JSON file it writes (JSON with the results folder's own path taken out; the
manifest and the plots are left out: they record when and where, not what) with `golden/digests.json`.
A change that moves code must leave every digest as it is. A change that alters outputs on purpose
records them again in the same commit and says why:

    DEPLOYSIM_RECORD_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden_outputs.py

Results format 2 renamed columns, wrote timestamps in ISO 8601 and added crossover.csv's growth_week, and
nothing else: every CSV turned back into format 1 through the rename map (`tests/results/format_1.py`)
still matches the digests format 1 wrote (`golden/digests-format-1.json`, never recorded again). Since
then summary.csv gained `bottleneck` and `bound_s` (bottleneck attribution), which the turn-back drops.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from tests.results.format_1 import as_format_1

ROOT = Path(__file__).resolve().parent.parent
DIGESTS = Path(__file__).resolve().parent / "golden" / "digests.json"
FORMAT_1 = Path(__file__).resolve().parent / "golden" / "digests-format-1.json"
RECORD = os.environ.get("DEPLOYSIM_RECORD_GOLDEN") == "1"
SMALL_GROWTH = "fleet.growth={start: 10, per_week: 400, weeks: 10, points: 4}"
RECORDED_BENCH = ROOT / "bench" / "recorded" / "2026-11-26"
GOLDEN_PARAMS = Path(__file__).resolve().parent / "golden" / "bench-2026-11-26" / "params.yaml"
"""The recorded runs' parameter file (and its calibration.json) as the golden digests were taken with them
(before `flow_share_p95` was fitted, 2026-12-02): validate-model's inputs held fixed, so its digests still
check the code."""

CASES = {
    "run-push-vs-pull": ["run", "scenarios/push_vs_pull.yaml", "-r", "2", "-j", "1", "--set", SMALL_GROWTH],
    "run-slack-pipeline": ["run", "scenarios/slack_2020_pipeline.yaml", "-r", "3", "-j", "1"],
    "evaluate-threshold-policies": ["evaluate", "scenarios/threshold_policies.yaml", "--releases", "40", "-j", "1"],
    "evaluate-backtest": ["evaluate", "scenarios/threshold_policies.yaml", "--releases", "20", "-j", "1",
                          "--metrics", "scenarios/data/history_example.csv"],
    "sweep-threshold-policies": ["sweep", "scenarios/threshold_policies.yaml", "--releases", "12", "-j", "1"],
    "validate-model": ["validate-model", *(str(RECORDED_BENCH / n) for n in ("n10", "n50")),
                       "--params", str(GOLDEN_PARAMS), "-r", "2"],
}


def digest(path: Path, folder: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".json":
        data = json.dumps(_without_paths(json.loads(data), str(folder)), sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()


def _without_paths(value, folder: str):
    if isinstance(value, dict):
        return {k: _without_paths(v, folder) for k, v in value.items() if k != "out"}
    if isinstance(value, list):
        return [_without_paths(v, folder) for v in value]
    if isinstance(value, str) and folder in value:
        return value.replace(folder, "<out>")
    return value


def outputs(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): digest(p, folder) for p in sorted(folder.rglob("*"))
            if p.suffix in (".csv", ".json") and p.name != "manifest.json"}


def format_1_digests(folder: Path) -> dict[str, str]:
    """The sha256 of each CSV file as results format 1 would have written it."""
    command = json.loads((folder / "manifest.json").read_text())["command"]
    return {p.name: hashlib.sha256(as_format_1(p.read_text(), command, p.name).encode()).hexdigest()
            for p in sorted(folder.glob("*.csv"))}


@pytest.mark.parametrize("case", sorted(CASES))
def test_outputs_are_unchanged(case, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    folder = tmp_path / case
    result = CliRunner().invoke(app, [*CASES[case], "--out", str(folder)])
    assert result.exit_code in (0, 1, 3), result.output  # evaluate's verdict may fail or be uncertain
    got = outputs(folder)
    assert got, f"{case} wrote no CSV or JSON files"
    assert format_1_digests(folder) == json.loads(FORMAT_1.read_text())[case], \
        f"{case}: a CSV file turned back into results format 1 differs from what format 1 wrote"
    recorded = json.loads(DIGESTS.read_text()) if DIGESTS.exists() else {}
    if RECORD:
        recorded[case] = got
        DIGESTS.parent.mkdir(exist_ok=True)
        DIGESTS.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
        return
    assert case in recorded, f"no digests recorded for {case}: DEPLOYSIM_RECORD_GOLDEN=1 records them"
    changed = sorted(name for name in set(got) | set(recorded[case]) if got.get(name) != recorded[case].get(name))
    if changed:
        keep = ROOT / "results" / "golden-diff" / case
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(folder, keep)
    assert not changed, f"{case}: {', '.join(changed)} differ from the recorded outputs (kept in {keep})"

