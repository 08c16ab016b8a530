"""Reading a metrics history from a Prometheus range-query export (`/api/v1/query_range` JSON).

Expected shape: `{"status": "success", "data": {"resultType": "matrix", "result": [series, ...]}}`
where each series is `{"metric": {labels}, "values": [[unix_seconds, "value"], ...]}`.

Which series is which: by default the value of a series' `series` label, or else its `__name__`,
must be `requests`, `errors` or `latency` (latency is optional). Or pass selectors
(`requests_query='{code!~"5.."}'`, see selectors.py) to pick each one. One query can export all three:

    label_replace(sum(increase(http_requests_total[1m])), "series", "requests", "", "")
    or label_replace(sum(increase(http_requests_total{code=~"5.."}[1m])) or vector(0), "series", "errors", "", "")
    or label_replace(sum(rate(http_request_duration_seconds_sum[1m])) / sum(rate(http_request_duration_seconds_count[1m])), "series", "latency", "", "")

Values must already be per-interval counts (export `increase(x[1m])` or `sum(rate(x[1m]))*60` with
the query step equal to the range): counter resets are not handled here. Counts are rounded to the
nearest whole number (`increase` extrapolates to fractions). `NaN` and `±Inf` are errors in requests
and errors, and so are counts above 2**53 and times outside 0..1e11 unix seconds; latency may be
`NaN` only where requests is 0 (a mean over no requests). A timestamp
marks the END of its interval (a range vector looks back), so `History.start` is the first
timestamp minus one interval. Every series must have a point at every requests timestamp.

A live server's answers (live.py: one range query per role) go through the same point and
alignment code (`history_of`), so both give the same History for the same data.
"""

from __future__ import annotations

import json
import math

import numpy as np

from sim.backtest.history import History
from sim.backtest.problems import MAX_COUNT, fail, raise_problems, read_text
from sim.backtest.selectors import describe, matches, parse_selector
from sim.backtest.timeline import infer_interval, iso
from sim.errors import Problem
from sim.limits import MAX_DEPTH, too_deep_in_json

ROLES = ("requests", "errors", "latency")
MAX_TIME = 1e11  # unix seconds (year 5138); larger values are milliseconds or nonsense
Point = tuple[float, float, str]  # (unix seconds, value, JSON path)


def read_prometheus(path: str, raw: bytes, queries: dict[str, str | None]) -> History:
    """Parse a range-query export into a History; raise MetricsError listing every problem."""
    result = result_of(path, _parse_json(path, raw))
    problems: list[Problem] = []
    chosen = _choose(path, result, queries, problems)
    raise_problems(problems, path)
    points = {role: points_of(path, result[i], f"data.result[{i}].values", problems) for role, i in chosen.items()}
    raise_problems(problems, path)
    return history_of(path, points, f"data.result[{chosen['requests']}].values")


def history_of(source: str, points: dict[str, list[Point]], requests_where: str) -> History:
    """The History of each role's well-formed points (`points_of`; requests and errors required, latency
    optional), on the requests timestamps; raise MetricsError for a grid that is not regular, a hole in a
    series or a bad count. `requests_where` names the requests series in messages."""
    problems: list[Problem] = []
    stamps = np.array([p[0] for p in points["requests"]])
    interval, spacing = infer_interval(stamps, lambda i: (None, None, points["requests"][i][2]), source)
    problems += spacing
    if interval is None and not spacing:
        problems.append(Problem(source, None, None, requests_where,
                                "need at least two points with distinct times", got=str(len(stamps)),
                                allowed="two or more steps"))
    columns = _align(source, points, problems)
    raise_problems(problems, source)
    assert interval is not None
    return History(source, float(stamps[0] - interval), float(interval), *columns)


def _parse_json(path: str, raw: bytes) -> object:
    text = read_text(path, raw)
    if not text.strip():
        fail(path, "file is empty", line=1, allowed="a Prometheus query_range JSON response")
    try:
        return json.loads(text, parse_int=json_integer)
    except json.JSONDecodeError as error:
        fail(path, f"invalid JSON: {error.msg}", line=error.lineno, column=error.colno,
             allowed="a Prometheus query_range JSON response")
    except RecursionError:
        line, column = too_deep_in_json(text, MAX_DEPTH)
        fail(path, "invalid JSON: nested too deep", line=line, column=column, got=f"more than {MAX_DEPTH} levels",
             allowed="a Prometheus query_range JSON response (6 levels deep)")


