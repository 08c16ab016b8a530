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

from pydantic import ValidationError

from sim.controllers.argo import import_rollout
from sim.controllers.flagger import import_canary
from sim.controllers.objects import Imported, KubeObject, Note, find, objects_of, of_kind
from sim.errors import Problem, ScenarioError
from sim.load.includes import IncludedFrom
from sim.load.yaml_input import parse_yaml, read_text
from sim.policies.measures import MEASURES, MappedMetric
from sim.positions import position

CONTROLLERS = {"argo": ("Rollout", import_rollout), "flagger": ("Canary", import_canary)}
IMPORT_KEYS = ("argo", "flagger", "templates", "name")


def expand_controllers(data: Any, source: str, base_dir: Path, origins: dict) -> tuple[Note, ...]:
    """Replace an imported `rollout:` and imported `evaluation.policies` in `data` (in place) by deploysim's
    own sections; returns the notes on what was ignored or approximated (empty when nothing is imported)."""
    if not isinstance(data, dict):
        return ()
    where = _locator(data, source, origins)
    measures = data.get("metrics") if isinstance(data.get("metrics"), dict) else {}
    notes: list[Note] = []
    rollout = data.get("rollout")
    evaluation = data.get("evaluation")
    policies = evaluation.get("policies") if isinstance(evaluation, dict) else None
    imports = [_controller(rollout, ("rollout",), where)] + [
        _controller(policy, ("evaluation", "policies", name), where) for name, policy in
        (policies.items() if isinstance(policies, dict) else ())]
    if any(imports):
        _check_measures(measures, where)
    if _controller(rollout, ("rollout",), where) is not None:
        imported = _import(rollout, ("rollout",), base_dir, where, measures)
        _merge(data, rollout, imported, origins, where)
        notes += [*imported.ignored, *imported.approximated]
    for name, policy in list(policies.items()) if isinstance(policies, dict) else ():
        key = ("evaluation", "policies", name)
        if _controller(policy, key, where) is None:
            continue
        imported = _import(policy, key, base_dir, where, measures)
        _merge_policy(data, str(name), policy, imported, origins, where)
        notes += [*imported.ignored, *imported.approximated]
    _steps_from_policies(data)
    return tuple(notes)


def _check_measures(measures: dict, where: Callable) -> None:
    """The `metrics:` mapping, checked before it is used to translate (each problem once, at its entry)."""
    problems = []
    for name, entry in measures.items():
        try:
            MappedMetric.model_validate(entry)
        except ValidationError as error:
            for detail in error.errors():
                key = ("metrics", name, *(part for part in detail["loc"] if isinstance(part, (str, int))))
                problems.append(Problem(*where(key[:2] if isinstance(entry, str) else key), _dotted(key),
                                        detail["msg"], got=repr(detail.get("input")),
                                        allowed=", ".join(MEASURES) if "measure" in key else None))
    if problems:
        raise ScenarioError(problems)


def _controller(section: Any, key: tuple, where: Callable) -> str | None:
    """`argo` or `flagger` when the section (`rollout:` or a policy) imports a controller object."""
    found = [k for k in CONTROLLERS if isinstance(section, dict) and k in section]
    if len(found) > 1:
        raise ScenarioError([Problem(*where(key + (found[1],)), _dotted(key + (found[1],)),
                                     "a section imports one controller object", got=", ".join(found),
                                     allowed="argo or flagger")])
    return found[0] if found else None


def _import(section: dict, key: tuple, base_dir: Path, where: Callable, measures: dict) -> Imported:
    """The controller object a `rollout:` or a policy names, with its templates, as deploysim's sections."""
    controller = _controller(section, key, where)
    assert controller is not None
    kind, translate = CONTROLLERS[controller]
    manifest = _path(section.get(controller), key + (controller,), base_dir, where)
    files = section.get("templates") or []
    if not isinstance(files, list):
        raise ScenarioError([Problem(*where(key + ("templates",)), _dotted(key + ("templates",)), "a list of manifest files",
                                     got=type(files).__name__, allowed="[k8s/analysis.yaml, ...]")])
    objects = read_manifests(manifest)
    templates = [t for i, f in enumerate(files) for t in read_manifests(_path(f, key + ("templates", i), base_dir, where))]
    templates += [o for o in objects if o.kind != kind]
    chosen = _the_object(objects, kind, key + (controller,), section.get("name"), manifest, where)
    return translate(chosen, templates, measures, str(section.get("strategy", "")))


