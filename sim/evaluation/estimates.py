"""Per-policy estimates with confidence intervals: Wilson for rates, order statistics for quantiles.

Each estimate states its population (good builds, bad builds, detected bad builds) and its count, so
"not enough data" shows as a wide interval, never as a confident number.
"""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats

from sim.results.populations import DETECTED, populations
from sim.stats.intervals import quantile_ci, wilson


def rate(mask: pd.Series, population: pd.Series, confidence: float) -> dict:
    n = int(population.sum())
    k = int((mask & population).sum())
    low, high = wilson(k, n, confidence)
    return {"value": k / n if n else math.nan, "low": low, "high": high, "n": n}


def quantile(values: pd.Series, q: float, confidence: float) -> dict:
    clean = values.dropna().to_numpy(dtype=float)
    value, low, high = quantile_ci(clean, q, confidence)
    return {"value": value, "low": low, "high": high, "n": len(clean)}


def policy_estimates(rows: pd.DataFrame, confidence: float, exposure_limit: float, mitigate_within: float | None) -> pd.DataFrame:
    """One row per (policy, measure): value, low, high, n (the size of its population), population, unit."""
    out = []
    for policy, g in rows.groupby("policy", sort=False):
        pop = populations(g)
        served = pop[DETECTED]
        caught = g.exposure_at_detection <= exposure_limit
        unmitigated_last = g.time_to_mitigate.fillna(math.inf)  # a detected build still serving: never mitigated
        measures = {
            "false_rollback_rate": (rate(g.false_rollback, pop["good builds"], confidence), "good builds", "share"),
            "blocked_rate": (rate(g.outcome == "blocked", pop["good builds"], confidence), "good builds", "share"),
            "miss_rate": (rate(g.bad_serving_at_horizon, pop["bad builds"], confidence), "bad builds", "share"),
            "detection_rate": (rate(g.detected, pop["bad builds"], confidence), "bad builds", "share"),
            "caught_in_staging": (rate(g.detected_by == "smoke test", pop["bad builds"], confidence), "bad builds",
                                  "share"),
            "caught_before_exposure": (rate(caught, pop["bad builds"], confidence), "bad builds", "share"),
            "detection_delay_p50": (quantile(g.detection_delay[served], 0.5, confidence), DETECTED, "s"),
            "time_to_mitigate_p50": (quantile(unmitigated_last[served], 0.5, confidence), DETECTED, "s"),
            "time_to_mitigate_p95": (quantile(unmitigated_last[served], 0.95, confidence), DETECTED, "s"),
            "bad_requests_mean": (_mean(g.bad_requests[pop["bad builds"]], confidence), "bad builds", "requests"),
            "error_budget_minutes_mean": (_mean(g.error_budget_minutes, confidence), "all releases", "minutes"),
            "lead_time_good_p50": (quantile(g.lead_time[pop["good builds that shipped"]], 0.5, confidence),
                                   "good builds that shipped", "s"),
        }
        if mitigate_within is not None:
            measures["mitigated_within"] = (rate(g.time_to_mitigate <= mitigate_within, served, confidence),
                                            DETECTED, "share")
        for name, (estimate, population, unit) in measures.items():
            out.append({"policy": policy, "measure": name, **estimate, "population": population, "unit": unit})
    return pd.DataFrame(out)


def _mean(values: pd.Series, confidence: float) -> dict:
    """Mean with a t interval, clipped at 0 (the measures are counts and durations)."""
    clean = values.dropna().to_numpy(dtype=float)
    n = len(clean)
    if n == 0:
        return {"value": math.nan, "low": math.nan, "high": math.nan, "n": 0}
    mean = float(clean.mean())
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * clean.std(ddof=1) / math.sqrt(n)) if n > 1 else math.inf
    return {"value": mean, "low": max(mean - half, 0.0), "high": mean + half, "n": n}


def stage_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Where bad builds were caught, per policy (counts)."""
    bad = rows[rows.bad_build]
    stages = bad.detection_stage.where(bad.detected, "not detected")
    return pd.crosstab(bad.policy, stages)
