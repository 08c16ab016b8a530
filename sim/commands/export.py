"""`deploysim export`: a scenario's policy as an Argo Rollout or a Flagger Canary with their templates,
written as multi-document Kubernetes YAML to stdout or to a file.

    deploysim export scenarios/x.yaml --to argo --policy tuned --out k8s/web.yaml

The translation is `sim.controllers.export`; this module loads the scenario, locates every refusal and
note at the key it concerns, renders the objects (ruamel.yaml: PLACEHOLDER and `deploysim:` comments, a
header saying how to simulate the file again) and writes them atomically: a new file, or with
`--overwrite` one that deploysim wrote (`sim.results.ci_gate.write_report`; the header's first line
carries its marker). `--policy sweep --sweep FOLDER` exports the point `deploysim sweep --out FOLDER`
recommended.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from sim import __version__
from sim.controllers.export import DNS, TARGETS, Exported, ExportError, duration_text, export_policy
from sim.controllers.objects import render as key_path
from sim.errors import Problem, UserError
from sim.load.loader import LoadedScenario, load_scenario, vary
from sim.load.locate import where
from sim.results.ci_gate import check_report_path, write_report
from sim.results.output import MARKER

TITLES = {"argo": "An Argo Rollout (canary) with its AnalysisTemplates",
          "flagger": "A Flagger Canary with its MetricTemplates"}
STDOUT_NAME = "EXPORTED.yaml"
NUMBER = r"[-+]?(\d[\d_]*\.?\d*([eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+)"  # what YAML reads as a number


def export(scenario_path: str, target: str, policy: str | None = None, out: str | None = None,
           name: str | None = None, overrides: list[str] = (), overwrite: bool = False,  # type: ignore[assignment]
           sweep: str | None = None) -> tuple[str, list[str]]:
    """(the YAML text, the note and warning lines for stderr); the text is written to `out` when given.
    Raises UserError (exit 2) for a bad flag, a scenario that does not load, or a policy the controller
    cannot express (every reason, located in the scenario)."""
    problems = _flag_problems(target, name, policy, sweep)
    if out is not None:
        try:
            check_report_path("--out", out, overwrite)
        except UserError as error:
            problems += error.problems
    if problems:
        raise UserError(problems)
    loaded = load_scenario(scenario_path, list(overrides))
    label = policy
    if policy == "sweep" and sweep is not None:
        loaded, policy, point = recommended(loaded, sweep)
        label = f"{policy} at the point deploysim sweep recommended in {sweep}: {point}"
    elif policy == "sweep" and "sweep" not in (loaded.scenario.evaluation.policies if loaded.scenario.evaluation else {}):
        raise UserError([Problem("--policy", None, None, "", "sweep: the point deploysim sweep recommended needs its "
                                 "results folder", got="no --sweep", allowed="--policy sweep --sweep FOLDER")])
    try:
        exported = export_policy(loaded.scenario, target, policy, name, loaded.source)
    except ExportError as error:
        raise UserError([_located(loaded, r.path, r.message, r.got, r.allowed) for r in error.refusals]) from None
    lines = [_located(loaded, n.path, ("note: " if n.exact else "warning: ") + n.message).render() for n in exported.notes]
    text = render(exported, header(loaded, exported, label, out, list(overrides)))
    if out is not None:
        write_report("--out", out, text, overwrite)
    return text, lines


def _flag_problems(target: str, name: str | None, policy: str | None, sweep: str | None) -> list[Problem]:
    problems = []
    if target not in TARGETS:
        problems.append(Problem("--to", None, None, "", "not one of the choices", got=repr(target), allowed=", ".join(TARGETS)))
    if name is not None and (not DNS.match(name) or len(name) > 253):
        problems.append(Problem("--name", None, None, "", "not a Kubernetes object name", got=repr(name),
                                allowed="lower-case letters, digits, '-' and '.', starting and ending alphanumeric"))
    if sweep is not None and policy != "sweep":
        problems.append(Problem("--sweep", None, None, "", "names the results of deploysim sweep, for --policy sweep",
                                got=sweep, allowed="--policy sweep --sweep FOLDER"))
    return problems


def _located(loaded: LoadedScenario, path: tuple, message: str, got: str | None = None,
             allowed: str | None = None) -> Problem:
    source, line, column = where(loaded.data, loaded.source, loaded.origins, path)
    return Problem(source, line, column, key_path(path), message, got=got, allowed=allowed)


def recommended(loaded: LoadedScenario, folder: str) -> tuple[LoadedScenario, str, str]:
    """The scenario with the settings of the point that `deploysim sweep --out folder` recommended, the
    sweep's base policy (which those settings change), and the point's name."""
    from sim.evaluation.sweep import grid_points
    from sim.results.envelope import results_of
    from sim.results.output import read_manifest

    manifest = read_manifest(folder)
    if manifest.get("command") != "sweep":
        raise UserError(f"--sweep {folder}: not the results of deploysim sweep (command {manifest.get('command')!r})")
    evaluation = loaded.scenario.evaluation
    if evaluation is None or evaluation.sweep is None:
        raise UserError(f"{loaded.source}: --policy sweep needs the scenario's evaluation.sweep (its grid)")
    ran = manifest.get("effective_scenario") or {}
    mine = json.loads(json.dumps(loaded.effective, default=str))
    differs = [k for k in ("rollout", "gates", "evaluation", "metrics") if ran.get(k) != mine.get(k)]
    if differs:
        raise UserError(f"--sweep {folder}: the sweep ran another scenario (its {', '.join(differs)} differ from "
                        f"{loaded.source}'s): give the scenario and the --set overrides it ran with "
                        f"({' '.join(manifest.get('scenario', {}).get('overrides', [])) or 'none'})")
    try:
        chosen = results_of(json.loads((Path(folder) / "summary.json").read_text(encoding="utf-8"))).get("recommended")
    except (OSError, ValueError, AttributeError) as error:
        raise UserError(f"--sweep {folder}: cannot read its summary.json ({error})") from None
    if chosen is None:
        raise UserError(f"--sweep {folder}: the sweep recommended no point (none passed every acceptance criterion)")
    point = next((p for p in grid_points(evaluation.sweep.base, evaluation.sweep.grid) if p.name == chosen), None)
    if point is None:
        raise UserError(f"--sweep {folder}: its recommended point {chosen!r} is not a point of the scenario's grid")
    return vary(loaded, point.overrides), evaluation.sweep.base, point.name


def header(loaded: LoadedScenario, exported: Exported, policy: str | None, out: str | None, overrides: list[str]) -> str:
    """The comment lines above the objects: the marker, what the file is, and how to simulate it again."""
    rollout = loaded.scenario.rollout
    assert rollout is not None  # (export_policy refused a scenario without one)
    base = Path(loaded.source).resolve().parent
    file = os.path.relpath(Path(out).resolve(), base) if out is not None else STDOUT_NAME
    sections = {exported.target: file, "strategy": rollout.strategy, "watch": duration_text(rollout.watch) or rollout.watch,
                "horizon": duration_text(rollout.horizon) or rollout.horizon}
    metrics = {**{k: _mapping(v) for k, v in loaded.scenario.metrics.items()}, **exported.metrics}
    command = ["deploysim", "check", loaded.source, *[a for o in overrides for a in ("--set", o)],
               "--set", f"evaluation.policies.exported={_flow({exported.target: file})}"]
    if exported.metrics:
        command += ["--set", f"metrics={_flow(metrics)}"]
    lines = [f"{MARKER} export --> deploysim {__version__}: --overwrite replaces only a file that opens so",
             f"{TITLES[exported.target]}, exported from {loaded.source}"
             + (f" (policy {policy})" if policy else "") + ".",
             "Fill in every PLACEHOLDER before applying it (the workload, the Prometheus address, each query, whose",
             "first lines say what deploysim simulated it as); `deploysim:` comments say what was rewritten.",
             "", "To simulate this object, a scenario says (paths relative to the scenario), instead of its steps and gates:",
             f"  rollout: {_flow(sections)}"]
    if exported.metrics:
        lines.append(f"  metrics: {_flow(exported.metrics)}")
    lines += ["Or, beside the scenario it came from (as policy `exported`; `evaluate` with the same flags judges it",
              "with the scenario's policies on the same releases):", "  " + shlex.join(command)]
    if out is None:
        lines.append(f"  ({STDOUT_NAME}: this output, saved beside the scenario)")
    return "".join(f"# {line}".rstrip() + "\n" for line in lines)


def _mapping(entry: Any) -> Any:
    """A `metrics:` entry as written (a measure, or {measure, scale})."""
    return entry.measure if entry.scale == 1 else {"measure": entry.measure, "scale": entry.scale}


def _flow(value: Any) -> str:
    """`value` as YAML flow text (what a scenario line or a --set value holds)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_flow(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        plain = (re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_./-]*", value) and not re.fullmatch(NUMBER, value)
                 and value.lower() not in ("null", "true", "false", "yes", "no", "on", "off", "y", "n"))
        return value if plain else json.dumps(value)
    return repr(value) if isinstance(value, float) else str(value)


def render(exported: Exported, head: str) -> str:
    """The header, then each object as a `---` document, with the comments at their keys."""
    documents = [_commented(o) for o in exported.objects]
    for index, path, text in exported.comments:
        parent = documents[index]
        for part in path[:-1]:
            parent = parent[part]
        parent.yaml_add_eol_comment(f"# {text}", path[-1])
    yaml = YAML()
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.explicit_start = True
    stream = io.StringIO()
    yaml.dump_all(documents, stream)
    return head + stream.getvalue()


def _commented(value: Any) -> Any:
    """Plain data as ruamel's round-trip nodes (which hold comments); multi-line text as a literal block."""
    if isinstance(value, dict):
        return CommentedMap((k, _commented(v)) for k, v in value.items())
    if isinstance(value, list):
        return CommentedSeq(_commented(v) for v in value)
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    return value
