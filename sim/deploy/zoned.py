"""Pull through zones: every host's download crosses the origin's uplink and its zone's link, or comes
from its zone's regional cache, with the rate of every flow set by max-min fairness across the links.

Topology (`network.zone_link`, and a pull strategy's `zone_cache`):

    origin --(origin_egress)--+--(zone link 0)--> zone 0's hosts          (no cache: each pull crosses
                              +--(zone link 1)--> cache 1 --(cache egress)--> zone 1's hosts   both links)

Without caches, a host's pull crosses the origin's uplink (shared by the whole fleet) and its zone's link
(shared by the zone's pulls), and is capped by min(per_flow, host_download). With a cache in every zone,
the first host of a zone to ask starts the cache's fill (one flow of the build from the origin, across the
origin's uplink and the zone's link, capped by `per_flow`); the zone's hosts wait for the fill to end,
then download from the cache through its egress, which only they share. Origin bytes: the build once per
host that pulled from the origin, and once per cache filled.

Rates are max-min fair (`sim.deploy.maxmin`). All flows of one class (a zone's pulls, a zone's fill) cross
the same links with the same ceiling, so they get the same rate, and being the same size they finish in
the order they started: one virtual clock per class finds each finish, and progressive filling runs
over classes, not flows. Every link but the origin's belongs to one class (a zone's link carries its
pulls or its cache's fill, never both; a cache's egress its zone's pulls), which makes the filling a
short loop (`sim.deploy.wave.fill_rates`): O(classes) per event, O(N log N) a wave. With no zone links
and no caches every flow crosses the origin alone, and this is the one-bottleneck wave (`sim.deploy.wave`)
exactly; tests/deploy/test_zoned.py holds the two together and this kernel to a flow-by-flow simulation
(`sim.deploy.zoned_reference`).

Push (slots < hosts) has no caches and no zone-by-zone signal: its hosts wait for rsync slots, so
arrivals are not closed-form, and the slotted wave runs with a virtual clock per zone
(`sim.deploy.wave.run_zoned_wave`).

Zone by zone (`by_zone: true` on a pull strategy): the key is written for zone 0 first; zone z + 1 is
signalled when every host of zone z is done or has given up. Flows of two zones then never overlap, so
each zone is one kernel run.

Arrivals are closed-form: with every host working at once there is no slot to wait for, so a host whose
first f attempts fail starts its successful attempt after f x (attempt_timeout) plus the first f back-offs,
and reaches the origin `pre` (its wake-up) later, as in the one-bottleneck wave.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.deploy.plan import WavePlan, WaveTimes
from sim.deploy.strategies.p2p import join_delays
from sim.deploy.wave import fill_into, run_zoned_wave

_NONE = -1  # a cache fill's place in a class's FIFO (no host)


@njit(cache=True, error_model="numpy")
def run_zoned(arrival, order, zone, zones, origin_cap, link_cap, cache_cap, size, flow_cap, fill_cap):
    """One wave through zone links (and caches, when cache_cap > 0).

    `arrival[h]`: when host h reaches the origin or its cache (NaN: never); `order`: the hosts that
    arrive, sorted by arrival time. Returns (transfer_start, transfer_end, caches filled)."""
    n = len(arrival)
    cached = cache_cap > 0
    classes = 2 * zones if cached else zones
    # each class's own link (a zone's link or its cache's egress) and whether it crosses the origin
    own_link, via_origin, ceiling = np.full(classes, np.inf), np.zeros(classes, np.bool_), np.empty(classes)
    for z in range(zones):
        ceiling[z] = flow_cap
        if cached:  # the zone's pulls come from its cache; its fill crosses the origin and the zone's link
            own_link[z] = cache_cap
            own_link[zones + z], via_origin[zones + z], ceiling[zones + z] = link_cap[z], True, fill_cap
        else:
            own_link[z], via_origin[z] = link_cap[z], True
    # each class's flows in FIFO order: a block of the shared arrays per class
    per_class = np.zeros(classes, np.int64)
    for h in order:
        per_class[zone[h]] += 1
    for z in range(zones, classes):
        per_class[z] = 1
    first = np.zeros(classes + 1, np.int64)
    first[1:] = np.cumsum(per_class)
    fifo_host, fifo_tag = np.empty(first[classes], np.int64), np.empty(first[classes])
    head, tail = first[:classes].copy(), first[:classes].copy()
    blocked = np.zeros(classes, np.bool_)  # a cached zone's pulls wait for its fill
    if cached:
        blocked[:zones] = True
    vtime, rate, count = np.zeros(classes), np.zeros(classes), np.zeros(classes)
    settled = np.zeros(classes, np.bool_)
    t_start, t_end = np.full(n, np.nan), np.full(n, np.nan)
    fills = 0
    clock = arrival[order[0]] if len(order) else 0.0
    nxt = 0
    while True:
        t_arrive = arrival[order[nxt]] if nxt < len(order) else np.inf
        t_finish, finishing = np.inf, -1
        for k in range(classes):
            if head[k] < tail[k] and rate[k] > 0:
                t = clock + max(fifo_tag[head[k]] - vtime[k], 0.0) / rate[k]
                if t < t_finish:
                    t_finish, finishing = t, k
        if t_finish == np.inf and t_arrive == np.inf:
            break
        now = min(t_finish, t_arrive)
        for k in range(classes):
            vtime[k] += (now - clock) * rate[k]
        clock = now
        if t_finish <= t_arrive:
            k = finishing
            h = fifo_host[head[k]]
            vtime[k] = max(vtime[k], fifo_tag[head[k]])
            head[k] += 1
            if k < zones:
                t_end[h] = now
            else:  # a cache is full: its zone's waiting pulls start
                z = k - zones
                blocked[z] = False
                for i in range(head[z], tail[z]):
                    t_start[fifo_host[i]] = now
        else:
            h = order[nxt]
            nxt += 1
            z = zone[h]
            if cached and tail[zones + z] == first[zones + z]:  # the zone's first request fills its cache
                fifo_host[tail[zones + z]], fifo_tag[tail[zones + z]] = _NONE, vtime[zones + z] + size
                tail[zones + z] += 1
                fills += 1
            fifo_host[tail[z]], fifo_tag[tail[z]] = h, vtime[z] + size
            tail[z] += 1
            if not blocked[z]:
                t_start[h] = now
        for k in range(classes):
            count[k] = 0.0 if blocked[k] else tail[k] - head[k]
        fill_into(count, ceiling, own_link, via_origin, origin_cap, rate, settled)
    return t_start, t_end, fills


def arrivals(plan: WavePlan, start: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """When each host's successful attempt starts, when it reaches the origin (NaN: gave up), its
    attempts, and when a host given up on was (NaN for the others): p2p's join delays, which count
    failed attempts as the one-bottleneck wave does."""
    attempts, waited = join_delays(plan.fail_attempts, plan.fail_cost, plan.backoff)
    attempt_start = start + waited
    given_up_at = np.where(np.isnan(waited), start + attempts * plan.fail_cost + plan.backoff.sum(), np.nan)
    return attempt_start, attempt_start + plan.pre, attempts, given_up_at


def zoned_wave(plan: WavePlan, start: float) -> WaveTimes:
    """Run a plan with `plan.zones`; times as the one-bottleneck wave's, plus origin bytes (the bytes the
    origin, or a push's deploy host, sent)."""
    zones = plan.zone_links()
    if plan.slots < plan.hosts:
        return slotted_wave(plan, start)
    n = plan.hosts
    attempt_start, t_start, t_end = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    attempts = np.zeros(n, np.int64)
    done = np.full(n, np.nan)
    pulls, fills = 0, 0
    groups = [np.flatnonzero(zones.of_host == z) for z in range(len(zones.link))] if zones.by_zone else [np.arange(n)]
    at = start
    for hosts in groups:
        sub = plan.subset(hosts)
        a_start, arrive, tries, given_up_at = arrivals(sub, at)
        order = hosts_by_arrival(arrive)
        s, e, filled = run_zoned(arrive, order, sub.zone_links().of_host.astype(np.int64), len(zones.link),
                                    float(plan.capacity), zones.link, float(zones.cache), float(plan.size),
                                    float(plan.flow_cap), float(zones.fill_cap))
        attempt_start[hosts], t_start[hosts], t_end[hosts], attempts[hosts] = a_start, s, e, tries
        done[hosts] = e + sub.post
        pulls += int(np.isfinite(e).sum())
        fills += int(filled)
        at = float(np.fmax.reduce(np.concatenate([done[hosts], given_up_at]), initial=at)) + (
            zones.key_write if zones.by_zone else 0.0)
    origin = plan.size * (fills if zones.cache > 0 else pulls)
    return WaveTimes(attempt_start + plan.signal_offset, t_start, t_end, done, attempts, origin_bytes=origin)


