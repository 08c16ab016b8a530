"""`--out` cannot hurt: it writes a new folder, or replaces only a folder deploysim wrote, whole or not at all.

Each refusal is checked against the user's files byte for byte, the exact one-line message and exit 2,
and against the place being left as it was (no `.partial` folder, no parent created). The references
are the user's own files and the permissions the umask gives, not anything deploysim computes.
"""

import errno
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import UserError
from sim.results import plots
from sim.results.output import (
    MANIFEST_BYTES,
    check_target,
    manifest,
    preflight,
    read_manifest,
    read_regular,
    replace_atomically,
    results_folder,
)

runner = CliRunner()
SMALL = ["--set", "fleet.sizes=[10, 100]", "--replications", "2", "--seed", "7", "--workers", "1"]
NEVER = "which deploysim never replaces; give a new folder such as results/run1"
ONLY_OURS = "deploysim replaces only a folder it wrote, holding nothing else"


def run(root, out, *extra):
    return runner.invoke(app, ["run", str(root / "scenarios/push_vs_pull.yaml"), "--out", str(out), *SMALL, *extra])


def snapshot(folder):
    """Every path under `folder` (links not followed) with its bytes or its link target."""
    found = {}
    for base, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(base, name)
            rel = os.path.relpath(path, folder)
            if os.path.islink(path):
                found[rel] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                found[rel] = ("dir",)
            else:
                found[rel] = ("file", open(path, "rb").read())
    return found


def user_project(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_text("my notes\n")
    (folder / "src").mkdir()
    (folder / "src" / "main.py").write_text("print('hi')\n")
    return folder


def deploysim_folder(folder, **extra_files):
    """A results folder as deploysim writes it: its files and a manifest listing them."""
    folder.mkdir(parents=True)
    (folder / "summary.csv").write_text("a,b\n1,2\n")
    for name, text in extra_files.items():
        (folder / name).write_text(text)
    files = ["manifest.json", "summary.csv", *extra_files]
    data = manifest(command="run", scenario_source="s.yaml", scenario_digest="0", effective={}, overrides=(),
                    seed=1, entropy=1, files=files)
    (folder / "manifest.json").write_text(json.dumps(data))
    return folder


def refused(result, message):
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [message]


def test_the_issue_a_users_folder_with_notes_and_src_is_never_replaced(root, tmp_path, monkeypatch):
    project = user_project(tmp_path / "thatfolder")
    before = snapshot(tmp_path)
    monkeypatch.chdir(project)
    refused(run(root, "../thatfolder", "--overwrite"), f"--out ../thatfolder: is the working folder, {NEVER}")
    monkeypatch.chdir(tmp_path)
    refused(run(root, "thatfolder", "--overwrite"),
            "--out thatfolder: is not a results folder written by deploysim (no manifest.json of its own listing "
            f"its files); {ONLY_OURS}")
    refused(run(root, "thatfolder"), "--out thatfolder: already exists; choose another --out or pass --overwrite")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("out, why", [
    (".", "is the working folder"),
    ("", "is the working folder"),
    ("..", "holds the working folder"),
    ("work/..", "is the working folder"),
    ("/", "is the root folder"),
])
def test_the_working_folder_its_parents_and_root_are_refused(root, tmp_path, monkeypatch, out, why):
    (tmp_path / "work").mkdir()
    cwd = user_project(tmp_path / "here")
    monkeypatch.chdir(cwd)
    (cwd / "work").mkdir()
    before = snapshot(tmp_path)
    refused(run(root, out, "--overwrite"), f"--out {out}: {why}, {NEVER}")
    assert snapshot(tmp_path) == before


def test_the_home_folder_and_its_parents_are_refused(root, tmp_path, monkeypatch):
    home = user_project(tmp_path / "users" / "me")
    monkeypatch.setenv("HOME", str(home))
    before = snapshot(tmp_path)
    refused(run(root, home, "--overwrite"), f"--out {home}: is the home folder, {NEVER}")
    refused(run(root, home.parent, "--overwrite"), f"--out {home.parent}: holds the home folder, {NEVER}")
    assert snapshot(tmp_path) == before


def test_a_plain_file_stays_a_file(root, tmp_path):
    (tmp_path / "afile").write_text("precious\n")
    refused(run(root, tmp_path / "afile", "--overwrite"),
            f"--out {tmp_path / 'afile'}: is a file, not a results folder; deploysim never replaces a file")
    assert (tmp_path / "afile").read_text() == "precious\n" and len(list(tmp_path.iterdir())) == 1


def test_symbolic_links_are_refused_wherever_they_point(root, tmp_path):
    ours = deploysim_folder(tmp_path / "ours")
    outside = user_project(tmp_path / "outside")
    (tmp_path / "to-ours").symlink_to(ours)
    (tmp_path / "to-outside").symlink_to(outside)
    before = snapshot(tmp_path)
    for name in ("to-ours", "to-outside"):
        refused(run(root, tmp_path / name, "--overwrite"),
                f"--out {tmp_path / name}: is a symbolic link; {ONLY_OURS}")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("add, shown", [
    (lambda f: (f / "notes.txt").write_text("mine"), "notes.txt"),
    (lambda f: (f / "src").mkdir(), "src/"),
    (lambda f: (f / "link").symlink_to("/etc"), "link"),
    (lambda f: [(f / n).write_text("x") for n in ("a", "b", "c", "d")], "a, b, c and 1 more"),
])
def test_a_deploysim_folder_holding_anything_else_is_refused(root, tmp_path, add, shown):
    folder = deploysim_folder(tmp_path / "r")
    add(folder)
    before = snapshot(tmp_path)
    refused(run(root, folder, "--overwrite"),
            f"--out {folder}: holds {shown}, which deploysim did not write; {ONLY_OURS}")
    assert snapshot(tmp_path) == before


def test_a_manifest_that_is_not_deploysims_is_refused(root, tmp_path):
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"format": "other-tool", "files": ["manifest.json"]}))
    refused(run(root, folder, "--overwrite"),
            f"--out {folder}: is not a results folder written by deploysim (no manifest.json of its own listing "
            f"its files); {ONLY_OURS}")
    (folder / "manifest.json").write_text("{not json")
    refused(run(root, folder, "--overwrite"), f"--out {folder}: its manifest.json cannot be read; {ONLY_OURS}")


