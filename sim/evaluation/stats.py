"""Per-policy estimates with confidence intervals: Wilson for rates, order statistics for quantiles.

Each estimate states its population (good builds, bad builds, detected bad builds) and its count, so
"not enough data" shows as a wide interval, never as a confident number.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats


def wilson(successes: int, n: int, confidence: float) -> tuple[float, float]:
    if n == 0:
        return (math.nan, math.nan)
    z = stats.norm.ppf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exactly 0 and 1 at the ends (rounding aside)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


def quantile_ci(values: np.ndarray, q: float, confidence: float) -> tuple[float, float, float]:
    """The q-quantile and a distribution-free interval from order statistics (binomial ranks)."""
    values = np.sort(np.asarray(values, dtype=float))
    n = len(values)
    if n == 0:
        return (math.nan, math.nan, math.nan)
    alpha = 1 - confidence
    lo = int(stats.binom.ppf(alpha / 2, n, q))
    hi = int(stats.binom.ppf(1 - alpha / 2, n, q))
    estimate = float(np.quantile(values, q))
    low = float(values[lo - 1]) if lo >= 1 else math.nan  # too few values to bound it from below
    high = float(values[hi]) if hi < n else math.nan  # ... or from above
    return (estimate, low, high)


def rate(mask: pd.Series, population: pd.Series, confidence: float) -> dict:
    n = int(population.sum())
    k = int((mask & population).sum())
    low, high = wilson(k, n, confidence)
    return {"value": k / n if n else math.nan, "low": low, "high": high, "n": n}


def quantile(values: pd.Series, q: float, confidence: float) -> dict:
    clean = values.dropna().to_numpy(dtype=float)
    value, low, high = quantile_ci(clean, q, confidence)
    return {"value": value, "low": low, "high": high, "n": len(clean)}


SHIPPED = ("promoted", "hotfixed")
DETECTED = "detected bad builds that served traffic"


def populations(g: pd.DataFrame) -> dict[str, pd.Series]:
    """The releases each measure is taken over (masks over one policy's rows)."""
    good, bad = ~g.bad_build, g.bad_build
    return {
        "all releases": pd.Series(True, index=g.index),
        "good builds": good,
        "bad builds": bad,
        "good builds that shipped": good & g.outcome.isin(SHIPPED),
        "releases that shipped": g.outcome.isin(SHIPPED),
        DETECTED: bad & g.detected & g.served_traffic,
    }


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
