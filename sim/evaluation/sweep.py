"""Sweeps: a grid of thresholds, bake times and stage schedules, each point evaluated on the same
releases and judged against the acceptance criteria; the Pareto front of the passing points, and the
one setting to adopt.

A grid key that starts with `gates.` changes the base policy's gates (`gates.errors.max`); any other key
is a scenario override, as with `--set` (`rollout.steps[2].pause`). Every point replays the same
releases (the release draws depend only on the replication), so points differ only by their settings.
Points that differ only in their gates are policies of one evaluation, which share each release's first
round (`sim.rollout.batch`).

The recommendation is the passing point best on the sweep's `objective` (ties: the other objectives in
`OBJECTIVES` order). When no point passes, the closest is the one with the fewest failed criteria, then
the smallest shortfall relative to the bounds.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

OBJECTIVES = ("false_rollback_rate", "bad_requests_mean", "lead_time_good_p50")
MAXIMISED = ("detection_rate", "caught_before_exposure", "mitigated_within", "caught_in_staging")


@dataclass(frozen=True)
class GridPoint:
    name: str
    settings: dict
    overrides: tuple[str, ...]
    scenario_overrides: tuple[str, ...]  # the overrides that are not about gates (points sharing them share a scenario)


def grid_points(base: str, grid: dict[str, list]) -> list[GridPoint]:
    keys = list(grid)
    points = []
    for values in itertools.product(*(grid[k] for k in keys)):
        settings = dict(zip(keys, values))
        overrides, scenario_overrides = [], []
        for key, value in settings.items():
            target = f"evaluation.policies.{base}.{key.removeprefix('gates.')}" if key.startswith("gates.") else key
            overrides.append(f"{target}={json.dumps(value)}")
            if not key.startswith("gates."):
                scenario_overrides.append(overrides[-1])
        name = ", ".join(f"{k.split('.')[-1]}={v}" for k, v in settings.items())
        points.append(GridPoint(name, settings, tuple(overrides), tuple(scenario_overrides)))
    return points


def pareto_front(table: pd.DataFrame, objectives=OBJECTIVES, among: np.ndarray | None = None) -> np.ndarray:
    """True for points (of `among`, default all) that no other such point beats or ties on every
    objective (all minimised)."""
    values = table[list(objectives)].to_numpy(dtype=float)
    values = np.where(np.isnan(values), np.inf, values)
    among = np.ones(len(values), dtype=bool) if among is None else np.asarray(among, dtype=bool)
    front = np.zeros(len(values), dtype=bool)
    for i in np.flatnonzero(among):
        others = values[among & (np.arange(len(values)) != i)]
        dominated = np.all(others <= values[i], axis=1) & np.any(others < values[i], axis=1)
        front[i] = not dominated.any()
    return front


def ranking_key(objective: str) -> list[str]:
    """The objectives a recommendation is ranked on, primary first."""
    return [objective, *(o for o in OBJECTIVES if o != objective)]


def best(table: pd.DataFrame, candidates: np.ndarray, objective: str) -> int | None:
    """Index of the candidate best on `objective` (then the other objectives), or None."""
    rows = table[candidates]
    if rows.empty:
        return None
    keys = [(-rows[o] if o in MAXIMISED else rows[o]).fillna(math.inf) for o in ranking_key(objective)]
    order = np.lexsort([k.to_numpy(dtype=float) for k in reversed(keys)])
    return int(rows.index[order[0]])


def shortfall(verdicts) -> tuple[int, float]:
    """(failed criteria, summed shortfall relative to each bound) of one point's verdicts."""
    failed = [v for v in verdicts if v.status == "fail"]
    total = 0.0
    for v in failed:
        total += abs(v.estimate - v.limit) / max(abs(v.limit), 1e-9) if not math.isnan(v.estimate) else math.inf
    return len(failed), total
