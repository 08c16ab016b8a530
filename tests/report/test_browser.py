"""Each kind of report opened in a real browser (Debian's headless Chromium, over the DevTools protocol): it
loads with no console error and asks the network for nothing but the file itself and data: URIs, every
figure (<svg> and <img>) renders with a non-zero size, the file is under 2 MB, the page fits 1280 px without scrolling sideways,
a 1280 px wide screenshot is written to the test's temporary folder, and the sentences a reader comes
for are on the page as rendered, read back against the folder's own files.

A kind is one entry in KINDS: the fixture that writes its results folder (tests/report/conftest.py) and
what its page must show; each shipped scenario is one too (run with fewer replications or releases). Chromium comes from scripts/install-system-deps.sh; without it these tests fail
saying so, unless DEPLOYSIM_SKIP_SYSTEM_TESTS is set (then they are skipped), as the live-Prometheus
tests do.
"""

from __future__ import annotations

import csv
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from tests.report.browser import Chromium, Probe, launch, missing, visit

WIDTH = 1280
PNG = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.skipif(bool(missing()) and "DEPLOYSIM_SKIP_SYSTEM_TESTS" in os.environ,
                                reason=f"DEPLOYSIM_SKIP_SYSTEM_TESTS is set; {missing()}")


@dataclass(frozen=True)
class Expect:
    """Text the page must show inside an element (`probe`), as a reader sees it."""

    probe: Probe
    text: str


@dataclass(frozen=True)
class Kind:
    fixture: str  # writes the results folder, report.html in it
    figures: int  # at least this many <svg> and <img> figures
    expected: Callable[[Path], list[Expect]]  # from the folder's files


def crossovers(folder: Path) -> list[Expect]:
    """Where pull overtakes each push strategy (or why it never does), as summary.json says."""
    found = []
    for c in json.loads((folder / "summary.json").read_text())["results"]["crossovers"]:
        sentence = (f"{c['pull']} vs {c['push']}: {c['note']}" if c["fleet_hosts"] is None
                    else f"{c['pull']} overtakes {c['push']} from about {c['fleet_hosts']:,.0f} hosts")
        found.append(Expect(Probe("p.crossover", {"data-pull": c["pull"], "data-push": c["push"]}), sentence))
    assert found, "the fleet fixture has no crossover to look for"
    return found


def verdicts(folder: Path) -> list[Expect]:
    """The verdict of the whole evaluation, and of each policy on each criterion (acceptance.csv)."""
    status = json.loads((folder / "summary.json").read_text())["results"]["status"]
    found = [Expect(Probe("p.verdict"), f"Verdict: {status.upper()}")]
    with open(folder / "acceptance.csv", newline="") as f:
        for row in csv.DictReader(f):
            found.append(Expect(Probe("td", {"data-policy": row["policy"], "data-criterion": row["criterion"]}),
                                row["status"].upper()))
    return found


def first_decision(folder: Path) -> list[Expect]:
    """What caught the first release's bad build, where, and what was decided (summary.json)."""
    release = json.loads((folder / "summary.json").read_text())["results"]["releases"][0]
    assert release["detected"], "the releases fixture's bad build should be caught"
    return [Expect(Probe("section#answer"), f"caught at {release['detection_stage']} by gate {release['detected_by']}")]


def recommendation(folder: Path) -> list[Expect]:
    """The sweep's recommendation, in summary.json's words, and the verdict of each point (acceptance.csv)."""
    found = [Expect(Probe("section#verdict"), " ".join(json.loads((folder / "summary.json").read_text())
                                                        ["results"]["recommendation"].split()))]
    with open(folder / "acceptance.csv", newline="") as f:
        for row in csv.DictReader(f):
            found.append(Expect(Probe("td", {"data-policy": row["policy"], "data-criterion": row["criterion"]}),
                                row["status"].upper()))
    return found