def test_a_folder_deploysim_wrote_is_replaced_with_overwrite(root, tmp_path):
    out = tmp_path / "r"
    assert run(root, out).exit_code == 0
    first = read_manifest(out)
    again = runner.invoke(app, ["run", str(root / "scenarios/push_vs_pull.yaml"), "--out", str(out), "--overwrite",
                                "--set", "fleet.sizes=[10]", "--replications", "1", "--seed", "8", "--workers", "1"])
    assert again.exit_code == 0, again.output
    second = read_manifest(out)
    assert (first["seed"], second["seed"]) == (7, 8)
    assert sorted(p.name for p in out.iterdir()) == second["files"]
    assert [p.name for p in tmp_path.iterdir()] == ["r"]  # no .partial, no .old


def test_a_bench_results_folder_is_ours_too(tmp_path):
    folder = deploysim_folder(tmp_path / "bench-50", **{"hosts.csv": "host\n"})
    data = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**data, "source": "bench", "format_version": 1}))
    assert check_target(folder, overwrite=True) == folder


def test_a_failed_run_keeps_the_folder_it_would_have_replaced(root, tmp_path, monkeypatch):
    out = tmp_path / "r"
    assert run(root, out).exit_code == 0
    before = snapshot(tmp_path)

    def boom(*args, **kwargs):
        raise RuntimeError("plotting failed")

    monkeypatch.setattr(plots, "fleet_updated_over_time", boom)
    result = run(root, out, "--overwrite")
    assert isinstance(result.exception, RuntimeError)
    assert snapshot(tmp_path) == before


def test_a_failed_rename_puts_the_old_folder_back(tmp_path, monkeypatch):
    out = deploysim_folder(tmp_path / "r")
    before = snapshot(tmp_path)
    real_rename = os.rename

    def rename(src, dst):
        if str(src).endswith(".partial"):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(UserError, match="cannot put the results in place"):
        with results_folder(out, overwrite=True) as folder:
            deploysim_folder(folder / "inner")  # any content
    assert snapshot(tmp_path) == before


