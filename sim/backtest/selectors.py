"""Prometheus-style series selectors, to pick the requests/errors/latency series of an export.

`name{label="value", other!="x", code=~"5.."}`: the optional name matches `__name__`; the
operators are `=`, `!=`, `=~` and `!~`, and regular expressions are anchored as in PromQL.

>>> select = parse_selector('{series="errors", job=~"api|web"}')
>>> matches(select, {"series": "errors", "job": "api"}), matches(select, {"series": "errors", "job": "db"})
(True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"\s*([A-Za-z_:][A-Za-z0-9_:]*)?\s*")
_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|\}|$)')


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str
    value: str

    def test(self, labels: dict) -> bool:
        actual = str(labels.get(self.label, ""))
        if self.op in ("=", "!="):
            return (actual == self.value) == (self.op == "=")
        return (re.fullmatch(self.value, actual) is not None) == (self.op == "=~")


def parse_selector(text: str) -> tuple[Matcher, ...]:
    """The matchers of `text`; ValueError (with the offending position) when it cannot be read."""
    head = _NAME.match(text)
    matchers = [Matcher("__name__", "=", head.group(1))] if head.group(1) else []
    rest = text[head.end():].strip()
    if not rest:
        if not matchers:
            raise ValueError("empty selector")
        return tuple(matchers)
    if not rest.startswith("{") or not rest.endswith("}"):
        raise ValueError("expected name{label=\"value\", ...}")
    body, position = rest[1:], 0
    while body[position:].strip() not in ("}", ""):
        found = _MATCHER.match(body, position)
        if not found:
            raise ValueError(f"cannot read a label matcher at {body[position:]!r}")
        _check_regex(found.group(2), found.group(3))
        matchers.append(Matcher(found.group(1), found.group(2), found.group(3).replace('\\"', '"')))
        position = found.end() if found.group(4) == "," else found.end() - 1
    return tuple(matchers)


def matches(matchers: tuple[Matcher, ...], labels: dict) -> bool:
    """True when every matcher accepts the series' labels (missing labels read as "")."""
    return all(m.test(labels) for m in matchers)


def describe(labels: dict) -> str:
    """A series' labels written as a selector, for messages."""
    name = labels.get("__name__", "")
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{inner}}}"


def _check_regex(op: str, pattern: str) -> None:
    if op in ("=~", "!~"):
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"bad regular expression {pattern!r}: {error}") from None
