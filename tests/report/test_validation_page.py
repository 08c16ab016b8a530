"""The page of a model validation, checked against its files read independently: the worst errors
(validation.json), every row's measured and predicted times and error (validation.csv), and which runs the
calibration was fitted on (the role column)."""

from __future__ import annotations

import csv
import json

from tests.report.reading import parse, self_contained, text


def test_the_page_is_one_file_that_needs_no_network(validation_folder):
    self_contained(validation_folder / "report.html")


def test_the_answer_states_the_worst_errors_of_validation_json(validation_folder):
    worst = json.loads((validation_folder / "validation.json").read_text())["results"]
    answer = parse(validation_folder / "report.html").find(".//p[@class='worst']")
    for key in ("worst_max_error_pct", "worst_max_error_pct_held_out", "worst_p50_error_pct"):
        assert float(answer.get("data-" + key.replace("_", "-"))) == worst[key]
        assert f"{worst[key]:.1f}%" in text(answer)


def test_every_row_shows_validation_csv_and_its_role(validation_folder):
    with open(validation_folder / "validation.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    document = parse(validation_folder / "report.html")
    shown = [tr for tr in document.iter("tr") if tr.get("data-strategy")]
    assert len(shown) == len(rows) == 6
    for row, tr in zip(rows, shown):
        assert (tr.get("data-strategy"), tr.get("data-role")) == (row["strategy"], row["role"])
        cells = {td.get("data-key"): td for td in tr.iter("td") if td.get("data-key")}
        assert int(cells["hosts"].get("data-value")) == int(row["fleet_hosts"])
        for q in ("p50", "p95", "max"):
            for what in ("measured", "predicted"):
                assert float(cells[f"{q}_{what}"].get("data-value")) == float(row[f"{q}_{what}_s"])
            error = float(row[f"{q}_error_pct"])
            assert float(cells[f"{q}_err_pct"].get("data-value")) == error
            assert text(cells[f"{q}_err_pct"]) == f"{error:+.0f}%"
    fitted = {span.get("data-role"): text(span) for span in document.iter("span") if span.get("data-role")}
    assert fitted == {"fit": next(r["run"] for r in rows if r["role"] == "fit"),
                      "held-out": next(r["run"] for r in rows if r["role"] == "held-out")}
