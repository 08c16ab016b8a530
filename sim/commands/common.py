"""Loading a scenario with the CLI's options, before any engine module is imported: a bad input is refused
in well under a second and 100 MB (the simulator's numba, scipy and matplotlib load only for a run)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from rich.console import Console

from sim.backtest.live import live_url
from sim.commands.check import print_warnings
from sim.errors import Problem, UserError
from sim.load.controllers import read_manifests
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


POLICY_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")


def policy_overrides(policies: list[str]) -> list[str]:
    """`--policy NAME=MANIFEST[,TEMPLATES...]` as overrides that add (or replace) `evaluation.policies.NAME`
    with the controller object the manifest holds (a Rollout: argo; a Canary: flagger), its templates in
    the other files and the manifest's other objects; file names are read from where the user is."""
    out = []
    for text in policies:
        name, sep, files = text.partition("=")
        paths = [Path(p).resolve() for p in files.split(",") if p]
        if not sep or not POLICY_NAME.match(name) or not paths:
            raise UserError([Problem("--policy", None, None, "", "write NAME=MANIFEST[,TEMPLATES...] (a name of "
                                     "lower-case letters, digits, - and _)", got=repr(text),
                                     allowed="current=k8s/rollout.yaml,k8s/analysis.yaml")])
        kinds = [o.kind for o in read_manifests(paths[0])]
        controller = "argo" if "Rollout" in kinds else "flagger" if "Canary" in kinds else None
        if controller is None:
            raise UserError([Problem("--policy", None, None, "", f"{paths[0]} holds no Rollout or Canary",
                                     got=", ".join(kinds) or "no controller objects", allowed="an Argo Rollout or a Flagger Canary")])
        value = {controller: str(paths[0]), "templates": [str(p) for p in paths[1:]]}
        out.append(f"evaluation.policies.{name}={json.dumps(value)}")
    return out


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
