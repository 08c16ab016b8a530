"""CSV histories: the shipped example, accepted variants, and one located message per kind of mistake."""

from __future__ import annotations

import numpy as np
import pytest

from sim.backtest import load_history
from sim.backtest.example import csv_text, synthetic_history
from tests.backtest.helpers import DATA, problems, write

HEADER = "timestamp,requests,errors,latency\n"


def test_example_csv_loads_three_days_at_one_minute():
    history = load_history(DATA / "history_example.csv")
    assert len(history) == 3 * 1440
    assert history.interval == 60.0
    assert history.start == 1709510400.0  # 2024-03-04T00:00:00Z, the first row
    assert history.latency is not None and np.all(history.latency > 0)
    # totals equal the sums of the file's columns, read independently of the loader
    rows = [line.split(",") for line in (DATA / "history_example.csv").read_text().splitlines()[1:]]
    assert history.requests.sum() == sum(int(r[1]) for r in rows)
    assert history.errors.sum() == sum(int(r[2]) for r in rows)
    assert (DATA / "history_example.csv").stat().st_size < 300_000


def test_written_history_reads_back_equal(tmp_path):
    original = synthetic_history(np.random.default_rng(3), 500, interval=300.0)
    loaded = load_history(write(tmp_path, "h.csv", csv_text(original)))
    assert (loaded.start, loaded.interval) == (original.start, original.interval)
    np.testing.assert_array_equal(loaded.requests, original.requests)
    np.testing.assert_array_equal(loaded.errors, original.errors)
    np.testing.assert_allclose(loaded.latency, original.latency, atol=1e-4)


def test_variants_bom_unix_seconds_offsets_latency_ms_and_case(tmp_path):
    text = ("\ufeff Timestamp ,REQUESTS,errors,latency_ms\n"
            "2024-03-04T01:00:00+01:00,10,1,120\n"      # = 00:00Z
            "1709510460,0,0,\n"                          # 00:01Z, no requests: latency may be empty
            "\n"
            "2024-03-04T00:02:00,12,0,80.5\n")           # no zone: UTC
    history = load_history(write(tmp_path, "v.csv", text))
    assert history.start == 1709510400.0 and history.interval == 60.0
    assert history.requests.tolist() == [10, 0, 12]
    np.testing.assert_allclose(history.latency, [0.12, np.nan, 0.0805])


def test_latency_column_is_optional(tmp_path):
    history = load_history(write(tmp_path, "n.csv", "timestamp,requests,errors\n0,5,0\n60,6,1\n"))
    assert history.latency is None and history.errors.tolist() == [0, 1]


def one(tmp_path, text: str | bytes) -> str:
    found = problems(write(tmp_path, "bad.csv", text))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("rows, expected", [
    ("0,5,1,0.1\n60,-3,0,0.1\n", ["bad.csv:3:4: requests: negative count", "got '-3'", "allowed a whole number >= 0"]),
    ("0,5,1,0.1\n60,5,6,0.1\n", ["bad.csv:3:6: errors: more errors than requests (5)", "got '6'", "allowed 0..5"]),
    ("0,5,1,0.1\n60,NaN,0,0.1\n", ["bad.csv:3:4: requests: not a whole number", "got 'NaN'"]),
    ("0,5,1,0.1\n60,,0,0.1\n", ["bad.csv:3:4: requests: missing value", "got an empty cell"]),
    ("0,5,1,0.1\n60,5.5,0,0.1\n", ["bad.csv:3:4: requests: not a whole number", "got '5.5'"]),
    ("0,5,1,0.1\n60,5,0,\n", ["bad.csv:3:8: latency: missing latency in an interval with requests",
                             "empty or NaN only where requests is 0"]),
    ("0,5,1,0.1\n60,5,0,-1\n", ["bad.csv:3:8: latency: latency out of range", "got '-1'"]),
    ("0,5,1,0.1\nyesterday,5,0,0.1\n", ["bad.csv:3:1: timestamp: not a time", "got 'yesterday'", "ISO-8601"]),
    ("0,5,1,0.1\n60000,5,0,0.1\n1709510460000,5,0,0.1\n",
     ["bad.csv:4:1: timestamp: looks like unix milliseconds", "divide by 1000"]),
    ("0,5,1,0.1\n60,5,0,0.1\n60,5,0,0.1\n",
     ["bad.csv:4:1: timestamp: duplicate timestamp (same as line 3)", "allowed one row every 60s"]),
    ("0,5,1,0.1\n60,5,0,0.1\n120,5,0,0.1\n90,5,0,0.1\n",
     ["bad.csv:5:1: timestamp: timestamp goes backwards (earlier than line 4)", "-30s after line 4"]),
    ("0,5,1,0.1\n60,5,0,0.1\n120,5,0,0.1\n150,5,0,0.1\n",
     ["bad.csv:5:1: timestamp: irregular spacing", "30s after line 4", "allowed one row every 60s"]),
    ("0,5,1,0.1\n60,5,0,0.1\n120,5,0,0.1\n300,5,0,0.1\n",
     ["bad.csv:5:1: timestamp: gap: 2 missing rows before this one", "180s after line 4"]),
    ("0,5,1,0.1\n60,5,0\n120,5,0,0.1\n", ["bad.csv:3: wrong number of cells", "got 3", "allowed 4"]),
])
def test_each_mistake_is_located(tmp_path, rows, expected):
    message = one(tmp_path, HEADER + rows)
    for part in expected:
        assert part in message, message


