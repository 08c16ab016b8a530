"""Records of what happened in a deploy: one row per host, one summary per deploy.

The simulator and the bench both emit these, so one set of tables and plots serves both. A deploy's
host rows are kept as columns (numpy arrays) because a replication can hold 100,000 hosts; `rows()`
yields them one flat record at a time for code that wants records.

Times are seconds from the start of the deploy (the moment the deploy commander presses the button).
A host that was never updated has NaN in `done` and says why in `reason` (None or "" for the others).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

HOST_COLUMNS = (
    "host",
    "tier",
    "zone",
    "attempts",
    "signal",
    "transfer_start",
    "transfer_end",
    "done",
    "updated",
    "reason",
)


@dataclass(frozen=True, slots=True)
class HostDeploy:
    """One host's deploy.

    `signal` is when the host began its successful attempt: for push, when an rsync slot picked it
    up; for pull, when its agent woke on the release key. `transfer_start`/`transfer_end` bracket the
    bytes on the wire; `done` is when the new build went live (after verify and activation).
    """

    host: int
    tier: str
    zone: int
    attempts: int
    signal: float
    transfer_start: float
    transfer_end: float
    done: float
    updated: bool
    reason: str


@dataclass(frozen=True)
class DeployRecord:
    """All hosts of one deploy of one strategy at one fleet size, as columns.

    `release_signalled` is when the release became visible to hosts (pull: the release key's Raft
    commit; push: 0). `source` says who produced it: "sim" or "bench". `origin_bytes` is what the
    origin seeders served (p2p and pull through zones; push through zone links: what the deploy host
    sent; NaN where the strategy has no such count);
    `cross_zone_bytes` what hosts received from hosts of another zone (p2p; NaN otherwise).
    """

    strategy: str
    kind: str
    fleet_size: int
    replication: int
    release_signalled: float
    host: np.ndarray
    tier: np.ndarray
    zone: np.ndarray
    attempts: np.ndarray
    signal: np.ndarray
    transfer_start: np.ndarray
    transfer_end: np.ndarray
    done: np.ndarray
    reason: np.ndarray
    source: str = "sim"
    extra: dict = field(default_factory=dict)
    origin_bytes: float = float("nan")
    cross_zone_bytes: float = float("nan")

    @property
    def updated(self) -> np.ndarray:
        return ~np.isnan(self.done)

    def rows(self) -> Iterator[HostDeploy]:
        for i in range(len(self.host)):
            yield HostDeploy(
                host=int(self.host[i]),
                tier=str(self.tier[i]),
                zone=int(self.zone[i]),
                attempts=int(self.attempts[i]),
                signal=float(self.signal[i]),
                transfer_start=float(self.transfer_start[i]),
                transfer_end=float(self.transfer_end[i]),
                done=float(self.done[i]),
                updated=bool(not np.isnan(self.done[i])),
                reason=self.reason[i] or "",
            )

    def summary(self) -> "DeploySummary":
        return summarize(self)


@dataclass(frozen=True, slots=True)
class DeploySummary:
    """One deploy reduced to the numbers the tables show.

    p50/p95 are the times by which 50%/95% of the fleet ran the new build; `makespan` is when the last
    updated host went live. When fewer than half (or 95%) of hosts were updated, the quantile is NaN.
    `origin_bytes`: bytes the origin seeders served (p2p, and pull or push through zones; NaN otherwise, and the
    tables leave the column out when no deploy has it, so push and pull tables stay as they were);
    `cross_zone_bytes` likewise (p2p).
    """

    strategy: str
    kind: str
    fleet_size: int
    replication: int
    p50: float
    p95: float
    makespan: float
    updated: int
    not_updated: int
    mean_attempts: float
    origin_bytes: float = float("nan")
    cross_zone_bytes: float = float("nan")


def fleet_quantile(done: np.ndarray, q: float) -> float:
    """Time by which a fraction `q` of ALL hosts (not just the updated ones) were live, or NaN."""
    n = len(done)
    need = int(np.ceil(q * n))
    if need == 0:
        return 0.0
    finished = np.sort(done[~np.isnan(done)])
    if len(finished) < need:
        return float("nan")
    return float(finished[need - 1])


def summarize(record: DeployRecord) -> DeploySummary:
    updated = record.updated
    n_updated = int(updated.sum())
    return DeploySummary(
        strategy=record.strategy,
        kind=record.kind,
        fleet_size=record.fleet_size,
        replication=record.replication,
        p50=fleet_quantile(record.done, 0.50),
        p95=fleet_quantile(record.done, 0.95),
        makespan=float(np.nanmax(record.done)) if n_updated else float("nan"),
        updated=n_updated,
        not_updated=int(len(record.done) - n_updated),
        mean_attempts=float(np.mean(record.attempts)) if len(record.attempts) else 0.0,
        origin_bytes=record.origin_bytes,
        cross_zone_bytes=record.cross_zone_bytes,
    )
