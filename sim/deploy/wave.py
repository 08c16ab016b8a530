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
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Heap event kinds, in the order they are handled when they fall at the same instant (a finish on the
# bottleneck comes before all of them). An event's key is kind * _KIND + host: ties in time break by
# kind, then by host number (deterministic; which of two simultaneous events goes first changes no
# host's times: slots are handed out from the ready queue, and simultaneous arrivals get equal shares).
_SLOT_FREE, _SLOT_FREE_FAILED, _RETRY, _ARRIVE = 0, 1, 2, 3
_KIND = np.int64(2) ** 40


@njit(cache=True, error_model="numpy", inline="always")
def _push(time, key, size, t, kind, host):
    """Add an event (time, kind * _KIND + host) to the binary heap held in `time` and `key`."""
    i = size
    k = kind * _KIND + host
    while i > 0:
        parent = (i - 1) >> 1
        if time[parent] < t or (time[parent] == t and key[parent] < k):
            break
        time[i], key[i] = time[parent], key[parent]
        i = parent
    time[i], key[i] = t, k
    return size + 1


@njit(cache=True, error_model="numpy", inline="always")
def _pop(time, key, size):
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
    return t, k // _KIND, k % _KIND, size


@njit(cache=True, error_model="numpy", inline="always")
def _first_attempts_at_once(t0, order, fail_attempts, fail_cost, attempts, attempt_start, h_time, h_key, hsize):
    """No slot contention (pull): every first attempt starts at t0. Failing ones go to the heap; the
    rest arrive at the bottleneck in `order` (sorted by arrival time). Returns the successful order."""
    keep = 0
    arrivals = order.copy()
    for h in order:
        attempts[h] = 1
        if fail_attempts[h] >= 1:
            hsize = _push(h_time, h_key, hsize, t0 + fail_cost, _SLOT_FREE_FAILED, h)
        else:
            attempt_start[h] = t0
            arrivals[keep] = h
            keep += 1
    return arrivals[:keep], hsize


@njit(cache=True, error_model="numpy")
def run_wave(t0, slots, pre, post, fail_attempts, fail_cost, backoff, size, capacity, flow_cap, order):
    """Simulate one wave; returns (attempt_start, transfer_start, transfer_end, done, attempts).

    `fail_attempts[h]` is how many attempts of host h fail before one succeeds; a host gives up after
    1 + len(backoff) attempts and keeps NaN times. `attempt_start` is when its successful attempt began.
    `order` is argsort(pre) when slots >= hosts (numpy's sort beats a compiled one here), else empty.
    """
    n = len(pre)
    attempt_start, t_start, t_end, done = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    attempts = np.zeros(n, np.int64)
    max_attempts = 1 + len(backoff)
    # slot releases, arrivals and retries share one heap keyed by (time, kind, insertion); a host has at
    # most one pending event
    h_time, h_key = np.empty(n + 2), np.empty(n + 2, np.int64)
    hsize = 0
    # hosts waiting for a slot: hosts 0..n-1 in deploy order first (next_host), then retries in the
    # order they became ready (a FIFO in `ready`)
    next_host = 0
    ready = np.empty(n * (max_attempts - 1) + 1, np.int64)
    ready_head, ready_tail = 0, 0
    unlimited = slots >= n
    arrivals = order[:0]
    if unlimited:
        arrivals, hsize = _first_attempts_at_once(t0, order, fail_attempts, fail_cost, attempts, attempt_start,
                                                  h_time, h_key, hsize)
        next_host = n
    next_arrival = 0
    # the bottleneck: flows in FIFO order with their virtual finish tags; `rate` is each flow's share
    fifo_host, fifo_tag = np.empty(n, np.int64), np.empty(n)
    f_head, f_tail = 0, 0
    vtime, v_clock, rate, t_depart = 0.0, t0, 0.0, np.inf
    free, now = min(slots, n), t0
    while True:
        while free > 0 and (next_host < n or ready_head < ready_tail):  # hand free slots to waiting hosts
            if next_host < n:
                h = next_host
                next_host += 1
            else:
                h = ready[ready_head]
                ready_head += 1
            free -= 1
            attempts[h] += 1
            if attempts[h] <= fail_attempts[h]:
                hsize = _push(h_time, h_key, hsize, now + fail_cost, _SLOT_FREE_FAILED, h)
            else:
                attempt_start[h] = now
                hsize = _push(h_time, h_key, hsize, now + pre[h], _ARRIVE, h)
        t_static = t0 + pre[arrivals[next_arrival]] if next_arrival < len(arrivals) else np.inf
        t_heap = h_time[0] if hsize > 0 else np.inf
        if t_depart == np.inf and t_heap == np.inf and t_static == np.inf:
            break
        if t_depart <= t_heap and t_depart <= t_static:  # a flow finishes
            now, vtime, v_clock = t_depart, fifo_tag[f_head], t_depart
            h = fifo_host[f_head]
            f_head += 1
            t_end[h] = now
            done[h] = now + post[h]
            if not unlimited:
                hsize = _push(h_time, h_key, hsize, done[h], _SLOT_FREE, h)
        else:
            if t_static < t_heap:
                t, kind, h = t_static, _ARRIVE, arrivals[next_arrival]
                next_arrival += 1
            else:
                t, kind, h, hsize = _pop(h_time, h_key, hsize)
            vtime += (t - v_clock) * rate
            now, v_clock = t, t
            if kind == _ARRIVE:
                t_start[h] = now
                fifo_host[f_tail], fifo_tag[f_tail] = h, vtime + size
                f_tail += 1
            elif kind == _RETRY:
                ready[ready_tail] = h
                ready_tail += 1
            else:  # a slot is free again; after a failed attempt, retry after back-off or give up
                free += 1
                if kind == _SLOT_FREE_FAILED and attempts[h] < max_attempts:
                    hsize = _push(h_time, h_key, hsize, now + backoff[attempts[h] - 1], _RETRY, h)
                continue  # the bottleneck did not change
        active = f_tail - f_head
        rate = min(flow_cap, capacity / active) if active > 0 else 0.0
        t_depart = v_clock + max(fifo_tag[f_head] - vtime, 0.0) / rate if active > 0 else np.inf
    return attempt_start, t_start, t_end, done, attempts
