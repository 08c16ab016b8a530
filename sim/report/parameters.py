"""The scenario's parameters as the report lists them: each setting, its value, and where it came from.

The values are the run's own (the manifest's effective scenario, every default filled in). Where the
scenario file is still at the path the manifest names and still gives the same scenario (its digest
matches the manifest's), each setting also shows the value as written (`10Gbps`, not 1250000000.0) and
its source: the comment on its line (the shipped scenarios cite one for every number), `--set` for an
override, or "default" for a setting the file leaves out. Otherwise the report says why it cannot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sim.errors import UserError
from sim.load.loader import load_scenario
from sim.load.locate import where


@dataclass(frozen=True)
class Setting:
    key: str  # dotted path, e.g. network.per_flow
    value: str  # as written in the file when known, else the effective value
    source: str  # the comment on its line, "--set ...", "default", or "" when not known


def settings(manifest: dict, sections: tuple[str, ...]) -> tuple[list[Setting], str | None]:
    """The settings of `sections` of the run's scenario, and a note when their sources are not known."""
    effective = manifest.get("effective_scenario") or {}
    leaves = [(path, value) for name in sections if name in effective
              for path, value in _leaves((name,), effective[name]) if value is not None]
    loaded, note = _same_scenario(manifest)
    if loaded is None:
        return [Setting(_dotted(path), _plain(value), "") for path, value in leaves], note
    shown: dict[tuple, Setting] = {}
    for path, value in leaves:
        at = _shorthand(loaded.data, path)  # `publish: 5s` stands for publish.dist and publish.value
        if at not in shown:
            shown[at] = _setting(loaded, at, value)
    return list(shown.values()), None


def _same_scenario(manifest: dict):
    """The scenario file, loaded with the run's overrides, if it still gives the run's scenario."""
    scenario = manifest.get("scenario") or {}
    source = scenario.get("source") or ""
    if not source or not Path(source).is_file():
        return None, (f"the scenario file ({source or 'none recorded'}) is not found from here, so the values "
                      "below are the run's effective ones, without the sources its comments cite")
    try:
        loaded = load_scenario(source, list(scenario.get("overrides") or []))
    except UserError:
        loaded = None
    if loaded is None or loaded.digest != scenario.get("sha256"):
        return None, (f"the scenario file {source} has changed since the run, so the values below are the run's "
                      "effective ones, without the sources its comments cite")
    return loaded, None


def _setting(loaded, path: tuple, value) -> Setting:
    written = _node(loaded.data, path)
    file, line, _ = where(loaded.data, loaded.source, loaded.origins, path)
    if file.startswith("--set"):
        return Setting(_dotted(path), _plain(written if written is not None else value), file)
    if written is None:
        return Setting(_dotted(path), _plain(value), "default")
    return Setting(_dotted(path), _plain(written), _comment(file, line))


def _shorthand(data, path: tuple) -> tuple:
    """`path`, or its ancestor where the file writes one value for the whole subtree."""
    for length in range(1, len(path)):
        if not isinstance(data, dict) or path[length - 1] not in data:
            return path
        data = data[path[length - 1]]
        if data is not None and not isinstance(data, (dict, list)):
            return path[:length]
    return path


def _node(data, path: tuple):
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return None if isinstance(data, dict) else data


def _comment(file: str, line: int | None) -> str:
    """The comment at the end of `line` (1-based) of `file`, outside quotes; '' when there is none."""
    if line is None:
        return ""
    try:
        text = Path(file).read_text(encoding="utf-8").splitlines()[line - 1]
    except (OSError, IndexError, ValueError):
        return ""
    quote = None
    for at, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (at == 0 or text[at - 1] in " \t"):
            return text[at + 1:].strip()
    return ""


def _leaves(path: tuple, value) -> list[tuple[tuple, object]]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves((*path, key), item)]
    return [(path, value)]


def _dotted(path: tuple) -> str:
    return ".".join(str(part) for part in path)


def _plain(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value), default=str)
    return f"{value:g}" if isinstance(value, float) else str(value)
