"""The results writer (`sim.results.output`) called directly: which `--out` it refuses and with what words, how a
folder is written whole or not at all, what the manifest records and how it is read back.

tests/test_output_paths.py drives the same rules through the CLI; here each rule is checked on the
functions themselves, fast, with the exact message a user reads and the file system afterwards as the
reference (folder listings and bytes, not anything deploysim reports). Folders "deploysim wrote" are
made by hand from the documented format (`"format": "deploysim-results"`, `"files"` listing every file),
not by the code under test.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import sim
from sim import __version__
from sim.errors import Problem, UserError
from sim.results.output import (
    FORMAT_CHANGES,
    check_target,
    manifest,
    preflight,
    read_manifest,
    results_folder,
    write_json,
)

NEVER = "which deploysim never replaces; give a new folder such as results/run1"
ONLY_OURS = "deploysim replaces only a folder it wrote, holding nothing else"
NOT_OURS = "is not a results folder written by deploysim (no manifest.json of its own listing its files)"
HEX8 = "[0-9a-f]{8}"


def ours(folder: Path, files=("summary.csv",), manifest_text: str | None = None) -> Path:
    """A results folder as deploysim leaves it: its files and a manifest.json listing them and itself."""
    folder.mkdir(parents=True)
    for name in files:
        (folder / name).write_text(f"{name} of the old run\n")
    listed = ["manifest.json", *files]
    text = manifest_text or json.dumps({"format": "deploysim-results", "format_version": 2, "files": listed})
    (folder / "manifest.json").write_text(text, encoding="utf-8")
    return folder


def snapshot(folder: Path) -> dict:
    """Every path under `folder` (links not followed) with its bytes, or its link target."""
    found = {}
    for base, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(base, name)
            rel = path.relative_to(folder).as_posix()
            found[rel] = (("link", os.readlink(path)) if path.is_symlink() else ("dir",) if path.is_dir()
                          else ("file", path.read_bytes()))
    return found


def refused_with(call, target, why: str) -> None:
    """`call()` raises one UserError located at `--out target` saying `why`, rendered on one line."""
    with pytest.raises(UserError) as caught:
        call()
    assert caught.value.problems == [Problem(source=f"--out {target}", line=None, column=None, path="", message=why)]
    assert str(caught.value) == f"--out {target}: {why}"


# --- which --out is refused, in the words a user reads ---------------------------------------------------

def _file(tmp):
    (tmp / "afile").write_text("precious\n")
    return tmp / "afile", True, "is a file, not a results folder; deploysim never replaces a file"


def _link_to_ours(tmp):
    (tmp / "to-ours").symlink_to(ours(tmp / "ours"))
    return tmp / "to-ours", True, f"is a symbolic link; {ONLY_OURS}"


def _ours_without_overwrite(tmp):
    return ours(tmp / "r"), False, "already exists; choose another --out or pass --overwrite"


def _users_folder(tmp):
    (tmp / "mine").mkdir()
    (tmp / "mine" / "notes.txt").write_text("my notes\n")
    return tmp / "mine", True, f"{NOT_OURS}; {ONLY_OURS}"


def _manifest(text):
    def make(tmp):
        return ours(tmp / "r", manifest_text=text), True, f"{NOT_OURS}; {ONLY_OURS}"
    return make


def _unreadable_manifest(tmp):
    return ours(tmp / "r", manifest_text="{not json"), True, f"its manifest.json cannot be read; {ONLY_OURS}"


def _too_long(tmp):
    return tmp / ("x" * 300), False, "cannot use this path (File name too long)"


@pytest.mark.parametrize("make", [
    _file, _link_to_ours, _ours_without_overwrite, _users_folder, _unreadable_manifest, _too_long,
    _manifest(json.dumps({"format": "other-tool", "files": ["manifest.json", "summary.csv"]})),
    _manifest(json.dumps({"files": ["manifest.json", "summary.csv"]})),  # no format at all
    _manifest(json.dumps({"format": "deploysim-results", "files": "manifest.json summary.csv"})),  # not a list
    _manifest(json.dumps(["manifest.json", "summary.csv"])),  # JSON, but not an object
], ids=lambda make: make.__name__.strip("_"))
def test_each_refusal_names_out_and_why_and_leaves_the_place_as_it_was(tmp_path, make):
    target, overwrite, why = make(tmp_path)
    before = snapshot(tmp_path)
    refused_with(lambda: check_target(target, overwrite), target, why)
    refused_with(lambda: preflight(target, overwrite), target, why)
    assert snapshot(tmp_path) == before


def test_without_overwrite_an_existing_folder_is_refused_by_default(tmp_path):
    target = ours(tmp_path / "r")
    why = "already exists; choose another --out or pass --overwrite"
    refused_with(lambda: check_target(target), target, why)
    refused_with(lambda: preflight(target), target, why)


@pytest.mark.parametrize("add, shown", [
    (lambda f: (f / "notes.txt").write_text("mine"), "notes.txt"),
    (lambda f: (f / "src").mkdir(), "src/"),
    (lambda f: (f / "data").symlink_to(f.parent), "data"),  # a link to a folder is a link, not a folder
    # a name the manifest lists, but a link to someone else's file instead of deploysim's own file
    (lambda f: ((f / "summary.csv").unlink(), (f / "summary.csv").symlink_to(f.parent / "theirs.csv")),
     "summary.csv"),
    (lambda f: [(f / n).write_text("x") for n in ("c", "a", "b")], "a, b, c"),  # sorted, 3 shown whole
    (lambda f: [(f / n).write_text("x") for n in ("d", "c", "b", "a")], "a, b, c and 1 more"),  # 4 - 3 = 1
    (lambda f: [(f / n).write_text("x") for n in "edcba"], "a, b, c and 2 more"),  # 5 - 3 = 2
], ids=["file", "folder", "link-to-folder", "listed-name-is-a-link", "three", "four", "five"])
def test_a_deploysim_folder_holding_anything_else_is_refused_naming_what(tmp_path, add, shown):
    (tmp_path / "theirs.csv").write_text("their data\n")
    folder = ours(tmp_path / "r")
    add(folder)
    before = snapshot(tmp_path)
    refused_with(lambda: check_target(folder, overwrite=True), folder,
                 f"holds {shown}, which deploysim did not write; {ONLY_OURS}")
    assert snapshot(tmp_path) == before


REPORT_MARK = "<!-- written by deploysim report"  # `deploysim report` opens report.html with it (tests/report/reading.py)


def _report(f: Path, text: str) -> None:
    (f / "report.html").write_text(text)


@pytest.mark.parametrize("make, accepted", [
    (lambda f: _report(f, f"<!DOCTYPE html>\n{REPORT_MARK} 0.1 -->\n<html></html>"), True),
    (lambda f: _report(f, " " * (256 - len(REPORT_MARK)) + REPORT_MARK + " -->"), True),  # ends at byte 256
    (lambda f: _report(f, " " * (257 - len(REPORT_MARK)) + REPORT_MARK + " -->"), False),  # ends at byte 257
    (lambda f: (_report(f.parent, f"{REPORT_MARK} -->"), (f / "report.html").symlink_to(f.parent / "report.html")),
     False),  # a link to a report deploysim wrote elsewhere
    (lambda f: (f / "report.html").symlink_to(f.parent / "gone.html"), False),  # a dangling link
    (lambda f: (f / "report.html").mkdir(), False),
    (lambda f: os.mkfifo(f / "report.html"), False),  # a pipe: not read (opening it must not block either)
], ids=["report", "mark-in-first-256-bytes", "mark-past-256-bytes", "link-to-a-report", "dangling-link", "folder",
        "fifo"])
def test_a_report_html_beside_the_results_is_deploysims_only_as_a_regular_file_opening_with_its_mark(
        tmp_path, make, accepted):
    """`--overwrite` replaces a results folder together with the report.html `deploysim report` wrote in it; any
    other report.html is the user's, and the folder is refused naming it. Deploysim's own is a regular file (not
    a link, a folder or a pipe) whose first 256 bytes hold its mark."""
    import signal

    folder = ours(tmp_path / "r")
    make(folder)
    before = sorted(os.listdir(tmp_path)), sorted(os.listdir(folder))  # (a snapshot would read the pipe)
    previous = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("blocked opening report.html"))
    signal.alarm(5)
    try:
        if accepted:
            assert check_target(folder, overwrite=True) == folder.resolve()
        else:
            shown = "report.html/" if (folder / "report.html").is_dir() and not (folder / "report.html").is_symlink() \
                else "report.html"
            refused_with(lambda: check_target(folder, overwrite=True), folder,
                         f"holds {shown}, which deploysim did not write; {ONLY_OURS}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert (sorted(os.listdir(tmp_path)), sorted(os.listdir(folder))) == before


@pytest.mark.parametrize("out, why", [
    (".", "is the working folder"),
    ("..", "holds the working folder"),
    ("../..", "holds the working folder"),
    ("/", "is the root folder"),
    ("~HOME", "is the home folder"),
    ("~HOME/..", "holds the home folder"),
])
def test_the_working_folder_the_home_folder_their_parents_and_root_are_never_replaced(tmp_path, monkeypatch,
                                                                                      out, why):
    work = tmp_path / "work" / "here"
    home = tmp_path / "users" / "me"
    work.mkdir(parents=True)
    home.mkdir(parents=True)
    (home / "notes.txt").write_text("mine\n")
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    out = out.replace("~HOME", str(home))
    before = snapshot(tmp_path)
    for overwrite in (False, True):
        refused_with(lambda: check_target(out, overwrite), out, f"{why}, {NEVER}")
    assert snapshot(tmp_path) == before


def test_a_new_folder_is_accepted_as_its_real_absolute_path(tmp_path, monkeypatch):
    (tmp_path / "real").mkdir()
    (tmp_path / "via").symlink_to(tmp_path / "real")  # a link among the parents is followed
    monkeypatch.chdir(tmp_path)
    assert check_target("runs/new") == tmp_path / "runs" / "new"
    assert check_target(tmp_path / "via" / "new") == tmp_path / "real" / "new"
    assert check_target(ours(tmp_path / "old"), overwrite=True) == tmp_path / "old"
    assert preflight(ours(tmp_path / "old2"), overwrite=True) == tmp_path / "old2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old", "old2", "real", "via"]
    assert sorted(p.name for p in (tmp_path / "old2").iterdir()) == ["manifest.json", "summary.csv"]


def test_a_deleted_working_folder_or_an_unknown_home_does_not_stop_a_new_folder(tmp_path, monkeypatch):
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()  # the shell's folder was deleted under it: os.getcwd() fails
    assert check_target(tmp_path / "r") == tmp_path / "r"
    # No $HOME and a user id the password database does not know (a container run with --user 12345).
    monkeypatch.delenv("HOME")
    import pwd

    def unknown(uid):
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", unknown)
    with pytest.raises(RuntimeError):
        Path.home()  # the situation this test is about
    assert check_target(tmp_path / "r") == tmp_path / "r"
    assert preflight(tmp_path / "r") == tmp_path / "r"


# --- preflight: the folder can be made, and nothing is left -----------------------------------------------

def test_preflight_tries_the_parents_a_temporary_folder_and_the_folder_then_removes_them(tmp_path, monkeypatch):
    made = []
    real_mkdir = os.mkdir

    def mkdir(path, *args, **kwargs):
        real_mkdir(path, *args, **kwargs)
        made.append(Path(path).relative_to(tmp_path).as_posix())

    monkeypatch.setattr(os, "mkdir", mkdir)
    assert preflight(tmp_path / "a" / "b" / "c") == tmp_path / "a" / "b" / "c"
    assert made[:2] == ["a", "a/b"] and made[3] == "a/b/c" and len(made) == 4
    assert re.fullmatch(rf"a/b/\.c\.{HEX8}\.partial", made[2]), made
    assert list(tmp_path.iterdir()) == []


def test_preflight_refuses_a_place_where_the_folder_cannot_be_made_and_leaves_nothing(tmp_path):
    (tmp_path / "afile").write_text("x")
    under_file = tmp_path / "afile" / "x"
    refused_with(lambda: preflight(under_file), under_file,
                 f"cannot create the results folder ({tmp_path / 'afile'} is not a folder); nothing was written")
    deep = tmp_path / "new" / ("y" * 300) / "z"  # "new" can be made, the next one cannot: "new" goes again
    refused_with(lambda: preflight(deep), deep, "cannot create the results folder (File name too long); "
                                                "nothing was written")
    assert [p.name for p in tmp_path.iterdir()] == ["afile"] and (tmp_path / "afile").read_text() == "x"


# --- results_folder: whole or not at all ------------------------------------------------------------------

@pytest.mark.parametrize("name, stem", [
    ("r", "r"),
    ("n" * 50, "n" * 50),
    ("m" * 200, "m" * 200),  # 200 bytes: kept whole (".NAME.XXXXXXXX.partial" is 218 bytes)
    ("k" * 201, "k" * 40),  # longer: shortened to 40 characters so the temporary name fits NAME_MAX
    ("z" * 255, "z" * 40),  # the longest name allowed
    ("é" * 100, "é" * 100),  # 200 bytes in UTF-8
    ("é" * 101, "é" * 40),  # 202 bytes: bytes count, not characters
])
def test_files_go_to_a_temporary_folder_beside_the_target_then_into_place(tmp_path, name, stem):
    out = tmp_path / "runs" / name
    with results_folder(out) as folder:
        assert folder.parent == out.parent and not out.exists()
        assert re.fullmatch(rf"\.{re.escape(stem)}\.{HEX8}\.partial", folder.name), folder.name
        assert list(folder.iterdir()) == []
        (folder / "summary.csv").write_text("a,b\n1,2\n")
    assert [p.name for p in tmp_path.iterdir()] == ["runs"] and [p.name for p in out.parent.iterdir()] == [name]
    assert snapshot(out) == {"summary.csv": ("file", b"a,b\n1,2\n")}


@pytest.mark.parametrize("listed_but_gone", [(), ("plot.png",)], ids=["complete", "a-listed-file-deleted"])
def test_overwrite_replaces_a_folder_deploysim_wrote_and_leaves_nothing_else(tmp_path, capsys, listed_but_gone):
    out = ours(tmp_path / "r", files=("summary.csv", "old.csv", *listed_but_gone))
    for name in listed_but_gone:
        (out / name).unlink()  # the user deleted a file the manifest lists: still ours, still replaced
    with results_folder(out, overwrite=True) as folder:
        (folder / "summary.csv").write_text("new\n")
    assert [p.name for p in tmp_path.iterdir()] == ["r"]  # no .partial, no .old
    assert snapshot(out) == {"summary.csv": ("file", b"new\n")}
    assert capsys.readouterr() == ("", "")


def _late_file(folder: Path) -> None:
    (folder / "late.txt").write_text("written late\n")


def _listed_name_now_a_link(folder: Path) -> None:
    (folder / "summary.csv").unlink()
    (folder / "summary.csv").symlink_to(folder.parent / "theirs" / "data.csv")


@pytest.mark.parametrize("meanwhile, kept", [
    (_late_file, lambda tmp: {"late.txt": ("file", b"written late\n")}),
    # a name the manifest lists, now another program's link to its own file: not deploysim's, so it stays
    (_listed_name_now_a_link, lambda tmp: {"summary.csv": ("link", str(tmp / "theirs" / "data.csv"))}),
], ids=["new-file", "listed-name-now-a-link"])
def test_a_file_added_to_the_replaced_folder_meanwhile_is_kept_aside_and_named(tmp_path, monkeypatch, capsys,
                                                                              meanwhile, kept):
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "data.csv").write_text("their data\n")
    out = ours(tmp_path / "r")
    real_rename = os.rename

    def rename(src, dst):
        real_rename(src, dst)
        if Path(src) == out:  # the old folder was just moved aside: another program writes into it
            meanwhile(Path(dst))

    monkeypatch.setattr(os, "rename", rename)
    with results_folder(out, overwrite=True) as folder:
        (folder / "summary.csv").write_text("new\n")
    assert snapshot(out) == {"summary.csv": ("file", b"new\n")}
    aside, = [p for p in tmp_path.iterdir() if p not in (out, tmp_path / "theirs")]
    assert re.fullmatch(rf"\.r\.{HEX8}\.old", aside.name), aside.name
    assert snapshot(aside) == kept(tmp_path)  # deploysim's own files are gone
    assert snapshot(tmp_path / "theirs") == {"data.csv": ("file", b"their data\n")}
    assert capsys.readouterr() == (
        "", f"deploysim: kept {aside}: the replaced results folder holds files deploysim did not write\n")


def test_a_listed_file_deleted_by_another_program_during_the_cleanup_does_not_stop_it(tmp_path, monkeypatch, capsys):
    """The old folder's files may go between listing the folder and deleting each: one already gone is
    simply not there to delete, and the folder is still removed."""
    out = ours(tmp_path / "r", files=("summary.csv", "old.csv"))
    real_unlink = os.unlink
    raced = []

    def unlink(path, *args, **kwargs):
        if Path(path).name == "old.csv":  # another program deletes it the moment before
            real_unlink(path)
            raced.append(path)
        real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    with results_folder(out, overwrite=True) as folder:
        (folder / "summary.csv").write_text("new\n")
    assert raced  # the race this test is about did happen
    assert [p.name for p in tmp_path.iterdir()] == ["r"]  # no .old kept aside
    assert snapshot(out) == {"summary.csv": ("file", b"new\n")}
    assert capsys.readouterr() == ("", "")


def test_a_failed_rename_puts_the_old_folder_back(tmp_path, monkeypatch):
    out = ours(tmp_path / "r")
    before = snapshot(tmp_path)
    real_rename = os.rename

    def rename(src, dst):
        if str(src).endswith(".partial"):
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    refused_with(lambda: _write(out, overwrite=True), out,
                 "cannot put the results in place (Invalid cross-device link); nothing was written")
    assert snapshot(tmp_path) == before


def _write(out, overwrite=False):
    with results_folder(out, overwrite) as folder:
        (folder / "summary.csv").write_text("new\n")


@pytest.mark.parametrize("error, raised", [
    (RuntimeError("a bug"), RuntimeError),
    (KeyboardInterrupt(), KeyboardInterrupt),
    (OSError(errno.ENOENT, "No such file or directory"), OSError),  # not a place error: a bug, kept as is
    (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), UserError),
])
def test_a_failure_while_writing_removes_the_temporary_folder_and_the_parents_made_for_it(tmp_path, error, raised):
    out = tmp_path / "a" / "b" / "r"
    with pytest.raises(raised) as caught:
        with results_folder(out) as folder:
            (folder / "half.csv").write_text("x")
            raise error
    if raised is UserError:
        assert str(caught.value) == f"--out {out}: cannot write the results (No space left on device); nothing was written"
    assert list(tmp_path.iterdir()) == []


def test_a_taken_temporary_name_is_skipped_and_when_none_is_free_the_message_says_so(tmp_path, monkeypatch):
    drawn = iter(["00000000", "11111111"])
    monkeypatch.setattr(secrets, "token_hex", lambda nbytes: next(drawn))
    (tmp_path / ".r.00000000.partial").mkdir()  # left by a run killed with SIGKILL, say
    with results_folder(tmp_path / "r") as folder:
        assert folder.name == ".r.11111111.partial"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".r.00000000.partial", "r"]

    monkeypatch.setattr(secrets, "token_hex", lambda nbytes: "00000000")  # every draw is taken
    (tmp_path / ".s.00000000.partial").mkdir()
    refused_with(lambda: _write(tmp_path / "s"), tmp_path / "s",
                 "cannot create the results folder (no free temporary name); nothing was written")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".r.00000000.partial", ".s.00000000.partial", "r"]


# --- the manifest: how to reproduce the run, and reading it back ------------------------------------------

@pytest.mark.parametrize("seed, reproduce", [(42, "--seed 42"), (None, "--seed 123456789012345678901234567890")])
def test_the_manifest_says_how_to_reproduce_the_run(monkeypatch, seed, reproduce):
    monkeypatch.setattr(sys, "argv", ["deploysim", "run", "s.yaml"])
    before = datetime.now(timezone.utc).replace(microsecond=0)
    data = manifest(command="run", scenario_source="s.yaml", scenario_digest="ab12", effective={"replications": 3},
                    overrides=("seed=42", "replications=3"), seed=seed, entropy=123456789012345678901234567890,
                    files=["summary.csv", "manifest.json", "hosts.csv"], extra={"workers": 2})
    after = datetime.now(timezone.utc)
    created = data.pop("created")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", created), created  # UTC, whole seconds
    assert before <= datetime.fromisoformat(created) <= after
    v = sys.version_info
    assert data == {
        "format": "deploysim-results",
        "format_version": 2,
        "tool_version": __version__,
        "command": "run",
        "argv": ["deploysim", "run", "s.yaml"],
        "python": f"{v.major}.{v.minor}.{v.micro}",
        "machine": os.uname().machine,
        "scenario": {"source": "s.yaml", "sha256": "ab12", "overrides": ["seed=42", "replications=3"]},
        "seed": seed,
        "entropy": "123456789012345678901234567890",  # a string: JSON readers may round big integers
        "reproduce": reproduce,
        "files": ["hosts.csv", "manifest.json", "summary.csv"],
        "effective_scenario": {"replications": 3},
        "workers": 2,
    }
    assert list(data)[:3] == ["format", "format_version", "tool_version"]


def test_write_json_writes_indented_ascii_json_in_the_given_order_with_values_as_text(tmp_path):
    path = tmp_path / "m.json"
    when = datetime(2026, 12, 1, 9, 30, tzinfo=timezone(timedelta(0)))
    write_json(path, {"b": 1, "a": [Path("x/y.csv"), when], "name": "café"})
    assert path.read_bytes() == (b'{\n  "b": 1,\n  "a": [\n    "x/y.csv",\n    "2026-12-01 09:30:00+00:00"\n  ],\n'
                                 b'  "name": "caf\\u00e9"\n}\n')


def test_a_manifest_written_with_write_json_is_read_back(tmp_path):
    data = manifest(command="evaluate", scenario_source="é.yaml", scenario_digest="0", effective={}, overrides=(),
                    seed=None, entropy=7, files=["manifest.json"])
    write_json(tmp_path / "manifest.json", data)
    assert read_manifest(tmp_path) == data
    assert read_manifest(str(tmp_path))["scenario"]["source"] == "é.yaml"
    assert check_target(tmp_path, overwrite=True) == tmp_path


@pytest.mark.parametrize("text, why", [
    (None, "not a deploysim results folder ([Errno 2] No such file or directory: '{path}')"),
    ("{not json", "not a deploysim results folder (Expecting property name enclosed in double quotes: "
                  "line 1 column 2 (char 1))"),
    ('{"format": "deploysim-results", "format_version": 1}',
     f"written in results format 1, and this deploysim ({__version__}) reads results format 2 only; {FORMAT_CHANGES[1]}; "
     "run the command again with this deploysim"),
    ('{"format": "deploysim-results"}', f"written in results format None, and this deploysim ({__version__}) reads "
                                        "results format 2 only; run the command again with this deploysim"),
    ('{"format": "other-tool", "format_version": 2}', "not a deploysim results folder (format 'other-tool')"),
    ("[]", "not a deploysim results folder (format 'list')"),
    (b"\xff\xfe{}", "not a deploysim results folder ('utf-8' codec can't decode byte 0xff in position 0: "
                    "invalid start byte)"),
])
def test_read_manifest_refuses_what_it_does_not_understand(tmp_path, text, why):
    path = tmp_path / "manifest.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text)
    with pytest.raises(UserError) as caught:
        read_manifest(tmp_path)
    assert str(caught.value) == f"deploysim: {path}: {why.format(path=path)}"


# --- the same results in any locale -----------------------------------------------------------------------

ASCII_LOCALE = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
IN_ASCII_LOCALE = """
import json, locale, sys
from pathlib import Path
from sim.results.output import check_target, read_manifest, results_folder
folder = Path(sys.argv[1])
print(json.dumps([locale.getpreferredencoding(False), read_manifest(folder)["scenario"]["source"],
                  str(check_target(folder, overwrite=True))]))
