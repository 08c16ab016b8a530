"""Which hosts fail, and how often: drawn once per replication and shared by every strategy.

A host that is `down` fails every attempt and is given up on; a healthy host fails each attempt with
probability `flaky` (so its failures before the first success are geometric); a straggler does its
per-host work `straggle_factor` times slower. Sharing these draws across strategies (common random
numbers) means push and pull face the same broken hosts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from sim.spec.scenario import Faults
from sim.streams import Streams


@dataclass(frozen=True)
class HostFaults:
    down: np.ndarray  # bool
    fail_attempts: np.ndarray  # attempts that fail before one succeeds (>= max_attempts: gives up)
    slowdown: np.ndarray  # multiplier on per-host work (1 or straggle_factor)
    max_attempts: int

    def reasons(self, done: np.ndarray) -> np.ndarray:
        """Why each host is not running the new build (None where it is: cheaper than n empty strings)."""
        down = f"unreachable: host down; gave up after {self.max_attempts} attempts"
        flaky = f"gave up after {self.max_attempts} failed attempts (transient failures)"
        reason = np.empty(len(done), dtype=object)
        missing = np.isnan(done)
        reason[missing & self.down] = down
        reason[missing & ~self.down] = flaky
        return reason


@functools.lru_cache(maxsize=256)
def _no_faults(hosts: int, max_attempts: int) -> HostFaults:
    """A fleet where nothing fails (read-only arrays, shared by every wave of this size)."""
    down, fail_attempts, slowdown = np.zeros(hosts, dtype=bool), np.zeros(hosts, dtype=np.int64), np.ones(hosts)
    for array in (down, fail_attempts, slowdown):
        array.flags.writeable = False
    return HostFaults(down=down, fail_attempts=fail_attempts, slowdown=slowdown, max_attempts=max_attempts)


def draw_faults(faults: Faults, hosts: int, streams: Streams) -> HostFaults:
    max_attempts = 1 + faults.retries
    if faults.down == 0 and faults.flaky == 0 and faults.straggle == 0:
        return _no_faults(hosts, max_attempts)
    down = streams("faults.down").random(hosts) < faults.down if faults.down > 0 else np.zeros(hosts, dtype=bool)
    if faults.flaky > 0:
        failures = streams("faults.flaky").geometric(1.0 - faults.flaky, size=hosts) - 1 if faults.flaky < 1 else np.full(hosts, max_attempts)
    else:
        failures = np.zeros(hosts, dtype=np.int64)
    fail_attempts = np.where(down, max_attempts, np.minimum(failures, max_attempts)).astype(np.int64)
    straggler = (streams("faults.straggle").random(hosts) < faults.straggle if faults.straggle > 0
                 else np.zeros(hosts, dtype=bool))
    slowdown = np.where(straggler, faults.straggle_factor, 1.0)
    return HostFaults(down=down, fail_attempts=fail_attempts, slowdown=slowdown, max_attempts=max_attempts)
