"""`deploysim check`: validate a scenario (with the same overrides as `run`) without running it."""

from __future__ import annotations

from sim.loader import LoadedScenario, load_scenario


def check(scenario_path: str, overrides: list[str] = ()) -> LoadedScenario:
    """Raise ScenarioError listing every problem, or return the validated scenario."""
    return load_scenario(scenario_path, overrides)


def describe(loaded: LoadedScenario) -> str:
    scenario = loaded.scenario
    sizes = scenario.fleet_sizes()
    size_text = f"{sizes[0]:,}" if len(sizes) == 1 else f"{len(sizes)} sizes, {sizes[0]:,} to {sizes[-1]:,} hosts"
    return (f"{loaded.source}: ok: scenario {scenario.name!r}, {len(scenario.strategies)} strategies "
            f"({', '.join(scenario.strategies)}), {size_text}, {scenario.replications} replication(s); "
            f"sha256 {loaded.digest[:12]}")
