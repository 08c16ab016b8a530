"""Where a validation problem sits in the YAML, and how to say it.

Pydantic reports a location such as ('strategies', 'a', 'push', 'paralel'); this module turns it into
the keys as written (`strategies.a.paralel`), finds the line and column in the file (or the `--set`
override, or the included file that supplied the value), and words the message with the bad value and
what is allowed, with a "did you mean" for unknown keys. Errors of type `reference` (a name that names
nothing, see `sim.spec.references`) carry their own message and allowed names, and say whether they are about
the key at their path (then located at the key) or its value.
"""

from __future__ import annotations

import difflib
import functools
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from sim.errors import Problem
from sim.load.includes import IncludedFrom
from sim.positions import position
from sim.spec.references import render_path
from sim.spec.rollout import STEP_KINDS
from sim.spec.scenario import Scenario


def problems_from(errors: list[dict], data: CommentedMap, source: str, origins: dict[tuple, object]) -> list[Problem]:
    """Every pydantic error as a located Problem, in file order."""
    problems = [_problem(item, data, source, origins) for item in errors]
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0, p.path))


def where(data: Any, source: str, origins: dict[tuple, object], path: tuple) -> tuple[str, int | None, int | None]:
    """(file, line, column) of the value at `path` (or its nearest ancestor), in the scenario file, in
    the included file that supplied it, or in the `--set key` override (no line) that set it.
    Without parsed data (a scenario built in code): the source alone."""
    at, origin = _origin(path, origins)
    if isinstance(origin, IncludedFrom):
        line, column = origin.line, origin.column
        subtree = _node(data, at)
        if len(path) > len(at) and isinstance(subtree, (CommentedMap, CommentedSeq)) and subtree.lc.line is not None:
            line, column = position(subtree, path[len(at):])
        return origin.file, line, column
    if origin is not None:
        return str(origin), None, None
    if data is None:
        return source, None, None
    return (source, *position(data, path))


def _data_path(loc: tuple, data: Any) -> tuple:
    """The pydantic location without union tags and validator names: the keys as written."""
    path: list = []
    node = data
    loc = tuple(part for i, part in enumerate(loc) if not (i + 1 < len(loc) and loc[i + 1] == part and isinstance(part, str)))
    for part in loc:
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and ("[" in part or part in VALIDATOR_STEPS or part in union_tags()):
            continue  # a union tag (kind/dist value) or a validator name
        else:
            path.append(part)
            node = None
    return tuple(path)


TAG_FIELDS = ("kind", "dist", "semantics")  # the keys that choose a member of a union of models
VALIDATOR_STEPS = {"function-after", "function-before"}  # pydantic's names for validators in a location


