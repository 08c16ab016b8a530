"""Asking a Prometheus server one range query (`/api/v1/query_range`), for live.py.

`ask` sends a GET with the query, window and step, waits at most TIMEOUT seconds for each step of the
exchange, reads at most what is left of the metric history budget (`sim.limits`), and returns the
decoded answer. A server that cannot be reached raises MetricsError (no other query would fare better);
an answer that refuses the query (an HTTP error, `"status": "error"`, or not JSON) raises `Refused` with
the server's own message, so the caller can go on to the other queries and report all at once.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from sim import __version__
from sim.backtest.problems import MetricsError
from sim.backtest.prometheus import json_integer
from sim.errors import Problem
from sim.limits import METRICS, describe_bytes, max_bytes

if TYPE_CHECKING:
    import urllib.error

SCHEMES = {"prometheus+http": "http", "prometheus+https": "https"}
TIMEOUT = 30.0
"""Seconds to wait for the server to connect or to send the next bytes of an answer."""


class Refused(Exception):
    """One query's answer cannot be used (the server refused it, or it is not one series)."""

    def __init__(self, problem: Problem):
        super().__init__(problem.render())
        self.problem = problem


def ask(url: str, key: str, query: str, start: float, end: float, step: float, budget: list[int]) -> object:
    """The decoded JSON answer of one range query; raise MetricsError when the server cannot be reached,
    Refused when it answers with an error."""
    import http.client  # here, not at the top: every scenario load imports live.py and this, few ask a server
    import urllib.error
    import urllib.request

    params = urlencode({"query": query, "start": _seconds(start), "end": _seconds(end), "step": _seconds(step)})
    request = urllib.request.Request(f"{_base(url)}/api/v1/query_range?{params}",
                                     headers={"Accept": "application/json", "User-Agent": f"deploysim/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            return _json(url, key, query, _body(url, key, answer, budget))
    except urllib.error.HTTPError as error:
        raise Refused(_http_error(url, key, query, error, budget)) from None
    except urllib.error.URLError as error:
        _unreachable(url, key, _reason(error.reason))
    except TimeoutError:
        _unreachable(url, key, f"no answer within {TIMEOUT:g}s")
    except (http.client.HTTPException, OSError) as error:
        _unreachable(url, key, _reason(error))
    raise AssertionError("unreachable")


def _body(url: str, key: str, answer, budget: list[int]) -> bytes:
    raw = answer.read(budget[0] + 1)
    if len(raw) > budget[0]:
        limit = max_bytes(METRICS)
        raise MetricsError([Problem(url, None, None, key, "the server's answers are too large",
                                    got=f"more than {describe_bytes(limit)} in all",
                                    allowed=f"at most {describe_bytes(limit)} for {METRICS.what}; shorten the "
                                    f"window or raise with {METRICS.variable}=SIZE")])
    budget[0] -= len(raw)
    return raw


def _json(url: str, key: str, query: str, raw: bytes) -> object:
    try:
        doc = json.loads(raw.decode("utf-8"), parse_int=json_integer)
    except (UnicodeDecodeError, ValueError, RecursionError):
        text = raw[:60].decode("utf-8", "replace")
        raise Refused(Problem(url, None, None, key, "the answer is not JSON: is this the address of a "
                              "Prometheus server?", got=repr(text), allowed="a Prometheus API answer")) from None
    if isinstance(doc, dict) and doc.get("status") == "error":
        raise Refused(Problem(url, None, None, key, f"Prometheus refused the query: {_server_says(doc)}",
                              got=repr(query)))
    return doc


def _http_error(url: str, key: str, query: str, error: urllib.error.HTTPError,
                budget: list[int]) -> Problem:
    import http.client

    try:
        doc = json.loads(error.read(min(budget[0], 1 << 20)).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError, OSError, http.client.HTTPException):
        doc = None
    said = _server_says(doc) if isinstance(doc, dict) and "error" in doc else "(no Prometheus error in the answer)"
    return Problem(url, None, None, key, f"Prometheus refused the query: HTTP {error.code} {error.reason}: "
                   f"{said}", got=repr(query))


def _server_says(doc: dict) -> str:
    kind, text = str(doc.get("errorType") or ""), str(doc.get("error") or "")
    return f"{kind}: {text}" if kind else text or "(no error text)"


def _unreachable(url: str, key: str, why: str) -> None:
    raise MetricsError([Problem(url, None, None, key, f"cannot reach Prometheus: {why}",
                                allowed="a running Prometheus server at this address")])


def _reason(reason: object) -> str:
    import socket

    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (is it running, on this host and port?)"
    if isinstance(reason, socket.gaierror):
        return f"unknown host ({reason.strerror})"
    if isinstance(reason, TimeoutError):
        return f"no answer within {TIMEOUT:g}s"
    return getattr(reason, "strerror", None) or str(reason) or type(reason).__name__


def _base(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{SCHEMES[scheme.lower()]}://{rest.rstrip('/')}"


def _seconds(value: float) -> str:
    return format(value, ".17g")
