"""The command line speaks in flags: bad values name the flag as typed, help shows types and choices,
`--version` exists, and whatever the user wrote (file names, keys, values, paths) prints literally."""

import re

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app

runner = CliRunner()
PVP = "scenarios/push_vs_pull.yaml"
POLICIES = "scenarios/threshold_policies.yaml"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("command, scenario, flags, lines", [
    ("run", PVP, ["--replications", "-3"], ["--replications: must be >= 1 (got -3; allowed >= 1)"]),
    ("run", PVP, ["-r", "0"], ["--replications: must be >= 1 (got 0; allowed >= 1)"]),
    ("run", PVP, ["--workers", "0"], ["--workers: must be >= 1 (got 0; allowed >= 1)"]),
    ("run", PVP, ["-j", "-2"], ["--workers: must be >= 1 (got -2; allowed >= 1)"]),
    ("run", PVP, ["--seed", "-1"], ["--seed: must be >= 0 (got -1; allowed >= 0)"]),
    ("run", PVP, ["--format", "xml"], ["--format: not one of the choices (got 'xml'; allowed table, json)"]),
    ("evaluate", POLICIES, ["--releases", "0"], ["--releases: must be >= 1 (got 0; allowed >= 1)"]),
    ("evaluate", POLICIES, ["--executor", "threads"],
     ["--executor: not one of the choices (got 'threads'; allowed local, dask)"]),
    ("sweep", POLICIES, ["-n", "-5"], ["--releases: must be >= 1 (got -5; allowed >= 1)"]),
    ("run", PVP, ["--executor", "threads"], ["--executor: not one of the choices (got 'threads'; allowed local, dask)"]),
    ("sweep", POLICIES, ["--executor", "ray"], ["--executor: not one of the choices (got 'ray'; allowed local, dask)"]),
    ("run", PVP, ["--executor", "dask"],
     ["--scheduler: needed with --executor dask: the address of an existing Dask scheduler (allowed tcp://HOST:PORT)"]),
    ("run", PVP, ["--replications", "-3", "--workers", "0", "--seed", "-1"],  # every problem at once
     ["--replications: must be >= 1 (got -3; allowed >= 1)", "--seed: must be >= 0 (got -1; allowed >= 0)",
      "--workers: must be >= 1 (got 0; allowed >= 1)"]),
])
def test_bad_flag_values_name_the_flag_and_exit_2(root, tmp_path, command, scenario, flags, lines):
    result = invoke(command, root / scenario, "--out", tmp_path / "r", *flags)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == lines
    assert "--set" not in result.stderr and list(tmp_path.iterdir()) == []


def test_flag_problems_and_an_out_problem_come_together(root, tmp_path):
    (tmp_path / "afile").write_text("x")
    result = invoke("run", root / PVP, "--workers", "0", "--out", tmp_path / "afile")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "--workers: must be >= 1 (got 0; allowed >= 1)",
        f"--out {tmp_path / 'afile'}: is a file, not a results folder; deploysim never replaces a file"]


def test_good_flag_values_still_run(root):
    result = invoke("run", root / PVP, "--set", "fleet.sizes=[10]", "-r", "1", "--seed", "0", "-j", "1",
                    "--format", "json")
    assert result.exit_code == 0, result.output


def test_version_prints_the_tool_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout == f"deploysim {sim.__version__}\n"


@pytest.mark.parametrize("args, shown", [
    (["run", "--help"], ["--format <table|json>", "--out <folder>", "--replications <int>", "--set <key=value>",
                         "--overwrite "]),
    (["evaluate", "--help"], ["--format <table|json>", "--executor <local|dask>", "--releases <int>",
                              "--scheduler <tcp://host:port>"]),
    (["sweep", "--help"], ["--format <table|json>", "--releases <int>"]),
    (["check", "--help"], ["--set <key=value>"]),
    (["schema", "--help"], ["--markdown "]),
    (["--help"], ["--version "]),
    (["bench", "--help"], ["run ", "clean ", "check "]),
    (["bench", "run", "--help"], ["--format <table|json|csv>", "--transport <ssh|daemon|both>", "--servers <1|3>",
                                  "--hosts <int>", "--out <folder>"]),
])
def test_help_shows_types_and_choices_and_no_placeholders(args, shown):
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    for text in shown:
        assert text in result.stdout, (text, result.stdout)
    assert "<bool>" not in result.stdout and "<str>" not in re.sub(r"\n\s*", " ", result.stdout.split("Options:")[-1])


def test_file_names_keys_and_values_print_literally(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scenario = tmp_path / "a:100:b.yaml"
    scenario.write_text("version: 1\nname: x\nfleet:\n  hosts: 10\n\n\n  zonez: 2\n")
    for command in ("check", "run"):
        result = invoke(command, "a:100:b.yaml", "--set", 'artifact.size="big:smile:"')
        assert result.exit_code == 2
        assert "a:100:b.yaml:7:3: fleet.zonez: unknown key; did you mean 'zones'?" in result.stderr
        assert "big:smile:" in result.stderr and "\N{HUNDRED POINTS SYMBOL}" not in result.stderr
        assert "\N{SMILING FACE WITH SMILING EYES}" not in result.stderr and "\N{GRINNING FACE}" not in result.stderr


def test_a_results_path_with_emoji_codes_prints_literally(root, tmp_path):
    out = tmp_path / "r:100:x"
    result = invoke("run", root / PVP, "--out", out, "--set", "fleet.sizes=[10]", "-r", "1", "--seed", "1", "-j", "1")
    assert result.exit_code == 0, result.output
    assert f"results written to {out}/" in result.stdout.replace("\n", "")


def test_bench_run_checks_its_flags_and_out_before_starting_a_fleet(tmp_path):
    notes = tmp_path / "mine"
    notes.mkdir()
    (notes / "notes.txt").write_text("x")
    result = invoke("bench", "run", "--hosts", "0", "--servers", "2", "--transport", "udp", "--format", "xml",
                    "--out", notes, "--overwrite")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "--hosts: must be >= 1 (got 0; allowed >= 1)",
        "--servers: not one of the choices (got 2; allowed 1, 3)",
        "--transport: not one of the choices (got 'udp'; allowed ssh, daemon, both)",
        "--format: not one of the choices (got 'xml'; allowed table, json, csv)",
        f"--out {notes}: is not a results folder written by deploysim (no manifest.json of its own listing its "
        "files); deploysim replaces only a folder it wrote, holding nothing else"]
    assert (notes / "notes.txt").read_text() == "x"
