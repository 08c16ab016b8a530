"""`load_history`: read a CSV or Prometheus JSON metrics file into a `History`.

The format is chosen by extension (`.csv`, `.json`); for any other extension by content (a file
whose first non-blank character is `{` is JSON, anything else CSV). The file is read only if it is
within the metric history budget of `sim.limits` (32 MiB; DEPLOYSIM_MAX_METRICS_BYTES raises it).
"""

from __future__ import annotations

from pathlib import Path

from sim.backtest.csv_source import read_csv
from sim.backtest.history import History
from sim.backtest.problems import MetricsError, fail
from sim.backtest.prometheus import read_prometheus
from sim.limits import METRICS, read_bounded


def load_history(path: str | Path, *, requests_query: str | None = None, errors_query: str | None = None,
                 latency_query: str | None = None) -> History:
    """Read a metrics history; raise MetricsError (a UserError) naming every problem's line or JSON path.

    The `*_query` selectors only apply to Prometheus exports (see prometheus.py for the defaults).
    """
    source = str(path)
    raw = read_bounded(path, METRICS, MetricsError)
    if _is_json(Path(path), raw):
        queries = {"requests": requests_query, "errors": errors_query, "latency": latency_query}
        return read_prometheus(source, raw, queries)
    if any(q is not None for q in (requests_query, errors_query, latency_query)):
        fail(source, "series selectors apply only to Prometheus JSON exports", path="requests_query",
             allowed="no selectors for a CSV file")
    return read_csv(source, raw)


def _is_json(path: Path, raw: bytes) -> bool:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".json"):
        return suffix == ".json"
    return raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")