def test_missing_parents_are_created_and_removed_again_if_the_run_fails(root, tmp_path, monkeypatch):
    assert run(root, tmp_path / "results" / "deep" / "x").exit_code == 0
    assert (tmp_path / "results" / "deep" / "x" / "manifest.json").exists()

    def boom(*args, **kwargs):
        raise RuntimeError("plotting failed")

    monkeypatch.setattr(plots, "fleet_updated_over_time", boom)
    result = run(root, tmp_path / "new" / "deep" / "x")
    assert isinstance(result.exception, RuntimeError)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_a_full_disk_is_bad_input_located_at_out_and_leaves_nothing(root, tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(plots, "deploy_time_vs_fleet", full)
    out = tmp_path / "a" / "b"
    refused(run(root, out), f"--out {out}: cannot write the results (No space left on device); nothing was written")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES, errno.EDQUOT])
def test_an_unwritable_place_is_refused_before_the_run(root, tmp_path, monkeypatch, code):
    # Simulated: the tests run as root, who can write anywhere chmod allows nobody to.
    real_mkdir = os.mkdir

    def mkdir(path, *args, **kwargs):
        if str(path).startswith(str(tmp_path)):
            raise OSError(code, os.strerror(code))
        real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
    out = tmp_path / "x"
    refused(run(root, out), f"--out {out}: cannot create the results folder ({os.strerror(code)}); nothing was written")
    assert list(tmp_path.iterdir()) == []


def test_proc_and_a_file_as_parent_are_refused_with_a_reason(root, tmp_path):
    refused(run(root, "/proc/x"),
            "--out /proc/x: cannot create the results folder (No such file or directory); nothing was written")
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / "x"
    refused(run(root, out),
            f"--out {out}: cannot create the results folder ({tmp_path / 'afile'} is not a folder); nothing was written")
    assert [p.name for p in tmp_path.iterdir()] == ["afile"] and (tmp_path / "afile").read_text() == "x"


def test_too_long_names_are_refused_and_leave_nothing(root, tmp_path):
    long = tmp_path / ("x" * 300)
    refused(run(root, long), f"--out {long}: cannot use this path (File name too long)")
    deep = tmp_path / "new" / ("y" * 300) / "z"
    refused(run(root, deep), f"--out {deep}: cannot create the results folder (File name too long); nothing was written")
    assert list(tmp_path.iterdir()) == []
    longest = tmp_path / ("z" * 255)  # the longest name allowed still works: the temporary name is shortened
    with results_folder(longest) as folder:
        (folder / "a.txt").write_text("x")
    assert (longest / "a.txt").read_text() == "x" and len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_permissions_follow_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        with results_folder(tmp_path / "made" / "r") as folder:
            (folder / "summary.csv").write_text("x\n")
    finally:
        os.umask(old)
    for path, mode in ((tmp_path / "made", 0o777), (tmp_path / "made" / "r", 0o777),
                       (tmp_path / "made" / "r" / "summary.csv", 0o666)):
        assert stat.S_IMODE(path.stat().st_mode) == mode & ~umask, path


def test_a_results_folder_from_the_cli_is_readable_by_others_under_umask_022(root, tmp_path):
    old = os.umask(0o022)
    try:
        assert run(root, tmp_path / "r").exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r").stat().st_mode) == 0o755


def test_an_interrupt_while_writing_leaves_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with results_folder(tmp_path / "a" / "r") as folder:
            (folder / "half.csv").write_text("x")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_the_place_is_checked_again_before_the_rename(tmp_path):
    out = tmp_path / "r"
    with pytest.raises(UserError, match="already exists"):
        with results_folder(out) as folder:
            (folder / "summary.csv").write_text("x")
            out.mkdir()  # someone made it while the results were computed
            (out / "theirs.txt").write_text("keep")
    assert [p.name for p in tmp_path.iterdir()] == ["r"] and (out / "theirs.txt").read_text() == "keep"


def test_preflight_leaves_nothing_behind(tmp_path):
    assert preflight(tmp_path / "a" / "b" / "c") == tmp_path / "a" / "b" / "c"
    assert list(tmp_path.iterdir()) == []


