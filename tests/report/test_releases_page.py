"""The page of releases through a pipeline, checked against its results files read independently (json,
csv), and the run's own timeline.png: its events told apart and its stages named.

One tiny release, run once per module by the real command (`run --report`): a bad build that a gate named
`<b>x</b>` (a gate's name is free text) catches at 20% and rolls back, so the page has a decision, a
rollback and an escaped name to show.
"""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from sim.commands.run import run
from sim.report import timeline_figure
from sim.results import columns
from sim.results.release_marks import EVENTS
from sim.rollout.timeline import timeline
from tests.report.conftest import GATE, invoke
from tests.report.reading import parse, plain, seconds, self_contained, share, svg_texts, text


@pytest.fixture(scope="module")
def scenario(releases_folder):
    return releases_folder.parent / "release.yaml"


@pytest.fixture(scope="module")
def folder(releases_folder):
    return releases_folder


def _csv(path):
    """The rows of a file of the folder, by the in-memory names the report uses (`sim.results.columns`)."""
    with path.open(newline="") as handle:
        return [columns.from_file(row, columns.table("run (releases)", path.name)) for row in csv.DictReader(handle)]


def _keyed(element) -> dict:
    return {e.get("data-key"): e for e in element.iter() if e.get("data-key")}


def test_the_page_is_one_file_that_needs_no_network(folder):
    self_contained(folder / "report.html")  # the timeline inline


def test_the_answer_comes_first_and_says_what_summary_json_and_decisions_csv_say(folder):
    release = columns.from_file(json.loads((folder / "summary.json").read_text())["results"]["releases"][0],
                                columns.RELEASES)
    decision = _csv(folder / "decisions.csv")[0]
    document = parse(folder / "report.html")
    answer = document.find(".//section[@id='answer']")
    assert [e for e in document.find("body").iter() if e.get("id")][0] is answer
    shown = _keyed(answer)
    assert release["bad_build"] and release["detected"]  # the scenario's point: the sentences below say so
    assert "The bad build was caught at 20% by gate <b>x</b>" in text(answer)
    for key in ("detection_stage", "detected_by", "outcome"):
        assert shown[key].get("data-value") == str(release[key])
    for key in ("detection_time", "detection_delay", "bad_requests", "peak_bad_share"):
        assert float(shown[key].get("data-value")) == release[key]
    for key in ("detection_time", "detection_delay"):
        value, rounding = seconds(text(shown[key]))
        assert abs(value - release[key]) <= rounding + 1e-9
    assert plain(text(shown["bad_requests"]))[0] == pytest.approx(release["bad_requests"], abs=0.5)
    assert share(text(shown["peak_bad_share"])) == pytest.approx(release["peak_bad_share"], abs=5e-5)
    assert shown["action"].get("data-value") == decision["action"] == "rollback"
    assert "rolled back at 20%" in text(answer)
    population = answer.find(".//p[@class='population']")
    assert population.get("data-releases") == "1" and population.get("data-bad") == "1"


def test_each_decision_row_shows_decisions_csv_and_who_acted(folder):
    rows = _csv(folder / "decisions.csv")
    stages = _csv(folder / "stages.csv")
    shown = [tr for tr in parse(folder / "report.html").iter("tr") if tr.get("class") == "decision"]
    assert len(shown) == len(rows) == 1
    for tr, row in zip(shown, rows):
        cells = _keyed(tr)
        for key, value in row.items():
            if key != "replication":
                assert cells[key].get("data-value") == value, key
        assert abs(seconds(text(cells["time"]))[0] - float(row["time"])) <= seconds(text(cells["time"]))[1] + 1e-9
        assert share(text(cells["value"])) == pytest.approx(float(row["value"]), abs=5e-5)
        assert "max 3.00%" in text(cells["threshold"]) and "1 min" in text(cells["window"])
        acted = [span for span in cells["acted"].iter("span")]
        rollbacks = {s["event"]: s["time"] for s in stages if s["event"] in ("rollback", "rolled-back")}
        assert [(a.get("data-who"), a.get("data-value")) for a in acted] == [
            (f"gate {GATE}", rollbacks["rollback"]), (f"gate {GATE}", rollbacks["rolled-back"])]


