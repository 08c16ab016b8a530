"""The sweep's page checked against its results files (read independently: csv, json), and the Pareto figure
(pareto.png and the page's SVG are drawn by one function) checked for what made pareto.png hard to read:
front points hidden behind others, labels on top of each other, lead time without a unit."""

from __future__ import annotations

import csv
import itertools
import json
import math
import shutil
from types import SimpleNamespace

import pandas as pd
import pytest
from matplotlib.text import Annotation

from sim.commands.sweep import plot
from tests.report.conftest import SWEEP, invoke
from tests.report.reading import parse, seconds, self_contained, share, svg_texts, text, verdict_cell_shows

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def rows(folder, name):
    return list(csv.DictReader((folder / name).open()))


def test_the_page_is_one_file_that_needs_no_network(sweep_folder):
    self_contained(sweep_folder / "report.html")  # the Pareto figure inline


def test_the_verdict_of_every_point_matches_acceptance_csv(sweep_folder):
    verdicts = rows(sweep_folder, "acceptance.csv")
    document = parse(sweep_folder / "report.html")
    table = document.find(".//table[@class='verdicts']")
    cells = {(tr.get("data-policy"), td.get("data-criterion")): td
             for tr in table.iter("tr") for td in tr.findall("td") if td.get("data-criterion")}
    assert len(cells) == len(verdicts) == 10 * 3
    for row in verdicts:
        verdict_cell_shows(cells[(row["policy"], row["criterion"])], row)
    points = {r["point"]: r for r in rows(sweep_folder, "sweep.csv")}
    for tr in table.find("tbody").findall("tr"):  # each point's overall status, as sweep.csv has it
        assert points[tr.get("data-policy")]["status"].upper() in text(tr.find("th"))
        assert (tr.get("data-recommended") == "true") == (points[tr.get("data-policy")]["recommended"] == "True")


def test_every_measure_matches_sweep_csv_with_its_population_from_estimates_csv(sweep_folder):
    points = rows(sweep_folder, "sweep.csv")
    estimates = {(r["policy"], r["measure"]): r for r in rows(sweep_folder, "estimates.csv")}
    document = parse(sweep_folder / "report.html")
    table = document.find(".//table[@class='measures']")
    cells = {(tr.get("data-point"), td.get("data-measure")): td for tr in table.iter("tr") for td in tr.findall("td")}
    headers = {text(th.find("code")): text(th) for th in table.find("thead").iter("th") if th.find("code") is not None}
    checked = 0
    for point in points:
        for measure in (c for c in point if f"{c}_low" in point):
            cell = cells[(point["point"], measure)]
            value = float(point[measure]) if point[measure] else math.nan
            assert (math.isnan(value) and cell.get("data-value") == "") or float(cell.get("data-value")) == value
            estimate = estimates[(point["point"], measure)]
            assert text(cell.find(".//span[@class='n']")) == estimate["n"]
            assert f"of {estimate['population']}" in headers[measure]
            shown = text(cell.find(".//span[@class='value']"))
            if estimate["unit"] == "share":
                assert share(shown) == pytest.approx(value, abs=0.0005)
            elif estimate["unit"] == "s" and not math.isnan(value):
                got, rounding = seconds(shown)
                assert abs(got - value) <= rounding + 1e-9
            checked += 1
    assert checked == 10 * len(headers) == 10 * 10  # every point, every measure (no mitigated_within bound here)


def test_the_recommendation_comes_first_in_summary_json_words(sweep_folder):
    summary = json.loads((sweep_folder / "summary.json").read_text())["results"]
    document = parse(sweep_folder / "report.html")
    answer = document.find(".//section[@id='verdict']")
    assert [e for e in document.find("body").iter() if e.get("id")][0] is answer
    sentence = answer.find(".//p[@class='recommendation']")
    assert text(sentence) == " ".join(summary["recommendation"].split())
    assert sentence.get("data-recommended") == summary["recommended"]
    assert summary["recommendation"].startswith(f"adopt #6 {summary['recommended']}")
    assert summary["status"].upper() in text(answer.find(".//p[@class='verdict']"))
    why = text(document.find(".//ul[@class='why']"))
    assert "1 of 10 points pass every criterion, 2 are uncertain, 7 fail one" in why
    assert f"#6 {summary['recommended']}" in why  # the front
    examples = [t for t in document.iter("table") if t.get("data-kind")]
    assert examples and {t.get("data-policy") for t in examples} == {summary["recommended"]}


