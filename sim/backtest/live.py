"""Reading a metrics history from a live Prometheus server (`traffic.history: prometheus+http://HOST:PORT`).

The scenario names the window to replay, its step and one PromQL query per role
(`traffic.history_range`), each returning exactly what an exported file holds (prometheus.py):

    traffic:
      metric_interval: 1m
      history: prometheus+http://127.0.0.1:9090        # or prometheus+https://, with a path prefix if any
      history_range:
        start: 2024-03-04T00:00:00Z                    # the first point (ISO-8601 with a zone, or unix seconds)
        end: 2024-03-11T00:00:00Z                      # the last point
        queries:
          requests: sum(increase(http_requests_total[1m]))
          errors: sum(increase(http_requests_total{code=~"5.."}[1m])) or vector(0)
          latency: sum(rate(http_request_duration_seconds_sum[1m])) / sum(rate(http_request_duration_seconds_count[1m]))

Each query is sent to `/api/v1/query_range` (GET: query, start, end, step; in parts of at most 11,000
points, Prometheus's limit per series) and must return one series with a point at every step of the
window. The answers go through the point and alignment code of an exported file (`history_of`), so a
live history and the export of the same range are the same History. All answers together are held to
the metric history budget of `sim.limits` (32 MiB, DEPLOYSIM_MAX_METRICS_BYTES). The History is kept
per process for each (URL, window, queries): validation, the releases' setup and the warnings ask the
server once.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from datetime import date, datetime
from urllib.parse import urlsplit

from sim.backtest.history import History
from sim.backtest.problems import MetricsError, raise_problems
from sim.backtest.prometheus import MAX_TIME, Point, history_of, points_of, result_of
from sim.backtest.query_range import SCHEMES, Refused, ask
from sim.backtest.selectors import describe
from sim.backtest.timeline import iso
from sim.errors import Problem
from sim.limits import METRICS, max_bytes

MAX_POINTS = 11_000
"""Points per series and request: Prometheus refuses more ("exceeded maximum resolution")."""
KEY = "traffic.history_range.queries"


@dataclass(frozen=True)
class LiveSource:
    """What to ask a Prometheus server: its URL as written, the window and step (unix seconds) and
    (role, PromQL) for requests, errors and, optionally, latency."""

    url: str
    start: float
    end: float
    step: float
    queries: tuple[tuple[str, str], ...]

    @property
    def points(self) -> int:
        """Evaluation times in the window: start, start + step, ... up to end."""
        return int(math.floor((self.end - self.start) / self.step + 1e-9)) + 1


class LiveHistory(str):
    """A `traffic.history` URL that carries its window and queries, so that every reader of the scenario's
    history (`read_history(traffic.history)`) gets this window's History. It compares as its URL."""

    source: LiveSource

    def __new__(cls, source: LiveSource) -> "LiveHistory":
        text = super().__new__(cls, source.url)
        text.source = source
        return text

    def __reduce__(self):
        return LiveHistory, (self.source,)


def live_url(text: str) -> str | None:
    """`text` as a live Prometheus URL (`prometheus+http[s]://HOST[:PORT][/PATH]`), or None for a file name."""
    scheme = text.split("://", 1)[0] if "://" in text else None
    return text if scheme is not None and scheme.lower() in SCHEMES else None


def url_problem(url: str) -> str | None:
    """Why `url` cannot name a Prometheus server, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        return f"not a URL: {error}"
    if not parts.hostname:
        return "no host: write prometheus+http://HOST:PORT"
    if parts.username is not None or parts.password is not None:
        return "credentials in the URL are not supported (they would be written to the results manifest)"
    if parts.query or parts.fragment:
        return "no ?query or #fragment: the URL is the server's root (where /api/v1/query_range is)"
    return None if port is None or port > 0 else "port must be from 1 to 65535"


def instant(value: object) -> float:
    """Unix seconds from unix seconds or an ISO-8601 time with its zone (text, or a time YAML read);
    ValueError saying what is allowed otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, datetime) or isinstance(value, str) and not _number(value):
        moment = value if isinstance(value, datetime) else _iso(value)
        if moment.tzinfo is None:
            raise ValueError("a time needs its zone (2024-03-04T00:00:00Z or +01:00)")
        seconds = moment.timestamp()
    elif isinstance(value, str):
        seconds = float(value)
    elif isinstance(value, date):
        raise ValueError("a date needs its time and zone (2024-03-04T00:00:00Z)")
    else:
        raise ValueError("not a time: write ISO-8601 with a zone (2024-03-04T00:00:00Z) or unix seconds")
    if not 0 <= seconds < MAX_TIME:
        raise ValueError(f"out of range: unix seconds from 0 (1970) to {MAX_TIME:g} (milliseconds are not seconds)")
    return seconds


