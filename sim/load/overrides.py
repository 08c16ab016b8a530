"""`--set key.path=value` overrides applied to a scenario's data before validation.

The value is read as YAML, so `--set fleet.hosts=5000`, `--set sweep.hosts=[10,100]` and
`--set strategies.pull.wakeup={dist: constant, value: 50ms}` all work. List items are addressed as
`steps[1]` or `steps.1`. Missing mappings on the way are created. Values are read as YAML 1.2
within the YAML budgets of `sim.limits` (size, nesting, nodes, finite numbers; see `sim.load.yaml_input`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from ruamel.yaml.comments import CommentedMap

from sim.errors import Problem, ScenarioError
from sim.limits import MAX_DEPTH, describe_bytes, max_bytes
from sim.limits import YAML as YAML_BUDGET
from sim.load.yaml_input import parse_yaml

_KEY = re.compile(r"^[A-Za-z0-9_.\-]+$")
MAX_KEY_CHARACTERS = 1000


@dataclass(frozen=True, slots=True)
class Override:
    path: tuple
    value: Any
    text: str


def parse_override(text: str) -> Override:
    origin = f"--set {text}"
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ScenarioError([Problem(origin, None, None, "", "an override must look like key.path=value",
                                     allowed="for example fleet.hosts=5000")])
    if len(key) > MAX_KEY_CHARACTERS:
        raise ScenarioError([Problem(f"--set {key[:40]}...", None, None, "", "key path too long",
                                     got=f"{len(key)} characters", allowed=f"at most {MAX_KEY_CHARACTERS}")])
    parts: list = []
    for piece in re.split(r"\.(?![^\[]*\])", key):
        match = re.fullmatch(r"([^\[\]]+)((?:\[\d+\])*)", piece)
        if not match or not _KEY.match(match[1]):
            raise ScenarioError([Problem(origin, None, None, key, "cannot read this key path",
                                         allowed="dotted keys such as rollout.steps[1].set_weight")])
        parts.append(int(match[1]) if match[1].isdigit() else match[1])
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", match[2]))
    if len(parts) > MAX_DEPTH:
        raise ScenarioError([Problem(f"--set {key}", None, None, "", "key path too deep", got=f"{len(parts)} keys",
                                     allowed=f"at most {MAX_DEPTH}")])
    return Override(path=tuple(parts), value=_value(key, tuple(parts), raw), text=text)


def _value(key: str, path: tuple, raw: str) -> Any:
    """The value read as YAML, within the YAML budgets of `sim.limits`; problems located as `--set key`."""
    source, limit = f"--set {key}", max_bytes(YAML_BUDGET)
    size = len(raw.encode("utf-8", "surrogatepass"))
    if size > limit:
        allowed = f"at most {describe_bytes(limit)}; raise with {YAML_BUDGET.variable}=SIZE"
        raise ScenarioError([Problem(source, None, None, "", "value too large", got=describe_bytes(size),
                                     allowed=allowed)])
    if not raw.strip():
        return ""
    try:
        return parse_yaml(raw, source, round_trip=False, located=False, prefix=path)
    except ScenarioError as error:
        raise ScenarioError([replace(p, path="" if p.path == key else p.path) for p in error.problems]) from None


def apply_overrides(data: CommentedMap, overrides: list[Override]) -> dict[tuple, str]:
    """Apply in order; returns which data paths came from which override (for error locations)."""
    origins: dict[tuple, str] = {}
    for override in overrides:
        _set(data, override)
        origins[override.path] = f"--set {override.text.partition('=')[0].strip()}"
    return origins


def _set(data: Any, override: Override) -> None:
    node = data
    for depth, part in enumerate(override.path[:-1]):
        child = _get(node, part)
        if child is None:
            if not isinstance(node, dict):
                _fail(override, depth)
            node[part] = child = CommentedMap()
        elif not isinstance(child, (dict, list)):
            _fail(override, depth)
        node = child
    last = override.path[-1]
    if isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = override.value
    elif isinstance(node, dict):
        node[last] = override.value
    else:
        _fail(override, len(override.path) - 1)


def _get(node: Any, part: Any) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and part < len(node):
        return node[part]
    return None


def _fail(override: Override, depth: int) -> None:
    where = ".".join(str(p) for p in override.path[: depth + 1])
    raise ScenarioError([Problem(f"--set {override.text}", None, None, where,
                                 "cannot set a key inside this value (not a mapping, or no such list item)")])
