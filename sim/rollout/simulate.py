"""Simulating releases: the one entry for callers (commands, evaluation, notebooks, tests).

Both functions run the batched engine (`sim.rollout.batch`), whose releases are identical to the
per-check model's (`sim.rollout.release.simulate_per_check`); a release is a pure function of its
scenario, replication and entropy. `release_setup(scenario)` builds what all releases of a scenario
share (the fleet's layout, a backtest's history, ...): a caller that simulates a scenario's releases
in several calls builds it once and passes it.
"""

from __future__ import annotations

from sim.rollout.batch import run_batched
from sim.rollout.release import ReleaseResult
from sim.rollout.setup import ReleaseSetup, release_setup
from sim.spec.scenario import Scenario

__all__ = ["ReleaseResult", "ReleaseSetup", "release_setup", "simulate_release", "simulate_releases"]


def simulate_releases(releases: list[tuple[Scenario, int]], entropy: int,
                      setup: ReleaseSetup | None = None) -> list[ReleaseResult]:
    """Each (scenario, replication), in order. Releases that differ only in how their gates judge
    share their runs (see `sim.rollout.batch`). `setup`: what the scenarios' releases share
    (`release_setup(scenario)`), when the caller has it; built here otherwise."""
    return run_batched(releases, entropy, setup)


def simulate_release(scenario: Scenario, replication: int, entropy: int,
                     setup: ReleaseSetup | None = None) -> ReleaseResult:
    """One release."""
    return run_batched([(scenario, replication)], entropy, setup)[0]
