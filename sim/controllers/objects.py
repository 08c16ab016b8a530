"""Kubernetes objects of the rollout controllers, as read from their manifests: kind, apiVersion and
name checked, every field still carrying its file, line and column.

A manifest file may hold several objects (`---` documents); an object is found by kind and name, as
the controller finds a template (`templateName: x` names an AnalysisTemplate, or with `clusterScope:
true` a ClusterAnalysisTemplate; Flagger's `templateRef: {name: x}` a MetricTemplate). This module
owns what an object is and where each of its fields was written; what the fields mean to each
controller is in `sim.controllers.argo`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from sim.errors import Problem, UserError
from sim.positions import position

NAME = re.compile(r"[^a-z0-9_.-]+")  # what a gate name may not hold

# Each kind deploysim reads, with the apiVersion its controller serves it under.
KINDS: dict[str, str] = {
    "Rollout": "argoproj.io/v1alpha1",
    "AnalysisTemplate": "argoproj.io/v1alpha1",
    "ClusterAnalysisTemplate": "argoproj.io/v1alpha1",
    "Canary": "flagger.app/v1beta1",
    "MetricTemplate": "flagger.app/v1beta1",
}


class ManifestError(UserError):
    """A controller object that deploysim cannot read or cannot simulate: each problem at its field."""


@dataclass(frozen=True)
class KubeObject:
    """One object of a manifest file."""

    kind: str
    api_version: str
    name: str
    body: Any = field(repr=False, compare=False)  # the document (a round-trip mapping: it knows its lines)
    source: str = ""  # the file it was read from

    def problem(self, path: tuple, message: str, got: str | None = None, allowed: str | None = None) -> Problem:
        """A problem at the field `path` of this object (its line when the file gave one)."""
        line, column = position(self.body, path)
        return Problem(self.source, line, column, render(path), message, got=got, allowed=allowed)

    def get(self, *path: Any, default: Any = None) -> Any:
        """The value at `path` (mapping keys and list indices), or `default` where any step is missing."""
        node = self.body
        for part in path:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
            else:
                return default
        return node


def objects_of(documents: Iterable[Any], source: str) -> list[KubeObject]:
    """The controller objects of one manifest file's documents, each checked: a mapping, the `apiVersion`
    its kind is served under, and a `metadata.name`. Empty documents and other kinds (a Service, a
    Deployment) are skipped: a file holds an application's other objects too."""
    found, problems = [], []
    for document in documents:
        if document is None:
            continue
        if not isinstance(document, dict):
            problems.append(Problem(source, *position(document, ()), "", "a manifest document must be a mapping",
                                    got=type(document).__name__, allowed="a Kubernetes object (apiVersion, kind, ...)"))
            continue
        kind, version, name = document.get("kind"), document.get("apiVersion"), document.get("metadata", {})
        name = name.get("name") if isinstance(name, dict) else None
        checked = KubeObject(str(kind), str(version), str(name), document, source)
        if kind not in KINDS:
            continue  # a Service, a Deployment, ...: files hold an application's other objects too
        if version != KINDS[kind]:
            problems.append(checked.problem(("apiVersion",), f"{kind} is served as {KINDS[kind]}", got=repr(version),
                                            allowed=KINDS[kind]))
        elif not isinstance(name, str) or not name:
            problems.append(checked.problem(("metadata",), "the object needs metadata.name", got=repr(name),
                                            allowed="a name"))
        else:
            found.append(checked)
    if problems:
        raise ManifestError(problems)
    return found


def find(objects: Iterable[KubeObject], kind: str, name: str) -> KubeObject | None:
    return next((o for o in objects if o.kind == kind and o.name == name), None)


def of_kind(objects: Iterable[KubeObject], kinds: tuple[str, ...]) -> Iterator[KubeObject]:
    return (o for o in objects if o.kind in kinds)


def render(path: tuple) -> str:
    """`spec.strategy.canary.steps[2].pause`: a field path as Kubernetes users write it."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


NO_EFFECT = "no effect on the simulation"


@dataclass(frozen=True)
class Note:
    """A field of an imported object and what deploysim made of it."""

    source: str
    line: int | None
    path: str
    note: str

    def render(self) -> str:
        where = self.source + (f":{self.line}" if self.line is not None else "")
        return f"{where}: {self.path}: {self.note}"


@dataclass
class Imported:
    """A controller object as deploysim's own sections, with what was left out or approximated."""

    rollout: dict
    gates: dict[str, dict]
    ignored: list[Note] = field(default_factory=list)
    approximated: list[Note] = field(default_factory=list)
    origins: dict[tuple, tuple[str, int | None, int | None]] = field(default_factory=dict)
    """Where each generated key came from: (file, line, column), to locate a problem found later."""


def where_of(obj: KubeObject, path: tuple) -> tuple[str, int | None, int | None]:
    """(file, line, column) of the field at `path` of `obj`."""
    problem = obj.problem(path, "")
    return obj.source, problem.line, problem.column


def note_at(obj: KubeObject, path: tuple, note: str) -> Note:
    return Note(obj.source, obj.problem(path, "").line, render(path), note)


def ignore(out: Imported, obj: KubeObject, path: tuple, why: str) -> None:
    """Record that the field at `path` has no effect on the simulation, and why."""
    out.ignored.append(note_at(obj, path, why))


class GateNames:
    """Gate names: `template.metric`, lowered to the scenario's name pattern, unique per distinct gate."""

    def __init__(self) -> None:
        self.taken: dict[str, dict] = {}

    def of(self, wanted: str, gate: dict) -> str:
        base = NAME.sub("-", wanted.lower()).strip("-._") or "metric"
        name, n = base, 1
        while name in self.taken and self.taken[name] != gate:
            n += 1
            name = f"{base}-{n}"
        self.taken[name] = gate
        return name
