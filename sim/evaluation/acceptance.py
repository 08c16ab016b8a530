"""Acceptance criteria: each policy's estimates against the scenario's bounds, and the exit code.

A criterion is
- `pass` when its whole confidence interval meets the bound;
- `fail` when its estimate misses the bound;
- `uncertain` when the estimate meets the bound but the interval reaches past it, or when its
  population is empty (no detected bad builds, say): more releases (`--releases`) would settle it.

`evaluate` and `sweep` exit with `exit_code(verdicts)`: 0 every criterion passes, 1 some criterion
fails, 3 none fails but some are uncertain (2 is bad input, raised before any of this).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from sim.spec.evaluation import Acceptance

PASS, FAIL, UNCERTAIN = 0, 1, 3  # exit codes

# (acceptance field, measure, comparison); `mitigated_within` is judged against `mitigated_share`
CRITERIA = (
    ("max_false_rollback_rate", "false_rollback_rate", "<="),
    ("max_blocked_rate", "blocked_rate", "<="),
    ("max_miss_rate", "miss_rate", "<="),
    ("caught_before_exposure", "caught_before_exposure", ">="),
    ("mitigated_within", "mitigated_within", ">="),
)


@dataclass(frozen=True)
class Verdict:
    policy: str
    criterion: str  # the measure judged
    bound: str  # e.g. "<= 0.01" (as text, for tables)
    estimate: float
    low: float
    high: float
    n: int  # size of the measure's population
    population: str
    status: str  # pass | fail | uncertain
    op: str  # "<=" or ">="
    limit: float  # the bound itself


def rules(acceptance: Acceptance) -> list[tuple[str, str, float]]:
    """(measure, comparison, bound) for every criterion the scenario sets."""
    found = []
    for field, measure, op in CRITERIA:
        value = getattr(acceptance, field)
        if value is not None:
            found.append((measure, op, acceptance.mitigated_share if field == "mitigated_within" else value))
    return found


def judge(estimates: pd.DataFrame, acceptance: Acceptance) -> list[Verdict]:
    verdicts = []
    for policy, g in estimates.groupby("policy", sort=False):
        table = g.set_index("measure")
        for measure, op, bound in rules(acceptance):
            verdicts.append(judge_one(policy, measure, op, bound, table.loc[measure]))
    return verdicts


def judge_one(policy: str, measure: str, op: str, bound: float, row) -> Verdict:
    value, low, high, n = float(row["value"]), float(row["low"]), float(row["high"]), int(row["n"])
    if n == 0 or math.isnan(value):
        status = "uncertain"
    elif not (value <= bound if op == "<=" else value >= bound):
        status = "fail"
    else:
        status = "pass" if (high <= bound if op == "<=" else low >= bound) else "uncertain"
    return Verdict(policy, measure, f"{op} {bound:.4g}", value, low, high, n, str(row["population"]), status, op,
                   float(bound))


def status_of(verdicts: list[Verdict]) -> str:
    """One word for a set of verdicts: fail if any fails, else uncertain if any is, else pass."""
    statuses = {v.status for v in verdicts}
    return "fail" if "fail" in statuses else "uncertain" if "uncertain" in statuses else "pass"


EXIT_CODES = {"pass": PASS, "fail": FAIL, "uncertain": UNCERTAIN}


def exit_code(verdicts: list[Verdict]) -> int:
    return EXIT_CODES[status_of(verdicts)]
