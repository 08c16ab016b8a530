"""Which hosts serve which build, when: the facts from which each interval's cohorts are computed.

Times are seconds since the branch cut; a host that will never go live has start = inf. Builds go live host by host at times the wave kernel computed (future times are known when a wave
starts); a rollback or a cancelled wave cuts them short. Each host carries a request weight
(production 1, dogfood a fraction, staging 0: no public traffic).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Segment:
    """Hosts of one build: live from `start` until `end` (inf: still live); `onset` after start the
    bad effect shows (inf: never)."""

    build: int
    hosts: np.ndarray
    start: np.ndarray
    end: np.ndarray
    onset: np.ndarray
    weight: np.ndarray = None


@dataclass
class FleetExposure:
    """Mutable record of go-live and roll-back times, owned by one release simulation."""

    weight: np.ndarray
    segments: list[Segment] = field(default_factory=list)
    version: int = 0  # bumped by every change, so computations ahead of time know when to redo


    def go_live(self, build: int, hosts: np.ndarray, start: np.ndarray, onset: np.ndarray) -> None:
        self.version += 1
        ok = ~np.isnan(start)
        self.segments.append(Segment(build, hosts[ok], start[ok].copy(), np.full(ok.sum(), np.inf),
                                     onset[ok].copy(), self.weight[hosts[ok]]))

    def cancel_pending(self, now: float) -> int:
        """Hosts that had not gone live yet never will (the wave was stopped). Returns how many."""
        self.version += 1
        cancelled = 0
        for seg in self.segments:
            pending = (seg.start > now) & np.isfinite(seg.start)
            cancelled += int(pending.sum())
            seg.start[pending] = np.inf  # never live
            seg.end[pending] = np.inf
        return cancelled

    def live_hosts(self, build: int, now: float) -> np.ndarray:
        """Host indices serving `build` at `now`."""
        found = [s.hosts[(s.start <= now) & (s.end > now)] for s in self.segments if s.build == build]
        return np.concatenate(found) if found else np.empty(0, dtype=np.int64)

    def end(self, build: int, hosts: np.ndarray, at: np.ndarray) -> None:
        """These hosts stop serving `build` at the given times (NaN: they could not be rolled back)."""
        self.version += 1
        when = dict(zip(hosts.tolist(), at.tolist()))
        for seg in self.segments:
            if seg.build != build:
                continue
            for i, h in enumerate(seg.hosts.tolist()):
                if h in when and not np.isnan(when[h]) and seg.end[i] == np.inf:
                    seg.end[i] = when[h]

    def host_seconds_many(self, a: np.ndarray, b: np.ndarray, builds: set[int] | None = None,
                          after_onset: bool = False) -> np.ndarray:
        """Weighted host-seconds in each interval [a_k, b_k] served by the given builds (default: all)."""
        total = np.zeros(len(a))
        for seg in self.segments:
            if builds is not None and seg.build not in builds:
                continue
            start = seg.start + seg.onset if after_onset else seg.start
            overlap = np.minimum(seg.end[:, None], b[None, :]) - np.maximum(start[:, None], a[None, :])
            total += seg.weight @ np.maximum(overlap, 0.0)
        return total
