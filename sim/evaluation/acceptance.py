"""Acceptance criteria: each policy's estimates against the scenario's bounds.

A criterion fails when the point estimate misses the bound; it is "uncertain" when the estimate meets
the bound but the confidence interval reaches past it (more releases would settle it). `evaluate`
exits 1 when any criterion fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sim.evaluation.spec import Acceptance


@dataclass(frozen=True)
class Verdict:
    policy: str
    criterion: str
    bound: str
    estimate: float
    low: float
    high: float
    status: str  # pass | fail | uncertain


def judge(estimates: pd.DataFrame, acceptance: Acceptance) -> list[Verdict]:
    rules = []
    if acceptance.max_false_rollback_rate is not None:
        rules.append(("false_rollback_rate", "<=", acceptance.max_false_rollback_rate))
    if acceptance.max_miss_rate is not None:
        rules.append(("miss_rate", "<=", acceptance.max_miss_rate))
    if acceptance.caught_before_exposure is not None:
        rules.append(("caught_before_exposure", ">=", acceptance.caught_before_exposure))
    if acceptance.mitigated_within is not None:
        rules.append(("mitigated_within", ">=", acceptance.mitigated_share))
    verdicts = []
    for policy, g in estimates.groupby("policy", sort=False):
        table = g.set_index("measure")
        for measure, op, bound in rules:
            row = table.loc[measure]
            verdicts.append(_verdict(policy, measure, op, bound, row))
    return verdicts


def _verdict(policy: str, measure: str, op: str, bound: float, row) -> Verdict:
    value, low, high = float(row["value"]), float(row["low"]), float(row["high"])
    meets = value <= bound if op == "<=" else value >= bound
    certain = high <= bound if op == "<=" else low >= bound
    status = "fail" if not meets or value != value else ("pass" if certain else "uncertain")
    return Verdict(policy, measure, f"{op} {bound:.4g}", value, low, high, status)
