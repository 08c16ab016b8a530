"""What every release of one scenario shares, computed once before any release runs.

The fleet's layout and each host's request weight, the production hosts in rollout order, each pull
strategy as it runs for a build already published (no publish step), how many metric intervals a
release has, and a backtest's history with its bootstrap block. A command builds one `ReleaseSetup`
per scenario and sends it to its workers; the releases of an evaluation's policies (other gates,
another build) and of a sweep's points share it, as they share every section it is built from
(`fits` checks that).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np

from sim.backtest import History, default_block, read_history
from sim.deploy.fleet import TIERS, FleetLayout, layout_fleet
from sim.distributions import Constant
from sim.spec.rollout import Rollout
from sim.spec.scenario import PeerStrategy, PullStrategy, Scenario

# The sections a setup is built from: a scenario that shares them (by value), and its rollout's horizon,
# shares its setup (the rollout's steps are the release's own: an evaluation policy may bring its own).
SECTIONS = ("fleet", "traffic", "strategies")


@dataclass(frozen=True, eq=False)
class ReleaseSetup:
    scenario: Scenario  # the scenario it was built from
    layout: FleetLayout
    weight: np.ndarray  # each host's request weight (staging 0, dogfood relative to production); read-only
    production_mask: np.ndarray  # production hosts (the canary tier and the rest); read-only
    production: np.ndarray  # their indices, in rollout order (the canary tier first); read-only
    published: Mapping[str, PullStrategy | PeerStrategy]  # each pull or p2p strategy without its publish step
    intervals: int  # metric intervals a release has noise for (its horizon, and two to spare)
    history: History | None  # a backtest's metric history
    history_block: int  # its bootstrap block, in intervals (0 without a history)

    @property
    def serving_mask(self) -> np.ndarray:
        """Hosts that serve users (production and dogfood; staging serves no public traffic)."""
        return self.weight > 0

    def fits(self, scenario: Scenario) -> bool:
        """Whether `scenario` shares every section this setup was built from, and its horizon."""
        return (all(_same(getattr(scenario, name), getattr(self.scenario, name)) for name in SECTIONS)
                and interval_count(scenario) == self.intervals)


def _same(a, b) -> bool:
    return a is b or a == b


def release_setup(scenario: Scenario) -> ReleaseSetup:
    """The setup of `scenario`'s releases (it must have a `rollout:` section)."""
    rollout_of(scenario)  # (a scenario without one has no releases)
    traffic = scenario.traffic
    layout = layout_fleet(scenario.fleet, scenario.fleet.hosts)
    weight = np.ones(layout.size)
    weight[layout.tier == TIERS.index("staging")] = 0.0
    weight[layout.tier == TIERS.index("dogfood")] = traffic.dogfood_requests_per_host / traffic.requests_per_host
    production_mask = layout.tier >= TIERS.index("canary")
    production = np.flatnonzero(production_mask)
    for array in (layout.tier, layout.zone, weight, production_mask, production):
        array.flags.writeable = False
    no_publish = Constant(dist="constant", value=0.0)
    published = {name: spec.model_copy(update={"publish": no_publish})
                 for name, spec in scenario.strategies.items() if isinstance(spec, (PullStrategy, PeerStrategy))}
    history = read_history(traffic.history) if traffic.history is not None else None
    block = 0 if history is None else traffic.history_block or default_block(history)
    return ReleaseSetup(scenario=scenario, layout=layout, weight=weight,
                        production_mask=production_mask, production=production,
                        published=MappingProxyType(published),
                        intervals=interval_count(scenario),
                        history=history, history_block=block)


def interval_count(scenario: Scenario) -> int:
    """Metric intervals a release of `scenario` has noise for: its horizon's, and two to spare."""
    return int(math.ceil(rollout_of(scenario).horizon / scenario.traffic.metric_interval)) + 2


def rollout_of(scenario: Scenario) -> Rollout:
    """The scenario's `rollout:` section. Only a scenario with one has releases to simulate: the commands
    check that before they simulate, so a scenario without one here is a bug in the caller."""
    rollout = scenario.rollout
    assert rollout is not None, f"scenario {scenario.name!r} has no rollout: section, so no releases to simulate"
    return rollout
