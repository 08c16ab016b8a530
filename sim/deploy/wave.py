"""The wave kernel: many hosts deploying through slots and one fair-shared bottleneck, computed at once.

A wave is what happens after one signal: hosts start in order as rsync slots free up (push) or all at
once (pull, slots >= hosts); each attempt either fails after `fail_cost` (then the host waits a
back-off and queues again, or gives up) or runs `pre` (connect+scan, or wake-up), transfers `size`
bytes through a bottleneck of `capacity` shared by all transfers in flight, and runs `post`
(verify+activation) while still holding its slot.

Sharing is processor sharing with a per-flow ceiling: n flows each get min(flow_cap, capacity/n). All
flows are the same size and get the same rate, so they finish in the order they started, and one
"virtual time" clock per bottleneck (bytes served to each flow so far) finds every finish in O(1):
the whole wave costs O(N log N), never O(N^2). The loop is compiled with numba; set
NUMBA_DISABLE_JIT=1 to step through it as plain Python.

Behind zone links (push through `network.zone_link`) each zone's transfers are such a class with its own
virtual clock, and the rates are max-min fair across the bottleneck and the zones' links
(`run_zoned_wave`, `fill_rates`); `run_wave` is its one-zone case. The slot hand-out and the event heap
are shared with the unequal-shares kernel (`sim.deploy.unfair`), whose flows do not finish in order.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Heap event kinds, in the order they are handled when they fall at the same instant (a finish on the
# bottleneck comes before all of them). An event's key is kind * KIND + host: ties in time break by
# kind, then by host number (deterministic; which of two simultaneous events goes first changes no
# host's times: slots are handed out from the ready queue, and simultaneous arrivals get equal shares).
SLOT_FREE, SLOT_FREE_FAILED, RETRY, ARRIVE = 0, 1, 2, 3
KIND = np.int64(2) ** 40


@njit(cache=True, error_model="numpy", inline="always")
def push_event(time, key, size, t, kind, host):
    """Add an event (time, kind * KIND + host) to the binary heap held in `time` and `key`."""
    i = size
    k = kind * KIND + host
    while i > 0:
        parent = (i - 1) >> 1
        if time[parent] < t or (time[parent] == t and key[parent] < k):
            break
        time[i], key[i] = time[parent], key[parent]
        i = parent
    time[i], key[i] = t, k
    return size + 1


@njit(cache=True, error_model="numpy", inline="always")
def pop_event(time, key, size):
    """Remove the earliest event; returns (time, kind, host, new size)."""
    t, k = time[0], key[0]
    size -= 1
    last_t, last_k = time[size], key[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        right = child + 1
        if right < size and (time[right] < time[child] or (time[right] == time[child] and key[right] < key[child])):
            child = right
        if last_t < time[child] or (last_t == time[child] and last_k <= key[child]):
            break
        time[i], key[i] = time[child], key[child]
        i = child
    time[i], key[i] = last_t, last_k
    return t, k // KIND, k % KIND, size


@njit(cache=True, error_model="numpy", inline="always")
def first_attempts_at_once(t0, order, fail_attempts, fail_cost, attempts, attempt_start, h_time, h_key, hsize):
    """No slot contention (pull): every first attempt starts at t0. Failing ones go to the heap; the
    rest arrive at the bottleneck in `order` (sorted by arrival time). Returns the successful order."""
    keep = 0
    arrivals = order.copy()
    for h in order:
        attempts[h] = 1
        if fail_attempts[h] >= 1:
            hsize = push_event(h_time, h_key, hsize, t0 + fail_cost, SLOT_FREE_FAILED, h)
        else:
            attempt_start[h] = t0
            arrivals[keep] = h
            keep += 1
    return arrivals[:keep], hsize


@njit(cache=True, error_model="numpy", inline="always")
def start_wave(t0, slots, n, fail_attempts, fail_cost, backoff, order):
    """A wave's state before its first event: per-host times (NaN) and attempts; the event heap (slot
    releases, arrivals and retries, keyed by (time, kind, host); a host has at most one pending event);
    the FIFO of retries waiting for a slot (`ready`; hosts 0..n-1 in deploy order come first, from
    `next_host`); and, without slot contention (pull), every first attempt started at t0 and the
    successful ones' arrivals in `order`."""
    attempt_start, t_start, t_end, done = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    attempts = np.zeros(n, np.int64)
    h_time, h_key = np.empty(n + 2), np.empty(n + 2, np.int64)
    hsize, next_host = 0, 0
    ready = np.empty(n * len(backoff) + 1, np.int64)
    unlimited = slots >= n
    arrivals = order[:0]
    if unlimited:
        arrivals, hsize = first_attempts_at_once(t0, order, fail_attempts, fail_cost, attempts, attempt_start,
                                                  h_time, h_key, hsize)
        next_host = n
    return (attempt_start, t_start, t_end, done, attempts, h_time, h_key, hsize, next_host, ready, unlimited,
            arrivals)


@njit(cache=True, error_model="numpy", inline="always")
def hand_out_slots(now, free, next_host, ready, ready_head, ready_tail, pre, fail_attempts, fail_cost, attempts,
                   attempt_start, h_time, h_key, hsize):
    """Give free slots to waiting hosts: hosts 0..n-1 in deploy order first (`next_host`), then retries in
    the order they became ready (`ready[ready_head:ready_tail]`). An attempt that will fail frees its slot
    after `fail_cost`; a good one reaches the bottleneck after `pre`. Returns the updated counters."""
    n = len(pre)
    while free > 0 and (next_host < n or ready_head < ready_tail):
        if next_host < n:
            h = next_host
            next_host += 1
        else:
            h = ready[ready_head]
            ready_head += 1
        free -= 1
        attempts[h] += 1
        if attempts[h] <= fail_attempts[h]:
            hsize = push_event(h_time, h_key, hsize, now + fail_cost, SLOT_FREE_FAILED, h)
        else:
            attempt_start[h] = now
            hsize = push_event(h_time, h_key, hsize, now + pre[h], ARRIVE, h)
    return free, next_host, ready_head, hsize


@njit(cache=True, error_model="numpy", inline="always")
def after_slot_event(kind, h, now, free, ready, ready_tail, attempts, backoff, h_time, h_key, hsize):
    """A retry's back-off is over (the host queues for a slot), or a slot is free again (after a failed
    attempt the host retries after its back-off, or gives up after 1 + len(backoff) attempts)."""
    if kind == RETRY:
        ready[ready_tail] = h
        ready_tail += 1
    else:
        free += 1
        if kind == SLOT_FREE_FAILED and attempts[h] < 1 + len(backoff):
            hsize = push_event(h_time, h_key, hsize, now + backoff[attempts[h] - 1], RETRY, h)
    return free, ready_tail, hsize


@njit(cache=True, error_model="numpy")
def fill_rates(count, ceiling, own_link, via_origin, origin_cap):
    """Max-min rates of classes of identical flows in this topology: class k has count[k] flows, each
    with ceiling[k], crossing a link of its own (own_link[k], inf: none; a zone's link or its cache's
    egress, which no other class crosses) and, when via_origin[k], the origin's uplink shared by every
    such class. Returns each class's per-flow rate (0 for empty classes)."""
    rate = np.zeros(len(count))
    fill_into(count, ceiling, own_link, via_origin, origin_cap, rate, np.zeros(len(count), np.bool_))
    return rate


@njit(cache=True, error_model="numpy", inline="always")
def fill_into(count, ceiling, own_link, via_origin, origin_cap, rate, settled):
    """`fill_rates` into `rate` (`settled` is work space). Progressive filling on this topology: alone, a
    class would rise to its limit min(ceiling, own link / count); classes crossing the origin rise
    together to the origin's fair share, and those whose limit is below it stop there, leaving more to
    the rest, until no limit is below the share: the rest get the share."""
    sharing, left = 0.0, origin_cap
    for k in range(len(count)):
        rate[k] = min(ceiling[k], own_link[k] / count[k]) if count[k] > 0 else 0.0
        settled[k] = count[k] == 0 or not via_origin[k]
        if not settled[k]:
            sharing += count[k]
    while sharing > 0:
        share = left / sharing
        stopped = False
        for k in range(len(count)):
            if not settled[k] and rate[k] <= share:
                settled[k], stopped = True, True
                left -= count[k] * rate[k]
                sharing -= count[k]
        if not stopped:
            for k in range(len(count)):
                if not settled[k]:
                    rate[k] = share
            break


@njit(cache=True, error_model="numpy")
def run_wave(t0, slots, pre, post, fail_attempts, fail_cost, backoff, size, capacity, flow_cap, order):
    """Simulate one wave; returns (attempt_start, transfer_start, transfer_end, done, attempts).

    `fail_attempts[h]` is how many attempts of host h fail before one succeeds; a host gives up after
    1 + len(backoff) attempts and keeps NaN times. `attempt_start` is when its successful attempt began.
    `order` is argsort(pre) when slots >= hosts (numpy's sort beats a compiled one here), else empty.
    """
    return run_zoned_wave(t0, slots, pre, post, fail_attempts, fail_cost, backoff, size, capacity, flow_cap,
                          order, np.zeros(len(pre), np.int64), np.full(1, np.inf))


