"""Reading a metrics history from CSV: `timestamp, requests, errors[, latency | latency_ms]`.

- A header row is required; names are matched without regard to case or surrounding spaces, and
  unknown columns are errors (with a "did you mean"). A UTF-8 byte-order mark is accepted.
- `timestamp` marks the START of the interval: ISO-8601 (`2024-03-04T00:01:00Z`, an offset, or no
  zone, read as UTC) or unix seconds (`1709510460`). Rows must be increasing and evenly spaced.
- `requests`, `errors`: whole numbers from 0 to 2**53 (`12` or `12.0`; not `NaN` or `inf`),
  `errors <= requests`. Timestamps before 1970 are refused.
- `latency`: mean seconds per interval (or `latency_ms`, milliseconds); empty or `NaN` only where
  `requests` is 0. Blank lines are skipped.

Every problem names the physical line (the first line of a quoted multi-line record), the column
(character position when the line has no quotes) and the column name.
"""

from __future__ import annotations

import csv
import difflib
import math
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from sim.backtest.history import History
from sim.backtest.problems import MAX_COUNT, fail, raise_problems, read_text
from sim.backtest.timeline import infer_interval
from sim.errors import Problem

REQUIRED = ("timestamp", "requests", "errors")
OPTIONAL = ("latency", "latency_ms")
HEADER_HINT = "timestamp,requests,errors[,latency|latency_ms]"


@dataclass(frozen=True)
class Row:
    """One data record as read: its physical line, the raw line text and its cells."""

    line: int
    text: str
    cells: list[str]


def read_csv(path: str, raw: bytes) -> History:
    """Parse CSV bytes into a History; raise MetricsError listing every problem found."""
    records = _records(path, read_text(path, raw).splitlines(keepends=True))
    header, rows = records[0], records[1:]
    columns = _columns(path, header)
    if not rows:
        fail(path, "no data rows after the header", line=header.line + 1, allowed="one row per interval")
    problems = [p for row in rows if len(row.cells) != len(header.cells)
                for p in [_width_problem(path, row, len(header.cells))]]
    rows = [row for row in rows if len(row.cells) == len(header.cells)]
    values = [_parse_row(path, row, columns, problems) for row in rows]
    timed = [(row, v) for row, v in zip(rows, values) if v[0] is not None]
    stamps = np.array([v[0] for _, v in timed], dtype=float)
    interval, spacing = infer_interval(stamps, lambda i: _where(timed[i][0], columns["timestamp"]), path)
    problems += spacing
    if interval is None and not problems:
        problems.append(Problem(path, rows[0].line, None, "timestamp", "need at least two rows with distinct times",
                                got=f"{len(rows)} row{'s' * (len(rows) > 1)}", allowed="two or more intervals"))
    raise_problems(problems, path)
    return _history(path, values, interval, "latency" in columns or "latency_ms" in columns)


def _records(path: str, lines: list[str]) -> list[Row]:
    reader = csv.reader(lines, strict=True)
    records: list[Row] = []
    try:
        for cells in reader:
            start = _start_line(reader.line_num, cells)
            if cells and any(c.strip() for c in cells):
                records.append(Row(start, lines[start - 1].rstrip("\r\n"), cells))
    except csv.Error as error:
        fail(path, f"malformed CSV: {error}", line=reader.line_num, allowed="comma-separated values")
    if not records:
        fail(path, "file is empty", line=1, allowed=f"a header {HEADER_HINT} and one row per interval")
    return records


def _start_line(end_line: int, cells: list[str]) -> int:
    """The physical line where a record began (a quoted cell may span lines)."""
    extra = sum(cell.count("\n") for cell in cells)
    return end_line - extra


def _columns(path: str, header: Row) -> dict[str, int]:
    if _timestamp(header.cells[0].strip()) is not None:
        fail(path, "the first line is data, but a header is required", line=header.line, column=1,
             path="header", got=repr(header.text), allowed=HEADER_HINT)
    names = [cell.strip().lower() for cell in header.cells]
    problems = []
    for index, name in enumerate(names):
        if name not in REQUIRED + OPTIONAL:
            hint = difflib.get_close_matches(name, REQUIRED + OPTIONAL, n=1)
            message = f"unknown column{f' (did you mean {hint[0]!r}?)' if hint else ''}"
            problems.append(Problem(path, header.line, _column(header, index), f"header[{index + 1}]", message,
                                    got=repr(header.cells[index]), allowed=HEADER_HINT))
        elif names.index(name) != index:
            problems.append(Problem(path, header.line, _column(header, index), name, "column named twice",
                                    got=repr(header.cells[index]), allowed="each column once"))
    if "latency" in names and "latency_ms" in names:
        problems.append(Problem(path, header.line, None, "latency_ms", "give latency or latency_ms, not both",
                                allowed="one latency column"))
    problems += _missing(path, header, names)
    raise_problems(problems, path)
    return {name: names.index(name) for name in names}


