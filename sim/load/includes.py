"""`include:` in scenario files: shared parameter files (for example a bench calibration) merged in.

    include: calibrated.yaml          # or a list; paths are relative to the including file
    strategies: {consul-pull: {kind: pull, activation: 3s}}   # the including file wins, key by key

Included files are partial scenarios (no `version` needed). Mappings merge recursively; any other
value from the including file replaces the included one. Problems in included values are reported at
their own file, line and column. At most 32 files in all (`sim.limits.MAX_INCLUDED_FILES`), nested
at most 8 deep; each is read within the YAML budgets of `sim.limits`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ruamel.yaml.comments import CommentedMap

from sim.errors import Problem, ScenarioError
from sim.limits import MAX_INCLUDED_FILES

MAX_DEPTH = 8


@dataclass(frozen=True)
class IncludedFrom:
    """Marks a data path whose value came from an included file, with the value's position there."""

    file: str
    line: int | None = None
    column: int | None = None


def resolve_includes(data: CommentedMap, path: Path, read: Callable[[Path], CommentedMap],
                     chain: tuple[str, ...] = ()) -> dict[tuple, IncludedFrom]:
    """Merge the files `data` includes into it (in place); returns which paths came from which file.

    At most `MAX_INCLUDED_FILES` files in all (each read within the budgets of `sim.limits` by `read`),
    nested at most `MAX_DEPTH` deep."""
    return _resolve(data, path, read, chain, [0])


def _resolve(data: CommentedMap, path: Path, read: Callable[[Path], CommentedMap], chain: tuple[str, ...],
             count: list[int]) -> dict[tuple, IncludedFrom]:
    if "include" not in data:
        return {}
    line, column = (x + 1 for x in data.lc.value("include")) if hasattr(data, "lc") else (None, None)
    value = data.pop("include")
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ScenarioError([Problem(str(path), line, column, "include", "must be a file name or a list of them",
                                     got=repr(value))])
    origins: dict[tuple, IncludedFrom] = {}
    for name in names:  # merged in order, only where a key is still missing: earlier files win
        target = (path.parent / name).resolve()
        if str(target) in chain or len(chain) >= MAX_DEPTH:
            raise ScenarioError([Problem(str(path), line, column, "include",
                                         "includes form a cycle or are nested too deep", got=name,
                                         allowed=f"includes nested at most {MAX_DEPTH} deep, none including itself")])
        count[0] += 1
        if count[0] > MAX_INCLUDED_FILES:
            raise ScenarioError([Problem(str(path), line, column, "include", "too many included files",
                                         got=f"more than {MAX_INCLUDED_FILES} (this one: {name})",
                                         allowed=f"at most {MAX_INCLUDED_FILES} files in all, nested or not")])
        included = read(target)
        _anchor_files(included, target.parent)
        nested = _resolve(included, target, read, chain + (str(path.resolve()),), count)
        origins.update(_merge(data, included, (), IncludedFrom(str(target)), nested))
    return origins


def _anchor_files(node, folder: Path) -> None:
    """Relative `file:` paths of empirical distributions in an included file are relative to THAT file."""
    if isinstance(node, dict):
        if node.get("dist") == "empirical" and isinstance(node.get("file"), str) and not Path(node["file"]).is_absolute():
            node["file"] = str(folder / node["file"])
        for value in node.values():
            _anchor_files(value, folder)
    elif isinstance(node, list):
        for value in node:
            _anchor_files(value, folder)


def _merge(into: CommentedMap, extra: CommentedMap, prefix: tuple, origin: IncludedFrom,
           nested: dict[tuple, IncludedFrom]) -> dict[tuple, IncludedFrom]:
    origins = {}
    for key, value in extra.items():
        path = prefix + (key,)
        if key not in into:
            into[key] = value
            if path in nested:  # the key came from a file that the included file includes
                origins[path] = nested[path]
            else:
                line, column = (x + 1 for x in extra.lc.value(key))
                origins[path] = IncludedFrom(origin.file, line, column)
            origins.update({p: o for p, o in nested.items() if p[: len(path)] == path})
        elif isinstance(into[key], dict) and isinstance(value, dict):
            origins.update(_merge(into[key], value, path, origin, nested))
    return origins