@njit(cache=True, error_model="numpy")
def run_zoned_wave(t0, slots, pre, post, fail_attempts, fail_cost, backoff, size, capacity, flow_cap, order,
                   zone, link_cap):
    """`run_wave` with zone links (push through `network.zone_link`): host h's transfer also crosses its
    zone's link (`link_cap[zone[h]]`, inf: no limit), and rates are max-min fair across the bottleneck
    and the links (`fill_rates`). A zone's flows share one link and one ceiling, so they get the same
    rate and finish in the order they started: one virtual clock per zone, O(zones) per event. With one
    zone and no limit this is the one-bottleneck wave number for number: the rate is min(flow_cap,
    capacity / n), computed by the same operations."""
    n = len(pre)
    zones = len(link_cap)
    (attempt_start, t_start, t_end, done, attempts, h_time, h_key, hsize, next_host, ready, unlimited,
     arrivals) = start_wave(t0, slots, n, fail_attempts, fail_cost, backoff, order)
    ready_head, ready_tail, next_arrival = 0, 0, 0
    # each zone's flows in FIFO order (a block of the shared arrays per zone, sized by its hosts) with
    # their virtual finish tags; `rate[z]` is each flow's share, `t_depart[z]` when its head finishes
    first = np.zeros(zones + 1, np.int64)
    for h in range(n):
        first[zone[h] + 1] += 1
    first = np.cumsum(first)
    fifo_host, fifo_tag = np.empty(n, np.int64), np.empty(n)
    f_head, f_tail = first[:zones].copy(), first[:zones].copy()
    vtime, rate, t_depart = np.zeros(zones), np.zeros(zones), np.full(zones, np.inf)
    count, ceiling, via_origin = np.zeros(zones), np.full(zones, flow_cap), np.ones(zones, np.bool_)
    settled = np.zeros(zones, np.bool_)
    v_clock = t0
    free, now = min(slots, n), t0
    while True:
        free, next_host, ready_head, hsize = hand_out_slots(now, free, next_host, ready, ready_head, ready_tail, pre,
                                                            fail_attempts, fail_cost, attempts, attempt_start,
                                                            h_time, h_key, hsize)
        t_static = t0 + pre[arrivals[next_arrival]] if next_arrival < len(arrivals) else np.inf
        t_heap = h_time[0] if hsize > 0 else np.inf
        finishing, t_finish = 0, t_depart[0]
        for z in range(1, zones):
            if t_depart[z] < t_finish:
                finishing, t_finish = z, t_depart[z]
        if t_finish == np.inf and t_heap == np.inf and t_static == np.inf:
            break
        if t_finish <= t_heap and t_finish <= t_static:  # a flow finishes
            z = finishing
            for k in range(zones):
                if k != z:
                    vtime[k] += (t_finish - v_clock) * rate[k]
            now, vtime[z], v_clock = t_finish, fifo_tag[f_head[z]], t_finish
            h = fifo_host[f_head[z]]
            f_head[z] += 1
            t_end[h] = now
            done[h] = now + post[h]
            if not unlimited:
                hsize = push_event(h_time, h_key, hsize, done[h], SLOT_FREE, h)
        else:
            if t_static < t_heap:
                t, kind, h = t_static, ARRIVE, arrivals[next_arrival]
                next_arrival += 1
            else:
                t, kind, h, hsize = pop_event(h_time, h_key, hsize)
            for k in range(zones):
                vtime[k] += (t - v_clock) * rate[k]
            now, v_clock = t, t
            if kind == ARRIVE:
                z = zone[h]
                t_start[h] = now
                fifo_host[f_tail[z]], fifo_tag[f_tail[z]] = h, vtime[z] + size
                f_tail[z] += 1
            else:
                free, ready_tail, hsize = after_slot_event(kind, h, now, free, ready, ready_tail, attempts, backoff,
                                                           h_time, h_key, hsize)
                if kind != RETRY:
                    continue  # no link changed (after a retry's back-off the finish times are computed anew)
        if zones == 1:  # one link behind the bottleneck: min(a, b) / n is min(a / n, b / n) to the bit
            active = f_tail[0] - f_head[0]
            rate[0] = min(flow_cap, min(link_cap[0], capacity) / active) if active > 0 else 0.0
        else:
            for k in range(zones):
                count[k] = f_tail[k] - f_head[k]
            fill_into(count, ceiling, link_cap, via_origin, capacity, rate, settled)
        for k in range(zones):
            active = f_tail[k] - f_head[k]
            t_depart[k] = v_clock + max(fifo_tag[f_head[k]] - vtime[k], 0.0) / rate[k] if active > 0 else np.inf
    return attempt_start, t_start, t_end, done, attempts
