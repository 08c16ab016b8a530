"""Loading a scenario with the CLI's options, before any engine module is imported: a bad input is refused
in well under a second and 100 MB (the simulator's numba, scipy and matplotlib load only for a run)."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from sim.backtest.live import live_url
from sim.commands.check import print_warnings
from sim.load.loader import load_scenario


def cli_overrides(overrides: list[str], replications: int | None, seed: int | None,
                  metrics: str | None = None) -> list[str]:
    extra = list(overrides)
    if metrics is not None:  # a file relative to where the user is, not to the scenario file; or a server's URL
        extra.append(f"traffic.history={json.dumps(metrics if live_url(metrics) else str(Path(metrics).resolve()))}")
    if replications is not None:
        extra.append(f"replications={replications}")
    if seed is not None:
        extra.append(f"seed={seed}")
    return extra


def prepare(scenario_path: str, overrides: list[str], replications: int | None, seed: int | None,
            metrics: str | None = None):
    """Load and validate the scenario with the CLI's options (warnings go to stderr); settle the root seed
    (drawn if absent)."""
    loaded = load_scenario(scenario_path, cli_overrides(list(overrides), replications, seed, metrics))
    print_warnings(loaded)
    if loaded.scenario.seed is not None:
        return loaded, loaded.scenario.seed
    from sim.streams import draw_entropy

    entropy = draw_entropy()
    Console(stderr=True).print(f"[dim]no seed given: drew entropy {entropy} (repeat with --seed {entropy})[/dim]")
    return loaded, entropy
