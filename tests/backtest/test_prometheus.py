"""Prometheus range-query exports: the shipped example, series selection, and located mistakes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim.backtest import load_history
from tests.backtest.helpers import DATA, problems, write


def export(*series: tuple[dict, list]) -> str:
    result = [{"metric": metric, "values": values} for metric, values in series]
    return json.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}}, indent=1)


def points(values: list, t0: int = 1709510460, step: int = 60) -> list:
    return [[t0 + step * i, v] for i, v in enumerate(values)]


def test_example_json_loads_six_hours():
    doc = json.loads((DATA / "prometheus_example.json").read_text())
    by_role = {s["metric"]["series"]: s["values"] for s in doc["data"]["result"]}
    history = load_history(DATA / "prometheus_example.json")
    assert len(history) == 360 and history.interval == 60.0
    assert history.start == by_role["requests"][0][0] - 60  # timestamps mark the end of each interval
    assert history.requests.sum() == sum(int(v) for _, v in by_role["requests"])
    assert history.errors.sum() == sum(int(v) for _, v in by_role["errors"])
    np.testing.assert_allclose(history.latency, [float(v) for _, v in by_role["latency"]])


def test_default_roles_by_name_and_rounding_of_increase(tmp_path):
    text = export(({"__name__": "requests"}, points(["10.4", "19.6", "0"])),
                  ({"__name__": "errors"}, points(["1.2", "0", "0"])),
                  ({"__name__": "latency"}, points(["0.2", "0.3", "NaN"])))
    history = load_history(write(tmp_path, "p.json", text))
    assert history.requests.tolist() == [10, 20, 0] and history.errors.tolist() == [1, 0, 0]
    assert np.isnan(history.latency[2])  # NaN latency is accepted where there were no requests


def test_selectors_pick_series_by_label(tmp_path):
    text = export(({"code": "2xx"}, points(["5", "6"])), ({"code": "5xx"}, points(["1", "2"])),
                  ({"code": "any"}, points(["7", "8"])))
    path = write(tmp_path, "p.json", text)
    history = load_history(path, requests_query='{code="any"}', errors_query='{code=~"5.."}')
    assert history.requests.tolist() == [7, 8] and history.errors.tolist() == [1, 2]
    assert history.latency is None


def test_unlabelled_series_are_explained(tmp_path):
    found = problems(write(tmp_path, "p.json", export(({"job": "api"}, points(["5", "6"])))))
    assert len(found) == 2
    assert 'p.json: data.result: no series has series="requests" or __name__="requests" (got {job="api"}' in found[0]
    assert "allowed one errors series (label it, or pass errors_query)" in found[1]


def test_ambiguous_and_unreadable_selectors(tmp_path):
    text = export(({"series": "requests", "zone": "a"}, points(["5"])),
                  ({"series": "requests", "zone": "b"}, points(["5"])), ({"series": "errors"}, points(["0"])))
    found = problems(write(tmp_path, "p.json", text))
    assert "data.result: 2 series match requests: data.result[0]" in found[0]
    found = problems(write(tmp_path, "p.json", text), requests_query="{zone=a}")
    assert "requests_query: cannot read the selector" in found[0] and "got '{zone=a}'" in found[0]


def test_json_syntax_error_has_line_and_column(tmp_path):
    text = '{"status": "success",\n  "data": {"resultType": "matrix",, "result": []}}'
    found = problems(write(tmp_path, "p.json", text))
    assert len(found) == 1 and "p.json:2:35: invalid JSON: Expecting property name" in found[0]


@pytest.mark.parametrize("doc, expected", [
    ({"status": "error", "errorType": "bad_data", "error": "parse error"},
     'status: the export is a failed query: bad_data parse error (got "error"; allowed "success")'),
    ({"status": "success", "data": {"resultType": "vector", "result": []}},
     'data.resultType: not a range query (use /api/v1/query_range) (got \'vector\'; allowed "matrix")'),
    ({"status": "success", "data": {"resultType": "matrix"}}, "data.result: missing or not a list"),
    ([1, 2], "the top level must be an object"),
])
def test_wrong_structure_names_the_json_path(tmp_path, doc, expected):
    found = problems(write(tmp_path, "p.json", json.dumps(doc)))
    assert len(found) == 1 and expected in found[0], found


def test_malformed_points_are_named_by_their_json_path(tmp_path):
    text = export(({"series": "requests"}, points(["5", "6"]) + [[1709510580], ["t", "1"]]),
                  ({"series": "errors"}, points(["0", "x"])))
    found = problems(write(tmp_path, "p.json", text))
    assert len(found) == 3, found
    assert "data.result[0].values[2]: not a [time, value] point (got [1709510580]" in found[0]
    assert 'data.result[0].values[3]: not a [time, value] point (got ["t", "1"]' in found[1]
    assert 'data.result[1].values[1]: not a [time, value] point (got [1709510520, "x"]' in found[2]


def test_every_bad_value_is_named_by_its_json_path(tmp_path):
    text = export(({"series": "requests"}, points(["5", "NaN", "+Inf", "-2", "9", "8"])),
                  ({"series": "errors"}, points(["0", "0", "0", "0", "10", "1"])),
                  ({"series": "latency"}, points(["0.1", "0.1", "0.1", "0.1", "NaN", "0.1"])))
    found = problems(write(tmp_path, "p.json", text))
    assert len(found) == 5, found
    assert "data.result[0].values[1]: requests must be a finite count >= 0 (got \"NaN\"" in found[0]
    assert "data.result[0].values[2]: requests must be a finite count >= 0 (got \"+Inf\"" in found[1]
    assert "data.result[0].values[3]: requests must be a finite count >= 0 (got -2" in found[2]
    assert any("data.result[1].values[4]: more errors than requests (9) (got 10; allowed 0..9" in p for p in found)
    assert any("data.result[2].values[4]: latency must be a finite mean >= 0 seconds (got \"NaN\"" in p for p in found)


def test_series_must_share_the_requests_timestamps(tmp_path):
    text = export(({"series": "requests"}, points(["5", "6", "7"])),
                  ({"series": "errors"}, points(["0", "0"]) + [[1709510460 + 200, "0"]]))
    found = problems(write(tmp_path, "p.json", text))
    assert len(found) == 2, found
    assert "data.result[1].values[2]: no requests point at this time (got 1709510660 (2024-03-04T00:04:20Z)" in found[0]
    assert any("data.result[0].values[2]: no errors point at this time" in p and "or vector(0)" in p for p in found)


def test_gaps_in_the_requests_series_are_reported(tmp_path):
    values = points(["5", "6"]) + points(["7"], t0=1709510460 + 180)
    text = export(({"series": "requests"}, values), ({"series": "errors"}, [[t, "0"] for t, _ in values]))
    found = problems(write(tmp_path, "p.json", text))
    assert len(found) == 1
    assert "data.result[0].values[2]: gap: 1 missing row before this one" in found[0]
    assert "allowed one row every 60s" in found[0]
