"""The command line as a user meets it: run, check, --set, --format json, bad input, atomic results."""

import json
import os
import signal
import subprocess
import sys
import time

from typer.testing import CliRunner

from sim.cli import app
from sim.results import plots
from sim.results.output import read_manifest

runner = CliRunner()
SMALL = ["--set", "fleet.sizes=[10, 100, 1000]", "--replications", "3", "--seed", "7", "--workers", "1"]


def invoke(*args):
    return runner.invoke(app, list(args))


def test_run_prints_the_table_and_writes_a_complete_results_folder(root, tmp_path):
    out = tmp_path / "pvp"
    result = invoke("run", str(root / "scenarios/push_vs_pull.yaml"), "--out", str(out), *SMALL)
    assert result.exit_code == 0, result.output
    assert "crossover: consul-pull" in result.output and "each added server adds" in result.output
    manifest = read_manifest(out)
    assert manifest["seed"] == 7 and manifest["effective_scenario"]["replications"] == 3
    assert manifest["scenario"]["overrides"] == ["fleet.sizes=[10, 100, 1000]", "replications=3", "seed=7"]
    assert sorted(p.name for p in out.iterdir()) == manifest["files"]
    for name in ("summary.csv", "replications.csv", "hosts.csv", "crossover.csv",
                 "deploy_time_vs_fleet.png", "fleet_updated_over_time.png"):
        assert (out / name).stat().st_size > 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_json_output(root):
    result = invoke("run", str(root / "scenarios/push_vs_pull.yaml"), "--format", "json", *SMALL)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["format", "format_version", "command", "scenario", "seed", "entropy", "out", "results"]
    rows = data["results"]["summary"]
    assert {row["strategy"] for row in rows} == {"rsync-serial", "rsync-parallel-32", "consul-pull"}
    assert len(rows) == 9 and data["seed"] == 7 and data["command"] == "run" and "max_s" in rows[0]


def test_check_validates_with_overrides(root):
    ok = invoke("check", str(root / "scenarios/push_vs_pull.yaml"), "--set", "fleet.hosts=5000")
    assert ok.exit_code == 0 and ": ok: scenario 'push-vs-pull'" in ok.stdout
    bad = invoke("check", str(root / "scenarios/push_vs_pull.yaml"), "--set", "strategies.rsync-serial.parallel=0")
    assert bad.exit_code == 2
    assert "--set strategies.rsync-serial.parallel: must be >= 1 (got 0; allowed >= 1)" in bad.output


def test_bad_input_exits_2_and_writes_nothing(tmp_path):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("version: 1\nname: bad\nfleet: {hosts: 10, zonez: 2}\nartifact: {size: big}\n")
    out = tmp_path / "out"
    result = invoke("run", str(scenario), "--out", str(out))
    assert result.exit_code == 2
    assert f"{scenario}:3:20: fleet.zonez: unknown key; did you mean 'zones'?" in result.output
    assert f"{scenario}:4:18: artifact.size: cannot read 'big'" in result.output
    assert list(tmp_path.iterdir()) == [scenario]


def test_unknown_format_is_refused(root):
    result = invoke("run", str(root / "scenarios/push_vs_pull.yaml"), "--format", "xml")
    assert result.exit_code == 2 and "allowed table, json" in result.output


def test_an_existing_folder_is_kept_unless_overwrite(root, tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    (out / "keep").write_text("x")
    refused = invoke("run", str(root / "scenarios/push_vs_pull.yaml"), "--out", str(out), *SMALL)
    assert refused.exit_code == 2 and "already exists" in refused.output and (out / "keep").exists()
    # --overwrite replaces only a folder deploysim wrote: never one holding a user's file
    kept = invoke("run", str(root / "scenarios/push_vs_pull.yaml"), "--out", str(out), "--overwrite", *SMALL)
    assert kept.exit_code == 2 and "not a results folder written by deploysim" in kept.output
    assert (out / "keep").read_text() == "x"
    ours = tmp_path / "ours"
    assert invoke("run", str(root / "scenarios/push_vs_pull.yaml"), "--out", str(ours), *SMALL).exit_code == 0
    first = ours.stat().st_ino
    replaced = invoke("run", str(root / "scenarios/push_vs_pull.yaml"), "--out", str(ours), "--overwrite", *SMALL)
    assert replaced.exit_code == 0 and ours.stat().st_ino != first  # a new folder renamed into place
    assert (ours / "manifest.json").exists() and not list(tmp_path.glob(".*"))


def test_a_crash_while_writing_leaves_nothing_behind(root, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(plots, "fleet_updated_over_time", boom)
    result = invoke("run", str(root / "scenarios/push_vs_pull.yaml"), "--out", str(tmp_path / "r"), *SMALL)
    assert result.exit_code != 0 and isinstance(result.exception, RuntimeError)
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_leaves_no_partial_folder_and_no_workers(root, tmp_path):
    # A real process, a real SIGINT, mid-run, with a worker pool.
    out = tmp_path / "r"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "run", str(root / "scenarios/push_vs_pull.yaml"), "--out", str(out),
         "--replications", "200", "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True)
    deadline = time.monotonic() + 120
    while not subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True).stdout:  # workers started
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(1)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert list(tmp_path.iterdir()) == []
    children = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True).stdout
    assert children == ""
