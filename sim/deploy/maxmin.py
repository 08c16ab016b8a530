"""Max-min fair rates of flows that cross several links: the definition the multi-link model runs on.

Each flow crosses a set of links (the origin's uplink, its zone's link, a regional cache's egress) and
may have a ceiling of its own (the per-flow cap, the host's download). Max-min fairness (Bertsekas and
Gallager, Data Networks, section 6.5.2) gives each flow the largest rate such that no flow's rate can grow
without shrinking the rate of a flow that has no more: computed by **progressive filling**, every flow's
rate rises together until a link is full or a flow reaches its ceiling; those flows freeze, and the
others keep rising.

`max_min_rates` is that algorithm written for reading, flow by flow; the wave kernel
(`sim.deploy.zoned`) runs the same filling on classes of identical flows (a zone's pulls), and the tests
hold the two to each other and to allocations worked out by hand.

    >>> # two links of 10; flow 0 crosses both, flow 1 only link 0, flow 2 only link 1
    >>> max_min_rates([[0, 1], [0], [1]], [10.0, 10.0]).tolist()
    [5.0, 5.0, 5.0]
    >>> max_min_rates([[0, 1], [0], [1]], [10.0, 4.0]).tolist()  # link 1 is the tighter one
    [2.0, 8.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FULL = 1e-12  # a link or ceiling within this share of its capacity counts as reached


def max_min_rates(links_of_flow: Sequence[Sequence[int]], capacity: Sequence[float],
                  ceiling: Sequence[float] | None = None, weight: Sequence[float] | None = None) -> np.ndarray:
    """The max-min fair rate of every flow.

    `links_of_flow[f]` lists the links flow f crosses; `capacity[l]` is link l's capacity (inf: no
    limit); `ceiling[f]` is flow f's own cap (default: none); `weight[f]` how fast flow f rises against
    the others while filling (weighted max-min; default: all 1). A flow bounded by neither a finite link
    nor a finite ceiling is an error (its fair rate is unbounded)."""
    flows = len(links_of_flow)
    limit = np.asarray(capacity, dtype=float)
    cap = np.full(flows, np.inf) if ceiling is None else np.asarray(ceiling, dtype=float)
    w = np.ones(flows) if weight is None else np.asarray(weight, dtype=float)
    rate = np.zeros(flows)
    left = limit.copy()
    frozen = np.zeros(flows, dtype=bool)
    for f, links in enumerate(links_of_flow):
        if not np.isfinite(cap[f]) and not any(np.isfinite(limit[link]) for link in links):
            raise ValueError(f"flow {f} has no finite link or ceiling: its fair rate is unbounded")
    while not frozen.all():
        rising = [int(f) for f in np.flatnonzero(~frozen)]
        crossing = np.zeros(len(limit))  # the weights of the rising flows on each link
        for f in rising:
            for link in links_of_flow[f]:
                crossing[link] += w[f]
        shares = [left[link] / crossing[link] for link in range(len(limit))
                  if crossing[link] > 0 and np.isfinite(left[link])]
        step = min([*shares, *((cap[rising] - rate[rising]) / w[rising])])  # per unit of weight
        for f in rising:
            rate[f] += step * w[f]
            for link in links_of_flow[f]:
                left[link] -= step * w[f]
        for f in rising:
            full_link = any(np.isfinite(limit[link]) and left[link] <= FULL * limit[link] for link in links_of_flow[f])
            if full_link or (np.isfinite(cap[f]) and cap[f] - rate[f] <= FULL * cap[f]):
                frozen[f] = True
    return rate
