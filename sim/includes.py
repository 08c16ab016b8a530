"""`include:` in scenario files: shared parameter files (for example a bench calibration) merged in.

    include: calibrated.yaml          # or a list; paths are relative to the including file
    strategies: {consul-pull: {kind: pull, activation: 3s}}   # the including file wins, key by key

Included files are partial scenarios (no `version` needed). Mappings merge recursively; any other
value from the including file replaces the included one. Problems in included values are reported at
their own file, line and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ruamel.yaml.comments import CommentedMap

from sim.errors import Problem, ScenarioError

MAX_DEPTH = 8


@dataclass(frozen=True)
class IncludedFrom:
    """Marks a data path whose value came from an included file, with the value's position there."""

    file: str
    line: int | None = None
    column: int | None = None


def resolve_includes(data: CommentedMap, path: Path, read: Callable[[Path], CommentedMap],
                     chain: tuple[str, ...] = ()) -> dict[tuple, IncludedFrom]:
    """Merge the files `data` includes into it (in place); returns which paths came from which file."""
    if "include" not in data:
        return {}
    line, column = (x + 1 for x in data.lc.value("include")) if hasattr(data, "lc") else (None, None)
    value = data.pop("include")
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ScenarioError([Problem(str(path), line, column, "include", "must be a file name or a list of them",
                                     got=repr(value))])
    origins: dict[tuple, IncludedFrom] = {}
    for name in reversed(names):  # earlier files win over later ones; the including file wins over all
        target = (path.parent / name).resolve()
        if str(target) in chain or len(chain) >= MAX_DEPTH:
            raise ScenarioError([Problem(str(path), line, column, "include",
                                         "includes form a cycle or are nested too deep", got=name)])
        included = read(target)
        nested = resolve_includes(included, target, read, chain + (str(path.resolve()),))
        origins.update(_merge(data, included, (), IncludedFrom(str(target)), nested))
    return origins


def _merge(into: CommentedMap, extra: CommentedMap, prefix: tuple, origin: IncludedFrom,
           nested: dict[tuple, IncludedFrom]) -> dict[tuple, IncludedFrom]:
    origins = {}
    for key, value in extra.items():
        path = prefix + (key,)
        if key not in into:
            into[key] = value
            line, column = (x + 1 for x in extra.lc.value(key))
            origins[path] = nested.get(path, IncludedFrom(origin.file, line, column))
            origins.update({p: o for p, o in nested.items() if p[: len(path)] == path})
        elif isinstance(into[key], dict) and isinstance(value, dict):
            origins.update(_merge(into[key], value, path, origin, nested))
    return origins
