"""`deploysim check`: validate a scenario (with the same overrides as `run`) without running it; and the
warnings that `check`, `run`, `evaluate` and `sweep` print about it. With `--format json` the same as one
object on stdout (`to_json`; `failure_json` with every problem when the scenario is not valid).

A warning is one line on stderr, located like an error but marked, and never changes the exit code:

    scenarios/x.yaml:21:77: evaluation.policies.p.errors.min_requests: warning: ...
"""

from __future__ import annotations

import sys

from sim.errors import Problem, UserError
from sim.load.loader import LoadedScenario, load_scenario
from sim.load.locate import where
from sim.rollout.warnings import scenario_warnings


def check(scenario_path: str, overrides: list[str] = ()) -> LoadedScenario:
    """Raise ScenarioError listing every problem, or return the validated scenario."""
    return load_scenario(scenario_path, overrides)


def describe(loaded: LoadedScenario) -> str:
    scenario = loaded.scenario
    sizes = scenario.fleet_sizes()
    size_text = f"{sizes[0]:,}" if len(sizes) == 1 else f"{len(sizes)} sizes, {sizes[0]:,} to {sizes[-1]:,} hosts"
    return (f"{loaded.source}: ok: scenario {scenario.name!r}, {len(scenario.strategies)} strategies "
            f"({', '.join(scenario.strategies)}), {size_text}, {scenario.replications} replication(s)"
            f"{_rollout_text(scenario)}; sha256 {loaded.digest[:12]}")


def _rollout_text(scenario) -> str:
    rollout = scenario.rollout
    if rollout is None:
        return ""
    text = f"; rollout of {len(rollout.steps)} steps by {rollout.strategy}"
    if scenario.traffic.history is not None:
        text += ", backtest on a metric history"
    if scenario.evaluation is not None:
        text += f", {len(scenario.evaluation.policies)} policies ({', '.join(scenario.evaluation.policies)})"
    return text


def import_lines(loaded: LoadedScenario) -> list[str]:
    """What importing a controller object left out or approximated, one field per line:
    `k8s/rollout.yaml:8: spec.replicas: no effect on the simulation`."""
    return [note.render() for note in loaded.imported]


def warnings(loaded: LoadedScenario) -> list[Problem]:
    """Each warning, located at the file that holds the setting: the scenario, an included file, or the
    `--set key` that gave it."""
    found = []
    for warning in scenario_warnings(loaded.scenario):
        source, line, column = where(loaded.data, loaded.source, loaded.origins, warning.path)
        path = "" if source.endswith(" " + warning.key) else warning.key  # `--set key` names it already
        found.append(Problem(source, line, column, path, f"warning: {warning.message}"))
    return found


def warning_lines(loaded: LoadedScenario) -> list[str]:
    """Each warning as `file:line:col: key.path: warning: message`."""
    return [problem.render() for problem in warnings(loaded)]


def print_warnings(loaded: LoadedScenario, file=None) -> None:
    """Print the warnings on stderr, literally (no markup, no emoji codes: a file may be `a:100:b.yaml`)."""
    for line in warning_lines(loaded):
        print(line, file=file or sys.stderr)


def problem_record(problem: Problem) -> dict:
    """A problem (or a warning) as `check --format json` gives it."""
    return {"file": problem.source, "line": problem.line, "column": problem.column, "key": problem.path,
            "message": problem.message, "got": problem.got, "allowed": problem.allowed}


def to_json(loaded: LoadedScenario, predicted: list) -> dict:
    """What `check --format json` prints for a valid scenario: what it holds, what importing controller
    objects left out, its warnings and the predictions (`sim.commands.predict`)."""
    from sim.commands.predict import prediction_records
    from sim.results.envelope import envelope

    scenario = loaded.scenario
    rollout = scenario.rollout
    return envelope("check", {
        "ok": True, "source": str(loaded.source), "sha256": loaded.digest,
        "strategies": list(scenario.strategies), "fleet_hosts": list(scenario.fleet_sizes()),
        "replications": scenario.replications,
        "rollout": None if rollout is None else {
            "strategy": rollout.strategy, "steps": len(rollout.steps),
            "backtest": scenario.traffic.history is not None,
            "policies": list(scenario.evaluation.policies) if scenario.evaluation is not None else []},
        "imported": [{"file": note.source, "line": note.line, "key": note.path, "note": note.note}
                     for note in loaded.imported],
        "warnings": [problem_record(problem) for problem in warnings(loaded)],
        "predictions": prediction_records(predicted),
        "problems": [],
    }, scenario=scenario.name, seed=scenario.seed, entropy=scenario.seed)


def failure_json(source: str, error: UserError) -> dict:
    """What `check --format json` prints for a scenario with problems (exit 2; they go to stderr too)."""
    from sim.results.envelope import envelope

    return envelope("check", {"ok": False, "source": source, "problems": [problem_record(p) for p in error.problems]})
