"""What the pages show, checked against the results files read independently (json, csv), and how they
are built: one file that needs no network, under 2 MB, every name from a scenario or file escaped."""

from __future__ import annotations

import csv
import json
import math
import shutil

import pytest

from sim.cli import app  # noqa: F401  (the commands register on import)
from tests.report.conftest import POLICY, invoke
from tests.report.reading import parse, plain, seconds, self_contained, share, svg_texts, text, verdict_cell_shows


@pytest.mark.parametrize("kind", ["fleet_folder", "evaluation_folder", "fleet_sweep_folder"])
def test_the_page_is_one_file_that_needs_no_network(request, kind):
    document = self_contained(request.getfixturevalue(kind) / "report.html")
    assert all(img.get("src", "").startswith("data:image/png;base64,") for img in document.iter("img"))
    assert "@media print" in " ".join(text(s) for s in document.iter("style"))


def test_the_fleet_table_shows_summary_json(fleet_folder):
    rows = json.loads((fleet_folder / "summary.json").read_text())["results"]["summary"]
    document = parse(fleet_folder / "report.html")
    shown = {}
    for group in document.iter("tbody"):
        if group.get("data-strategy"):
            for tr in group.findall("tr")[1:]:
                cells = {td.get("data-key"): td for td in tr.findall("td")}
                shown[(group.get("data-strategy"), float(cells["fleet_size"].get("data-value")))] = cells
    assert len(shown) == len(rows) == 8
    for row in rows:
        cells = shown[(row["strategy"], float(row["fleet_hosts"]))]
        assert int(text(cells["fleet_size"]).replace(",", "")) == row["fleet_hosts"]
        for key in ("p50", "p95", "max"):
            assert float(cells[key].get("data-value")) == row[f"{key}_s"]
            value, rounding = seconds(text(cells[key]))
            assert abs(value - row[f"{key}_s"]) <= rounding + 1e-9, (key, text(cells[key]), row[f"{key}_s"])
        low, high = text(cells["band"]).split(" – ")
        assert abs(seconds(low)[0] - row["max_p5_s"]) <= seconds(low)[1] + 1e-9
        assert abs(seconds(high)[0] - row["max_p95_s"]) <= seconds(high)[1] + 1e-9
        assert plain(text(cells["not_updated"]))[0] == pytest.approx(row["hosts_not_updated"], abs=0.05)
        if row["per_added_host_s"] is None:
            assert text(cells["s_per_host"]) == "-"
        else:
            assert float(text(cells["s_per_host"]).removesuffix(" s")) == pytest.approx(row["per_added_host_s"],
                                                                                        rel=0.05)
        assert float(cells["bottleneck"].get("data-value")) == row["bound_s"]
        assert text(cells["bottleneck"]).startswith(f"{row['bottleneck']} (≥ ")


def test_the_answer_comes_first_and_matches_crossover_csv_and_the_cost_per_server(fleet_folder):
    crossings = list(csv.DictReader((fleet_folder / "crossover.csv").open()))
    slopes = json.loads((fleet_folder / "summary.json").read_text())["results"]["per_added_host_s_at_scale"]
    document = parse(fleet_folder / "report.html")
    answer = document.find(".//section[@id='answer']")
    body = [e for e in document.find("body").iter() if e.get("id")]
    assert body[0] is answer  # before every figure and table
    shown = {(p.get("data-pull"), p.get("data-push")): p for p in answer.iter("p") if p.get("data-pull")}
    assert len(shown) == len(crossings) == 1
    for crossing in crossings:
        paragraph = shown[(crossing["pull"], crossing["push"])]
        assert float(paragraph.get("data-hosts")) == float(crossing["fleet_hosts"])
        assert f"overtakes {crossing['push']} from about {float(crossing['fleet_hosts']):,.0f} hosts" in text(paragraph)
        assert crossing["note"] in text(paragraph)
    costs = {span.get("data-strategy"): span for span in answer.iter("span") if "cost" in span.get("class", "")}
    assert set(costs) == set(slopes)
    for name, slope in slopes.items():
        assert float(costs[name].get("data-value")) == slope
        assert float(text(costs[name]).partition(" s ")[0]) == pytest.approx(slope, rel=0.05)
    labels = svg_texts(document)
    assert any(label.startswith("fleet size (hosts") for label in labels)
    assert any(f"from ≈{float(crossings[0]['fleet_hosts']):,.0f} hosts" in label for label in labels)
    assert {"10 s", "1 min"} <= set(labels)  # the time axis in readable units


def test_the_verdicts_match_acceptance_csv(evaluation_folder):
    rows = list(csv.DictReader((evaluation_folder / "acceptance.csv").open()))
    document = parse(evaluation_folder / "report.html")
    table = document.find(".//table[@class='verdicts']")
    cells = {(tr.get("data-policy"), td.get("data-criterion")): td
             for tr in table.iter("tr") for td in tr.findall("td")}
    assert len(rows) == 6 and len(cells) == 6
    for row in rows:
        verdict_cell_shows(cells[(row["policy"], row["criterion"])], row)
    status = json.loads((evaluation_folder / "summary.json").read_text())["results"]["status"]
    assert status.upper() in text(document.find(".//p[@class='verdict']"))


