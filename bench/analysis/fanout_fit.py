"""What one push connection costs the deploy host, from one fleet pushed at several fan-outs.

Per fan-out k, the median time a host's push takes from its start to its switch, s_k. A deploy host
whose CPU binds makes it s_1 * max(1, k * u / C) (`sim.deploy.strategies.push.cpu_slowdown`), u the cores
one connection keeps busy and C the deploy host's cores: only their ratio a = u / C shows in the times.
The fit is the a that minimises the squared log error over the fan-outs, with s_1 their geometric mean
given a (a search over a fine grid: one parameter, and the loss has a kink where k * a crosses 1).

On the bench both ends of every connection (the deploy host's ssh and rsync, the host's sshd and rsync)
run on the same cores, so u there is the cost of both ends (`bench/recorded/2026-12-02/w50`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.analysis.runs import BenchRun, phases

RATIOS = np.linspace(0.0, 4.0, 40_001)  # a = u / C searched, in steps of 1e-4


@dataclass(frozen=True)
class FanoutFit:
    """The ratio a = u / C, the one-connection time s_1 and how well s_1 * max(1, k a) fits."""

    ratio: float
    serial: float
    widths: tuple[int, ...]
    per_host: tuple[float, ...]
    rms_log: float

    def predicted(self, k: int) -> float:
        """The median per-host time at fan-out k."""
        return self.serial * max(1.0, k * self.ratio)


def per_host_times(run: BenchRun, transport: str = "ssh") -> dict[int, float]:
    """Median seconds from a host's start (its connection) to its switch, per fan-out, of the run's pushes over
    `transport` (first-attempt, updated hosts)."""
    out: dict[int, float] = {}
    for s in run.strategies():
        if s["kind"] == "push" and s.get("transport", "ssh") == transport:
            p = phases(run, s["name"])
            out[int(s["parallel"])] = float(np.median(p.done.to_numpy() - p.signal.to_numpy()))
    return out


def fit_fanout(times: dict[int, float]) -> FanoutFit:
    """The ratio and one-connection time that best explain per-host times at two or more fan-outs."""
    if len(times) < 2:
        raise ValueError(f"a fan-out fit needs two fan-outs or more (got {sorted(times)})")
    k = np.array(sorted(times), dtype=float)
    logs = np.log([times[int(w)] for w in k])
    slow = np.log(np.maximum(1.0, np.outer(RATIOS, k)))   # log factor per candidate ratio and fan-out
    base = (logs - slow).mean(axis=1)                     # log s_1 given each ratio
    loss = ((logs - slow - base[:, None]) ** 2).mean(axis=1)
    best = int(np.argmin(loss))
    return FanoutFit(ratio=float(RATIOS[best]), serial=float(np.exp(base[best])), widths=tuple(int(w) for w in k),
                     per_host=tuple(float(times[int(w)]) for w in k), rms_log=float(np.sqrt(loss[best])))