def _number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _iso(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("not a time: write ISO-8601 with a zone (2024-03-04T00:00:00Z) or unix seconds") from None


def read_history_live(source: LiveSource) -> History:
    """The History of `source`, asked of the server once per process (a History is read-only)."""
    return _read(source)


@functools.lru_cache(maxsize=8)
def _read(source: LiveSource) -> History:
    budget = [max_bytes(METRICS)]
    points: dict[str, list[Point]] = {}
    problems: list[Problem] = []
    for role, query in source.queries:
        try:
            points[role] = _series(source, role, query, budget, problems)
        except Refused as refused:  # this query; the others may still say what is wrong with them
            problems.append(refused.problem)
    raise_problems(problems, source.url)
    _covers(source, points["requests"], problems)
    raise_problems(problems, source.url)
    return history_of(source.url, points, f"{KEY}.requests: data.result[0].values")


def _series(source: LiveSource, role: str, query: str, budget: list[int], problems: list[Problem]) -> list[Point]:
    """The points of one query over the window, asked in parts of at most MAX_POINTS."""
    parts = range(0, source.points, MAX_POINTS)
    points: list[Point] = []
    for n, first in enumerate(parts):
        start = source.start + first * source.step
        end = source.start + (min(first + MAX_POINTS, source.points) - 1) * source.step
        key = f"{KEY}.{role}" + (f" (part {n + 1} of {len(parts)})" if len(parts) > 1 else "")
        answer = ask(source.url, key, query, start, end, source.step, budget)
        series = _one_series(source, key, query, answer, start, end)
        points += points_of(source.url, series, f"{key}: data.result[0].values", problems)
    return points


def _one_series(source: LiveSource, key: str, query: str, doc: object, start: float, end: float) -> dict:
    try:
        result = result_of(source.url, doc)
    except MetricsError as error:
        raise Refused(replace(error.problems[0], path=f"{key}: {error.problems[0].path}")) from None
    window = f"from {iso(start)} to {iso(end)}"
    if not result:
        hint = " (append `or vector(0)` to count no errors as 0)" if key.startswith(f"{KEY}.errors") else ""
        raise Refused(Problem(source.url, None, None, key, f"the query returned no series {window}{hint}",
                              got=repr(query), allowed="one series: check the metric names, labels and window"))
    if len(result) > 1 or not isinstance(result[0], dict):
        found = "; ".join(describe(s.get("metric") or {}) for s in result[:3] if isinstance(s, dict))
        raise Refused(Problem(source.url, None, None, key, f"the query returned {len(result)} series {window}: "
                              f"{found}", got=repr(query), allowed="one series: aggregate them, e.g. sum(...)"))
    return result[0]


def _covers(source: LiveSource, points: list[Point], problems: list[Problem]) -> None:
    """A problem for each end of the window where the requests series has no points."""
    if not points:
        return
    last = source.start + (source.points - 1) * source.step
    first_seen, last_seen = points[0][0], points[-1][0]
    if first_seen > source.start + 1e-3:
        missing = _span(source.start, first_seen - source.step)
        problems.append(Problem(source.url, None, None, f"{KEY}.requests", f"no requests {missing}",
                                got=f"the first point at {iso(first_seen)}",
                                allowed=f"a point at every step of the window (start it at {iso(first_seen)})"))
    if last_seen < last - 1e-3:
        missing = _span(last_seen + source.step, last)
        problems.append(Problem(source.url, None, None, f"{KEY}.requests", f"no requests {missing}",
                                got=f"the last point at {iso(last_seen)}",
                                allowed=f"a point at every step of the window (end it at {iso(last_seen)})"))


def _span(first: float, last: float) -> str:
    return f"at {iso(first)}" if last <= first else f"from {iso(first)} to {iso(last)}"


def manifest_record(history: str | None) -> dict:
    """What a results manifest records of a live history (`{"history": {...}}`: URL, window, queries and a
    digest of the data read), or nothing for a file history or none."""
    if not isinstance(history, LiveHistory):
        return {}
    source = history.source
    data = read_history_live(source)  # kept since validation: the server is not asked again
    return {"history": {"url": source.url, "start": iso(source.start), "end": iso(source.end), "step": source.step,
                        "queries": dict(source.queries), "intervals": len(data), "sha256": data.sha256()}}
