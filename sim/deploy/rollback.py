"""Rolling a fleet back, as a deploy of the previous build that every host still keeps.

Hosts keep their previous release (`releases/<previous>` beside `current`), so a rollback moves no bytes
and verifies nothing: only signalling, connections and the switch remain. Push still takes every host
through its slots (ssh connect, then switch the link: no file-list scan, nothing to send); pull and p2p
write the release key back (nothing to publish) and every host, woken by the key, switches. Faults
(down, flaky, stragglers) and the network are the deploy's own.

`rollback_scenario` is the deploy scenario so transformed; the engine then simulates it like any deploy,
on the same seeds, so deploy and rollback of a strategy at a fleet size are one draw apart only in what a
rollback skips.
"""

from __future__ import annotations

from sim.distributions import Constant
from sim.spec.scenario import PeerStrategy, PullStrategy, PushStrategy, Scenario

NOTHING = 1.0  # bytes: the artifact a rollback moves (the scenario needs a size above 0)


def rollback_scenario(scenario: Scenario) -> Scenario:
    """`scenario` with every strategy rolling back instead of deploying."""
    strategies = {name: _rollback(spec) for name, spec in scenario.strategies.items()}
    artifact = scenario.artifact.model_copy(update={"size": NOTHING, "files": 1})
    return scenario.model_copy(update={"strategies": strategies, "artifact": artifact})


def _rollback(spec: PushStrategy | PullStrategy | PeerStrategy):
    """Push: no scan and no bytes (connect and switch remain); pull and p2p: no publish step."""
    if isinstance(spec, PushStrategy):
        return spec.model_copy(update={"scan_per_file": 0.0, "delta": 0.0})
    return spec.model_copy(update={"publish": Constant(dist="constant", value=0.0)})
