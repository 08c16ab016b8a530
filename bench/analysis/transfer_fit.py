"""Transfers split into a fixed per-host overhead and a share of a bottleneck, by replaying them.

For candidate (overhead, capacity[, per-flow ceiling]) every measured flow enters a bottleneck at
its measured start plus the overhead, the simulator's own processor-sharing kernel
(`sim.deploy.wave.run_wave`) computes when it ends, and the fit minimises the squared error against the
measured ends. What it can tell: a shared capacity shows only where flows overlap; a per-flow
ceiling only where a flow runs alone below the shared capacity (otherwise it is reported as NOT
identified, with a lower bound).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import numpy as np

PULL_MAKESPAN_WEIGHT = 10.0  # see fit_transfers
_NM = {"xatol": 1e-4, "fatol": 1e-10, "maxiter": 4000}


def replay_ends(starts: np.ndarray, size: float, overhead: float, capacity: float,
                flow_cap: float = math.inf, weight: np.ndarray | None = None) -> np.ndarray:
    """Transfer ends if each flow enters a shared bottleneck at start + overhead (sim.deploy.wave's kernel;
    with `weight`, each flow's share weighted by it: sim.deploy.unfair's)."""
    from sim.api import run_unfair_wave, run_wave  # numba: compiled on first use, so imported late

    n = len(starts)
    t0 = float(starts.min())
    pre = np.asarray(starts - t0 + overhead, dtype=float)
    args = (t0, n, pre, np.zeros(n), np.zeros(n, np.int64), 0.0, np.empty(0), float(size), float(capacity),
            float(flow_cap), np.argsort(pre, kind="stable").astype(np.int64))
    _, _, t_end, _, _ = run_wave(*args) if weight is None else run_unfair_wave(*args, weight)
    return t_end


@dataclass(frozen=True)
class TransferFit:
    """Fixed per-flow overheads (one per label) and the shared capacity that best replay the transfers."""

    overheads: dict          # label -> seconds per flow before bytes flow (rsync start + scan, HTTP request)
    capacity: float          # bytes/s of the shared bottleneck
    rmse: float              # seconds, over all flows
    flows: int
    fastest_rate: float      # per-flow ceiling (bytes/s) if identified, else its lower bound
    ceiling_identified: bool  # did a finite per-flow ceiling explain the data better than none?


Group = tuple  # (starts, ends, bytes per flow, label): flows of one deploy, concurrent on one bottleneck


def replay_loss(groups: list[Group], labels: list[str], tops: dict, makespan_weight: float):
    """The loss of a parameter vector [overhead per label..., log capacity(, log per-flow ceiling)]."""
    k = len(labels)

    def loss(x, flow_cap=math.inf) -> float:
        over = {lb: min(max(x[i], 0.0), tops[lb]) for i, lb in enumerate(labels)}
        capacity = math.exp(min(x[k], 60.0))
        cap = math.exp(min(x[k + 1], 60.0)) if len(x) > k + 1 else flow_cap
        pred = [replay_ends(s, size, over[lb], capacity, cap) for s, _, size, lb in groups]
        errs = np.concatenate([p - g[1] for p, g in zip(pred, groups)])
        last = np.array([p.max() - g[1].max() for p, g in zip(pred, groups)])
        return float(np.mean(errs ** 2) + makespan_weight * np.mean(last ** 2))

    return loss


def fit_transfers(groups: list[Group], capacity: float | None = None, makespan_weight: float = 0.0) -> TransferFit:
    """Fit one overhead per label, one shared capacity[, a per-flow ceiling] over groups of flows.

    The loss is the mean squared error of the flows' ends plus, weighted `makespan_weight` times,
    that of each group's LAST end. For pull (`PULL_MAKESPAN_WEIGHT`) the last end is the deploy's
    makespan, which the bytes through a work-conserving bottleneck fix whatever the sharing; real
    TCP flows through one tbf queue do not share fairly (their ends spread where processor sharing
    ends them together), so the makespan comes first. For push the slots' pipeline makes the deploy
    time a sum of per-host phases, so every flow counts alike (weight 0).
    A per-flow ceiling is then fitted too; it counts as identified only when it cuts the loss by
    10% or more. Otherwise the smallest ceiling that costs under 5% more loss than none is reported
    as a lower bound (`fastest_rate`). A given `capacity` is held: only the overheads are fitted.
    """
    from scipy.optimize import minimize  # imported late: `register` loads the bench on every deploysim start

    if capacity is not None:
        return fit_overheads(groups, capacity, makespan_weight=makespan_weight)
    labels = sorted({g[3] for g in groups})
    tops = {lb: float(np.percentile(np.concatenate([e - s for s, e, _, l in groups if l == lb]), 5)) for lb in labels}
    k, loss = len(labels), replay_loss(groups, labels, tops, makespan_weight)
    rate = sum(size * len(s) for s, _, size, _ in groups) / sum(float(e.max() - s.min()) for s, e, _, _ in groups)
    grid = [[*(f * tops[lb] for lb in labels), math.log(c)] for f in np.linspace(0, 1, 11)
            for c in np.geomspace(rate / 20, rate * 50, 40)]
    res = minimize(loss, np.array(min(grid, key=loss)), method="Nelder-Mead", options=_NM)
    starts = [np.array([*(f * tops[lb] for lb in labels), res.x[k] + dc, res.x[k] + df])
              for f in np.linspace(0, 1, 6) for dc in (0.0, 0.5) for df in (-1.5, -0.7, -0.2, 0.3)]
    res3 = min((minimize(loss, x0, method="Nelder-Mead", options=_NM) for x0 in starts), key=lambda r: r.fun)
    flows, base = sum(len(g[0]) for g in groups), loss(res.x)
    if res3.fun < 0.9 * base:
        over = {lb: min(max(float(res3.x[i]), 0.0), tops[lb]) for i, lb in enumerate(labels)}
        return TransferFit(over, math.exp(res3.x[k]), math.sqrt(res3.fun), flows, math.exp(res3.x[k + 1]), True)
    over = {lb: min(max(float(res.x[i]), 0.0), tops[lb]) for i, lb in enumerate(labels)}
    return TransferFit(over, math.exp(float(res.x[k])), math.sqrt(base), flows,
                       ceiling_lower_bound(loss, res.x, math.exp(float(res.x[k])), base), False)


def ceiling_lower_bound(loss, x, capacity: float, base: float) -> float:
    """The smallest per-flow ceiling that costs under 5% more loss than none (x held)."""
    caps = np.geomspace(capacity / 50, capacity * 2, 30)
    ok = caps[np.array([loss(x, c) for c in caps]) <= 1.05 * base]
    return float(ok.min() if len(ok) else capacity)


def ends_loss(groups: list[Group], overhead: float, capacity: float, flow_cap: float, makespan_weight: float) -> float:
    """Mean squared error of the groups' replayed ends (one overhead for all), plus `makespan_weight` times
    that of each group's last end."""
    pred = [replay_ends(s, size, overhead, capacity, flow_cap) for s, _, size, _ in groups]
    err = np.concatenate([p - g[1] for p, g in zip(pred, groups)])
    last = np.array([p.max() - g[1].max() for p, g in zip(pred, groups)])
    return float(np.mean(err ** 2) + makespan_weight * np.mean(last ** 2))


