"""The budgets for everything deploysim reads, and how to raise them.

Every input is held to a budget before it can cost much time or memory: a file's size is checked
before it is read (and reading stops one byte past the budget, so a device or a growing file cannot
get around it), a YAML document's nesting and node count while it is parsed. Whatever breaks a budget
is refused with exit code 2 and a located message naming the budget and how to raise it.

| budget | default | what it bounds | raise with |
|---|---|---|---|
| YAML file size | 256 KiB | a scenario, each file it `include:`s, a bench parameter file, one `--set` value | `DEPLOYSIM_MAX_YAML_BYTES` |
| YAML nodes | 5,000 | keys, values and list items of one YAML file, and of a scenario with its includes and `--set` overrides; an alias counts as the whole value it names, each time it is used | `DEPLOYSIM_MAX_YAML_NODES` |
| YAML nesting | 64 levels | mappings and lists inside each other (fixed: deeper input would exhaust the parser's stack) | - |
| included files | 32 | files one scenario includes, directly or through other included files | - |
| metric history size | 32 MiB | `--metrics` and `traffic.history` files (a year of 1-minute intervals is 13-19 MB of CSV) | `DEPLOYSIM_MAX_METRICS_BYTES` |
| bench recording size | 32 MiB | each `manifest.json`, `hosts.csv` and `calibration.json` that `calibrate` and `validate-model` read | `DEPLOYSIM_MAX_BENCH_BYTES` |
| numbers | finite | YAML values: `.nan`, `.inf` and `1e400` (which overflows to infinity) are refused, and so are whole numbers of 2**128 or more (a seed is below 2**128; nothing else comes close) | - |

The sizes are read from the environment each time a file is read, as a byte count or a size with
its unit (`DEPLOYSIM_MAX_YAML_BYTES=1MiB`, `DEPLOYSIM_MAX_METRICS_BYTES=200MB`); the node budget as
a whole number. On this kind of machine the pure-Python YAML reader takes about 0.1 ms per node and
2 us per byte, and the metrics readers about 10 us and 1 KB of memory per row: raise a budget
knowing what the larger input costs.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from sim.errors import Problem, UserError

MAX_DEPTH = 64
"""Levels of mappings and lists inside each other (the top-level mapping is level 1)."""
MAX_INCLUDED_FILES = 32
"""Files one scenario includes, directly or not."""
MAX_INTEGER = 2**128
"""Whole numbers in YAML must be smaller than this in size (the largest seed is 2**128 - 1)."""
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
NODES_VARIABLE = "DEPLOYSIM_MAX_YAML_NODES"
DEFAULT_NODES = 5_000


@dataclass(frozen=True)
class SizeBudget:
    """The size budget of one kind of input file."""

    what: str
    default: int
    variable: str


YAML = SizeBudget("a YAML file (scenario, include, parameters, --set value)", 256 * 1024, "DEPLOYSIM_MAX_YAML_BYTES")
METRICS = SizeBudget("a metric history (CSV or Prometheus JSON)", 32 * 1024 * 1024, "DEPLOYSIM_MAX_METRICS_BYTES")
BENCH = SizeBudget("a bench recording file", 32 * 1024 * 1024, "DEPLOYSIM_MAX_BENCH_BYTES")


def max_bytes(budget: SizeBudget) -> int:
    """The budget in bytes: its environment variable if set, else its default."""
    text = os.environ.get(budget.variable, "").strip()
    if not text:
        return budget.default
    from sim.units import parse_size

    try:
        value = parse_size(text)
    except ValueError:
        value = -1.0
    if not value >= 1:
        raise UserError([Problem(budget.variable, None, None, "", "cannot read this size budget", got=repr(text),
                                 allowed="a size such as 1MiB or 500MB, or a number of bytes >= 1")])
    return int(value)


def max_nodes() -> int:
    """The YAML node budget: DEPLOYSIM_MAX_YAML_NODES if set, else 5,000."""
    text = os.environ.get(NODES_VARIABLE, "").strip()
    if not text:
        return DEFAULT_NODES
    if not text.isdigit() or int(text) < 1:
        raise UserError([Problem(NODES_VARIABLE, None, None, "", "cannot read this node budget", got=repr(text),
                                 allowed="a whole number >= 1")])
    return int(text)


def read_bounded(path: str | Path, budget: SizeBudget, error: type[UserError] = UserError) -> bytes:
    """The bytes of `path` if it is within `budget`; otherwise raise `error` saying how to raise the budget.

    The size is checked before reading, and at most one byte more than the budget is ever read.
    """
    source, limit = str(path), max_bytes(budget)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            raw = b"" if size > limit else handle.read(limit + 1)
    except OSError as error_:
        raise error([Problem(source, None, None, "", f"cannot read file: {error_.strerror}")]) from None
    if size > limit or len(raw) > limit:
        raise error([too_large(source, budget, max(size, len(raw)), limit)])
    return raw


def too_large(source: str, budget: SizeBudget, size: int, limit: int) -> Problem:
    """The problem of an input over its size budget."""
    got = describe_bytes(size) if size > limit + 1 else f"more than {describe_bytes(limit)}"
    return Problem(source, None, None, "", "file too large", got=got,
                   allowed=f"at most {describe_bytes(limit)} for {budget.what}; raise with {budget.variable}=SIZE")


def describe_bytes(count: int) -> str:
    """A byte count for messages: 262144 -> '256 KiB (262144 bytes)'."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            return f"{count / scale:.4g} {unit} ({count} bytes)"
    return f"{count} bytes"


def too_deep_in_json(text: str, limit: int = MAX_DEPTH) -> tuple[int | None, int | None]:
    """Line and column of the first `[` or `{` nested deeper than `limit` in JSON text (outside strings): where
    to point when Python's JSON reader runs out of stack (its RecursionError says nowhere)."""
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        if match[0] in "[{":
            depth += 1
            if depth > limit:
                start = match.start()
                return text.count("\n", 0, start) + 1, start - (text.rfind("\n", 0, start) + 1) + 1
        elif match[0] in "]}":
            depth -= 1
    return None, None
