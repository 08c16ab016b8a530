"""Ctrl-C and SIGTERM: one line saying what was written, exit 130 or 143, no worker left, no partial folder.

The subprocess tests are the real thing: a `deploysim` process with a pool of workers, a real signal
once the workers exist, then the process table and the folder are read, not anything deploysim reports.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
from typer.testing import CliRunner

from sim import cli
from sim.cli import app
from sim.commands import run as run_module
from sim.deploy.experiment import map_ordered
from sim.interrupts import Interrupted, interrupt_exit_code
from tests.conftest import make_scenario

runner = CliRunner()


def start(root, cwd, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal gives a command
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # even if our runner ignores Ctrl-C
        env={**os.environ, "PYTHONPATH": str(root)})


def wait_for_workers(proc, count=2, timeout=120):
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + timeout
    while len(parent.children()) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no workers started"
        time.sleep(0.1)
    return parent.children(recursive=True)


def alive(processes):
    def running(p):
        try:
            return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False
    return [p.pid for p in processes if running(p)]


def in_group(pgid):
    found = []
    for p in psutil.process_iter():
        try:
            if os.getpgid(p.pid) == pgid:
                found.append(p.pid)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
    return found


@pytest.mark.parametrize("command, scenario, signum, to_group, code", [
    # Ctrl-C in a terminal: the whole process group gets SIGINT.
    pytest.param("evaluate", "scenarios/threshold_policies.yaml", signal.SIGINT, True, 130, id="evaluate-ctrl-c"),
    # A supervisor's stop: SIGTERM to the command alone; its workers never see it.
    pytest.param("evaluate", "scenarios/threshold_policies.yaml", signal.SIGTERM, False, 143, id="evaluate-sigterm"),
    pytest.param("run", "scenarios/push_vs_pull.yaml", signal.SIGTERM, False, 143, id="run-sigterm"),
])
def test_a_signal_mid_run_ends_with_one_line_no_workers_and_no_folder(root, tmp_path, command, scenario, signum,
                                                                       to_group, code):
    work = tmp_path / "work"
    work.mkdir()
    size = ["--releases", "4000"] if command == "evaluate" else ["--replications", "300"]
    proc = start(root, tmp_path, command, str(root / scenario), "--out", "work/X", *size, "--workers", "2",
                 "--seed", "1")
    try:
        workers = wait_for_workers(proc)
        time.sleep(0.5)  # well into the work
        (os.killpg if to_group else os.kill)(proc.pid, signum)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == code, err
    assert err.decode().strip().splitlines()[-1] == "interrupted; nothing written to work/X"
    assert "Traceback" not in err.decode()
    assert alive(workers) == [] and in_group(proc.pid) == []
    assert list(work.iterdir()) == [] and [p.name for p in tmp_path.iterdir()] == ["work"]


def test_interrupted_after_writing_says_the_results_are_kept(root, tmp_path, monkeypatch):
    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "emit", stop)
    out = tmp_path / "r"
    result = runner.invoke(app, ["run", str(root / "scenarios/push_vs_pull.yaml"), "--out", str(out), "--set",
                                 "fleet.sizes=[10]", "-r", "1", "--seed", "1", "-j", "1"])
    assert result.exit_code == 130
    assert result.stderr.splitlines()[-1] == f"interrupted; results written to {out}"
    assert (out / "manifest.json").exists()


def interrupt_second_file_written(monkeypatch, written: list[Path]):
    """Ctrl-C while the results are being written: DataFrame.to_csv (the writer's call per table)
    raises KeyboardInterrupt on the second file it writes into a `.partial` folder."""
    to_csv = pd.DataFrame.to_csv

    def writing(frame, path=None, *args, **kwargs):
        if path is not None and Path(path).parent.name.endswith(".partial"):
            if written:
                assert written[0].exists()  # the first file is in the temporary folder: mid-write
                raise KeyboardInterrupt
            written.append(Path(path))
        return to_csv(frame, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", writing)


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("existing", [False, True], ids=["new-folder", "overwrite"])
def test_ctrl_c_while_writing_the_results_leaves_the_target_whole_or_absent(root, tmp_path, monkeypatch, existing):
    """A new folder (with a parent made for it) is absent afterwards, parent included; a folder being
    replaced with --overwrite is still the old one, file for file. No `.partial` (or `.old`) is left."""
    out = tmp_path / "runs" / "r"
    args = ["run", str(root / "scenarios/push_vs_pull.yaml"), "--out", str(out), "--set", "fleet.sizes=[10]",
            "-r", "1", "--seed", "1", "-j", "1"]
    before = None
    if existing:
        assert runner.invoke(app, args).exit_code == 0
        before = contents(out)
    written: list[Path] = []
    interrupt_second_file_written(monkeypatch, written)
    result = runner.invoke(app, args + ["--overwrite"] * existing)
    assert len(written) == 1, written  # interrupted inside the writer, not before or after it
    assert result.exit_code == 130, result.output
    assert result.stderr.splitlines()[-1] == f"interrupted; nothing written to {out}"
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    if existing:
        assert contents(out) == before
        assert left == ["runs", "runs/r"] + [f"runs/r/{name}" for name in sorted(before)], left
    else:
        assert left == [], left


def test_sigterm_exits_143_and_ctrl_c_130(root, tmp_path, monkeypatch):
    def stopped(*args, **kwargs):
        raise Interrupted(signal.SIGTERM)

    monkeypatch.setattr(run_module, "run_loaded", stopped)
    result = runner.invoke(app, ["run", str(root / "scenarios/push_vs_pull.yaml"), "--out", str(tmp_path / "r")])
    assert result.exit_code == 143 and result.stderr.splitlines() == [f"interrupted; nothing written to {tmp_path / 'r'}"]
    assert interrupt_exit_code(KeyboardInterrupt()) == 130
    # bench.cleanup.Interrupted names its signal in its message only
    assert interrupt_exit_code(KeyboardInterrupt("stopped by SIGTERM")) == 143


def raise_on_seven(scenario, item):
    if item == 7:
        raise ValueError("item 7")
    time.sleep(0.05)
    return item


def test_an_error_in_one_item_stops_every_worker():
    scenario = make_scenario(fleet={"hosts": 10})
    me = psutil.Process()
    before, seen = set(me.children(recursive=True)), set()  # other tests may leave children of their own
    with pytest.raises(ValueError, match="item 7"):
        for _ in map_ordered(raise_on_seven, scenario, list(range(200)), workers=2, chunksize=1):
            seen.update(set(me.children(recursive=True)) - before)
    assert len(seen) >= 2 and alive(seen) == []