def test_the_distribution_shows_summary_json_with_its_population(folder):
    distribution = json.loads((folder / "summary.json").read_text())["results"]["distribution"]
    shown = {tr.get("data-measure"): _keyed(tr) for tr in parse(folder / "report.html").iter("tr")
             if tr.get("data-measure")}
    assert set(shown) == {row["measure"] for row in distribution}
    for row in distribution:
        cells = shown[row["measure"]]
        assert int(cells["count"].get("data-value")) == row["count"]
        assert row["population"] in text(cells["count"])
        assert cells["value"].get("data-value") == ("" if row["value"] is None else repr(row["value"]))


def test_names_from_the_scenario_and_files_are_escaped(folder, tmp_path):
    """The gate's name comes from the scenario; a stage's is put into the files (stages are tiers or
    percentages in a scenario, but the page must not trust a file either)."""
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    for name in ("stages.csv", "decisions.csv"):
        path = copy / name
        path.write_text(path.read_text().replace(",20%,", ",<i>y</i>,"))
    assert invoke("report", copy).exit_code == 0
    for page in (folder / "report.html", copy / "report.html"):
        raw = page.read_text(encoding="utf-8")
        assert GATE not in raw and "<i>y</i>" not in raw
        document = parse(page)
        assert not list(document.find("body").iter("b")) and not list(document.find("body").iter("i"))
        assert GATE in text(document.find("body"))
    document = parse(copy / "report.html")
    assert "<i>y</i>" in svg_texts(document)  # the stage label in the figure, as text
    assert any(e.get("data-value") == "<i>y</i>" for e in document.iter("td"))


@pytest.fixture(scope="module")
def release(scenario):
    """The same release, in process: its records and scenario, as the command draws timeline.png."""
    result = run(str(scenario), workers=1, progress=False)
    return result.results[0], result.loaded.scenario


def test_timeline_png_tells_rollback_events_apart_and_names_every_stage(release):
    result, scenario = release
    fig = timeline(result, scenario)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert EVENTS["rollback"].label in legend and EVENTS["rolled-back"].label in legend
    handles = {h.get_label(): h for h in fig.legends[0].legend_handles}
    started, done = handles[EVENTS["rollback"].label], handles[EVENTS["rolled-back"].label]
    assert (started.get_color(), started.get_marker()) != (done.get_color(), done.get_marker())
    assert started.get_marker() != done.get_marker() and started.get_color() != done.get_color()
    texts = {t.get_text().strip() for ax in fig.axes for t in ax.texts}
    assert {"dogfood", "20%"} <= texts  # each stage named where it begins
    _no_overlap(fig)


def test_the_threshold_label_is_clear_of_the_legend(release):
    fig = timeline(*release)
    renderer = fig.canvas.get_renderer()
    legend = fig.legends[0].get_window_extent(renderer)
    labels = [t for ax in fig.axes for t in ax.texts if t.get_text().startswith(GATE)]
    assert labels and not any(t.get_window_extent(renderer).overlaps(legend) for t in labels)


def test_the_report_timeline_names_every_stage_without_overlap(folder):
    own = [_csv(folder / name) for name in ("stages.csv", "metrics.csv", "decisions.csv")]
    gates = json.loads((folder / "manifest.json").read_text())["effective_scenario"]["gates"]
    fig = timeline_figure.draw(*own, gates)
    texts = {t.get_text().strip() for ax in fig.axes for t in ax.texts}
    assert {"dogfood", "20%"} <= texts
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert EVENTS["rollback"].label in legend and EVENTS["rolled-back"].label in legend
    _no_overlap(fig)


def _no_overlap(fig) -> None:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for ax in fig.axes for t in ax.texts if t.get_text().strip()]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), (a, b)