with results_folder(folder, overwrite=True) as new:
    (new / "summary.csv").write_text("new\\n")
"""


def test_a_utf8_manifest_is_read_and_replaced_the_same_under_an_ascii_locale(tmp_path, capsys):
    """A manifest holding non-ASCII text as UTF-8 (as `jq` writes it back, say) reads the same whatever
    the locale: here the test's own, then a `LANG=C` process without Python's UTF-8 mode."""
    text = json.dumps({"format": "deploysim-results", "format_version": 2, "files": ["manifest.json", "summary.csv"],
                       "scenario": {"source": "scénarios/déploiement.yaml"}}, ensure_ascii=False)
    for run in ("here", "ascii"):
        out = ours(tmp_path / run / "r", manifest_text=text)
        if run == "here":
            assert read_manifest(out)["scenario"]["source"] == "scénarios/déploiement.yaml"
            assert check_target(out, overwrite=True) == out
            _write(out, overwrite=True)
            assert capsys.readouterr().err == ""
        else:
            env = {**os.environ, **ASCII_LOCALE, "PYTHONPATH": str(Path(sim.__file__).resolve().parent.parent)}
            done = subprocess.run([sys.executable, "-c", IN_ASCII_LOCALE, str(out)], env=env, capture_output=True,
                                  text=True, encoding="utf-8", timeout=60)
            assert (done.returncode, done.stderr) == (0, ""), done.stderr
            assert json.loads(done.stdout) == ["ANSI_X3.4-1968", "scénarios/déploiement.yaml", str(out)]
        assert [p.name for p in out.parent.iterdir()] == ["r"]  # no .old kept aside, no .partial
        assert snapshot(out) == {"summary.csv": ("file", b"new\n")}


@pytest.mark.parametrize("outside", [
    "../notes.txt", "ABS", ".", "..", "",
    "summary.csv\0",  # no file can have this name (the system would read it as summary.csv)
])
def test_overwrite_refuses_a_manifest_that_names_files_outside_the_folder(tmp_path, outside):
    (tmp_path / "notes.txt").write_text("mine\n")
    (tmp_path / "abs.txt").write_text("mine too\n")
    name = str(tmp_path / "abs.txt") if outside == "ABS" else outside
    out = ours(tmp_path / "r", manifest_text=json.dumps({
        "format": "deploysim-results", "format_version": 2, "files": ["manifest.json", "summary.csv", name]}))
    before = snapshot(out)
    with pytest.raises(UserError) as caught:
        with results_folder(out, overwrite=True) as folder:
            (folder / "summary.csv").write_text("new\n")
    assert f"its manifest.json lists {name!r}, which is not a file name inside the folder" in str(caught.value)
    assert snapshot(out) == before
    assert (tmp_path / "notes.txt").read_text() == "mine\n" and (tmp_path / "abs.txt").read_text() == "mine too\n"


def test_removing_a_replaced_folder_deletes_only_plain_files_found_in_it(tmp_path):
    """Even past the check (a manifest edited between the check and the swap), the removal deletes only
    entries of the folder itself."""
    from sim.results.output import _remove_results

    (tmp_path / "notes.txt").write_text("mine\n")
    old = tmp_path / "old"
    old.mkdir()
    (old / "summary.csv").write_text("x\n")
    (old / "manifest.json").write_text(json.dumps({"files": ["manifest.json", "summary.csv", "../notes.txt",
                                                             str(tmp_path / "notes.txt")]}))
    _remove_results(old)
    assert not old.exists() and (tmp_path / "notes.txt").read_text() == "mine\n"


@pytest.mark.parametrize("kind", ["fifo", "link-to-dev-zero", "link-to-a-real-manifest"])
def test_a_manifest_that_is_not_a_regular_file_is_refused_without_reading_it(tmp_path, kind):
    """Deciding whether a folder may be replaced (and reading a results folder) never blocks on a pipe nor
    reads a device without end: a manifest.json that is not a regular file cannot be read."""
    import signal

    folder = tmp_path / "run"
    folder.mkdir()
    manifest_path = folder / "manifest.json"
    if kind == "fifo":
        os.mkfifo(manifest_path)
    elif kind == "link-to-dev-zero":
        manifest_path.symlink_to("/dev/zero")
    else:
        real = tmp_path / "elsewhere.json"
        real.write_text(json.dumps({"format": "deploysim-results", "format_version": 2, "files": ["manifest.json"]}))
        manifest_path.symlink_to(real)
    previous = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("blocked reading manifest.json"))
    signal.alarm(5)
    try:
        with pytest.raises(UserError, match="manifest.json cannot be read"):
            check_target(folder, overwrite=True)
        with pytest.raises(UserError, match="not a deploysim results folder"):
            read_manifest(folder)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json"]


def test_the_manifest_names_the_scenario_it_ran_its_digest_and_the_entropy(tmp_path):
    from sim.load.loader import load_scenario
    from sim.results.output import write_manifest

    scenario = tmp_path / "s.yaml"
    scenario.write_text("version: 1\nname: manifest-test\nseed: 7\nstrategies: {p: {kind: pull}}\n")
    loaded = load_scenario(scenario)
    ran, bare = tmp_path / "ran", tmp_path / "bare"
    ran.mkdir()
    bare.mkdir()
    write_manifest(ran, "run", loaded, 12345)
    write_manifest(bare, "compare", None, 678, overrides=())
    m, b = read_manifest(ran), read_manifest(bare)
    assert m["scenario"]["source"] == loaded.source == str(scenario)
    assert m["scenario"]["sha256"] == loaded.digest and len(loaded.digest) == 64
    assert (m["seed"], m["entropy"], m["reproduce"]) == (7, "12345", "--seed 7")
    assert m["files"] == ["manifest.json"] and m["command"] == "run"
    assert b["scenario"] == {"source": "", "sha256": "", "overrides": []}  # no scenario: empty, not null
    assert (b["seed"], b["entropy"], b["reproduce"]) == (None, "678", "--seed 678")


NON_ASCII = "p95 ≤ 2 s · déploiement ✓\n"


def test_a_file_replaced_atomically_is_utf_8_whatever_the_locale(tmp_path):
    """report.html and the CI gate's reports go through `replace_atomically`: under the C locale with
    Python's UTF-8 mode and locale coercion off (a bare container), the locale's encoding is ASCII, and the
    file must still be UTF-8 (not refused, not another encoding)."""
    from sim.results.output import replace_atomically

    here = tmp_path / "here.txt"
    replace_atomically(here, NON_ASCII, lambda: None)
    assert here.read_bytes() == NON_ASCII.encode("utf-8")
    there = tmp_path / "there.txt"
    code = ("import json, sys, locale; from pathlib import Path; from sim.results.output import replace_atomically; "
            "assert locale.getpreferredencoding(False).lower() in ('ascii', 'ansi_x3.4-1968'), "
            "locale.getpreferredencoding(False); replace_atomically(Path(sys.argv[1]), json.loads(sys.argv[2]), lambda: None)")
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0",
           "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(Path(sim.__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", code, str(there), json.dumps(NON_ASCII)],  # (ASCII on the way)
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert there.read_bytes() == NON_ASCII.encode("utf-8")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []
