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
from numba import njit
from numpy.random.bit_generator import ISeedSequence


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
        """The Generator of `np.random.SeedSequence(entropy, spawn_key=(replication, key(name)))`."""
        key = name_key(self.prefix + name)
        pool, hash_const = _run_pool(self.entropy)
        spawn = np.array(_words(self.replication) + _words(key), dtype=np.uint64)
        return np.random.Generator(np.random.PCG64(_Seeded(_child_state(pool, hash_const, spawn))))

    def child(self, prefix: str) -> "Streams":
        """Streams for one part of a replication (a wave, a rollback): `name` becomes `prefix + name`."""
        return Streams(self.entropy, self.replication, self.prefix + prefix)


# ---- SeedSequence, fast ----------------------------------------------------------------------------
# A release draws from dozens of named streams, and numpy's SeedSequence spends ~20 us building each
# (most of it mixing the run's entropy into the pool, the same for every stream of the run). Here the
# pool after the run's entropy is computed once per run, and only the spawn key is mixed per stream,
# by numpy's own algorithm (numpy/random/bit_generator.pyx: `mix_entropy`, `generate_state`); the
# Generator is bit-for-bit numpy's (tests/test_reproducibility.py compares them).
_M32 = 0xFFFFFFFF
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715


def _words(value: int) -> list[int]:
    """A non-negative int as little-endian 32-bit words (numpy's `_coerce_to_uint32_array`)."""
    out = []
    while True:
        out.append(value & _M32)
        value >>= 32
        if not value:
            return out


@functools.lru_cache(maxsize=16)
def _run_pool(entropy: int) -> tuple[np.ndarray, np.uint64]:
    """The pool after mixing in the run's entropy (padded to the pool size, as with a spawn key), and the
    hash constant at that point."""
    entropy_words = _words(entropy)
    entropy_words += [0] * (4 - len(entropy_words))
    hash_const = _INIT_A

    def hashmix(value: int) -> int:
        nonlocal hash_const
        value ^= hash_const
        hash_const = (hash_const * _MULT_A) & _M32
        value = (value * hash_const) & _M32
        return value ^ (value >> 16)

    def mix(x: int, y: int) -> int:
        result = (_MIX_L * x - _MIX_R * y) & _M32
        return result ^ (result >> 16)

    pool = [hashmix(word) for word in entropy_words[:4]]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                pool[dst] = mix(pool[dst], hashmix(pool[src]))
    for word in entropy_words[4:]:
        for dst in range(4):
            pool[dst] = mix(pool[dst], hashmix(word))
    return np.array(pool, dtype=np.uint64), np.uint64(hash_const)


@njit(cache=True)
def _child_state(pool: np.ndarray, hash_const: np.uint64, spawn: np.ndarray) -> np.ndarray:
    """Mix the spawn key's words into a copy of the pool; `generate_state(4, np.uint64)` from it."""
    mask, shift = np.uint64(_M32), np.uint64(16)
    mixed = pool.copy()
    h = hash_const
    for word in spawn:
        for dst in range(4):
            value = (word ^ h) & mask
            h = (h * np.uint64(_MULT_A)) & mask
            value = (value * h) & mask
            value ^= value >> shift
            result = (np.uint64(_MIX_L) * mixed[dst] - np.uint64(_MIX_R) * value) & mask
            mixed[dst] = result ^ (result >> shift)
    h = np.uint64(_INIT_B)
    half = np.empty(8, np.uint64)
    for i in range(8):
        value = mixed[i & 3] ^ h
        h = (h * np.uint64(_MULT_B)) & mask
        value = (value * h) & mask
        half[i] = value ^ (value >> shift)
    state = np.empty(4, np.uint64)
    for i in range(4):
        state[i] = half[2 * i] | (half[2 * i + 1] << np.uint64(32))
    return state


class _Seeded(ISeedSequence):
    """A seed sequence whose state is already computed (PCG64 asks it for 4 uint64 words)."""

    __slots__ = ("state",)

    def __init__(self, state: np.ndarray) -> None:
        self.state = state

    def generate_state(self, n_words: int, dtype=np.uint32) -> np.ndarray:
        if n_words != 4 or np.dtype(dtype) != np.uint64:  # pragma: no cover - PCG64 asks for exactly this
            raise ValueError("only PCG64's request (4 uint64 words) is supported")
        return self.state
