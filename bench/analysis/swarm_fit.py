"""A p2p swarm's host rate, fitted by replaying bench p2p deploys through the simulator's swarm.

A bench p2p deploy records when each host joined the swarm (`transfer_start`: the torrent added) and
when it held every piece (`transfer_end`). For a candidate per-host rate r (upload = download = r:
the bench's hosts are alike, and on one machine what bounds them is their share of its CPU as much as
any link) every measured deploy is replayed through the simulator's own swarm (`sim.api.run_swarm`),
with each host joining at its measured time, the deploy host's seeder at the fitted origin egress and
the run's pieces and connections. The fitted r is the one whose replayed ends, sorted, best match the
measured ends, sorted (as distributions: the replay's hosts are not the bench's hosts), with each
deploy's makespan weighted like pull's.

What it can tell: a host rate shows only where it binds. When rates too fast to bind (the seeder and
the joins alone set the ends) fit as well, the rate is NOT identified and the smallest rate that fits
about as well is reported as a lower bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bench.analysis.transfer_fit import PULL_MAKESPAN_WEIGHT

LOW, HIGH = 1e5, 1.25e9   # bytes/s searched: 0.8 Mbit/s to 10 Gbit/s
GRID = 49                 # log-spaced candidates before the refinement
SEEDS = 8                 # peer-set draws each candidate is replayed with (their sorted ends averaged)
FIT_SEED = 20261202       # recorded in calibration.json with the fit


@dataclass(frozen=True)
class SwarmDeploy:
    """One measured p2p deploy: per-host joins and ends (seconds, one clock) and what the swarm moved."""

    starts: np.ndarray
    ends: np.ndarray
    size: float
    piece: float
    connections: int
    seed_time: float


@dataclass(frozen=True)
class SwarmFit:
    """The per-host rate (bytes/s, upload = download) that best replays the deploys, and how well."""

    rate: float
    identified: bool
    rmse: float          # seconds: sorted ends, over every host of every deploy
    rmse_unbound: float  # the same with hosts too fast to bind (HIGH)
    deploys: int
    hosts: int
    seeder_rate: float
    seeds: int = SEEDS
    seed: int = FIT_SEED


def replay_swarm_ends(d: SwarmDeploy, host_rate: float, seeder_rate: float, flow_cap: float, seed: int) -> np.ndarray:
    """Transfer ends of the deploy's hosts if they join at their measured starts and each uploads and
    downloads at `host_rate` (one origin seeder at `seeder_rate`; `sim.deploy.swarm`)."""
    from sim.api import SwarmPlan, run_swarm  # numba: compiled on first use, so imported late

    n, t0 = len(d.starts), float(d.starts.min())
    plan = SwarmPlan(signal_delay=0.0, join=np.asarray(d.starts - t0, dtype=float), wakeup=np.zeros(n),
                     attempts=np.ones(n, np.int64), post=np.zeros(n), size=d.size, piece_size=d.piece, seeders=1,
                     seeder_rate=seeder_rate, extra_seeders=0, extra_rate=seeder_rate, upload=host_rate,
                     download=host_rate, flow_cap=flow_cap, connections=d.connections,
                     piece_selection="rarest_first", seed_time=d.seed_time, seed=seed)
    return run_swarm(plan, t0).transfer_end


def replay_errors(deploys: list[SwarmDeploy], rate: float, seeder_rate: float, flow_cap: float,
                  draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Replayed minus measured ends, both sorted (the replays' sorted ends averaged over each deploy's row of
    peer-set seeds in `draws`), and each deploy's makespan error."""
    errs, last = [], []
    for d, row in zip(deploys, draws):
        pred = np.mean([np.sort(replay_swarm_ends(d, rate, seeder_rate, flow_cap, int(s))) for s in row], axis=0)
        meas = np.sort(d.ends)
        errs.append(pred - meas)
        last.append(pred[-1] - meas[-1])
    return np.concatenate(errs), np.asarray(last)


def fit_swarm_rate(deploys: list[SwarmDeploy], seeder_rate: float, flow_cap: float = math.inf,
                   seed: int = FIT_SEED, seeds: int = SEEDS) -> SwarmFit:
    """The host rate that best replays the deploys: a log-spaced grid from LOW to HIGH, refined by a bounded
    scalar search between the best candidate's neighbours.

    The loss of a rate is the mean squared error of the sorted ends plus `PULL_MAKESPAN_WEIGHT` times that
    of each deploy's last end (as for pull: the makespan first). Identified when the rate cuts the loss of
    unbound hosts (HIGH) by 10% or more; otherwise the smallest rate within 5% of that loss is reported, as
    a lower bound."""
    from scipy.optimize import minimize_scalar

    draws = np.random.default_rng(seed).integers(2**62, size=(len(deploys), seeds))
    errors = lambda x: replay_errors(deploys, math.exp(x), seeder_rate, flow_cap, draws)  # noqa: E731

    def loss(x: float) -> float:
        errs, last = errors(x)
        return float(np.mean(errs ** 2) + PULL_MAKESPAN_WEIGHT * np.mean(last ** 2))

    grid = np.linspace(math.log(LOW), math.log(HIGH), GRID)
    values = np.array([loss(x) for x in grid])
    best = int(np.argmin(values))
    refined = minimize_scalar(loss, bounds=(grid[max(best - 1, 0)], grid[min(best + 1, GRID - 1)]),
                              method="bounded", options={"xatol": 1e-3})
    x = float(refined.x) if refined.fun < values[best] else float(grid[best])
    unbound = float(values[-1])
    identified = min(float(refined.fun), float(values[best])) <= 0.9 * unbound
    if not identified:  # the smallest rate that fits about as well as hosts too fast to bind
        x = float(grid[np.flatnonzero(values <= 1.05 * unbound)[0]])
    rmse = lambda v: float(np.sqrt(np.mean(errors(v)[0] ** 2)))  # noqa: E731
    return SwarmFit(rate=math.exp(x), identified=identified, rmse=rmse(x), rmse_unbound=rmse(grid[-1]),
                    deploys=len(deploys), hosts=sum(len(d.starts) for d in deploys), seeder_rate=seeder_rate,
                    seeds=seeds, seed=seed)
