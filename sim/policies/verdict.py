"""What a policy answers at each check: the outcome, the action the controller takes now, and why.

`measurement` is the check's own result (one measurement); `outcome` is the policy's decision after
counting it. The reason (`metric`, `value`, `rule`) is what the decision record shows a user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["continue", "pass", "inconclusive", "fail"]
Action = Literal["none", "pause", "rollback", "hotfix"]
MeasurementResult = Literal["success", "failure", "inconclusive", "error"]


@dataclass(frozen=True)
class Verdict:
    """One check's decision and its reason."""

    outcome: Outcome
    action: Action
    metric: str
    value: float
    rule: str
    measurement: MeasurementResult

    @property
    def final(self) -> bool:
        """True once the analysis has ended (pass, fail or inconclusive)."""
        return self.outcome != "continue"


def keep_measuring(metric: str, value: float, rule: str, measurement: MeasurementResult) -> Verdict:
    return Verdict("continue", "none", metric, value, rule, measurement)


def passed(metric: str, value: float, rule: str, measurement: MeasurementResult) -> Verdict:
    return Verdict("pass", "none", metric, value, rule, measurement)


def failed(action_on_fail: Action, metric: str, value: float, rule: str,
           measurement: MeasurementResult) -> Verdict:
    return Verdict("fail", action_on_fail, metric, value, rule, measurement)


def undecided(metric: str, value: float, rule: str, measurement: MeasurementResult) -> Verdict:
    """Inconclusive: the analysis stops and the rollout pauses for a human (Argo's Inconclusive)."""
    return Verdict("inconclusive", "pause", metric, value, rule, measurement)