def slotted_wave(plan: WavePlan, start: float) -> WaveTimes:
    """A push through zone links: hosts wait for slots, then cross the deploy host's egress and their zone's
    link (no caches, no zone-by-zone signal: push has neither)."""
    zones = plan.zone_links()
    if zones.cache > 0 or zones.by_zone:
        raise ValueError("a wave with slots crosses zone links only: caches and zone-by-zone are pull's")
    attempt_start, t_start, t_end, done, attempts = run_zoned_wave(
        float(start), int(plan.slots), plan.pre, plan.post, plan.fail_attempts, float(plan.fail_cost), plan.backoff,
        float(plan.size), float(plan.capacity), float(plan.flow_cap), np.empty(0, np.int64),
        zones.of_host.astype(np.int64), np.asarray(zones.link, dtype=float))
    return WaveTimes(attempt_start + plan.signal_offset, t_start, t_end, done, attempts,
                     origin_bytes=plan.size * int(np.isfinite(t_end).sum()))


def hosts_by_arrival(arrive: np.ndarray) -> np.ndarray:
    """Hosts that arrive, earliest first (ties by host number, as the one-bottleneck wave breaks them)."""
    order = np.argsort(arrive, kind="stable")
    return order[np.isfinite(arrive[order])].astype(np.int64)
