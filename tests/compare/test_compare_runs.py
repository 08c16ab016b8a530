"""`deploysim compare` on real folders: runs of the same scenario with different seeds separate on no
measure; a change made on purpose (the deploy host's egress cut 50x) is listed as the changed setting and
separates exactly the measures it should (rsync's times, not pull's); the JSON holds the files' numbers."""

from __future__ import annotations

import csv
import json

from tests.compare.conftest import invoke


def compare_json(a, b) -> dict:
    result = invoke("compare", a, b, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["command"] == "compare" and data["scenario"] is None  # the shape every command prints
    return data["results"]


def test_two_seeds_of_the_same_scenario_separate_on_no_measure(fleet_runs):
    data = compare_json(fleet_runs["seed 1"], fleet_runs["seed 2"])
    assert data["changed_settings"] == [{"key": "seed", "a": 1, "b": 2}]
    rows = data["differences"]
    assert [r for r in rows if r["separated"]] == [] and data["separated"] == 0
    # not vacuous: rsync's times differ between the seeds, and each has an interval that overlaps the other's
    compared = [r for r in rows if r["subject"] == "rsync-2" and r["measure"] == "max_s"]
    assert len(compared) == 2 and all(r["separated"] is False and r["difference"] != 0 for r in compared)
    assert all(r["a_low"] <= r["a"] <= r["a_high"] and r["b_low"] <= r["b"] <= r["b_high"] for r in compared)


def test_a_change_on_purpose_is_listed_and_separates_what_it_slows(fleet_runs):
    data = compare_json(fleet_runs["seed 1"], fleet_runs["slow egress"])
    assert [c["key"] for c in data["changed_settings"]] == ["network.deploy_egress"]
    assert data["changed_settings"][0]["a"] == 125_000_000 and data["changed_settings"][0]["b"] == 2_500_000
    by = {(r["subject"], r["at"], r["measure"]): r for r in data["differences"]}
    for at in ("4 hosts", "30 hosts"):
        slower = by[("rsync-2", at, "max_s")]
        assert slower["separated"] is True and slower["verdict"] == "separated"
        assert slower["difference"] > 0 and slower["b_low"] > slower["a_high"]
        assert by[("pull", at, "max_s")]["separated"] is False  # pull does not go through the deploy host
    assert by[("rsync-2", "at scale", "per_added_host_s")]["separated"] is None  # no interval: never separated


def test_the_table_names_the_change_the_interval_and_readable_units(fleet_runs):
    result = invoke("compare", fleet_runs["seed 1"], fleet_runs["slow egress"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "network.deploy_egress: 125000000.0 -> 2500000.0" in text
    assert f"--set {'network.deploy_egress=20Mbps'}" in text
    assert "interval of the median over replications" in text and "overlap is inconclusive" in text
    assert "separated" in text and " min " in text and " s [" in text  # times in s and min, with intervals
    assert "result: 6 of 19 measures separated" in text


def test_fleet_json_numbers_are_the_summary_numbers(fleet_runs):
    a, b = fleet_runs["seed 1"], fleet_runs["slow egress"]
    data = compare_json(a, b)
    summaries = [json.loads((folder / "summary.json").read_text())["results"] for folder in (a, b)]
    rows = {(r["subject"], r["at"], r["measure"]): r for r in data["differences"]}
    for side, summary in zip(("a", "b"), summaries):
        for row in summary["summary"]:
            for column in ("p50_s", "p95_s", "max_s", "hosts_not_updated"):  # named as in the files
                assert rows[(row["strategy"], f"{row['fleet_hosts']:,} hosts", column)][side] == row[column]
        for name, seconds in summary["per_added_host_s_at_scale"].items():
            assert rows[(name, "at scale", "per_added_host_s")][side] == seconds
    assert data["a"]["path"] == str(a) and data["b"]["overrides"] == ["network.deploy_egress=20Mbps", "seed=1"]


def test_evaluations_compare_estimates_with_their_own_intervals(evaluation_runs):
    a, b = evaluation_runs["seed 5"], evaluation_runs["seed 6"]
    data = compare_json(a, b)
    assert data["kind"] == "evaluate" and data["changed_settings"] == [{"key": "seed", "a": 5, "b": 6}]
    assert "95% interval" in data["interval"]
    rows = {(r["subject"], r["measure"]): r for r in data["differences"]}
    for side, folder in (("a", a), ("b", b)):
        with open(folder / "estimates.csv", newline="") as file:
            estimates = list(csv.DictReader(file))
        assert len(estimates) == len(rows)
        for estimate in estimates:
            row = rows[(estimate["policy"], estimate["measure"])]
            for key, column in ((side, "value"), (f"{side}_low", "low"), (f"{side}_high", "high")):
                assert row[key] == (float(estimate[column]) if estimate[column] else None)
            assert row[f"{side}_n"] == int(estimate["n"])
    judged = {(v["policy"], v["criterion"]) for v in data["acceptance"]}
    assert ("tight", "false_rollback_rate") in judged


def test_evaluation_table_shows_shares_in_percent(evaluation_runs):
    result = invoke("compare", evaluation_runs["seed 5"], evaluation_runs["seed 6"])
    assert result.exit_code == 0, result.output
    assert "false_rollback_rate" in result.stdout and "%" in result.stdout and " pp" in result.stdout
    assert '<script>alert("p")</script>' in result.stdout  # a policy's name prints as itself


def test_sweeps_with_rollbacks_compare_every_point_strategy_and_size(tmp_path):
    """`run --sweep ... --rollback` folders: each row is named `point | strategy`, the deploys' numbers are
    summary.json's with their intervals (6 replications), the rollbacks' are rollback's at 'N hosts,
    rollback' (no interval: rollback.csv keeps no replications)."""
    from tests.compare.conftest import FLEET

    (tmp_path / "fleet.yaml").write_text(FLEET)
    folders = {}
    for name, flags in {"a": ["--seed", 1], "b": ["--seed", 1, "--set", "faults.down=10%"]}.items():
        folders[name] = tmp_path / name
        result = invoke("run", tmp_path / "fleet.yaml", "--out", folders[name], "--workers", "2", "--rollback",
                        "--sweep", "network.deploy_egress=1Gbps,20Mbps", *flags)
        assert result.exit_code == 0, result.output
    data = compare_json(folders["a"], folders["b"])
    rows = {(r["subject"], r["at"], r["measure"]): r for r in data["differences"]}
    for side in ("a", "b"):
        summary = json.loads((folders[side] / "summary.json").read_text())["results"]
        for row in summary["summary"]:
            found = rows[(f"{row['point']} | {row['strategy']}", f"{row['fleet_hosts']:,} hosts", "max_s")]
            assert found[side] == row["max_s"] and found[f"{side}_low"] is not None
        for row in summary["rollback"]:
            found = rows[(f"{row['point']} | {row['strategy']}", f"{row['fleet_hosts']:,} hosts, rollback", "max_s")]
            assert found[side] == row["max_s"] and found[f"{side}_low"] is None
    subjects = {r["subject"] for r in data["differences"]}
    assert subjects == {f"network.deploy_egress={egress} | {who}" for egress in ("1Gbps", "20Mbps")
                        for who in ("rsync-2", "pull", "pull vs rsync-2")}  # each point's strategies and crossover
    assert data["kind"] == "run (sweep)" and [c["key"] for c in data["changed_settings"]] == ["faults.down"]