def _missing(path: str, header: Row, names: list[str]) -> list[Problem]:
    missing = [name for name in REQUIRED if name not in names]
    if not missing:
        return []
    message = f"missing column{'s' * (len(missing) > 1)} {', '.join(missing)}"
    return [Problem(path, header.line, 1, "header", message, got=repr(header.text), allowed=HEADER_HINT)]


def _width_problem(path: str, row: Row, width: int) -> Problem:
    return Problem(path, row.line, None, "", "wrong number of cells", got=str(len(row.cells)),
                   allowed=f"{width}, as in the header")


def _where(row: Row, index: int) -> tuple[int, int | None, str]:
    return row.line, _column(row, index), "timestamp"


def _column(row: Row, index: int) -> int | None:
    """1-based character position of cell `index`, when the record is one unquoted line."""
    if '"' in row.text or "\n" in "".join(row.cells):
        return None
    return sum(len(cell) + 1 for cell in row.cells[:index]) + 1


Parsed = tuple[float | None, int | None, int | None, float]


def _parse_row(path: str, row: Row, columns: dict[str, int], problems: list[Problem]) -> Parsed | None:
    """(timestamp, requests, errors, latency seconds or NaN), with None and a problem for each bad cell."""
    found: list[Problem] = []

    def report(name: str, message: str, allowed: str) -> None:
        cell = row.cells[columns[name]]
        found.append(Problem(path, row.line, _column(row, columns[name]), name, message,
                             got=repr(cell) if cell.strip() else "an empty cell", allowed=allowed))

    stamp = _timestamp(row.cells[columns["timestamp"]].strip())
    if stamp is None:
        report("timestamp", "not a time", "ISO-8601 (2024-03-04T00:01:00Z) or unix seconds")
    elif stamp > 1e11:
        report("timestamp", "looks like unix milliseconds", "unix seconds (divide by 1000) or ISO-8601")
        stamp = None
    elif stamp < 0:
        report("timestamp", "before 1970", "a time from 1970-01-01T00:00:00Z (unix seconds >= 0)")
        stamp = None
    requests = _count(row.cells[columns["requests"]], "requests", report)
    errors = _count(row.cells[columns["errors"]], "errors", report)
    if requests is not None and errors is not None and errors > requests:
        report("errors", f"more errors than requests ({requests})", f"0..{requests}, at most requests")
    latency = _latency(row, columns, requests, report)
    problems += found
    return stamp, requests, errors, latency


def _timestamp(text: str) -> float | None:
    """Unix seconds from unix seconds or ISO-8601 (no zone: UTC); None when neither."""
    try:
        value = float(text)
        return value if math.isfinite(value) else None
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _count(cell: str, name: str, report) -> int | None:
    text = cell.strip()
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or not value.is_integer():
        report(name, "not a whole number" if text else "missing value", "a whole number >= 0")
        return None
    if value < 0:
        report(name, "negative count", "a whole number >= 0")
        return None
    if value > MAX_COUNT:
        report(name, "count too large", f"a whole number from 0 to {MAX_COUNT}")
        return None
    return int(value)


def _latency(row: Row, columns: dict[str, int], requests: int | None, report) -> float:
    name = "latency" if "latency" in columns else "latency_ms" if "latency_ms" in columns else None
    if name is None:
        return math.nan
    text = row.cells[columns[name]].strip()
    unit = "seconds" if name == "latency" else "milliseconds"
    try:
        value = float(text) if text else math.nan
    except ValueError:
        report(name, "not a number", f"mean latency in {unit}, >= 0")
        return math.nan
    if math.isnan(value):
        if requests != 0:
            report(name, "missing latency in an interval with requests", f"mean latency in {unit} >= 0; empty or NaN "
                   "only where requests is 0")
        return math.nan
    if not math.isfinite(value) or value < 0:
        report(name, "latency out of range", f"a finite mean latency in {unit}, >= 0")
        return math.nan
    return value / 1000.0 if name == "latency_ms" else value


def _history(path: str, values: list[Parsed], interval: float, has_latency: bool) -> History:
    stamps, requests, errors, latency = (np.array(column) for column in zip(*values))
    return History(source=path, start=float(stamps[0]), interval=float(interval),
                   requests=requests.astype(np.int64), errors=errors.astype(np.int64),
                   latency=latency.astype(float) if has_latency else None)
