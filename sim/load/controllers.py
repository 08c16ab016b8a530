"""A scenario's `rollout:` written as a controller object: the manifests are read and the object becomes
deploysim's own `rollout:` and `gates:` before the scenario is validated.

    rollout:
      argo: k8s/rollout.yaml              # a Rollout (canary); paths relative to the scenario file
      templates: [k8s/analysis.yaml]      # files holding its AnalysisTemplates / ClusterAnalysisTemplates
    # or: flagger: k8s/canary.yaml        # a Flagger Canary, templates: files with its MetricTemplates
      strategy: consul-pull               # how hosts move between builds (as in any rollout:)
      name: web                           # which Rollout, when the file holds several
    metrics:                              # each imported metric, by name: the measure it is simulated as
      success-rate: success_rate

Every other `rollout:` key (watch, horizon) is kept. A problem in a generated key is located at the
manifest field it came from. What the import left out or approximated is kept with the loaded scenario
(`check` prints it, results record it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from sim.controllers.argo import import_rollout
from sim.controllers.flagger import import_canary
from sim.controllers.objects import Imported, KubeObject, Note, find, objects_of, of_kind
from sim.errors import Problem, ScenarioError
from sim.load.includes import IncludedFrom
from sim.load.locate import position
from sim.load.yaml_input import parse_yaml, read_text

CONTROLLERS = {"argo": ("Rollout", import_rollout), "flagger": ("Canary", import_canary)}
IMPORT_KEYS = ("argo", "flagger", "templates", "name")


def expand_controllers(data: Any, source: str, base_dir: Path, origins: dict) -> tuple[Note, ...]:
    """Replace an imported `rollout:` in `data` (in place) by deploysim's own sections; returns the notes
    on what was ignored or approximated (empty when nothing is imported)."""
    rollout = data.get("rollout") if isinstance(data, dict) else None
    controllers = [key for key in CONTROLLERS if isinstance(rollout, dict) and key in rollout]
    if not controllers:
        return ()
    where = _locator(data, source, origins)
    if len(controllers) > 1:
        raise ScenarioError([Problem(*where(("rollout", controllers[1])), f"rollout.{controllers[1]}",
                                     "a rollout imports one controller object", got=", ".join(controllers),
                                     allowed="argo or flagger")])
    controller = controllers[0]
    kind, translate = CONTROLLERS[controller]
    manifest = _path(rollout.get(controller), ("rollout", controller), base_dir, where)
    files = rollout.get("templates") or []
    if not isinstance(files, list):
        raise ScenarioError([Problem(*where(("rollout", "templates")), "rollout.templates", "a list of manifest files",
                                     got=type(files).__name__, allowed="[k8s/analysis.yaml, ...]")])
    objects = read_manifests(manifest)
    templates = [t for i, f in enumerate(files) for t in read_manifests(_path(f, ("rollout", "templates", i), base_dir, where))]
    templates += [o for o in objects if o.kind != kind]
    chosen = _the_object(objects, kind, controller, rollout.get("name"), manifest, where)
    measures = data.get("metrics") if isinstance(data.get("metrics"), dict) else {}
    imported = translate(chosen, templates, measures, str(rollout.get("strategy", "")))
    _merge(data, rollout, imported, origins, where)
    return (*imported.ignored, *imported.approximated)


def shapes_import(path: tuple) -> bool:
    """Whether an override at `path` changes what is imported (the object, its templates, the metric
    mapping): such overrides apply before the import, every other one to its result, so that
    `--set rollout.steps[0].canary.threshold=5` changes the imported policy as a sweep would."""
    return (path[:1] == ("metrics",) or path == ("rollout",)
            or (path[:1] == ("rollout",) and len(path) > 1 and path[1] in IMPORT_KEYS))


def read_manifests(path: Path) -> list[KubeObject]:
    """The controller objects of one manifest file (within the YAML budgets of `sim.limits`)."""
    text = read_text(path)
    return objects_of(parse_yaml(text, str(path), documents=True), str(path))


def kinds_in(path: Path) -> list[str]:
    """The kinds of every document of a manifest file (for saying what a file holds instead)."""
    documents = parse_yaml(read_text(path), str(path), documents=True)
    return [str(d.get("kind")) for d in documents if isinstance(d, dict)]


def _the_object(objects: list[KubeObject], kind: str, key: str, name: Any, manifest: Path, where: Callable) -> KubeObject:
    """The Rollout (or Canary) the scenario imports: the one in the file, or the one `rollout.name` names."""
    found = list(of_kind(objects, (kind,)))
    if name is not None:
        chosen = find(found, kind, str(name))
        if chosen is None:
            raise ScenarioError([Problem(*where(("rollout", "name")), "rollout.name", f"no {kind} of this name in {manifest}",
                                         got=repr(name), allowed=", ".join(o.name for o in found) or "none")])
        return chosen
    if len(found) != 1:
        held = f"{len(found)} {kind}s" if found else "no " + kind + ": it holds " + (", ".join(kinds_in(manifest)) or "nothing")
        raise ScenarioError([Problem(*where(("rollout", key)), f"rollout.{key}",
                                     f"the file must hold exactly one {kind}, or say which with rollout.name",
                                     got=held, allowed=", ".join(o.name for o in found) or f"a file with a {kind}")])
    return found[0]


def _merge(data: Any, rollout: dict, imported: Imported, origins: dict, where: Callable) -> None:
    """The imported sections into `data`; a gate name the scenario already uses is refused."""
    native = {key: value for key, value in rollout.items() if key not in IMPORT_KEYS}
    native.update({key: value for key, value in imported.rollout.items() if key != "strategy"})
    if "strategy" in rollout:
        native["strategy"] = rollout["strategy"]
    gates = data.get("gates") if isinstance(data.get("gates"), dict) else {}
    clashes = sorted(set(gates) & set(imported.gates))
    if clashes:
        raise ScenarioError([Problem(*where(("gates", clashes[0])), f"gates.{clashes[0]}",
                                     "the imported object makes a gate of this name too", got=clashes[0],
                                     allowed="another name")])
    data["rollout"] = native
    data["gates"] = {**gates, **imported.gates}
    for path, (file, line, column) in imported.origins.items():
        origins[path] = IncludedFrom(file, line, column)


def _path(value: Any, key: tuple, base_dir: Path, where: Callable) -> Path:
    if not isinstance(value, str) or not value:
        raise ScenarioError([Problem(*where(key), ".".join(map(str, key)), "a manifest file name", got=repr(value),
                                     allowed="a path, relative to the scenario file")])
    path = Path(value)
    return path if path.is_absolute() else base_dir / path


def _locator(data: Any, source: str, origins: dict) -> Callable[[tuple], tuple[str, int | None, int | None]]:
    def where(path: tuple) -> tuple[str, int | None, int | None]:
        origin = origins.get(path[:1]) or origins.get(path)
        if isinstance(origin, str):
            return origin, None, None
        return (source, *position(data, path))
    return where