def test_a_file_replaced_atomically_may_have_the_longest_name_the_filesystem_allows(tmp_path):
    """A report or a gate file beside the user's files: its temporary sibling must fit NAME_MAX too (255
    bytes here), whatever the name; the old file stays whole when the recheck refuses, and nothing else is
    left in the folder either way."""
    target = tmp_path / ("r" * 250 + ".html")
    assert len(target.name) == os.pathconf(tmp_path, "PC_NAME_MAX") == 255
    replace_atomically(target, "first", lambda: None)
    assert target.read_text() == "first" and os.listdir(tmp_path) == [target.name]

    def refuse():
        raise UserError("no longer ours")

    with pytest.raises(UserError, match="no longer ours"):
        replace_atomically(target, "second", refuse)
    assert target.read_text() == "first" and os.listdir(tmp_path) == [target.name]
    replace_atomically(target, "second", lambda: None)
    assert target.read_text() == "second" and os.listdir(tmp_path) == [target.name]


def test_a_file_replaced_atomically_is_utf8_whatever_the_locale(tmp_path):
    """Reports hold text such as "≥" and "é": the file is UTF-8 even where the locale's encoding is ASCII
    (LC_ALL=C with Python's UTF-8 mode off), not whatever the locale would give."""
    target = tmp_path / "report.html"
    code = ("import sys; from pathlib import Path; from sim.results.output import replace_atomically; "
            "replace_atomically(Path(sys.argv[1]), 'p95 \\u2265 2 s, caf\\u00e9', lambda: None)")  # ASCII argv
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0"}
    done = subprocess.run([sys.executable, "-c", code, str(target)], env=env, capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() == "p95 ≥ 2 s, café".encode("utf-8")


def test_a_manifest_larger_than_the_limit_is_refused_unread_naming_why(tmp_path):
    """A manifest.json over MANIFEST_BYTES (a sparse file: nothing is read) is refused with the reason in the
    message; one of exactly the limit would be read (here: not JSON, a different reason)."""
    path = tmp_path / "manifest.json"
    with open(path, "wb") as file:
        file.truncate(MANIFEST_BYTES + 1)
    with pytest.raises(UserError) as refused:
        read_manifest(tmp_path)
    assert str(refused.value) == (f"deploysim: {path}: not a deploysim results folder "
                                  f"([Errno 27] too large for a manifest: '{path}')")
    os.truncate(path, MANIFEST_BYTES)
    with pytest.raises(UserError, match="not a deploysim results folder") as refused:
        read_manifest(tmp_path)
    assert "too large" not in str(refused.value)


def test_read_regular_reads_at_most_its_limit_and_says_exactly_why_it_refuses(tmp_path):
    """The one reader of files a user may point deploysim at: a file of exactly the limit is read whole; one
    byte more is refused (EFBIG, with the caller's reason and the path), before reading when the size is
    known and after reading limit + 1 bytes when it is not (procfs says 0); a pipe or a folder is refused
    unread (EINVAL), and a link is not followed (ELOOP)."""
    def refusal(path, limit=10):
        with pytest.raises(OSError) as info:
            read_regular(path, limit, "too big")
        return info.value.errno, info.value.strerror, info.value.filename

    exact = tmp_path / "exact"
    exact.write_bytes(b"0123456789")
    assert read_regular(exact, 10, "too big") == b"0123456789"
    big = tmp_path / "big"
    big.write_bytes(b"0123456789a")
    assert refusal(big) == (errno.EFBIG, "too big", str(big))
    proc = Path("/proc/self/status")
    assert os.stat(proc).st_size == 0 and len(proc.read_bytes()) > 10
    assert refusal(proc) == (errno.EFBIG, "too big", str(proc))
    assert read_regular(proc, 1_000_000, "too big").startswith(b"Name:")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert refusal(fifo) == (errno.EINVAL, "not a regular file", str(fifo))
    assert refusal(tmp_path) == (errno.EINVAL, "not a regular file", str(tmp_path))
    link = tmp_path / "link"
    link.symlink_to(exact)
    assert refusal(link)[0] == errno.ELOOP
