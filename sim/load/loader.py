"""Reading a scenario: YAML text -> overrides -> validated `Scenario`, or every problem at once.

Problems are located as `file:line:col: key.path: message (got X; allowed Y)`. Values that came from a
`--set key=value` override are located as `--set key`. Nothing here writes anything. Every file and
value is read within the budgets of `sim.limits` (size, nesting, nodes with aliases expanded, finite
numbers: see `sim.load.yaml_input`); the scenario with its includes and overrides is held to the node and
depth budgets again before validation.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap

from sim import limits
from sim.errors import Problem, ScenarioError
from sim.load.controllers import expand_controllers, shapes_import
from sim.load.includes import resolve_includes
from sim.load.locate import problems_from, where
from sim.load.overrides import apply_overrides, parse_override
from sim.load.yaml_input import DEPTH_ALLOWED, parse_yaml, read_text
from sim.positions import position
from sim.spec.references import render_path
from sim.spec.scenario import SCENARIO_VERSION, Scenario


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with where it came from and its fingerprint."""

    scenario: Scenario
    source: str
    overrides: tuple[str, ...]
    data: Any = field(default=None, repr=False, compare=False)
    """The parsed YAML after includes and overrides (for locating warnings; None when built in code)."""
    origins: dict = field(default_factory=dict, repr=False, compare=False)
    """Which key paths came from an included file or a `--set` override (see `sim.load.locate.where`)."""
    imported: tuple = field(default=(), compare=False)
    """What importing a controller object left out or approximated (`sim.controllers.argo.Note`s)."""

    @property
    def effective(self) -> dict:
        """The scenario with every default filled in, as plain JSON-able data."""
        return self.scenario.model_dump(mode="json")

    @property
    def digest(self) -> str:
        text = json.dumps(self.effective, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def load_mapping(data: dict, source: Path, base_dir: Path) -> LoadedScenario:
    """A scenario built in code as plain data (it may `include:` files), loaded as a file would be: includes
    merged, every problem located at `source` or at the included file it came from; relative file names
    are read from `base_dir`."""
    origins: dict = resolve_includes(data, source, read_yaml)
    imported = expand_controllers(data, str(source), base_dir, origins)
    scenario = validate(data, str(source), origins, base_dir=base_dir)
    return LoadedScenario(scenario=scenario, source=str(source), overrides=(), data=data, origins=origins,
                          imported=imported)


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> LoadedScenario:
    """Read, override and validate a scenario file; raise ScenarioError listing every problem."""
    source = str(path)
    data = read_yaml(Path(path))
    origins: dict = resolve_includes(data, Path(path), read_yaml)
    parsed = [parse_override(text) for text in overrides]
    first = [o for o in parsed if shapes_import(o.path)]
    origins.update(apply_overrides(data, first))
    imported = expand_controllers(data, source, Path(path).parent, origins)
    origins.update(apply_overrides(data, [o for o in parsed if not shapes_import(o.path)]))
    scenario = validate(data, source, origins, base_dir=Path(path).parent)
    return LoadedScenario(scenario=scenario, source=source, overrides=tuple(overrides), data=data, origins=origins,
                          imported=imported)


def vary(loaded: LoadedScenario, overrides: Iterable[str]) -> LoadedScenario:
    """`loaded` with more overrides, validated like `load_scenario` would (problems located the same
    way), without reading its files again (unless it was built in code, without its parsed data)."""
    if loaded.data is None:
        return load_scenario(loaded.source, [*loaded.overrides, *overrides])
    data = copy.deepcopy(loaded.data)
    parsed = [parse_override(text) for text in overrides]
    origins = {**loaded.origins, **apply_overrides(data, parsed)}
    imported = loaded.imported + expand_controllers(data, loaded.source, Path(loaded.source).parent, origins)
    scenario = validate(data, loaded.source, origins, base_dir=Path(loaded.source).parent)
    return LoadedScenario(scenario=scenario, source=loaded.source, overrides=(*loaded.overrides, *overrides),
                          data=data, origins=origins, imported=imported)


def read_yaml(path: Path) -> CommentedMap:
    """One YAML file (a scenario, an included file) as round-trip data, within the budgets of `sim.limits`."""
    source = str(path)
    text = read_text(path)
    data = parse_yaml(text, source)
    if data is None:
        raise ScenarioError([Problem(source, 1, 1, "", "file is empty", allowed=f"a mapping with version: {SCENARIO_VERSION}")])
    if not isinstance(data, CommentedMap):
        raise ScenarioError(
            [Problem(source, 1, 1, "", "the top level must be a mapping", got=type(data).__name__,
                     allowed="key: value pairs")]
        )
    return data


def validate(data: CommentedMap, source: str, origins: dict[tuple, str], base_dir: Path) -> Scenario:
    version = data.get("version")
    if version != SCENARIO_VERSION:
        line, column = position(data, ("version",))
        got = "nothing" if version is None else repr(version)
        raise ScenarioError(
            [Problem(source, line, column, "version", "unsupported or missing scenario format version",
                     got=got, allowed=str(SCENARIO_VERSION))]
        )
    try:
        return Scenario.model_validate(_plain(data, source, origins), context={"base_dir": str(base_dir)})
    except ValidationError as error:
        raise ScenarioError(problems_from(error.errors(), data, source, origins)) from None


def _plain(data: CommentedMap, source: str, origins: dict) -> Any:
    """The scenario's data as plain dicts and lists, held to the node and depth budgets again: includes and
    `--set` overrides can add to what each file was checked for, and aliases expand here."""
    budget, count = limits.max_nodes(), [0]

    def refuse(path: tuple, message: str, got: str, allowed: str) -> None:
        file, line, column = where(data, source, origins, path)
        shown = "" if file.startswith("--set ") and file.endswith(" " + render_path(path)) else render_path(path)
        raise ScenarioError([Problem(file, line, column, shown, message, got=got, allowed=allowed)])

    def convert(node: Any, path: tuple) -> Any:
        count[0] += 1 + (len(node) if isinstance(node, dict) else 0)  # the node, and a mapping's keys
        if count[0] > budget:
            refuse(path, "too many values: with its includes and --set overrides the scenario passes its node "
                   "budget", f"more than {budget} keys, values and list items, each alias counted as the whole "
                   "value it names", f"at most {budget}; raise with {limits.NODES_VARIABLE}=N")
        if isinstance(node, (dict, list)) and len(path) >= limits.MAX_DEPTH:
            refuse(path, "nested too deep", f"more than {limits.MAX_DEPTH} levels", DEPTH_ALLOWED)
        if isinstance(node, dict):
            return {str(k): convert(v, path + (k,)) for k, v in node.items()}
        if isinstance(node, list):
            return [convert(v, path + (i,)) for i, v in enumerate(node)]
        return node

    return convert(data, ())
