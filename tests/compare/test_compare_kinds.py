"""`deploysim compare` on releases, sweeps and bench runs, each checked against the folders' own files:
releases by their outcome distribution (shares with the summary's Wilson intervals; medians bounded by
order statistics, which with 8 releases is the population's [min, max]), sweeps like evaluations with
their points as policies (points only one grid has are kept, the recommendations said), bench runs
value for value from summary.csv with no interval and so never separated."""

from __future__ import annotations

import csv
import json

from tests.compare.test_compare_runs import compare_json

POPULATIONS = {  # the population of each median, as the releases.csv flags define it
    "bad builds": lambda r: r["bad_build"] == "True",
    "detected bad builds that served traffic":
        lambda r: r["bad_build"] == "True" and r["detected"] == "True" and r["served_traffic"] == "True",
}
COLUMNS = {"detection_delay": "detection_delay_s", "time_to_mitigate": "time_to_mitigate_s",
           "peak_bad_share": "peak_bad_share", "bad_requests": "bad_requests"}


def rows_of(folder, name):
    with open(folder / name, newline="") as file:
        return list(csv.DictReader(file))


def test_releases_compare_the_outcome_distribution_with_its_intervals(release_runs):
    a, b = release_runs["seed 8"], release_runs["seed 9"]
    data = compare_json(a, b)
    assert data["kind"] == "run (releases)" and data["changed_settings"] == [{"key": "seed", "a": 8, "b": 9}]
    rows = {(r["subject"], r["at"], r["measure"]): r for r in data["differences"]}
    medians = 0
    for side, folder in (("a", a), ("b", b)):
        releases = rows_of(folder, "releases.csv")
        assert len(releases) == 8
        for item in json.loads((folder / "summary.json").read_text())["results"]["distribution"]:
            if item["kind"] == "share":
                row = rows[("share", item["population"], item["measure"])]
                assert (row[side], row[f"{side}_low"], row[f"{side}_high"], row[f"{side}_n"]) == \
                    (item["value"], item["low"], item["high"], item["count"])
                continue
            row = rows[("median", item["population"], item["measure"])]
            values = [float(r[COLUMNS[item["measure"]]]) for r in releases
                      if POPULATIONS[item["population"]](r) and r[COLUMNS[item["measure"]]] != ""]
            assert len(values) == item["count"] == 8 == row[f"{side}_n"]
            assert row[side] == item["value"]  # the summary's median, not the p5-p95 band
            assert (row[f"{side}_low"], row[f"{side}_high"]) == (min(values), max(values))
            medians += 1
    assert medians == 8  # four medians in each folder
    assert data["separated"] == 0  # two seeds of one scenario


def test_a_share_of_an_empty_population_has_no_value_in_either(release_runs):
    data = compare_json(release_runs["seed 8"], release_runs["seed 9"])  # every build is bad: no good builds
    row = next(r for r in data["differences"] if r["measure"] == "false_rollback")
    assert row["a"] is None and row["b"] is None and row["verdict"] == "no value" and row["a_n"] == 0


def test_sweeps_compare_every_point_like_an_evaluation(sweep_runs):
    a, b = sweep_runs["seed 5"], sweep_runs["seed 6"]
    data = compare_json(a, b)
    assert data["kind"] == "sweep" and data["changed_settings"] == [{"key": "seed", "a": 5, "b": 6}]
    rows = {(r["subject"], r["measure"]): r for r in data["differences"]}
    for side, folder in (("a", a), ("b", b)):
        estimates = rows_of(folder, "estimates.csv")
        assert len(estimates) == len(rows) and len({e["policy"] for e in estimates}) == 10  # every point
        for e in estimates:
            row = rows[(e["policy"], e["measure"])]
            assert row[side] == float(e["value"]) and row[f"{side}_n"] == int(e["n"]) and row["at"] == e["population"]
    statuses = [{(r["policy"], r["criterion"]): r["status"] for r in rows_of(f, "acceptance.csv")} for f in (a, b)]
    changed = {(v["policy"], v["criterion"]): (v["a"], v["b"]) for v in data["acceptance"] if v["a"] != v["b"]}
    assert changed == {key: (statuses[0][key], statuses[1][key]) for key in statuses[0]
                       if statuses[0][key] != statuses[1][key]}
    said = [json.loads((f / "summary.json").read_text())["results"]["recommendation"] for f in (a, b)]
    assert data["notes"][-2:] == [f"A recommends: {said[0]}", f"B recommends: {said[1]}"] or \
        data["notes"][-1] == f"both recommend: {said[0]}"


def test_points_only_one_sweep_has_are_only_in_that_one(sweep_runs):
    data = compare_json(sweep_runs["seed 5"], sweep_runs["one count"])
    assert any(c["key"] == "evaluation.sweep.grid.gates.g.count" for c in data["changed_settings"])
    verdicts = {r["subject"]: r["verdict"] for r in data["differences"]}
    assert {s for s, v in verdicts.items() if v == "only in A"} == {f"max={m}, count=2" for m in
                                                                     ("1.3%", "1.5%", "2%", "3%", "5%")}
    assert "only in B" not in verdicts.values()


def test_bench_runs_compare_summary_values_without_intervals(bench_runs):
    a, b = bench_runs
    data = compare_json(a, b)
    assert data["kind"] == "bench" and data["interval"].startswith("none")
    rows = {(r["subject"], r["measure"]): r for r in data["differences"]}
    summaries = [rows_of(folder, "summary.csv") for folder in (a, b)]
    for side, summary in zip(("a", "b"), summaries):
        for line in summary:
            measured = {c for c in line if c not in ("strategy", "kind", "fleet_hosts") and line[c] != ""}
            assert {"hosts_updated", "p50_s", "max_s", "transfer_mean_s"} <= measured
            for column in line:
                if column in measured:
                    assert rows[(line["strategy"], column)][side] == float(line[column])
                    assert rows[(line["strategy"], column)]["at"] == f"{int(line['fleet_hosts']):,} hosts"
                else:  # not measured for this kind (fan-out is pull's, connection set-up push's): no row
                    assert (line["strategy"], column) not in rows
    slower = rows[("consul-pull", "max_s")]
    assert slower["difference"] == slower["b"] - slower["a"] > 0 and slower["separated"] is None
    assert data["separated"] == 0


def test_bench_html_page_holds_the_same_numbers(bench_runs, tmp_path):
    from tests.compare.conftest import invoke

    page = tmp_path / "bench.html"
    result = invoke("compare", *bench_runs, "--html", page)
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert "a bench run (deploysim bench)" in text and 'data-measure="max_s"' in text


def test_a_bench_folder_and_a_fleet_folder_are_different_kinds(bench_runs, fleet_runs):
    from tests.compare.test_refusals import refused

    refused(bench_runs[0], fleet_runs["seed 1"], "different kinds", "a bench run (deploysim bench)")