def _merge_policy(data: dict, name: str, policy: dict, imported: Imported, origins: dict, where: Callable) -> None:
    """An imported policy into `data`: its gates as the policy, its steps as `evaluation.rollouts.NAME`."""
    key = ("evaluation", "policies", name)
    extra = [k for k in policy if k not in IMPORT_KEYS]
    if extra:
        raise ScenarioError([Problem(*where(key + (extra[0],)), _dotted(key + (extra[0],)),
                                     "an imported policy takes only its object, templates and name", got=extra[0],
                                     allowed=", ".join(IMPORT_KEYS))])
    evaluation = data["evaluation"]
    evaluation["policies"][name] = imported.gates
    rollouts = evaluation.setdefault("rollouts", {})
    if not isinstance(rollouts, dict):
        return  # the model reports it
    rollouts[name] = {k: v for k, v in imported.rollout.items() if k != "strategy"}
    for path, (file, line, column) in imported.origins.items():
        moved = (("evaluation", "rollouts", name, *path[1:]) if path[:1] == ("rollout",)
                 else ("evaluation", "policies", name, *path[1:]))
        origins[moved] = IncludedFrom(file, line, column)


def _steps_from_policies(data: dict) -> None:
    """A `rollout:` without steps, in a scenario whose every policy brings its own (imported objects), runs
    the first policy's steps outside `evaluate` too, so that it is a complete rollout."""
    rollout, evaluation = data.get("rollout"), data.get("evaluation")
    if not isinstance(rollout, dict) or "steps" in rollout or not isinstance(evaluation, dict):
        return
    policies, rollouts = evaluation.get("policies"), evaluation.get("rollouts")
    if isinstance(policies, dict) and isinstance(rollouts, dict) and policies and set(policies) <= set(rollouts):
        rollout.update(rollouts[next(iter(policies))])


def _dotted(key: tuple) -> str:
    return ".".join(map(str, key))


def shapes_import(path: tuple) -> bool:
    """Whether an override at `path` changes what is imported (a `rollout:` or a policy as a whole, its
    object, templates or name, the metric mapping): such overrides apply before the import, every other
    one to its result, so that `--set rollout.steps[0].canary.threshold=5` changes the imported policy
    as a sweep would."""
    if path[:1] == ("metrics",) or path in (("rollout",), ("evaluation",), ("evaluation", "policies")):
        return True
    if path[:1] == ("rollout",):
        return path[1] in IMPORT_KEYS
    if path[:2] == ("evaluation", "policies"):
        return len(path) == 3 or path[3] in IMPORT_KEYS
    return False


def read_manifests(path: Path) -> list[KubeObject]:
    """The controller objects of one manifest file (within the YAML budgets of `sim.limits`)."""
    text = read_text(path)
    return objects_of(parse_yaml(text, str(path), documents=True), str(path))


def kinds_in(path: Path) -> list[str]:
    """The kinds of every document of a manifest file (for saying what a file holds instead)."""
    documents = parse_yaml(read_text(path), str(path), documents=True)
    return [str(d.get("kind")) for d in documents if isinstance(d, dict)]


def _the_object(objects: list[KubeObject], kind: str, key: tuple, name: Any, manifest: Path, where: Callable) -> KubeObject:
    """The Rollout (or Canary) the scenario imports: the one in the file, or the one `rollout.name` names."""
    found = list(of_kind(objects, (kind,)))
    if name is not None:
        chosen = find(found, kind, str(name))
        if chosen is None:
            raise ScenarioError([Problem(*where(key[:-1] + ("name",)), _dotted(key[:-1] + ("name",)), f"no {kind} of this name in {manifest}",
                                         got=repr(name), allowed=", ".join(o.name for o in found) or "none")])
        return chosen
    if len(found) != 1:
        held = f"{len(found)} {kind}s" if found else "no " + kind + ": it holds " + (", ".join(kinds_in(manifest)) or "nothing")
        raise ScenarioError([Problem(*where(key), _dotted(key),
                                     f"the file must hold exactly one {kind}, or say which with {_dotted(key[:-1] + ('name',))}",
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
