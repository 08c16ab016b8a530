"""Simulating releases: the one entry for callers (commands, evaluation, notebooks, tests).

Both functions run the batched engine (`sim.rollout.batch`), whose releases are identical to the
per-check model's (`sim.rollout.release.simulate_per_check`); a release is a pure function of its
scenario, replication and entropy.
"""

from __future__ import annotations

from sim.rollout.batch import run_batched
from sim.rollout.release import ReleaseResult
from sim.spec.scenario import Scenario


def simulate_releases(releases: list[tuple[Scenario, int]], entropy: int) -> list[ReleaseResult]:
    """Each (scenario, replication), in order. Releases that differ only in how their gates judge
    share their runs (see `sim.rollout.batch`)."""
    return run_batched(releases, entropy)


def simulate_release(scenario: Scenario, replication: int, entropy: int) -> ReleaseResult:
    """One release."""
    return run_batched([(scenario, replication)], entropy)[0]
