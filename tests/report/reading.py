"""Reading a report back as a browser would parse it (html5lib), and the numbers it shows as a reader
would read them: an independent parser of the page's units, not the report's own formatting code."""

from __future__ import annotations

import re
from pathlib import Path

import html5lib

SVG = "{http://www.w3.org/2000/svg}"
UNITS = {"ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400}


def parse(path: Path):
    return html5lib.parse(path.read_bytes(), namespaceHTMLElements=False)


def text(element) -> str:
    return " ".join("".join(element.itertext()).split())


def seconds(shown: str) -> tuple[float, float]:
    """'1 h 22 min' -> (4920, 30): the seconds a reader reads, and half the last unit shown (the rounding)."""
    parts = re.findall(r"(-?\d+(?:\.\d+)?) (ms|min|s|h|d)\b", shown)
    assert parts, f"no duration in {shown!r}"
    total = sum(float(number) * UNITS[unit] for number, unit in parts)
    number, unit = parts[-1]
    decimals = len(number.partition(".")[2])
    return total, 0.5 * UNITS[unit] * 10.0 ** -decimals


def share(shown: str) -> float:
    match = re.search(r"(-?\d+(?:\.\d+)?)%", shown)
    assert match, f"no share in {shown!r}"
    return float(match.group(1)) / 100


def plain(shown: str) -> tuple[float, float]:
    """'1,059' -> (1059, 0.5); '5.2' -> (5.2, 0.05)."""
    match = re.search(r"-?[\d,]+(?:\.\d+)?", shown)
    assert match, f"no number in {shown!r}"
    number = match.group(0).replace(",", "")
    return float(number), 0.5 * 10.0 ** -len(number.partition(".")[2])


def svg_texts(document) -> list[str]:
    return [text(t) for t in document.iter(f"{SVG}text")]


LINKING = ("src", "href", "action", "formaction", "poster", "background", "data")
LIMIT = 2 * 2**20  # the bound on a page's size


def self_contained(page: Path):
    """Check that the page at `page` is deploysim's, under LIMIT, and needs nothing outside itself: no
    script, link, frame or embedded object, no attribute that loads anything but data: URIs or in-page
    anchors, no event handler, no stylesheet import or url(), and at least one inline SVG figure.
    Returns the parsed document."""
    assert page.stat().st_size < LIMIT
    raw = page.read_text(encoding="utf-8")
    assert raw.startswith("<!DOCTYPE html>\n<!-- written by deploysim report")
    assert "https://" not in raw and "http://" not in raw.replace('"http://www.w3.org/', "")
    document = parse(page)
    for element in document.iter():
        tag = str(element.tag).rpartition("}")[2]
        assert tag not in ("script", "link", "iframe", "object", "embed", "base"), tag
        for name, value in element.attrib.items():
            local = name.rpartition("}")[2]
            if local in LINKING:
                assert value.startswith(("data:", "#")), (tag, name, value[:80])
            assert not local.startswith("on"), (tag, name)
    styles = " ".join(text(s) for s in document.iter("style"))
    assert "@import" not in styles and "url(" not in styles
    assert document.find(".//figure//*[@viewBox]") is not None  # an inline SVG figure
    return document


def verdict_cell_shows(cell, row: dict) -> None:
    """Check that a verdict cell of the page shows its acceptance.csv row: the status, the estimate (in
    data-value and as a share to 0.05 points), the population and its size, and the interval's ends."""
    assert cell.get("data-status") == row["status"] and row["status"].upper() in text(cell)
    assert float(cell.get("data-value")) == float(row["estimate"])
    assert abs(share(text(cell)) - float(row["estimate"])) <= 0.0005
    assert text(cell.find(".//span[@class='n']")) == row["n"] and row["population"] in text(cell)
    low, high = text(cell.find(".//span[@class='interval']")).strip("[]").split(" – ")
    assert abs(share(low) - float(row["low"])) <= 0.0005
    assert abs(share(high) - float(row["high"])) <= 0.0005
