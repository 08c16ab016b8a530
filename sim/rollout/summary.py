"""Tables of releases: one row per replication, the distribution of each outcome, and the text report
of a single release."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd

from sim.results.populations import DETECTED, populations
from sim.rollout import clock
from sim.rollout.release import ReleaseResult
from sim.stats.intervals import wilson
from sim.units import format_duration

OUTCOMES = ("promoted", "hotfixed", "rolled_back", "blocked")
TIMES = ("detection_delay", "time_to_mitigate", "lead_time")


def outcome_table(results: list[ReleaseResult]) -> pd.DataFrame:
    return pd.DataFrame([asdict(r.outcome) for r in results])


def records_table(results: list[ReleaseResult], field: str) -> pd.DataFrame:
    rows = [{"replication": r.outcome.replication, **asdict(x)} for r in results for x in getattr(r, field)]
    return pd.DataFrame(rows)


def distribution(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Each outcome's share (with a Wilson 95% interval) and each time's p5/p50/p95, each over its
    population (all releases, good builds, bad builds, detected bad builds that served traffic, ...)."""
    pop = populations(outcomes)
    rows = []
    shares = [(f"outcome: {name}", outcomes.outcome == name, "all releases") for name in OUTCOMES]
    shares += [("false_rollback", outcomes.false_rollback, "good builds"),
               ("detected", outcomes.detected, "bad builds"),
               ("bad_serving_at_horizon", outcomes.bad_serving_at_horizon, "bad builds")]
    for measure, mask, population in shares:
        n, k = int(pop[population].sum()), int((mask & pop[population]).sum())
        low, high = wilson(k, n, 0.95)
        rows.append({"measure": measure, "value": k / n if n else np.nan, "low": low, "high": high, "kind": "share",
                     "count": n, "population": population})
    times = [("detection_delay", DETECTED), ("time_to_mitigate", DETECTED), ("lead_time", "releases that shipped"),
             ("peak_bad_share", "bad builds"), ("bad_requests", "bad builds")]
    for column, population in times:
        values = outcomes[column][pop[population]].dropna().to_numpy(dtype=float)
        if len(values):
            p5, p50, p95 = np.percentile(values, [5, 50, 95])
            rows.append({"measure": column, "value": p50, "low": p5, "high": p95, "kind": "p50 (p5-p95)",
                         "count": len(values), "population": population})
    return pd.DataFrame(rows)


def horizon_text(scenario) -> str:
    """How the scenario reads outcomes: one line for tables and reports."""
    rollout = scenario.rollout
    return (f"outcomes read {format_duration(rollout.watch)} after the pipeline's last step (rollout.watch); a "
            f"pipeline not ended {format_duration(rollout.horizon)} after the branch cut is blocked (rollout.horizon)")


def report(result: ReleaseResult) -> list[str]:
    """A few lines that tell one release's story."""
    o = result.outcome
    detail = {"rolled_back": f" at {o.rollback_stage}", "blocked": f": {o.blocked_reason}"}.get(o.outcome, "")
    lines = [f"branch cut {clock.human(o.start)}; the build was {'BAD' if o.bad_build else 'good'}",
             f"outcome: {o.outcome}{detail} (read at the horizon, {format_duration(o.horizon)} after the branch cut)"]
    if o.detected:
        delay = "" if np.isnan(o.detection_delay) else f", {format_duration(o.detection_delay)} after it first served traffic"
        lines.append(f"detected by {o.detected_by} at stage {o.detection_stage}, at {format_duration(o.detection_time)}{delay}")
    elif o.bad_build:
        lines.append("the bad build was NOT detected")
    decision = next((d for d in result.decisions if d.outcome != "pass"), None)
    if decision is not None:
        lines.append(f"decision at {format_duration(decision.time)}: {decision.action} by gate {decision.gate} "
                     f"({decision.rule})")
    if not np.isnan(o.time_to_mitigate):
        lines.append(f"mitigated {format_duration(o.time_to_mitigate)} after detection")
    if o.false_rollback:
        lines.append("a GOOD build was rolled back (false rollback)")
    if o.bad_serving_at_horizon:
        lines.append("the bad build was STILL SERVING users at the horizon (a miss)")
    lines.append(f"peak share of the fleet on a bad build: {100 * o.peak_bad_share:.1f}%; "
                 f"bad requests served until the horizon: {o.bad_requests:,.0f}")
    lines.append("lead time, branch cut to 100%: " + ("never reached" if np.isnan(o.lead_time) else format_duration(o.lead_time)))
    if o.hosts_not_rolled_back:
        lines.append(f"{o.hosts_not_rolled_back} hosts could not be rolled back")
    return lines
