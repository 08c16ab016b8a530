"""Where a value of a round-trip YAML document was written: its 1-based line and column (ruamel.yaml
keeps them on each mapping and sequence it reads; data made in code or by an override has none)."""

from __future__ import annotations

from typing import Any


def position(node: Any, path: tuple) -> tuple[int | None, int | None]:
    """(line, column) of the value at `path` (mapping keys and list indices) in a round-trip document, or
    of its nearest ancestor that has one; (None, None) for plain data."""
    line = column = None
    lc = getattr(node, "lc", None)
    if lc is not None and lc.line is not None:
        line, column = lc.line + 1, lc.col + 1
    for part in path:
        lc = getattr(node, "lc", None)
        try:
            if isinstance(node, dict) and part in node and lc is not None:
                line, column = (x + 1 for x in lc.value(part))
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node) and lc is not None:
                line, column = (x + 1 for x in lc.item(part))
            else:
                break
        except (KeyError, TypeError, IndexError):
            break  # a node made by an override has no position
        node = node[part]
    return line, column