def test_every_measure_matches_estimates_csv(evaluation_folder):
    rows = list(csv.DictReader((evaluation_folder / "estimates.csv").open()))
    document = parse(evaluation_folder / "report.html")
    cells = {(tr.get("data-measure"), td.get("data-policy")): td
             for tr in document.find(".//table[@class='measures']").iter("tr") for td in tr.findall("td")}
    for row in rows:
        cell = cells[(row["measure"], row["policy"])]
        value = float(row["value"]) if row["value"] else math.nan
        assert (math.isnan(value) and cell.get("data-value") == "") or float(cell.get("data-value")) == value
        assert text(cell.find(".//span[@class='n']")) == row["n"]
        shown = text(cell.find(".//span[@class='value']"))
        if math.isnan(value):
            assert shown == "-"
        elif row["unit"] == "share":
            assert share(shown) == pytest.approx(value, abs=0.0005)
        elif row["unit"] == "s":
            got, rounding = seconds(shown)
            assert abs(got - value) <= rounding + 1e-9
        else:
            got, rounding = plain(shown)
            assert abs(got - value) <= rounding + 1e-9


def test_examples_show_releases_of_each_kind_from_releases_csv(evaluation_folder):
    releases = list(csv.DictReader((evaluation_folder / "releases.csv").open()))
    document = parse(evaluation_folder / "report.html")
    tables = {(t.get("data-policy"), t.get("data-kind")): t for t in document.iter("table") if t.get("data-kind")}
    false_rollbacks = [r for r in releases if r["policy"] == "tight" and r["false_rollback"] == "True"]
    assert false_rollbacks  # the tight policy rolls good builds back
    shown = [text(tr.find("td")) for tr in tables[("tight", "false rollback")].find("tbody").findall("tr")]
    assert shown == [r["replication"] for r in false_rollbacks[:3]]
    assert "no decisions.csv" in text(document.find("body"))


def test_a_hostile_policy_name_is_text_everywhere(evaluation_folder):
    raw = (evaluation_folder / "report.html").read_text(encoding="utf-8")
    assert "<script" not in raw.lower()
    document = parse(evaluation_folder / "report.html")
    assert POLICY in [text(th) for th in document.iter("th")]
    assert POLICY in svg_texts(document)


def test_hostile_names_in_results_files_are_escaped(fleet_folder, tmp_path):
    """Results files are data, whoever wrote them: names are escaped even where the scenario format would
    refuse them."""
    folder = tmp_path / "edited"
    shutil.copytree(fleet_folder, folder)
    (folder / "report.html").unlink()
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["effective_scenario"]["name"] = hostile
    manifest["argv"].append(hostile)
    manifest["scenario"]["source"] = hostile  # (not found: the parameters are listed without their sources)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    data = json.loads((folder / "summary.json").read_text())
    summary = data["results"]
    for row in summary["summary"] + summary["crossovers"]:
        for key in ("strategy", "push", "note"):
            if row.get(key) == "rsync-2" or key == "note":
                row[key] = hostile
    summary["per_added_host_s_at_scale"][hostile] = summary["per_added_host_s_at_scale"].pop("rsync-2")
    (folder / "summary.json").write_text(json.dumps(data))
    assert invoke("report", folder).exit_code == 0
    raw = (folder / "report.html").read_text(encoding="utf-8")
    assert "<script" not in raw.lower() and "<img src=x" not in raw
    document = parse(folder / "report.html")
    assert text(document.find(".//h1")) == hostile
    assert hostile in svg_texts(document)
    assert all(not img.get("onerror") for img in document.iter("img"))
    assert "not found from here" in text(document.find("body"))


def test_parameters_cite_the_comment_on_their_line(fleet_folder):
    document = parse(fleet_folder / "report.html")
    rows = {text(tr.find("td")): [text(td) for td in tr.findall("td")[1:]]
            for tr in document.find(".//table[@class='parameters']").iter("tr") if tr.find("td") is not None}
    assert rows["artifact.size"] == ["20MB", "source: a small artifact"]
    assert rows["strategies.pull.publish"] == ["5s", "source: a guess for the test"]
    assert rows["faults.retries"][1] == "default"


def test_a_fleet_sweep_page_answers_per_point_from_summary_csv(fleet_sweep_folder):
    rows = list(csv.DictReader((fleet_sweep_folder / "summary.csv").open()))
    largest = max(int(r["fleet_hosts"]) for r in rows)
    document = parse(fleet_sweep_folder / "report.html")
    points = {p.get("data-point"): p for p in document.iter("p") if p.get("class") == "point"}
    assert list(points) == list(dict.fromkeys(r["point"] for r in rows))  # every point, in the run's order
    for point, shown in points.items():
        at = sorted((r for r in rows if r["point"] == point and int(r["fleet_hosts"]) == largest),
                    key=lambda r: float(r["max_s"]))
        assert shown.get("data-fastest") == at[0]["strategy"]
        assert float(shown.get("data-max")) == pytest.approx(float(at[0]["max_s"]), rel=1e-9)  # json: 10 digits
    cells = {(tr.get("data-point"), tr.get("data-strategy")): float(td.get("data-value"))
             for tr in document.iter("tr") for td in tr if td.get("data-key") == "max"}
    assert cells == pytest.approx({(r["point"], r["strategy"]): float(r["max_s"]) for r in rows
                                   if int(r["fleet_hosts"]) == largest}, rel=1e-9)
    assert len(document.findall(".//figure//*[@viewBox]")) == 2  # an SVG figure per swept key
