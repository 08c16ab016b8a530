"""`deploysim check`: validate a scenario (with the same overrides as `run`) without running it; and the
warnings that `check`, `run`, `evaluate` and `sweep` print about it.

A warning is one line on stderr, located like an error but marked, and never changes the exit code:

    scenarios/x.yaml:21:77: evaluation.policies.p.errors.min_requests: warning: ...
"""

from __future__ import annotations

import sys

from sim.errors import Problem
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


def warning_lines(loaded: LoadedScenario) -> list[str]:
    """Each warning as `file:line:col: key.path: warning: message` (the file that holds the setting: the
    scenario, an included file, or the `--set key` that gave it)."""
    lines = []
    for warning in scenario_warnings(loaded.scenario):
        source, line, column = where(loaded.data, loaded.source, loaded.origins, warning.path)
        path = "" if source.endswith(" " + warning.key) else warning.key  # `--set key` names it already
        lines.append(Problem(source, line, column, path, f"warning: {warning.message}").render())
    return lines


def print_warnings(loaded: LoadedScenario, file=None) -> None:
    """Print the warnings on stderr, literally (no markup, no emoji codes: a file may be `a:100:b.yaml`)."""
    for line in warning_lines(loaded):
        print(line, file=file or sys.stderr)