def fastest_per_point(folder: Path) -> list[Expect]:
    """Per swept point, the strategy whose last host is live first at the largest size (summary.csv)."""
    with open(folder / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    largest = max(int(r["fleet_hosts"]) for r in rows)
    found = []
    for point in dict.fromkeys(r["point"] for r in rows):
        fastest = min((r for r in rows if r["point"] == point and int(r["fleet_hosts"]) == largest),
                      key=lambda r: float(r["max_s"]))
        found.append(Expect(Probe("p.point", {"data-point": point}), f"the last host runs the new build after "
                                                                     f"{fastest['strategy']}"))
    return found


def worst_errors(folder: Path) -> list[Expect]:
    """The worst error of the last host's time on all runs (validation.json), as the answer states it."""
    worst = json.loads((folder / "validation.json").read_text())["results"]["worst_max_error_pct"]
    return [Expect(Probe("p.worst"), f"off by at most {worst:.1f}%")]


def bench_deploys(folder: Path) -> list[Expect]:
    """Each strategy's sentence: how many hosts it updated (summary.csv)."""
    with open(folder / "summary.csv", newline="") as f:
        return [Expect(Probe("p.deploy", {"data-strategy": row["strategy"]}),
                       f"updated {row['hosts_updated']} of {row['fleet_hosts']} hosts") for row in csv.DictReader(f)]


KINDS = {
    "fleet": Kind("fleet_folder", figures=2, expected=crossovers),
    "releases": Kind("releases_folder", figures=1, expected=first_decision),
    "fleet sweep": Kind("fleet_sweep_folder", figures=2, expected=fastest_per_point),
    "evaluation": Kind("evaluation_folder", figures=2, expected=verdicts),
    "sweep": Kind("sweep_folder", figures=1, expected=recommendation),
    "bench": Kind("bench_folder", figures=1, expected=bench_deploys),
    "validation": Kind("validation_folder", figures=1, expected=worst_errors),
    # the shipped scenarios (fewer replications or releases: tests/report/conftest.py)
    "shipped fleet": Kind("shipped_fleet_folder", figures=2, expected=crossovers),
    "shipped p2p": Kind("shipped_p2p_folder", figures=2, expected=crossovers),
    "shipped releases": Kind("shipped_releases_folder", figures=1, expected=first_decision),
    "shipped evaluation": Kind("shipped_evaluation_folder", figures=2, expected=verdicts),
    "shipped controllers": Kind("shipped_controllers_folder", figures=2, expected=verdicts),
    "shipped sweep": Kind("shipped_sweep_folder", figures=1, expected=recommendation),
}


@pytest.fixture
def browser(tmp_path) -> Chromium:
    if why := missing():
        pytest.fail(why)
    with launch(tmp_path) as chromium:  # killed with its whole process group, also when the test fails
        yield chromium


@pytest.mark.parametrize("name", KINDS)
def test_the_report_renders_in_a_real_browser(request, name, browser, tmp_path):
    kind = KINDS[name]
    folder = request.getfixturevalue(kind.fixture)
    expected = kind.expected(folder)
    assert (folder / "report.html").stat().st_size < 2 * 2**20  # the bound, for the shipped scenarios too
    page = visit(browser, folder / "report.html", [e.probe for e in expected], width=WIDTH)  # each call times out

    assert page.console_errors == [], page.console_errors
    assert page.foreign_requests() == [], page.foreign_requests()
    assert page.url in page.requests
    assert len(page.figures) >= kind.figures, page.figures
    for figure in page.figures:
        assert figure["loaded"], figure
        assert min(figure["width"], figure["height"], figure["content_width"], figure["content_height"]) > 0, figure
    assert page.page_width <= WIDTH, f"the page scrolls sideways at {WIDTH} px: {page.page_width} px wide"
    for expect, shown in zip(expected, page.probed):
        assert shown is not None, f"nothing on the page matches {expect.probe}"
        assert expect.text in " ".join(shown.split()), (expect.text, shown)

    shot = tmp_path / f"report-{name.replace(' ', '-')}.png"
    shot.write_bytes(page.screenshot)
    assert page.screenshot.startswith(PNG) and shot.stat().st_size > 0
    width, height = struct.unpack(">II", page.screenshot[16:24])  # the IHDR chunk
    assert width == WIDTH and height > 0, (width, height)
