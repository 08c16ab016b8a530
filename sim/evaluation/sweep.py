"""Sweeps: a grid of thresholds, bake times and stage schedules, each point evaluated on the same
releases, and the Pareto front of false rollbacks, user impact and lead time.

A grid key that starts with `gates.` changes the base policy's gates (`gates.errors.max`); any other key
is a scenario override, as with `--set` (`rollout.steps[2].pause`). Every point replays the same
releases (the release draws depend only on the replication), so points differ only by their settings.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

OBJECTIVES = ("false_rollback_rate", "bad_requests_mean", "lead_time_good_p50")


@dataclass(frozen=True)
class GridPoint:
    name: str
    settings: dict
    overrides: tuple[str, ...]


def grid_points(base: str, grid: dict[str, list]) -> list[GridPoint]:
    keys = list(grid)
    points = []
    for values in itertools.product(*(grid[k] for k in keys)):
        settings = dict(zip(keys, values))
        overrides = []
        for key, value in settings.items():
            target = f"evaluation.policies.{base}.{key.removeprefix('gates.')}" if key.startswith("gates.") else key
            overrides.append(f"{target}={json.dumps(value)}")
        name = ", ".join(f"{k.split('.')[-1]}={v}" for k, v in settings.items())
        points.append(GridPoint(name=name, settings=settings, overrides=tuple(overrides)))
    return points


def pareto_front(table: pd.DataFrame, objectives=OBJECTIVES) -> np.ndarray:
    """True for points that no other point beats or ties on every objective (all minimised)."""
    values = table[list(objectives)].to_numpy(dtype=float)
    values = np.where(np.isnan(values), np.inf, values)
    front = np.ones(len(values), dtype=bool)
    for i in range(len(values)):
        others = np.delete(values, i, axis=0)
        dominated = np.all(others <= values[i], axis=1) & np.any(others < values[i], axis=1)
        front[i] = not dominated.any()
    return front
