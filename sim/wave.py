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
# bottleneck comes before all of them). The kind rides in the low bits of the event's value.
_SLOT_FREE, _SLOT_FREE_FAILED, _RETRY, _ARRIVE = 0, 1, 2, 3
_ORDER = np.int64(2) ** 40  # tie-break key: kind * _ORDER + insertion counter


@njit(cache=True)
def _heap_push(time, seq, val, size, t, s, v):
    i = size
    time[i], seq[i], val[i] = t, s, v
    while i > 0:
        parent = (i - 1) >> 1
        if time[parent] < time[i] or (time[parent] == time[i] and seq[parent] < seq[i]):
            break
        time[i], time[parent] = time[parent], time[i]
        seq[i], seq[parent] = seq[parent], seq[i]
        val[i], val[parent] = val[parent], val[i]
        i = parent
    return size + 1


@njit(cache=True)
def _heap_pop(time, seq, val, size):
    t, v = time[0], val[0]
    size -= 1
    time[0], seq[0], val[0] = time[size], seq[size], val[size]
    i = 0
    while True:
        left, smallest = 2 * i + 1, i
        for child in (left, left + 1):
            if child < size and (time[child] < time[smallest] or (time[child] == time[smallest] and seq[child] < seq[smallest])):
                smallest = child
        if smallest == i:
            break
        time[i], time[smallest] = time[smallest], time[i]
        seq[i], seq[smallest] = seq[smallest], seq[i]
        val[i], val[smallest] = val[smallest], val[i]
        i = smallest
    return t, v, size


@njit(cache=True)
def _push(time, order, val, size, t, kind, counter, host):
    return _heap_push(time, order, val, size, t, kind * _ORDER + counter, host * 8 + kind)


@njit(cache=True)
def run_wave(t0, slots, pre, post, fail_attempts, fail_cost, backoff, size, capacity, flow_cap):
    """Simulate one wave; returns (attempt_start, transfer_start, transfer_end, done, attempts).

    `fail_attempts[h]` is how many attempts of host h fail before one succeeds; a host gives up after
    1 + len(backoff) attempts and keeps NaN times. `attempt_start` is when its successful attempt began.
    """
    n = len(pre)
    nan = np.nan
    attempt_start = np.full(n, nan)
    t_start = np.full(n, nan)
    t_end = np.full(n, nan)
    done = np.full(n, nan)
    attempts = np.zeros(n, np.int64)
    max_attempts = 1 + len(backoff)
    cap = n + 2  # each host has at most one pending event
    # slot releases and pending arrivals/retries share one heap, keyed by (time, kind, insertion)
    h_time = np.empty(cap)
    h_seq = np.empty(cap, np.int64)
    h_val = np.empty(cap, np.int64)
    hsize = 0
    seq = 0
    # hosts waiting for a slot: first the initial order, then retries in the order they became ready
    ready = np.empty(n + n * len(backoff) + 1, np.int64)
    ready_head, ready_tail = 0, 0
    for h in range(n):
        ready[ready_tail] = h
        ready_tail += 1
    # the bottleneck's flows, FIFO, with their virtual finish tags
    fifo_host = np.empty(n, np.int64)
    fifo_tag = np.empty(n)
    f_head, f_tail = 0, 0
    vtime, v_clock = 0.0, t0
    free = min(slots, n)
    now = t0
    # Without slot contention (pull), first attempts arrive at t0 + pre: a sorted list, no heap needed.
    unlimited = slots >= n
    static_order = np.argsort(pre, kind="mergesort") if unlimited else np.empty(0, np.int64)
    s_next, s_end = 0, len(static_order)
    if unlimited:
        ready_head = ready_tail
        for h in static_order:
            attempts[h] = 1
            if fail_attempts[h] >= 1:
                hsize = _push(h_time, h_seq, h_val, hsize, now + fail_cost, _SLOT_FREE_FAILED, seq, h)
                seq += 1
            else:
                attempt_start[h] = now
        keep = 0
        for h in static_order:
            if fail_attempts[h] == 0:
                static_order[keep] = h
                keep += 1
        s_end = keep
    while True:
        # hand free slots to waiting hosts
        while free > 0 and ready_head < ready_tail:
            h = ready[ready_head]
            ready_head += 1
            free -= 1
            attempts[h] += 1
            if attempts[h] <= fail_attempts[h]:
                hsize = _push(h_time, h_seq, h_val, hsize, now + fail_cost, _SLOT_FREE_FAILED, seq, h)
            else:
                attempt_start[h] = now
                hsize = _push(h_time, h_seq, h_val, hsize, now + pre[h], _ARRIVE, seq, h)
            seq += 1
        active = f_tail - f_head
        rate = 0.0
        t_depart = np.inf
        if active > 0:
            rate = min(flow_cap, capacity / active)
            t_depart = v_clock + max(fifo_tag[f_head] - vtime, 0.0) / rate
        t_static = t0 + pre[static_order[s_next]] if s_next < s_end else np.inf
        if hsize == 0 and active == 0 and s_next >= s_end:
            break
        t_heap = h_time[0] if hsize > 0 else np.inf
        if active > 0 and t_depart <= t_heap and t_depart <= t_static:
            now = t_depart
            vtime = fifo_tag[f_head]
            v_clock = now
            h = fifo_host[f_head]
            f_head += 1
            t_end[h] = now
            done[h] = now + post[h]
            if not unlimited:
                hsize = _push(h_time, h_seq, h_val, hsize, done[h], _SLOT_FREE, seq, h)
                seq += 1
            continue
        if t_static < t_heap:
            t, kind, h = t_static, _ARRIVE, static_order[s_next]
            s_next += 1
        else:
            t, v, hsize = _heap_pop(h_time, h_seq, h_val, hsize)
            kind, h = v & 7, v >> 3
        if active > 0:
            vtime += (t - v_clock) * rate
        v_clock = t
        now = t
        if kind == _ARRIVE:
            t_start[h] = now
            fifo_host[f_tail] = h
            fifo_tag[f_tail] = vtime + size
            f_tail += 1
        elif kind == _RETRY:
            ready[ready_tail] = h
            ready_tail += 1
        elif kind == _SLOT_FREE:
            free += 1
        else:  # a slot freed by a failed attempt: retry after back-off, or give up
            free += 1
            if attempts[h] < max_attempts:
                hsize = _push(h_time, h_seq, h_val, hsize, now + backoff[attempts[h] - 1], _RETRY, seq, h)
                seq += 1
    return attempt_start, t_start, t_end, done, attempts