def test_a_hostile_point_name_is_text_everywhere(sweep_folder, tmp_path):
    """Results files are data: a point's name is escaped in tables, sentences and the figure."""
    folder = tmp_path / "edited"
    shutil.copytree(sweep_folder, folder)
    (folder / "report.html").unlink()
    name = json.loads((folder / "summary.json").read_text())["results"]["recommended"]
    for file in ("sweep.csv", "acceptance.csv", "estimates.csv", "releases.csv", "summary.json"):
        (folder / file).write_text((folder / file).read_text().replace(name, HOSTILE))
    assert invoke("report", folder).exit_code == 0
    raw = (folder / "report.html").read_text(encoding="utf-8")
    assert "<script" not in raw.lower() and "<img src=x" not in raw
    document = parse(folder / "report.html")
    assert HOSTILE in [text(th) for th in document.iter("th")]
    assert HOSTILE in text(document.find(".//p[@class='recommendation']"))
    assert any(HOSTILE in label for label in svg_texts(document))  # the figure's title names the point


def test_report_flag_on_sweep_needs_out(tmp_path):
    (tmp_path / "s.yaml").write_text(SWEEP)
    result = invoke("sweep", tmp_path / "s.yaml", "--report")
    assert result.exit_code == 2 and "--report: needs --out" in result.output


# The Pareto figure, on tables made to be hard to draw: points crowded together, passing points next to
# failing ones, lead times of 1-2 hours.

def crowded(lead: float = 5400.0) -> pd.DataFrame:
    rows = []
    for k in range(16):
        status = ("pass", "uncertain", "fail", "pass")[k % 4]
        value = {"false_rollback_rate": 0.02 + 0.001 * (k % 5), "bad_requests_mean": 200 + 3 * k,
                 "lead_time_good_p50": lead + 30 * (k % 3)}
        row = {"#": k + 1, "point": f"p{k + 1}", "status": status, "pareto": status == "pass" and k % 8 == 0,
               "recommended": k == 0}
        for measure, v in value.items():
            row.update({measure: v, f"{measure}_low": 0.9 * v, f"{measure}_high": 1.1 * v})
        rows.append(row)
    return pd.DataFrame(rows)


def drawn(table: pd.DataFrame):
    run = SimpleNamespace(table=table, loaded=SimpleNamespace(
        scenario=SimpleNamespace(evaluation=SimpleNamespace(confidence=0.95))))
    fig = plot(run)  # pareto.png's figure (not saved without a path)
    fig.canvas.draw()
    return fig


def test_front_points_are_drawn_above_every_other_point():
    fig = drawn(crowded())
    for ax in fig.axes:
        by_kind = {artist.get_gid(): artist.get_zorder() for artist in ax.get_children() if artist.get_gid()}
        assert {"front", "pass", "uncertain", "fail"} <= set(by_kind)
        assert by_kind["front"] > max(by_kind["pass"], by_kind["uncertain"], by_kind["fail"])
        assert by_kind["recommended"] > by_kind["front"]


def test_point_labels_do_not_overlap_and_stay_inside_their_panel():
    fig = drawn(crowded())
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        labels = [t for t in ax.texts if isinstance(t, Annotation)]
        numbers = sorted(int(n) for t in labels for n in t.get_text().split(", "))
        assert numbers == [k + 1 for k in range(16) if k % 4 != 2]  # every point that does not fail, once
        assert len(labels) >= 10  # (points drawn at the same place share a label)
        boxes = [t.get_window_extent(renderer) for t in labels]
        for (a, first), (b, second) in itertools.combinations(zip(labels, boxes), 2):
            assert not first.overlaps(second), (a.get_text(), b.get_text())
        panel = ax.get_window_extent(renderer)
        assert all(panel.x0 <= box.x0 and box.x1 <= panel.x1 and panel.y0 <= box.y0 and box.y1 <= panel.y1
                   for box in boxes)


@pytest.mark.parametrize("lead, unit", [(1.5, "s"), (5400.0, "min"), (6 * 3600.0, "h")])
def test_the_lead_time_axis_names_its_unit_and_plots_in_it(lead, unit):
    fig = drawn(crowded(lead))
    axis = fig.axes[1]
    assert axis.get_ylabel().endswith(f"({unit})")
    size = {"s": 1, "min": 60, "h": 3600}[unit]
    low, high = axis.get_ylim()
    assert low <= lead / size <= high  # the values are in the unit the label names
