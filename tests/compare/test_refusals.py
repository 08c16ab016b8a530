"""What `deploysim compare` refuses, with exit 2 and a message naming both folders: folders of different
kinds, a folder deploysim did not write, folders written in different results formats, and kinds it
cannot compare yet (the message lists the ones it can)."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.compare.conftest import invoke


def refused(a, b, *words):
    result = invoke("compare", a, b)
    assert result.exit_code == 2, result.output
    assert str(a) in result.output and str(b) in result.output
    for word in words:
        assert word in result.output
    return result.output


@pytest.fixture
def copy(fleet_runs, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(fleet_runs["seed 1"], folder)
    return folder


def edit_manifest(folder, **changes):
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, **changes}))


def test_different_kinds_are_refused_naming_both(fleet_runs, evaluation_runs):
    refused(fleet_runs["seed 1"], evaluation_runs["seed 5"], "different kinds", "fleet growth (deploysim run)",
            "evaluation (deploysim evaluate)")


@pytest.mark.parametrize("make", ["missing", "empty", "foreign manifest", "a file"])
def test_a_folder_deploysim_did_not_write_is_refused(fleet_runs, tmp_path, make):
    other = tmp_path / "other"
    if make in ("empty", "foreign manifest"):
        other.mkdir()
    if make == "foreign manifest":
        (other / "manifest.json").write_text('{"format": "pyperf", "files": []}')
    if make == "a file":
        other.write_text("x")
    refused(fleet_runs["seed 1"], other, "not a")
    refused(other, fleet_runs["seed 1"], "not a")


def test_different_results_formats_are_refused(fleet_runs, copy):
    edit_manifest(copy, format_version=1)
    refused(fleet_runs["seed 1"], copy, "different results formats", "deploysim-results 2", "deploysim-results 1")


def test_a_format_this_deploysim_does_not_read_is_refused_naming_both(tmp_path, copy):
    edit_manifest(copy, format_version=1)
    other = tmp_path / "other"
    shutil.copytree(copy, other)
    refused(copy, other, "written in results format 1", "reads results format 2 only",
            "run the command again")


def test_a_kind_not_yet_comparable_says_which_are(tmp_path, copy):
    edit_manifest(copy, command="validate-model")
    other = tmp_path / "other"
    shutil.copytree(copy, other)
    refused(copy, other, "not yet supported", "fleet growth (deploysim run)", "evaluation (deploysim evaluate)",
            "a sweep (deploysim sweep)", "a bench run (deploysim bench)", "releases through a pipeline")


def test_a_bad_format_flag_exits_2(fleet_runs):
    result = invoke("compare", fleet_runs["seed 1"], fleet_runs["seed 2"], "--format", "yaml")
    assert result.exit_code == 2 and "--format" in result.output


def test_a_damaged_summary_exits_2_naming_its_folder(fleet_runs, copy):
    summary = json.loads((copy / "summary.json").read_text())
    summary["results"]["summary"][0].pop("strategy")
    (copy / "summary.json").write_text(json.dumps(summary))
    result = invoke("compare", fleet_runs["seed 1"], copy)
    assert result.exit_code == 2 and f"{copy}: its results files are not as deploysim writes them" in result.output
