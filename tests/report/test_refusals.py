"""What `deploysim report` refuses (exit 2, nothing written): folders deploysim did not write, kinds it
cannot show yet, a report.html it did not write; and what `--overwrite` does with a report it did write."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from sim.errors import UserError
from sim.results.output import FORMAT_NAME, check_target, results_folder
from tests.report.conftest import invoke


@pytest.fixture
def copy(fleet_folder, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(fleet_folder, folder)
    return folder


def test_a_report_html_deploysim_did_not_write_is_left_as_it_is(copy):
    (copy / "report.html").write_text("<html>my notes</html>")
    result = invoke("report", copy)
    assert result.exit_code == 2
    assert "report.html: was not written by deploysim" in result.output
    assert (copy / "report.html").read_text() == "<html>my notes</html>"
    assert sorted(os.listdir(copy)) == sorted(json.loads((copy / "manifest.json").read_text())["files"] + ["report.html"])


def test_a_link_named_report_html_is_refused(copy, tmp_path):
    (copy / "report.html").unlink()
    (tmp_path / "elsewhere.html").write_text("x")
    os.symlink(tmp_path / "elsewhere.html", copy / "report.html")
    assert invoke("report", copy).exit_code == 2
    assert (tmp_path / "elsewhere.html").read_text() == "x"


def test_its_own_report_is_written_again(copy):
    before = (copy / "report.html").read_text()
    (copy / "report.html").write_text(before.replace("tiny-fleet</h1>", "old</h1>"))
    result = invoke("report", copy)
    assert result.exit_code == 0, result.output
    assert (copy / "report.html").read_text() == before  # the same folder gives the same page
    assert not [name for name in os.listdir(copy) if name.endswith(".partial")]


@pytest.mark.parametrize("make", ["missing", "empty", "foreign manifest", "a file"])
def test_a_folder_deploysim_did_not_write_is_refused(tmp_path, make):
    target = tmp_path / "folder"
    if make != "missing" and make != "a file":
        target.mkdir()
    if make == "foreign manifest":
        (target / "manifest.json").write_text('{"format": "something-else", "files": []}')
    if make == "a file":
        target.write_text("x")
    result = invoke("report", target)
    assert result.exit_code == 2
    assert str(target) in result.output
    assert not (target / "report.html").exists() if target.is_dir() else True


@pytest.mark.parametrize("command", ["something-else"])
def test_kinds_not_yet_supported_exit_2_saying_so(copy, command):
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "command": command}))
    (copy / "report.html").unlink()
    result = invoke("report", copy)
    assert result.exit_code == 2 and "not yet supported" in result.output
    assert not (copy / "report.html").exists()


def test_bench_report_flag_needs_out_before_any_fleet_starts():
    result = invoke("bench", "--hosts", "2", "--report")
    assert result.exit_code == 2 and "--report: needs --out" in result.output


def test_report_flag_needs_out(tmp_path):
    (tmp_path / "s.yaml").write_text("version: 1\nname: s\n")
    result = invoke("run", tmp_path / "s.yaml", "--report")
    assert result.exit_code == 2 and "--report: needs --out" in result.output


def test_overwrite_replaces_a_folder_holding_deploysims_report_and_removes_it(copy):
    assert (copy / "report.html").exists()
    check_target(copy, overwrite=True)  # deploysim's own report does not make the folder foreign
    with results_folder(copy, overwrite=True) as staging:
        (staging / "manifest.json").write_text(json.dumps({"format": FORMAT_NAME, "files": ["manifest.json"]}))
    assert os.listdir(copy) == ["manifest.json"]
    assert [name for name in os.listdir(copy.parent)] == ["copy"]  # the replaced folder is gone, not kept


def test_overwrite_refuses_a_folder_holding_someone_elses_report(copy):
    (copy / "report.html").write_text("<html>my notes</html>")
    with pytest.raises(UserError, match="holds report.html, which deploysim did not write"):
        check_target(copy, overwrite=True)
