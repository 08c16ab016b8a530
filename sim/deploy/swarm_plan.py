"""A swarm plan: every per-host number a peer-to-peer deploy needs, drawn before time 0.

The p2p planner (`sim.deploy.strategies.p2p`) turns a scenario into a `SwarmPlan`; the fast engine
(`sim.deploy.swarm`) and the piece-level reference (`sim.deploy.swarm_reference`) both run it, so on the
same draws their per-host times can be compared (docs/p2p.md states how closely they must agree).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

PEER_SET = 50
"""Peers a tracker hands out (the BitTorrent tracker protocol's default `numwant`; docs/sources.md)."""


def peer_set_outside(counts: np.ndarray, peers: str) -> np.ndarray:
    """Per zone (`counts`: the hosts of each zone that join, two or more in all), the share of a host's
    peer set in other zones: (J - n_z) / (J - 1) from a tracker's random set (J hosts join, n_z in zone
    z); with `zone_first`, the part of the set (PEER_SET, or every other host when fewer) that its own
    zone cannot fill."""
    hosts = counts.sum()
    if peers == "zone_first":
        peer_set = min(PEER_SET, hosts - 1)
        return np.maximum(0, peer_set - (counts - 1)) / peer_set
    return (hosts - counts) / (hosts - 1)


def pieces_of(size: float, piece_size: float) -> int:
    """The build cut into equal pieces of at most `piece_size` bytes: how many."""
    return max(1, math.ceil(size / piece_size - 1e-9))


@dataclass(frozen=True)
class SwarmPlan:
    """What happens after the release key, for every host of a p2p deploy.

    signal_delay: seconds from the deploy's start until the key is committed (publish + key write).
    join: per-host seconds after the key until the host asks the swarm for pieces (failed attempts with
        their back-off, then the wake-up); NaN for a host given up on. wakeup: the wake-up part of it.
    attempts: attempts per host (the last one joins, unless the host was given up on).
    post: per-host seconds after the last piece (verify + activation, stragglers slower).
    size, piece_size: the build, and the most bytes one of its (equal) pieces holds.
    seeders, seeder_rate: origin seeders and the egress of each; extra_seeders, extra_rate: seed boxes.
    upload, download, flow_cap, connections: every host's limits, one flow's ceiling, open connections.
    piece_selection: "rarest_first" or "random"; seed_time: seconds a finished host keeps seeding.
    seed: the integer both engines seed their own generator with (peer sets, tie-breaks).
    zone: each host's zone (None: one zone); peers: "tracker_random" or "zone_first" (how a host's peer
        set is drawn: at random from the fleet, or from its own zone first).
    download_share: each host's download rate as a share of `download` (at most 1; None: every host at
        its limit).
    drop_at: pieces a host holds when its agent drops out (-1: it never does; None: no host does);
        rejoin: seconds from its drop until it joins again (NaN: given up on, it never returns).
    zone_link: each zone's link into the zone, bytes per second (None: no limit; `sim.deploy.swarm_links`).
    """

    signal_delay: float
    join: np.ndarray
    wakeup: np.ndarray
    attempts: np.ndarray
    post: np.ndarray
    size: float
    piece_size: float
    seeders: int
    seeder_rate: float
    extra_seeders: int
    extra_rate: float
    upload: float
    download: float
    flow_cap: float
    connections: int
    piece_selection: str
    seed_time: float
    seed: int
    zone: np.ndarray | None = None
    peers: str = "tracker_random"
    download_share: np.ndarray | None = None
    drop_at: np.ndarray | None = None
    rejoin: np.ndarray | None = None
    zone_link: np.ndarray | None = None

    def host_download(self) -> np.ndarray:
        """Each host's download rate, bytes per second."""
        if self.download_share is None:
            return np.full(self.hosts, float(self.download))
        return self.download * self.download_share

    @property
    def hosts(self) -> int:
        return len(self.join)

    @property
    def pieces(self) -> int:
        return pieces_of(self.size, self.piece_size)

    @property
    def piece(self) -> float:
        """Bytes in one piece: the build is cut into `pieces` equal pieces of at most `piece_size`."""
        return self.size / self.pieces


@dataclass(frozen=True)
class SwarmTimes:
    """Per-host times of a p2p deploy, seconds from the deploy's start (NaN: never happened), and the
    bytes the origin seeders served."""

    signal: np.ndarray
    transfer_start: np.ndarray
    transfer_end: np.ndarray
    done: np.ndarray
    attempts: np.ndarray
    origin_bytes: float
    cross_zone_bytes: float = float("nan")
    """Bytes hosts received from hosts of another zone (the seeders are outside the zones: their bytes are
    origin bytes, not these)."""
