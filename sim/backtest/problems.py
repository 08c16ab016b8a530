"""Collecting located problems while reading a metrics file, and raising them all at once.

Readers keep going after the first mistake so that the user sees every problem in one run; the
list is capped so that a file that is wrong on every line still gives a readable message.
"""

from __future__ import annotations

from sim.errors import Problem, UserError

MAX_PROBLEMS = 20
MAX_COUNT = 2**53
"""The largest request or error count per interval (the largest whole number a float holds exactly)."""


class MetricsError(UserError):
    """A metrics history file (CSV or Prometheus JSON) that cannot be used for a backtest."""


def raise_problems(problems: list[Problem], source: str, limit: int = MAX_PROBLEMS) -> None:
    """Raise MetricsError listing the first `limit` problems (in file order) and how many more."""
    if not problems:
        return
    ordered = sorted(problems, key=lambda p: (p.line or 0, p.column or 0))
    shown = ordered[:limit]
    if len(ordered) > limit:
        more = len(ordered) - limit
        shown.append(Problem(source, None, None, "", f"... and {more} more problem{'s' * (more > 1)} not shown"))
    raise MetricsError(shown)


def fail(source: str, message: str, *, line: int | None = None, column: int | None = None,
         path: str = "", got: str | None = None, allowed: str | None = None) -> None:
    """Raise MetricsError for one problem that stops reading the file."""
    raise MetricsError([Problem(source, line, column, path, message, got=got, allowed=allowed)])


def read_text(path: str, raw: bytes) -> str:
    """Decode UTF-8 (a leading byte-order mark is accepted); locate the first bad byte otherwise."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        fail(path, "file is not UTF-8 text", line=line, column=column,
             got=f"byte 0x{raw[error.start]:02x}", allowed="UTF-8 (export the file as UTF-8)")
        raise AssertionError("unreachable")