@functools.cache
def union_tags() -> frozenset[str]:
    """Every value a union's tag field can take in the scenario's models (read from the models, so a new
    strategy, distribution or policy is known here): pydantic puts the chosen tag into an error's
    location, where the file has no such key."""
    tags: set[str] = set()
    seen: set[type] = set()
    todo: list[type] = [Scenario]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            todo += [t for t in _leaves(field.annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
            if name in TAG_FIELDS:
                tags.update(t for t in _leaves(field.annotation) if isinstance(t, str))
    return frozenset(tags)


def _leaves(annotation: Any) -> list:
    """The classes and literal values inside an annotation (through unions, Annotated, containers)."""
    args = get_args(annotation)
    if not args:
        return [annotation]
    return [leaf for arg in args for leaf in _leaves(arg)]


def _key_position(data: Any, path: tuple) -> tuple[int | None, int | None]:
    parent_line, parent_col = position(data, path[:-1])
    parent = _node(data, path[:-1])
    if isinstance(parent, CommentedMap) and path and path[-1] in parent:
        try:
            line, column = parent.lc.key(path[-1])
            return line + 1, column + 1
        except (KeyError, TypeError):
            pass
    return parent_line, parent_col


def _node(data: Any, path: tuple) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _problem(item: dict, data: CommentedMap, source: str, origins: dict[tuple, str]) -> Problem:
    path = _data_path(tuple(item["loc"]), data)
    kind = item["type"]
    ctx = item.get("ctx") or {}
    where, origin = _origin(path, origins, data)
    if isinstance(origin, IncludedFrom):
        return _included_problem(item, data, path, where, origin)
    if kind == "union_tag_invalid":
        path = path + (ctx.get("discriminator", "kind").strip("'"),)
        kind = "literal_error"
        item = {**item, "type": kind, "input": ctx.get("tag"), "ctx": {"expected": ctx.get("expected_tags")}}
        ctx = item["ctx"]
    if origin is not None and origin.endswith(" " + render_path(path)):
        path_text = ""
    else:
        path_text = render_path(path)
    if kind == "step_kind" and isinstance(item.get("input"), dict):
        keys = [str(k) for k in item["input"]]
        hints = [f"{k!r}: did you mean {m[0]!r}?" for k in keys if (m := difflib.get_close_matches(k, STEP_KINDS, n=1))]
        line, column = position(data, path)
        return Problem(origin or source, None if origin else line, None if origin else column, path_text,
                       item["msg"] + ("; " + " ".join(hints) if hints else ""), got=", ".join(keys) or "{}")
    if kind == "reference":
        line, column = _spot(data, path, at_key=ctx.get("at") == "key")
        return Problem(origin or source, None if origin else line, None if origin else column, path_text,
                       item["msg"], got=ctx.get("got", _got(item.get("input"))), allowed=ctx.get("allowed"))
    if kind == "extra_forbidden":
        line, column = _key_position(data, path)
        allowed = _allowed_keys(data, path)
        message = "unknown key"
        close = difflib.get_close_matches(str(path[-1]), allowed, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        return Problem(origin or source, None if origin else line, None if origin else column,
                       path_text, message, allowed=", ".join(allowed) or None)
    line, column = position(data, path)
    value = item.get("input")
    got = None if kind == "missing" or isinstance(value, (dict, list)) else repr(value)
    message, allowed = _explain(item, ctx)
    return Problem(origin or source, None if origin else line, None if origin else column,
                   path_text, message, got=got, allowed=allowed)


def _origin(path: tuple, origins: dict[tuple, object], data: Any = None) -> tuple[tuple, object]:
    """The override or include that set `path` (or an ancestor of it), and that ancestor's path. A key
    that no file wrote (`--set foo.bar=1` makes `foo`) comes from the first override below it."""
    for length in range(len(path), 0, -1):
        if path[:length] in origins:
            return path[:length], origins[path[:length]]
    if data is not None and path and not _written(data, path):
        below = [p for p in origins if p[: len(path)] == path and isinstance(origins[p], str)]
        if below:
            return below[0], origins[below[0]]
    return (), None


def _written(data: Any, path: tuple) -> bool:
    """Whether the key at `path` was read from a file (it has a position there)."""
    parent = _node(data, path[:-1])
    try:
        return isinstance(parent, CommentedMap) and path[-1] in parent.lc.data
    except TypeError:
        return False


def _spot(data: Any, path: tuple, at_key: bool) -> tuple[int | None, int | None]:
    return _key_position(data, path) if at_key else position(data, path)


def _got(value: Any) -> str | None:
    return None if isinstance(value, (dict, list)) else repr(value)


def _included_problem(item: dict, data: CommentedMap, path: tuple, where: tuple, origin: IncludedFrom) -> Problem:
    """A problem in a value that an included file supplied, located in that file."""
    line, column = origin.line, origin.column
    subtree = _node(data, where)
    at_key = item["type"] == "extra_forbidden" or (item.get("ctx") or {}).get("at") == "key"
    if len(path) > len(where) and isinstance(subtree, (CommentedMap, CommentedSeq)) and subtree.lc.line is not None:
        line, column = _spot(subtree, path[len(where):], at_key)
    relocated = {**item}
    problem = _problem(relocated, data, origin.file, {})
    return Problem(origin.file, line, column, problem.path, problem.message, problem.got, problem.allowed)


_BOUNDS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def _explain(item: dict, ctx: dict) -> tuple[str, str | None]:
    kind = item["type"]
    if kind == "missing":
        return "required key is missing", None
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        bound = next(f"{_BOUNDS[k]} {v:g}" if isinstance(v, float) else f"{_BOUNDS[k]} {v}"
                     for k, v in ctx.items() if k in _BOUNDS)
        return f"must be {bound}", bound
    if kind == "literal_error":
        return "not one of the allowed values", ctx.get("expected")
    if kind == "union_tag_invalid":
        return f"unknown {ctx.get('discriminator', 'kind').strip(chr(39))}", ctx.get("expected_tags")
    if kind == "union_tag_not_found":
        return f"needs a {ctx.get('discriminator', 'kind').strip(chr(39))} key", None
    if kind == "unit":
        return item["msg"], ctx.get("allowed")
    if kind == "string_pattern_mismatch":
        return "invalid name", f"lower-case letters, digits, '-', '_', '.' ({ctx.get('pattern')})"
    if kind.startswith("int_") or kind.startswith("float_") or kind.endswith("_type"):
        return item["msg"].replace("Input should be", "must be"), None
    return item["msg"].removeprefix("Value error, ").replace("Input should be", "must be"), None


def _allowed_keys(data: Any, path: tuple) -> list[str]:
    """Keys the model accepts at the parent of `path` (for 'did you mean')."""
    model: Any = Scenario
    node: Any = data
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
        model = _narrow(_field_type(model, part), node)
        if model is None:
            return []
    return list(model.model_fields) if _is_model(model) else []


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _field_type(container: Any, part: Any) -> Any:
    """The declared type one step down: a model's field, or a dict's value type."""
    if _is_model(container):
        field = container.model_fields.get(part)
        return field.annotation if field else None
    if get_origin(container) is dict:
        return get_args(container)[1]
    return None


def _narrow(annotation: Any, node: Any) -> Any:
    """Strip Annotated/Optional; pick the union member whose tag (kind/dist) matches the data."""
    for _ in range(6):
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin is Union or origin is types.UnionType:
            members = [a for a in get_args(annotation) if a is not type(None)]
            annotation = next((m for m in members if _tag_matches(m, node)), members[0] if len(members) == 1 else None)
        else:
            return annotation
    return annotation


def _tag_matches(model: Any, node: Any) -> bool:
    if not (_is_model(model) and isinstance(node, dict)):
        return False
    for tag in ("kind", "dist", "semantics"):
        field = model.model_fields.get(tag)
        if field is not None and node.get(tag) in get_args(field.annotation):
            return True
    return False
