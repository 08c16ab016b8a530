"""deploysim's own plain policy: fail after `consecutive` breaches in a row.

Low traffic (below `min_requests`) and no data are inconclusive measurements: they neither count as a
breach nor break a streak. A success resets the streak. With `count`, the gate passes after that many
checks without failing; without it, the gate runs until the stage's bake time ends it.

Example (scenario file)::

    gates:
      errors: {semantics: threshold, metric: error_rate, max: 1%, consecutive: 3, min_requests: 200}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from sim.policies.gate import Limits
from sim.policies.rules import Measurement, measure, streak
from sim.policies.verdict import Verdict, failed, keep_measuring, passed
from sim.policies.window import Window


class ThresholdSpec(Limits):
    """Fail after N breaches in a row (deploysim's own semantics)."""

    semantics: Literal["threshold"] = "threshold"
    consecutive: int = Field(1, ge=1, le=10_000)
    """Breaches in a row before the gate fails (a success in between resets the count)."""
    count: int | None = Field(None, ge=1, le=1_000_000)
    """Checks after which the gate passes if it has not failed; omitted: runs until the stage ends it."""


@dataclass(frozen=True)
class ThresholdState:
    checks: int = 0
    run: int = 0
    final: Verdict | None = None


def start(spec: ThresholdSpec) -> ThresholdState:
    return ThresholdState()


def check(spec: ThresholdSpec, state: ThresholdState, window: Window) -> tuple[ThresholdState, Verdict]:
    return judge(spec, state, measure(spec, window))


def settles_on_success(spec) -> bool:
    """Whether successes alone can end an analysis run (count reached)."""
    return spec.count is not None


def may_fail(spec: ThresholdSpec, breach, success) -> bool:
    """Whether a run whose checks breached (`breach`) or succeeded (`success`; neither: inconclusive)
    can reach `consecutive` breaches in a row, inconclusive checks leaving the streak alone. False
    means `judge` would keep measuring through every one of these checks (without `count`)."""
    counted = np.asarray(breach)[np.asarray(breach) | np.asarray(success)]  # inconclusive: invisible
    if counted.sum() < spec.consecutive:
        return False
    edges = np.diff(np.concatenate([[0], counted.astype(np.int8), [0]]))
    longest = (np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max()
    return bool(longest >= spec.consecutive)


def judge(spec: ThresholdSpec, state: ThresholdState, m: Measurement) -> tuple[ThresholdState, Verdict]:
    """One check, given its window's measurement."""
    if state.final is not None:
        return state, state.final
    run = streak(state.run, m.result)
    own = {"success": "success", "breach": "failure"}.get(m.result, "inconclusive")
    checks = state.checks + 1
    if run >= spec.consecutive:
        v = failed(spec.action_on_fail, m.metric, m.value,
                   f"{m.rule}; {run} breaches in a row >= consecutive {spec.consecutive}", own)
    elif spec.count is not None and checks >= spec.count:
        v = passed(m.metric, m.value, f"{m.rule}; count {spec.count} reached without failing", own)
    else:
        suffix = f"; breach {run}/{spec.consecutive} in a row" if m.result == "breach" else ""
        return ThresholdState(checks, run), keep_measuring(m.metric, m.value, m.rule + suffix, own)
    return ThresholdState(checks, run, v), v
