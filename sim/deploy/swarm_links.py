"""Zone links in the fast p2p engine: what each zone's link lets into the zone, round by round.

With `network.zone_link`, every byte a host gets from outside its zone (from the seeders, which sit
outside every zone like pull's origin, or from a peer in another zone) crosses its zone's link. The
fast engine (`sim.deploy.swarm`) pools the swarm's supply, so the link is held two ways each round:

- **new pieces**: no host of a zone holds more distinct pieces than the zone had plus what its link could
  carry this round (a piece enters a zone only across its link);
- **volume**: the pieces a zone's hosts get, times the share of them that comes from outside the zone
  (the seeders' share of the round's supply, plus the peers' share times the part of a host's peer set
  in other zones), stay within the link's budget; where they would not, the zone's pieces are handed
  out again, fewest-held first, within it.

The budget is the link's round (link x round length / piece; in the round a zone's first host joins, the
part of the round after the join) plus what earlier rounds left unused while the zone had hosts in the
swarm, at most a round's worth or one piece (so a link slower than a piece a round still moves whole
pieces). A host that finishes in a round whose budget it drew beyond the bank ends no earlier than that
part of the round, so no zone imports the build faster than F / link from its first host's join. The
piece-level model (`sim.deploy.swarm_reference`) shares each zone's link among the flows entering it;
tests/deploy/test_p2p_zone_links.py holds the two together.
Links out of a zone are not limited (links are full duplex; what leaves one zone enters another).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.deploy.swarm_plan import SwarmPlan, peer_set_outside


@dataclass
class ZoneLinks:
    """Per zone: the link's pieces per round, the share of a host's peers in other zones, the pieces the
    zone holds (the most any of its hosts held), the budget left from earlier rounds and this round's."""

    per_round: np.ndarray
    outside: np.ndarray
    held: np.ndarray
    bank: np.ndarray
    budget: np.ndarray
    opened: np.ndarray  # zones a host has joined (a link carries nothing before anyone asks)
    start: np.ndarray  # this round: the part of it gone before the zone's first host joined
    present: np.ndarray  # this round: zones with a host in the swarm

    @classmethod
    def of(cls, plan: SwarmPlan, tau: float) -> "ZoneLinks | None":
        if plan.zone_link is None or plan.zone is None:
            return None
        zones = len(plan.zone_link)
        per_round = np.asarray(plan.zone_link, dtype=float) * tau / plan.piece
        return cls(per_round, outside_shares(plan, zones), np.zeros(zones, np.int64), np.zeros(zones),
                   per_round.copy(), np.zeros(zones, bool), np.zeros(zones), np.zeros(zones, bool))

    def start_round(self, zones: np.ndarray, offset: np.ndarray) -> None:
        """This round's budgets, for the hosts in the swarm (their zones, and the part of the round gone
        when each joined): a zone's link counts from its first host's join, and saves nothing while the
        zone has no host in the swarm."""
        count = len(self.per_round)
        self.present = np.bincount(zones, minlength=count) > 0
        first = self.present & ~self.opened
        self.start = np.zeros(count)
        if first.any():
            joining = first[zones]
            self.start[first] = 1.0
            np.minimum.at(self.start, zones[joining], offset[joining])
        self.opened |= self.present
        self.budget = np.where(self.present, self.bank + self.per_round * (1.0 - self.start), 0.0)

    def most(self, zones: np.ndarray) -> np.ndarray:
        """The most distinct pieces each host (of `zones`) may hold at the end of this round."""
        return (self.held + np.floor(self.budget + 1e-9).astype(np.int64))[zones]

    def volume(self, zones: np.ndarray, got: np.ndarray, outside: np.ndarray) -> np.ndarray:
        """Pieces crossing each zone's link when its hosts get `got`, `outside` the share from outside."""
        return np.bincount(zones, weights=got, minlength=len(self.per_round)) * outside

    def from_outside(self, seeded: int, from_peers: int) -> np.ndarray:
        """Per zone, the share of a round's pieces a host gets from outside its zone."""
        supply = seeded + from_peers
        return (seeded + self.outside * from_peers) / supply if supply else np.zeros(len(self.per_round))

    def trim(self, got: np.ndarray, held: np.ndarray, rank: np.ndarray, zones: np.ndarray, seeded: int,
             from_peers: int, allocate) -> np.ndarray:
        """`got` with each zone's pieces cut to what its link's budget carries (fewest-held first)."""
        outside = self.from_outside(seeded, from_peers)
        over = np.flatnonzero(self.volume(zones, got, outside) > self.budget + 1e-9)
        if not len(over):
            return got
        got = got.copy()
        for zone in over.tolist():
            mine = zones == zone
            allowed = int(np.floor(self.budget[zone] / outside[zone] + 1e-9))
            got[mine] = allocate(got[mine], held[mine], rank[mine], allowed, int(mine.sum()))
        return got

    def end_round(self, zones: np.ndarray, got: np.ndarray, held_after: np.ndarray, seeded: int,
                  from_peers: int) -> np.ndarray:
        """Account this round's crossings; returns, per zone, the part of the round its link needed
        beyond the bank (0 to 1), which a host of the zone finishing this round cannot beat."""
        before = self.held.copy()
        np.maximum.at(self.held, zones, held_after)
        crossed = np.maximum(self.volume(zones, got, self.from_outside(seeded, from_peers)), self.held - before)
        needed = np.clip(self.start + (crossed - self.bank) / self.per_round, 0.0, 1.0)
        left = np.minimum(np.maximum(self.budget - crossed, 0.0), np.maximum(self.per_round, 1.0))
        self.bank = np.where(self.present, left, 0.0)
        return needed


def outside_shares(plan: SwarmPlan, zones: int) -> np.ndarray:
    """Per zone, the share of the pieces a host gets from peers that come from other zones: the share of
    its peer set there, (J - n_z) / (J - 1), with a tracker's random set (J hosts join, n_z in zone z);
    none beyond the zone's new pieces with `zone_first`."""
    assert plan.zone is not None
    counts = np.bincount(plan.zone[~np.isnan(plan.join)], minlength=zones)[:zones].astype(float)
    hosts = counts.sum()
    if hosts < 2:
        return np.zeros(zones)
    if plan.peers == "zone_first":  # a zone-first scheduler fetches from outside only what its zone lacks:
        return np.zeros(zones)       # those crossings are the zone's new pieces, counted as such
    return peer_set_outside(counts, plan.peers)
