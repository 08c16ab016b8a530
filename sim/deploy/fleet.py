"""The fleet a deploy reaches: which host is in which tier and zone, in deploy order.

Hosts are numbered 0..N-1 in the order a push walks them: staging, dogfood, canary, then production.
Zones are assigned round-robin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.spec.scenario import Fleet

TIERS = ("staging", "dogfood", "canary", "production")
_TIER_OBJECTS = np.asarray(TIERS, dtype=object)


@dataclass(frozen=True)
class FleetLayout:
    tier: np.ndarray  # index into TIERS, per host
    zone: np.ndarray
    counts: tuple[int, ...] = ()  # hosts per tier, in TIERS order (tiers are contiguous blocks)

    @property
    def size(self) -> int:
        return len(self.tier)

    def tier_names(self) -> np.ndarray:
        if self.counts:
            return np.repeat(_TIER_OBJECTS, self.counts)  # one block per tier: cheaper than a gather
        return _TIER_OBJECTS[self.tier]

    def count(self, tier: str) -> int:
        return int((self.tier == TIERS.index(tier)).sum())


def layout_fleet(fleet: Fleet, hosts: int) -> FleetLayout:
    """Tiers and zones for a fleet of `hosts` servers (the canary share is of production hosts)."""
    staging, dogfood = fleet.tiers.staging, fleet.tiers.dogfood
    production = hosts - staging - dogfood
    canary = min(production, math.ceil(fleet.tiers.canary * production))
    counts = [staging, dogfood, canary, production - canary]
    tier = np.repeat(np.arange(len(TIERS), dtype=np.int8), counts)
    zone = np.arange(hosts, dtype=np.int32) % fleet.zones
    return FleetLayout(tier=tier, zone=zone, counts=tuple(counts))
