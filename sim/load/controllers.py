"""A scenario's `rollout:` written as a controller object: the manifests are read and the object becomes
deploysim's own `rollout:` and `gates:` before the scenario is validated.

    rollout:
      argo: k8s/rollout.yaml              # a Rollout (canary); paths relative to the scenario file
      templates: [k8s/analysis.yaml]      # files holding its AnalysisTemplates / ClusterAnalysisTemplates
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

from sim.controllers.argo import Imported, Note, import_rollout
from sim.controllers.objects import KubeObject, find, objects_of, of_kind
from sim.errors import Problem, ScenarioError
from sim.load.includes import IncludedFrom
from sim.load.locate import position
from sim.load.yaml_input import parse_yaml, read_text

CONTROLLER_KEYS = ("argo",)  # a `rollout:` with one of these is an imported object
IMPORT_KEYS = ("argo", "templates", "name")


def expand_controllers(data: Any, source: str, base_dir: Path, origins: dict) -> tuple[Note, ...]:
    """Replace an imported `rollout:` in `data` (in place) by deploysim's own sections; returns the notes
    on what was ignored or approximated (empty when nothing is imported)."""
    rollout = data.get("rollout") if isinstance(data, dict) else None
    if not isinstance(rollout, dict) or not any(key in rollout for key in CONTROLLER_KEYS):
        return ()
    where = _locator(data, source, origins)
    manifest = _path(rollout.get("argo"), ("rollout", "argo"), base_dir, where)
    files = rollout.get("templates") or []
    if not isinstance(files, list):
        raise ScenarioError([Problem(*where(("rollout", "templates")), "rollout.templates", "a list of manifest files",
                                     got=type(files).__name__, allowed="[k8s/analysis.yaml, ...]")])
    objects = read_manifests(manifest)
    templates = [t for i, f in enumerate(files) for t in read_manifests(_path(f, ("rollout", "templates", i), base_dir, where))]
    templates += [o for o in objects if o.kind != "Rollout"]
    chosen = _the_rollout(objects, rollout.get("name"), manifest, where)
    measures = data.get("metrics") if isinstance(data.get("metrics"), dict) else {}
    imported = import_rollout(chosen, templates, measures, str(rollout.get("strategy", "")))
    _merge(data, rollout, imported, origins, where)
    return (*imported.ignored, *imported.approximated)


def read_manifests(path: Path) -> list[KubeObject]:
    """The objects of one manifest file (within the YAML budgets of `sim.limits`)."""
    text = read_text(path)
    return objects_of(parse_yaml(text, str(path), documents=True), str(path))


def _the_rollout(objects: list[KubeObject], name: Any, manifest: Path, where: Callable) -> KubeObject:
    rollouts = list(of_kind(objects, ("Rollout",)))
    if name is not None:
        found = find(rollouts, "Rollout", str(name))
        if found is None:
            raise ScenarioError([Problem(*where(("rollout", "name")), "rollout.name", f"no Rollout of this name in {manifest}",
                                         got=repr(name), allowed=", ".join(r.name for r in rollouts) or "none")])
        return found
    if len(rollouts) != 1:
        raise ScenarioError([Problem(*where(("rollout", "argo")), "rollout.argo",
                                     "the file must hold exactly one Rollout, or say which with rollout.name",
                                     got=f"{len(rollouts)} Rollouts", allowed=", ".join(r.name for r in rollouts) or "one")])
    return rollouts[0]


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
                                     "the imported Rollout makes a gate of this name too", got=clashes[0],
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
