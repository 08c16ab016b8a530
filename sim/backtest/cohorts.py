"""Splitting a fleet-wide history into the traffic of one cohort (a share of the fleet).

With an `rng`, each request independently lands in the cohort with probability `fleet_share`
(binomial thinning of good and failed requests apart), which is how a load balancer splits
traffic. Without one, counts are scaled and rounded (expected values, no noise).
"""

from __future__ import annotations

import numpy as np

from sim.backtest.history import History


def scale_to_fleet(history: History, fleet_share: float, rng: np.random.Generator | None = None) -> History:
    """The part of `history` served by a cohort holding `fleet_share` (0..1) of the fleet.

    Mean latency is kept as is (a share of the same traffic has the same mean); it becomes NaN
    where the cohort gets no requests.

    >>> h = History("x", 0.0, 60.0, np.array([100, 40]), np.array([10, 0]), None)
    >>> scale_to_fleet(h, 0.25).requests.tolist(), scale_to_fleet(h, 0.25).errors.tolist()
    ([25, 10], [3, 0])
    """
    if not 0.0 <= fleet_share <= 1.0:
        raise ValueError(f"fleet_share must be within 0..1 (got {fleet_share})")
    if rng is None:
        requests = np.floor(history.requests * fleet_share + 0.5).astype(np.int64)
        errors = np.minimum(np.floor(history.errors * fleet_share + 0.5).astype(np.int64), requests)
    else:
        errors = rng.binomial(history.errors, fleet_share)
        requests = errors + rng.binomial(history.requests - history.errors, fleet_share)
    latency = None
    if history.latency is not None:
        latency = np.where(requests > 0, history.latency, np.nan)
    return History(history.source, history.start, history.interval, requests, errors, latency)
