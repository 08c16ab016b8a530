"""The numpy yardstick: a deploy computed with whole-array numpy operations and no event loop.

It is the practical speed limit for the benchmarks, not a model to trust: it is exact for a serial push
(a cumulative sum) and for a pull whose hosts all start transferring at the same instant, and an
approximation otherwise (k-parallel push assigns hosts to slots round-robin and gives each flow a fixed
1/k share; pull gives each flow a 1/N share for the whole transfer; failures are ignored). The tests
check it against the engine where it is exact.
"""

from __future__ import annotations

import numpy as np

from sim.deploy.plan import WavePlan


def numpy_wave(plan: WavePlan, start: float) -> np.ndarray:
    """Per-host `done` times."""
    n = plan.hosts
    if plan.slots >= n:
        rate = min(plan.flow_cap, plan.capacity / n)
        return start + plan.pre + plan.size / rate + plan.post
    k = plan.slots
    rate = min(plan.flow_cap, plan.capacity / k)
    work = plan.pre + plan.size / rate + plan.post
    done = np.empty(n)
    for slot in range(k):
        done[slot::k] = start + np.cumsum(work[slot::k])
    return done
