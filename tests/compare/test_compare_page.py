"""`deploysim compare A B --html FILE`: the comparison as one self-contained page that says what the JSON
says (read independently: each row's values and difference, the count of separated measures, the changed
setting), and the file rules of every file deploysim writes beside results (a new file, or with
--overwrite one it wrote; never a file it did not write)."""

from __future__ import annotations

import json
import math

from tests.compare.conftest import invoke
from tests.report.reading import parse, text


def _number(value: str | None) -> float | None:
    return None if value in (None, "") else float(value)


def test_the_page_says_what_the_json_says(fleet_runs, tmp_path):
    page = tmp_path / "compare.html"
    result = invoke("compare", fleet_runs["seed 1"], fleet_runs["slow egress"], "--format", "json", "--html", page)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["results"]
    raw = page.read_text(encoding="utf-8")
    assert raw.startswith("<!DOCTYPE html>\n<!-- written by deploysim report")
    assert "<script" not in raw and "https://" not in raw and "http://" not in raw.replace('"http://www.w3.org/', "")
    document = parse(page)
    verdict = document.find(".//p[@class='verdict']")
    assert int(verdict.get("data-separated")) == data["separated"] > 0
    assert int(verdict.get("data-measures")) == len(data["differences"])
    assert [tr.get("data-key") for tr in document.iter("tr") if tr.get("data-key")] == ["network.deploy_egress"]
    shown = {(tr.get("data-subject"), tr.get("data-at"), tr.get("data-measure")): tr
             for tr in document.iter("tr") if tr.get("data-measure")}
    assert len(shown) == len(data["differences"])
    for row in data["differences"]:
        cells = {td.get("data-key"): td for td in shown[(row["subject"], row["at"], row["measure"])].iter("td")
                 if td.get("data-key")}
        for key in ("a", "b", "difference"):
            value = _number(cells[key].get("data-value"))
            if row[key] is None:
                assert value is None or not math.isfinite(value), (row, key, value)
            else:
                assert value == row[key], (row, key)
        assert text(cells["verdict"]) == row["verdict"]


def test_html_is_written_new_or_over_its_own_page_only(fleet_runs, tmp_path):
    a, b = fleet_runs["seed 1"], fleet_runs["seed 2"]
    page = tmp_path / "c.html"
    assert invoke("compare", a, b, "--html", page).exit_code == 0
    again = invoke("compare", a, b, "--html", page)
    assert again.exit_code == 2 and "already exists" in again.output
    assert invoke("compare", a, b, "--html", page, "--overwrite").exit_code == 0
    theirs = tmp_path / "theirs.html"
    theirs.write_text("<p>someone's page</p>")
    refused = invoke("compare", a, b, "--html", theirs, "--overwrite")
    assert refused.exit_code == 2 and "not written by deploysim" in refused.output
    assert theirs.read_text() == "<p>someone's page</p>"
