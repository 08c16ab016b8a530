"""The tree of seeds: one root per run, one child per replication, one named stream per random source.

    root entropy ──spawn_key (r,)──▶ replication r ──spawn_key (r, key(name))──▶ Generator for `name`

A stream is found by its name, not by the order in which streams are created, so adding a new source
of randomness never shifts the draws of the others; and a replication's draws do not depend on which
worker runs it or how many workers there are.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

import numpy as np


def draw_entropy() -> int:
    """Fresh entropy from the OS for an unseeded run (it is recorded so the run can be repeated)."""
    return int(np.random.SeedSequence().entropy)


@functools.lru_cache(maxsize=65536)
def name_key(name: str) -> int:
    """A stable 32-bit key for a stream name (never Python's salted hash)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "big")


@dataclass(frozen=True)
class Streams:
    """The named streams of one replication."""

    entropy: int
    replication: int
    prefix: str = ""

    def __call__(self, name: str) -> np.random.Generator:
        key = name_key(self.prefix + name)
        sequence = np.random.SeedSequence(self.entropy, spawn_key=(self.replication, key))
        return np.random.Generator(np.random.PCG64(sequence))

    def child(self, prefix: str) -> "Streams":
        """Streams for one part of a replication (a wave, a rollback): `name` becomes `prefix + name`."""
        return Streams(self.entropy, self.replication, self.prefix + prefix)
