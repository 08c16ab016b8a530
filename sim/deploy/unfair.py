"""Unequal shares of one bottleneck: TCP flows through one queue do not split it evenly.

The bench shows it (docs/bench.md): 100 pulls through one shaped link do not end together, as equal
shares would make them, but spread out, the first ones well before the last, while the last still ends
when the link has carried every byte. `network.flow_share_p95` models that: each host's flow has a weight
W, lognormal with median 1 and 95th percentile `flow_share_p95`, and rates are **weighted max-min fair**
under the common per-flow ceiling c: every flow's rate rises in proportion to its weight until the link
is full or the flow reaches c. Heaviest first, the flows at c are a prefix, so with C the capacity

    r = (C - k c) / (the weights of flows k+1, k+2, ... summed),  for the least k with w_(k+1) r <= c,

and flow i moves at min(c, w_i r). The link stays work-conserving: with every flow below c the last
flow still ends when C has carried all the bytes. With all N flows starting together and no flow at c,
flow i ends after (F / C) x sum over j of min(w_j / w_i, 1) (tests/deploy/test_unfair.py holds the
kernel to it and to the SimPy model with weighted links).

Flows no longer finish in the order they started, so each flow in flight is its own entry (kept heaviest
first): O(flows in flight) per event, O(N^2) for a wave in which all N hosts pull at once. Slots, faults
and retries are the one-bottleneck wave's (`sim.deploy.wave`); with every weight 1 the times are that
wave's, to rounding.
"""

from __future__ import annotations

import statistics

import numpy as np
from numba import njit

from sim.deploy.wave import (
    ARRIVE,
    RETRY,
    SLOT_FREE,
    after_slot_event,
    hand_out_slots,
    pop_event,
    push_event,
    start_wave,
)
from sim.streams import Streams

DONE = 1e-9  # a flow with this share of the build left is done (rounding of the rates' sums)
P95_Z = statistics.NormalDist().inv_cdf(0.95)


def share_weights(p95: float, hosts: int, streams: Streams) -> np.ndarray | None:
    """Each host's flow weight: lognormal with median 1 and 95th percentile `p95` (None when that is 1:
    equal shares, and no draw, so scenarios without the setting keep their numbers)."""
    if p95 == 1.0:
        return None
    return np.exp(np.log(p95) / P95_Z * streams("network.flow_share").standard_normal(hosts))


@njit(cache=True, error_model="numpy")
def weighted_rates(weight, capacity, ceiling, rate):
    """Weighted max-min rates, into `rate`, of flows with `weight` sorted heaviest first, through a link of
    `capacity` with a common per-flow `ceiling`."""
    total, left, k = weight.sum(), capacity, 0
    while k < len(weight) and weight[k] * (left / total) > ceiling:
        rate[k] = ceiling
        left -= ceiling
        total -= weight[k]
        k += 1
    for i in range(k, len(weight)):
        rate[i] = weight[i] * (left / total)


@njit(cache=True, error_model="numpy")
def run_unfair_wave(t0, slots, pre, post, fail_attempts, fail_cost, backoff, size, capacity, flow_cap, order,
                    weight):
    """`sim.deploy.wave.run_wave` with each host's flow weighted by `weight[h]`; the same arguments and
    returns."""
    n = len(pre)
    (attempt_start, t_start, t_end, done, attempts, h_time, h_key, hsize, next_host, ready, unlimited,
     arrivals) = start_wave(t0, slots, n, fail_attempts, fail_cost, backoff, order)
    ready_head, ready_tail, next_arrival = 0, 0, 0
    # flows in flight, heaviest first (ties: the earlier arrival first): host, weight, bytes left, rate
    f_host, f_weight, f_left, f_rate = np.empty(n, np.int64), np.empty(n), np.empty(n), np.empty(n)
    m = 0
    clock, t_finish = t0, np.inf
    free = min(slots, n)
    while True:
        free, next_host, ready_head, hsize = hand_out_slots(clock, free, next_host, ready, ready_head, ready_tail,
                                                            pre, fail_attempts, fail_cost, attempts, attempt_start,
                                                            h_time, h_key, hsize)
        t_static = t0 + pre[arrivals[next_arrival]] if next_arrival < len(arrivals) else np.inf
        t_heap = h_time[0] if hsize > 0 else np.inf
        if t_finish == np.inf and t_heap == np.inf and t_static == np.inf:
            break
        t = min(t_finish, t_heap, t_static)
        for i in range(m):
            f_left[i] -= (t - clock) * f_rate[i]
        clock = t
        if t_finish <= t_heap and t_finish <= t_static:  # flows finish: the first to, and any level with it
            first = 0
            for i in range(1, m):
                if f_left[i] / f_rate[i] < f_left[first] / f_rate[first]:
                    first = i
            kept = 0
            for i in range(m):
                if i == first or f_left[i] <= DONE * size:
                    h = f_host[i]
                    t_end[h] = clock
                    done[h] = clock + post[h]
                    if not unlimited:
                        hsize = push_event(h_time, h_key, hsize, done[h], SLOT_FREE, h)
                else:
                    f_host[kept], f_weight[kept], f_left[kept] = f_host[i], f_weight[i], f_left[i]
                    kept += 1
            m = kept
        else:
            if t_static < t_heap:
                kind, h = ARRIVE, arrivals[next_arrival]
                next_arrival += 1
            else:
                _, kind, h, hsize = pop_event(h_time, h_key, hsize)
            if kind == ARRIVE:
                t_start[h] = clock
                at = m
                while at > 0 and f_weight[at - 1] < weight[h]:
                    f_host[at], f_weight[at], f_left[at] = f_host[at - 1], f_weight[at - 1], f_left[at - 1]
                    at -= 1
                f_host[at], f_weight[at], f_left[at] = h, weight[h], size
                m += 1
            else:
                free, ready_tail, hsize = after_slot_event(kind, h, clock, free, ready, ready_tail, attempts,
                                                           backoff, h_time, h_key, hsize)
                if kind != RETRY:
                    continue  # no flow changed
        weighted_rates(f_weight[:m], capacity, flow_cap, f_rate)
        t_finish = np.inf
        for i in range(m):
            t_finish = min(t_finish, clock + max(f_left[i], 0.0) / f_rate[i])
    return attempt_start, t_start, t_end, done, attempts