@pytest.mark.parametrize("text, expected", [
    ("", ["bad.csv:1: file is empty", "allowed a header timestamp,requests,errors"]),
    ("\ufeff\n\n", ["bad.csv:1: file is empty"]),
    (HEADER, ["bad.csv:2: no data rows after the header"]),
    ("0,5,1\n60,5,0\n", ["bad.csv:1:1: header: the first line is data, but a header is required"]),
    ("timestamp,requests\n0,5\n", ["bad.csv:1:1: header: missing column errors"]),
    ("timestamp,requests,errors,latency_ms,latency\n0,5,1,3,3\n60,5,1,3,3\n",
     ["bad.csv:1: latency_ms: give latency or latency_ms, not both"]),
    ("timestamp,requests,errors\n0,5,1\n", ["bad.csv:2: timestamp: need at least two rows"]),
    (b"timestamp,requests,errors\n0,5,1\n60,5,\xe9\n", ["bad.csv:3:6: file is not UTF-8 text", "got byte 0xe9"]),
    ('timestamp,requests,errors\n0,5,1\n"60,5,0\n', ["bad.csv:", "malformed CSV"]),
])
def test_file_level_mistakes(tmp_path, text, expected):
    message = one(tmp_path, text)
    for part in expected:
        assert part in message, message


def test_unknown_column_suggests_the_right_name(tmp_path):
    found = problems(write(tmp_path, "bad.csv", "timestamp,requests,erors\n0,5,1\n"))
    assert any("bad.csv:1:20: header[3]: unknown column (did you mean 'errors'?) (got 'erors'" in p for p in found)
    assert any("missing column errors" in p for p in found)


def test_all_problems_in_a_file_are_listed_at_once(tmp_path):
    text = HEADER + "0,5,1,0.1\n60,-1,0,0.1\n120,5,9,0.1\n120,5,0,0.1\n240,5,0,x\n"
    found = problems(write(tmp_path, "bad.csv", text))
    lines = [p.split(":")[1] for p in found]
    assert lines == ["3", "4", "5", "6", "6"], found
    assert "negative count" in found[0] and "more errors than requests" in found[1]
    assert "duplicate timestamp" in found[2] and "gap: 1 missing row" in found[3] and "latency" in found[4]


def test_problem_list_is_capped_with_a_count_of_the_rest(tmp_path):
    text = HEADER + "".join(f"{60 * i},-1,0,0.1\n" for i in range(30))
    found = problems(write(tmp_path, "bad.csv", text))
    assert len(found) == 21
    assert found[0].startswith(f"{tmp_path / 'bad.csv'}:2:")
    assert found[-1].endswith("... and 10 more problems not shown")


def test_a_file_mostly_off_its_grid_is_reported_in_a_few_lines(tmp_path):
    """Every third step 67 s instead of 60 s: 20,000 rows off the 60 s grid make 19 located problems and
    a count of the rest, not 20,000 messages."""
    stamps = np.cumsum(np.tile([60, 60, 67], 20_000))
    text = HEADER + "".join(f"{t},5,0,0.1\n" for t in stamps)
    found = problems(write(tmp_path, "bad.csv", text))
    assert len(found) <= 21
    assert sum(line.startswith(f"{tmp_path / 'bad.csv'}:") and "irregular spacing" in line for line in found) == 19
    assert any("... and 19,981 more rows off the grid of one row every 60s" in line for line in found), found


def test_quoted_multiline_record_reports_its_first_line(tmp_path):
    text = 'timestamp,requests,errors\n0,5,1\n"60",5,"\n7"\n120,5,0\n'
    message = one(tmp_path, text)
    assert "bad.csv:3: errors: more errors than requests (5) (got '\\n7'" in message, message


def test_windows_line_endings_keep_line_numbers(tmp_path):
    text = "timestamp,requests,errors\r\n0,5,1\r\n60,5,1\r\n120,-5,1\r\n"
    assert "bad.csv:4:5: requests: negative count" in one(tmp_path, text)