def json_integer(text: str) -> int | float:
    """A JSON integer; a very long one as a float (infinite past 1e308, refused where a count or time is read)
    instead of Python's error for integers of more than 4300 digits."""
    return int(text) if len(text) <= 40 else float(text)


def result_of(path: str, doc: object) -> list:
    """The series of a successful range-query response `doc`; raise MetricsError for anything else."""
    def need(ok: bool, where: str, message: str, got: object, allowed: str) -> None:
        if not ok:
            fail(path, message, path=where, got=_short(got), allowed=allowed)

    need(isinstance(doc, dict), "", "the top level must be an object", type(doc).__name__, '{"status": ..., "data": ...}')
    if doc.get("status") == "error":
        fail(path, f"the export is a failed query: {doc.get('errorType', '')} {doc.get('error', '')}".strip(),
             path="status", got='"error"', allowed='"success"')
    need(doc.get("status") == "success", "status", "not a successful query response", doc.get("status"), '"success"')
    data = doc.get("data")
    need(isinstance(data, dict), "data", "missing or not an object", data, '{"resultType": "matrix", "result": [...]}')
    need(data.get("resultType") == "matrix", "data.resultType", "not a range query (use /api/v1/query_range)",
         data.get("resultType"), '"matrix"')
    need(isinstance(data.get("result"), list), "data.result", "missing or not a list", data.get("result"), "a list of series")
    return data["result"]


def _choose(path: str, result: list, queries: dict[str, str | None], problems: list[Problem]) -> dict[str, int]:
    """Index in `result` of each role's series; problems for missing, ambiguous or malformed ones."""
    labels = []
    for i, item in enumerate(result):
        ok = isinstance(item, dict) and isinstance(item.get("metric"), dict)
        if not ok:
            problems.append(Problem(path, None, None, f"data.result[{i}]", "not a series",
                                    got=_short(item), allowed='{"metric": {...}, "values": [...]}'))
        labels.append(item["metric"] if ok else None)
    chosen = {}
    for role in ROLES:
        found = _candidates(path, role, queries.get(role), labels, problems)
        if len(found) == 1:
            chosen[role] = found[0]
        elif len(found) > 1:
            where = ", ".join(f"data.result[{i}] {describe(labels[i])}" for i in found[:5])
            problems.append(Problem(path, None, None, "data.result", f"{len(found)} series match {role}: {where}",
                                    allowed=f"exactly one (narrow {role}_query)"))
        elif role != "latency":
            problems.append(_missing_role(path, role, queries.get(role), labels))
    return chosen


def _candidates(path: str, role: str, query: str | None, labels: list, problems: list[Problem]) -> list[int]:
    if query is None:
        return [i for i, m in enumerate(labels) if m is not None and m.get("series", m.get("__name__")) == role]
    try:
        selector = parse_selector(query)
    except ValueError as error:
        problems.append(Problem(path, None, None, f"{role}_query", f"cannot read the selector: {error}",
                                got=repr(query), allowed='name{label="value", ...} with =, !=, =~, !~'))
        return []
    return [i for i, m in enumerate(labels) if m is not None and matches(selector, m)]


def _missing_role(path: str, role: str, query: str | None, labels: list) -> Problem:
    found = "; ".join(describe(m) for m in labels[:5] if m is not None) or "no series"
    how = f"matches {query!r}" if query else f'has series="{role}" or __name__="{role}"'
    return Problem(path, None, None, "data.result", f"no series {how}", got=found,
                   allowed=f"one {role} series (label it, or pass {role}_query)")


