"""Swarm plans for the p2p tests, built by hand so each test says the capacities it holds the engines to."""

from __future__ import annotations

import numpy as np

from sim.deploy.swarm_plan import SwarmPlan

MB = 1e6


def swarm(hosts: int, pieces: int = 32, piece: float = 4 * MB, upload: float = 125 * MB, download: float | None = None,
          origin: float = 1250 * MB, connections: int = 10, flow_cap: float = 625 * MB, seeders: int = 1,
          extra_seeders: int = 0, extra_rate: float = 125 * MB, selection: str = "rarest_first",
          seed_time: float = 300.0, wakeup: float = 0.05, post: float = 0.0, seed: int = 1,
          join: np.ndarray | None = None, download_share: np.ndarray | None = None) -> SwarmPlan:
    """A swarm of `hosts` with lognormal wake-ups around `wakeup` seconds (0: all at once)."""
    rng = np.random.default_rng(seed)
    wake = rng.lognormal(np.log(wakeup), 0.5, hosts) if wakeup else np.zeros(hosts)
    return SwarmPlan(signal_delay=0.0, join=wake if join is None else join, wakeup=wake,
                     attempts=np.ones(hosts, np.int64), post=np.full(hosts, post), size=pieces * piece,
                     piece_size=piece, seeders=seeders, seeder_rate=origin, extra_seeders=extra_seeders,
                     extra_rate=extra_rate, upload=upload, download=download or upload, flow_cap=flow_cap,
                     connections=connections, piece_selection=selection, seed_time=seed_time, seed=seed,
                     download_share=download_share)


def lower_bound(plan: SwarmPlan) -> float:
    """Kurose-Ross: max(F/u_s, F/d_min, N*F/(u_s + sum u_i)), with every seeder's egress in u_s."""
    size, n = plan.size, plan.hosts
    u_s = min(plan.seeder_rate, plan.connections * plan.flow_cap) * plan.seeders
    d_min = min(float(plan.host_download().min()), plan.connections * plan.flow_cap)
    extra = plan.extra_seeders * plan.extra_rate  # seed boxes hold the build: they add upload like the origin
    return max(size / (u_s + extra), size / d_min, n * size / (u_s + extra + n * plan.upload))