def fit_overheads(groups: list[Group], capacity: float, flow_cap: float = math.inf,
                  makespan_weight: float = 0.0) -> TransferFit:
    """One overhead per label with the shared capacity (and per-flow ceiling) held; loss as `fit_transfers`."""
    from scipy.optimize import minimize_scalar  # imported late, as above

    over, errs = {}, []
    for lb in sorted({g[3] for g in groups}):
        mine = [g for g in groups if g[3] == lb]
        top = float(np.percentile(np.concatenate([e - s for s, e, _, _ in mine]), 5))

        def loss(o: float) -> float:
            return ends_loss(mine, o, capacity, flow_cap, makespan_weight)

        res = minimize_scalar(loss, bounds=(0.0, top), method="bounded", options={"xatol": 1e-4})
        over[lb] = float(res.x)
        errs.append(loss(res.x) * sum(len(g[0]) for g in mine))
    flows = sum(len(g[0]) for g in groups)
    return TransferFit(over, capacity, math.sqrt(sum(errs) / flows), flows, min(flow_cap, capacity),
                       flow_cap < math.inf)


def fit_push(groups: list[Group]) -> TransferFit:
    """The deploy egress from the rsync-daemon flows when there are any, then every transport's overhead.

    The daemon protocol adds no encryption, so its flows identify the link; ssh's extra cost (cipher,
    session start) at this build size then lands in ssh's overhead, with the egress held. Without
    daemon flows, one joint fit.
    """
    daemon = [g for g in groups if g[3] == "daemon"]
    if not daemon or len(daemon) == len(groups):
        return fit_transfers(groups)
    link = fit_transfers(daemon)
    cap = link.fastest_rate if link.ceiling_identified else math.inf
    rest = fit_overheads([g for g in groups if g[3] != "daemon"], link.capacity, cap)
    flows = link.flows + rest.flows
    rmse = math.sqrt((link.rmse ** 2 * link.flows + rest.rmse ** 2 * rest.flows) / flows)
    return TransferFit({**link.overheads, **rest.overheads}, link.capacity, rmse, flows, link.fastest_rate,
                       link.ceiling_identified)




HOST_LINK_IDENTIFIED = 0.9  # a host cap counts as identified when it cuts the loss of none by 10% or more


@dataclass(frozen=True)
class HostLinkFit:
    """The rate each host's own link let one flow reach, from runs whose host links the bench shaped."""

    rate: float          # bytes/s a host downloaded at, when its link bound (the lower bound when not identified)
    shaped: float        # bytes/s: the tbf rate the bench set on each host's link
    identified: bool
    rmse: float          # seconds, over the flows' ends
    rmse_unbound: float  # the same with no host cap (the per-flow ceiling only)
    flows: int
    runs: tuple[str, ...]

    @property
    def efficiency(self) -> float:
        """What a shaped link delivers as a share of its tbf rate (goodput over the configured rate)."""
        return self.rate / self.shaped