def _short(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def points_of(path: str, item: dict, where: str, problems: list[Problem]) -> list[Point]:
    """The well-formed `[time, "value"]` points of one series (its `values` at `where`); a problem for
    each malformed one."""
    values = item.get("values")
    if not isinstance(values, list):
        problems.append(Problem(path, None, None, where, "missing or not a list", got=_short(values),
                                allowed='[[unix_seconds, "value"], ...]'))
        return []
    points = []
    for j, pair in enumerate(values):
        point = _point(pair)
        if point is None:
            problems.append(Problem(path, None, None, f"{where}[{j}]", "not a [time, value] point",
                                    got=_short(pair), allowed='[unix_seconds, "number"]'))
        elif not 0 <= point[0] < MAX_TIME:
            problems.append(Problem(path, None, None, f"{where}[{j}]", "time out of range",
                                    got=_short(pair[0]), allowed=f"unix seconds from 0 to {MAX_TIME:g}"))
        else:
            points.append((*point, f"{where}[{j}]"))
    return points


def _point(pair: object) -> tuple[float, float] | None:
    if not (isinstance(pair, list) and len(pair) == 2):
        return None
    stamp, value = pair
    if isinstance(stamp, bool) or not isinstance(stamp, (int, float)) or not math.isfinite(stamp):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        return float(stamp), float(value)
    except ValueError:
        return None


def _align(path: str, points: dict[str, list[Point]], problems: list[Problem]) -> tuple:
    """Requests, errors and latency arrays on the requests timestamps."""
    grid = points["requests"]
    requests = [_count(path, value, where, "requests", problems) for _, value, where in grid]
    errors_at = _by_time(path, "errors", points["errors"], grid, problems)
    errors = []
    for (stamp, _, _), total in zip(grid, requests):
        value, where = errors_at.get(stamp, (0.0, None))
        count = _count(path, value, where, "errors", problems) if where else 0
        if where and count is not None and total is not None and count > total:
            problems.append(Problem(path, None, None, where, f"more errors than requests ({total})",
                                    got=_number(value), allowed=f"0..{total}, at most requests"))
        errors.append(count)
    latency = _latency(path, points.get("latency"), grid, requests, problems)
    return np.array(requests, dtype=object), np.array(errors, dtype=object), latency


def _by_time(path: str, role: str, points: list[Point], grid: list[Point], problems: list[Problem]) -> dict:
    """`{time: (value, JSON path)}`, with a problem for every point off the requests grid and every hole."""
    on_grid = {stamp: where for stamp, _, where in grid}
    found: dict[float, tuple[float, str]] = {}
    for stamp, value, where in points:
        if stamp not in on_grid or stamp in found:
            problem = "duplicate time in this series" if stamp in found else "no requests point at this time"
            problems.append(Problem(path, None, None, where, problem, got=_time(stamp),
                                    allowed="the timestamps of the requests series, once each"))
        found.setdefault(stamp, (value, where))
    for stamp, where in on_grid.items():
        if stamp not in found:
            problems.append(Problem(path, None, None, where, f"no {role} point at this time", got=_time(stamp),
                                    allowed=f"a point in the {role} series at every requests time" +
                                    (" (append `or vector(0)` to the errors query)" if role == "errors" else "")))
    return found


def _count(path: str, value: float, where: str, role: str, problems: list[Problem]) -> int | None:
    if not math.isfinite(value) or not 0 <= round(value) <= MAX_COUNT:
        problems.append(Problem(path, None, None, where, f"{role} must be a finite count >= 0",
                                got=_number(value), allowed=f"a number from 0 to {MAX_COUNT} "
                                "(export increase(...[1m]))"))
        return None
    return int(round(value))


def _latency(path: str, points: list[Point] | None, grid: list[Point], requests: list, problems: list[Problem]):
    if points is None:
        return None
    at = _by_time(path, "latency", points, grid, problems)
    latency = []
    for (stamp, _, _), total in zip(grid, requests):
        value, where = at.get(stamp, (math.nan, None))
        bad = (math.isnan(value) and total not in (0, None)) or math.isinf(value) or value < 0
        if where and bad:
            problems.append(Problem(path, None, None, where, "latency must be a finite mean >= 0 seconds",
                                    got=_number(value), allowed='seconds >= 0 ("NaN" only where requests is 0)'))
        latency.append(value)
    return np.array(latency, dtype=float)


def _number(value: float) -> str:
    return {math.inf: '"+Inf"', -math.inf: '"-Inf"'}.get(value, '"NaN"' if math.isnan(value) else f"{value:g}")


def _time(stamp: float) -> str:
    return f"{stamp:.0f} ({iso(stamp)})" if stamp.is_integer() else f"{stamp!r} ({iso(stamp)})"
