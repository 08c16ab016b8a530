"""The flow-by-flow model of pull through zones: what `sim.deploy.zoned` computes by classes, written
plainly, for the tests to hold the fast kernel to.

Every flow is its own object with the bytes it has left and the links it crosses; at every event (a host
arriving, a flow ending) the rates of all flows in flight are set by `sim.deploy.maxmin.max_min_rates`
over the whole topology, and time advances to the next event. Caches, fills and zone-by-zone signalling
follow the rules in `sim.deploy.zoned`'s docstring. O(flows^2) per event: for a few hundred hosts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.deploy.maxmin import max_min_rates
from sim.deploy.plan import WavePlan, WaveTimes
from sim.deploy.zoned import arrivals

ORIGIN = "origin"


@dataclass
class _Flow:
    host: int  # -1: a cache's fill
    zone: int
    left: float
    links: tuple
    ceiling: float


def reference_zoned(plan: WavePlan, start: float) -> WaveTimes:
    zones = plan.zone_links()
    n = plan.hosts
    times = {key: np.full(n, np.nan) for key in ("attempt_start", "start", "end", "done")}
    attempts = np.zeros(n, np.int64)
    origin_flows = 0
    groups = ([[h for h in range(n) if zones.of_host[h] == z] for z in range(len(zones.link))]
              if zones.by_zone else [list(range(n))])
    at = start
    for group in groups:
        hosts = np.asarray(group, dtype=np.int64)
        sub = plan.subset(hosts)
        a_start, arrive, tries, given_up_at = arrivals(sub, at)
        start_t, end_t, from_origin = _flows(sub, arrive)
        for i, h in enumerate(group):
            times["attempt_start"][h], times["start"][h], times["end"][h] = a_start[i], start_t[i], end_t[i]
            times["done"][h] = end_t[i] + sub.post[i]
            attempts[h] = tries[i]
        origin_flows += from_origin
        finished = [t for t in [*times["done"][hosts], *given_up_at] if not np.isnan(t)]
        at = max([at, *finished]) + (zones.key_write if zones.by_zone else 0.0)
    return WaveTimes(times["attempt_start"] + plan.signal_offset, times["start"], times["end"], times["done"],
                     attempts, origin_bytes=plan.size * origin_flows)


def _flows(plan: WavePlan, arrive: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Transfer start and end of every host of `plan`, and how many flows left the origin."""
    zones, size = plan.zone_links(), plan.size
    cached = zones.cache > 0
    capacity: dict[object, float] = {ORIGIN: plan.capacity}
    for z, link in enumerate(zones.link):
        capacity[("link", z)] = link
        capacity[("cache", z)] = zones.cache if cached else np.inf
    names = list(capacity)
    index = {name: i for i, name in enumerate(names)}
    start, end = np.full(plan.hosts, np.nan), np.full(plan.hosts, np.nan)
    pending = sorted((arrive[h], h) for h in range(plan.hosts) if not np.isnan(arrive[h]))
    cache_state: dict[int, str] = {}  # zone -> "filling" | "full"
    waiting: dict[int, list[int]] = {}
    flows: list[_Flow] = []
    origin_flows = 0
    now = pending[0][0] if pending else 0.0
    while pending or flows:
        rates = max_min_rates([[index[link] for link in f.links] for f in flows], [capacity[n] for n in names],
                              [f.ceiling for f in flows]) if flows else np.zeros(0)
        t_finish = min((now + f.left / r for f, r in zip(flows, rates)), default=np.inf)
        t_arrive = pending[0][0] if pending else np.inf
        t = min(t_finish, t_arrive)
        for f, r in zip(flows, rates):
            f.left -= (t - now) * r
        now = t
        for f in [f for f in flows if f.left <= 1e-9 * size]:
            flows.remove(f)
            if f.host >= 0:
                end[f.host] = now
                continue
            cache_state[f.zone] = "full"
            for h in waiting.pop(f.zone, []):
                start[h] = now
                flows.append(_Flow(h, f.zone, size, (("cache", f.zone),), plan.flow_cap))
        while pending and pending[0][0] <= now:
            _, h = pending.pop(0)
            zone = int(zones.of_host[h])
            if not cached:
                start[h] = now
                origin_flows += 1
                flows.append(_Flow(h, zone, size, (ORIGIN, ("link", zone)), plan.flow_cap))
            elif cache_state.get(zone) == "full":
                start[h] = now
                flows.append(_Flow(h, zone, size, (("cache", zone),), plan.flow_cap))
            else:
                if zone not in cache_state:
                    cache_state[zone] = "filling"
                    origin_flows += 1
                    flows.append(_Flow(-1, zone, size, (ORIGIN, ("link", zone)), zones.fill_cap))
                waiting.setdefault(zone, []).append(h)
    return start, end, origin_flows