def fit_host_link(groups: list[Group], overhead: float, capacity: float, per_flow: float, shaped: float,
                  runs: tuple[str, ...] = ()) -> HostLinkFit:
    """The host link's rate from deploys whose hosts' links were shaped (`shaped`, bytes/s), with the
    per-flow overhead, the shared capacity and the per-flow ceiling held at what the unshaped runs gave.

    Replays as `fit_transfers` does with a per-flow cap of min(host rate, per-flow ceiling) and the pull
    makespan weight, searching the host rate on a log grid from shaped / 20 up to the per-flow ceiling,
    then refined. Identified when it cuts the loss with no host cap by 10% or more and lies 10% or more
    below the per-flow ceiling (a link shaped above what one flow reaches anyway leaves nothing to see);
    otherwise the smallest rate that fits about as well as none is reported as a lower bound."""
    from scipy.optimize import minimize_scalar  # imported late, as above

    def loss(log_rate: float) -> float:
        return ends_loss(groups, overhead, capacity, min(math.exp(log_rate), per_flow), PULL_MAKESPAN_WEIGHT)

    top = math.log(per_flow) if math.isfinite(per_flow) else math.log(capacity)
    grid = np.linspace(math.log(shaped / 20), max(top, math.log(shaped / 20) + 1e-6), 60)
    values = [loss(x) for x in grid]
    best = int(np.argmin(values))
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    res = minimize_scalar(loss, bounds=(low, high), method="bounded", options={"xatol": 1e-4})
    unbound = loss(top)
    flows = sum(len(g[0]) for g in groups)
    fitted = min(float(res.fun), float(values[best]))
    x = float(res.x) if res.fun <= values[best] else float(grid[best])
    if fitted <= HOST_LINK_IDENTIFIED * unbound and math.exp(x) <= HOST_LINK_IDENTIFIED * math.exp(top):
        return HostLinkFit(math.exp(x), shaped, True, math.sqrt(fitted), math.sqrt(unbound), flows, runs)
    fine = [g for g, v in zip(grid, values) if v <= 1.05 * unbound]
    return HostLinkFit(math.exp(min(fine)) if fine else math.exp(top), shaped, False, math.sqrt(unbound),
                       math.sqrt(unbound), flows, runs)


SHARE_DRAWS = 32  # weight draws per candidate spread and deploy
SHARE_SEED = 20261202  # the draws' seed (calibration.json records it)
SHARE_IDENTIFIED = 0.9  # a spread counts as identified when it cuts the loss of equal shares by 10% or more


@dataclass(frozen=True)
class ShareFit:
    """The spread of flows' shares (`network.flow_share_p95`) that best replays each deploy's spread of ends."""

    p95: float
    rmse: float          # seconds, of the sorted ends against the mean sorted replay
    rmse_equal: float    # the same with equal shares (p95 = 1)
    identified: bool
    draws: int
    seed: int


def fit_share_spread(groups: list[Group], overhead: float, capacity: float, flow_cap: float = math.inf,
                     seed: int = SHARE_SEED) -> ShareFit:
    """Fit `network.flow_share_p95` with the overhead and capacity held (fitted first: the makespan does
    not depend on the shares, so they are fitted alike with or without a spread).

    Which host drew which weight is chance, so the fit compares distributions: each deploy's measured
    ends, sorted, against the mean over `SHARE_DRAWS` weight draws (numpy Generator from `seed`, the same
    draws for every candidate) of its replayed ends, sorted. The loss is their mean squared difference;
    a grid over p95 from 1 to 50 finds the basin and a bounded search the minimum. The spread counts as
    identified when it cuts equal shares' loss by 10% or more; otherwise p95 = 1 is reported."""
    from scipy.optimize import minimize_scalar  # imported late, as above

    rng = np.random.default_rng(seed)
    normals = [rng.standard_normal((SHARE_DRAWS, len(g[0]))) for g in groups]
    z95 = statistics.NormalDist().inv_cdf(0.95)

    def loss(log_p95: float) -> float:
        sigma = max(log_p95, 0.0) / z95
        errs = []
        for (starts, ends, size, _), z in zip(groups, normals):
            replays = [np.sort(replay_ends(starts, size, overhead, capacity, flow_cap, np.exp(sigma * row)))
                       for row in z]
            errs.append(np.mean(replays, axis=0) - np.sort(ends))
        return float(np.mean(np.concatenate(errs) ** 2))

    grid = np.log(np.geomspace(1.0, 50.0, 25))
    best = int(np.argmin([loss(x) for x in grid]))
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    res = minimize_scalar(loss, bounds=(low, high), method="bounded", options={"xatol": 1e-3})
    equal = loss(0.0)
    identified = res.fun <= SHARE_IDENTIFIED * equal
    p95 = math.exp(float(res.x)) if identified else 1.0
    return ShareFit(p95, math.sqrt(res.fun if identified else equal), math.sqrt(equal), identified, SHARE_DRAWS, seed)
