"""What one bench deploy yields: a row per host, turned into the simulator's `DeployRecord`.

Times in rows are seconds from the moment the deploy was started (the release key write for pull,
the first rsync slot for push), on the CLOCK_MONOTONIC that every process of the machine shares.
`current_ok` checks what a deploy left on a host: `current` points at the build's tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.harness.artifact import Build, tree_digest
from sim.api import DeployRecord

NAN = float("nan")


@dataclass(frozen=True)
class HostRow:
    host: int          # the host's number (member `h3` is host 3)
    attempts: int
    signal: float
    transfer_start: float
    transfer_end: float
    done: float
    reason: str


def to_record(strategy: str, kind: str, rows: list[HostRow], signalled: float, extra: dict) -> DeployRecord:
    col = lambda attr, dtype=float: np.array([getattr(r, attr) for r in rows], dtype=dtype)  # noqa: E731
    n = len(rows)
    return DeployRecord(strategy=strategy, kind=kind, fleet_size=n, replication=0, release_signalled=signalled,
                        host=col("host", np.int64),
                        tier=np.array(["production"] * n, dtype=object), zone=np.zeros(n, dtype=np.int64),
                        attempts=col("attempts", np.int64), signal=col("signal"),
                        transfer_start=col("transfer_start"), transfer_end=col("transfer_end"),
                        done=col("done"), reason=np.array([r.reason for r in rows], dtype=object),
                        source="bench", extra=extra)


def current_ok(root: Path, build: Build) -> bool:
    """`current` points at releases/<build> and its tree equals the build's tree."""
    link = root / "current"
    return (link.is_symlink() and Path(link.readlink()).name == build.build_id
            and tree_digest(link.resolve()) == tree_digest(build.tree))
