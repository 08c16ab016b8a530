"""A wave plan: every per-host number a deploy needs, drawn before time 0.

Strategies turn a scenario into a `WavePlan`; the fast engine (`sim.deploy.wave`) and the reference model
(`sim.deploy.reference`) both run the same plan, so on the same draws they must give the same per-host times.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Zones:
    """Links beyond the origin's uplink that a pull crosses (`sim.deploy.zoned`).

    of_host: each host's zone; link: each zone's link capacity (bytes/s, inf: no limit); cache: each
    zone's regional cache egress (0: no caches); fill_cap: a cache fill's ceiling (the per-flow cap);
    by_zone: zones are signalled one after another; key_write: what each later zone's key write costs.
    """

    of_host: np.ndarray
    link: np.ndarray
    cache: float
    fill_cap: float
    by_zone: bool
    key_write: float


@dataclass(frozen=True)
class WavePlan:
    """What happens after the signal, for every host.

    signal_delay: seconds from the deploy's start until hosts may start (pull: the key's Raft commit).
    slots: hosts worked on at once (push: parallel rsyncs; pull: every host).
    pre: per-host seconds before bytes flow (push: connect + scan; pull: wake-up).
    signal_offset: the part of `pre` before the host knows of the release (pull: wake-up; push: 0).
    post: per-host seconds after the transfer (verify + activation), while the slot is still held.
    size: bytes each host transfers; capacity: the shared bottleneck (bytes/s); flow_cap: one flow's ceiling.
    fail_attempts, fail_cost, backoff: failed attempts per host, what one costs, waits before retries.
    zones: zone links and caches the transfers also cross (None: the `capacity` bottleneck alone).
    share_weight: each host's flow's weight in the bottleneck's sharing (`sim.deploy.unfair`; None: equal).
    """

    signal_delay: float
    slots: int
    pre: np.ndarray
    signal_offset: np.ndarray
    post: np.ndarray
    size: float
    capacity: float
    flow_cap: float
    fail_attempts: np.ndarray
    fail_cost: float
    backoff: np.ndarray
    zones: Zones | None = None
    share_weight: np.ndarray | None = None

    @property
    def hosts(self) -> int:
        return len(self.pre)

    def zone_links(self) -> Zones:
        """This plan's zones (an error for a one-bottleneck plan)."""
        if self.zones is None:
            raise ValueError("this plan has no zones: it is a one-bottleneck wave (sim.deploy.wave)")
        return self.zones

    def subset(self, hosts: np.ndarray) -> "WavePlan":
        """The plan of some hosts only (their per-host numbers, in the order given)."""
        zones = self.zones and replace(self.zones, of_host=self.zones.of_host[hosts])
        weight = None if self.share_weight is None else self.share_weight[hosts]
        return replace(self, pre=self.pre[hosts], signal_offset=self.signal_offset[hosts], post=self.post[hosts],
                       fail_attempts=self.fail_attempts[hosts], zones=zones, share_weight=weight)


@dataclass(frozen=True)
class WaveTimes:
    """Per-host times of a wave, seconds from the deploy's start (NaN: never happened)."""

    signal: np.ndarray
    transfer_start: np.ndarray
    transfer_end: np.ndarray
    done: np.ndarray
    attempts: np.ndarray
    origin_bytes: float = float("nan")
    """Bytes the origin served (pull through zone links or caches; NaN where not counted)."""
