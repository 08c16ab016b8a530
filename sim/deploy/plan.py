"""A wave plan: every per-host number a deploy needs, drawn before time 0.

Strategies turn a scenario into a `WavePlan`; the fast engine (`sim.deploy.wave`) and the reference model
(`sim.deploy.reference`) both run the same plan, so on the same draws they must give the same per-host times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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

    @property
    def hosts(self) -> int:
        return len(self.pre)


@dataclass(frozen=True)
class WaveTimes:
    """Per-host times of a wave, seconds from the deploy's start (NaN: never happened)."""

    signal: np.ndarray
    transfer_start: np.ndarray
    transfer_end: np.ndarray
    done: np.ndarray
    attempts: np.ndarray
