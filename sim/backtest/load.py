"""`load_history`: read a CSV or Prometheus JSON metrics file into a `History`; `read_history`: the same,
read once per process while the file is unchanged (a scenario's history is read by its validation, by
its releases' setup and by its warnings). A live Prometheus history (`LiveHistory`, a URL that carries its
window and queries) is asked of the server instead, once per process (live.py).

The format is chosen by extension (`.csv`, `.json`); for any other extension by content (a file
whose first non-blank character is `{` is JSON, anything else CSV). The file is read only if it is
within the metric history budget of `sim.limits` (32 MiB; DEPLOYSIM_MAX_METRICS_BYTES raises it).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from sim.backtest.csv_source import read_csv
from sim.backtest.history import History
from sim.backtest.live import LiveHistory, live_url, read_history_live
from sim.backtest.problems import MetricsError, fail
from sim.backtest.prometheus import read_prometheus
from sim.limits import METRICS, read_bounded


def load_history(path: str | Path, *, requests_query: str | None = None, errors_query: str | None = None,
                 latency_query: str | None = None) -> History:
    """Read a metrics history; raise MetricsError (a UserError) naming every problem's line or JSON path.

    The `*_query` selectors only apply to Prometheus exports (see prometheus.py for the defaults).
    """
    source = str(path)
    _not_a_url(source)
    raw = read_bounded(path, METRICS, MetricsError)
    if _is_json(Path(path), raw):
        queries = {"requests": requests_query, "errors": errors_query, "latency": latency_query}
        return read_prometheus(source, raw, queries)
    if any(q is not None for q in (requests_query, errors_query, latency_query)):
        fail(source, "series selectors apply only to Prometheus JSON exports", path="requests_query",
             allowed="no selectors for a CSV file")
    return read_csv(source, raw)


def read_history(path: str | Path) -> History:
    """`load_history(path)`, kept while the file's size and modification time stay the same (a History
    is read-only, so every reader may share it). A `LiveHistory` is read from its server."""
    if isinstance(path, LiveHistory):
        return read_history_live(path.source)
    _not_a_url(str(path))
    try:
        stat = os.stat(path)
    except OSError:
        return load_history(path)  # raises MetricsError, saying what is wrong with the path
    return _read_unchanged(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _read_unchanged(path: str, size: int, mtime_ns: int) -> History:
    return load_history(path)


def _not_a_url(source: str) -> None:
    if live_url(source) is not None:
        fail(source, "a live Prometheus history needs the window to replay and its queries",
             path="traffic.history_range", allowed="traffic.history_range: {start, end, queries: {requests, errors}}")


def _is_json(path: Path, raw: bytes) -> bool:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".json"):
        return suffix == ".json"
    return raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")
