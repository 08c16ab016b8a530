"""Before adopting a rollout: how long a good build takes to reach 100%, and how long a bad one takes to
be aborted, under the scenario's traffic, from a small batch of simulated releases of each.

`check` prints this for a rollout imported from a controller object (`sim.load.controllers`), for each
policy of an evaluation when policies are imported: the
answer to "how long will this rollout take" that controller users ask for, with its population and
interval. Good and bad releases are the scenario's own with `build.bad_probability` forced to 0 and 1,
simulated on the same seed as any run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.evaluation.engine import policy_rollouts
from sim.rollout.simulate import release_setup, simulate_releases
from sim.spec.scenario import Scenario
from sim.stats.intervals import quantile_ci
from sim.units import format_duration

RELEASES = 60  # of each kind: a p95 with an interval (rank bounds from 59 values), quick enough for `check`
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Timing:
    """Quantiles of a time over the releases it was measured on (`of` of `among`)."""

    what: str
    of: int
    among: int
    p50: tuple[float, float, float]  # (estimate, low, high)
    p95: tuple[float, float, float]

    def describe(self) -> str:
        if self.of == 0:
            return f"{self.what}: none of {self.among} releases (no time to report)"
        return (f"{self.what}: p50 {_with_interval(self.p50)}, p95 {_with_interval(self.p95)} "
                f"(over {self.of} of {self.among} releases, {CONFIDENCE:.0%} intervals)")


@dataclass(frozen=True)
class Prediction:
    promotion: Timing  # good builds that reached 100%: branch cut to 100%
    abort: Timing  # bad builds a gate or the smoke tests detected: branch cut to the decision to act
    shipped_share: float  # of good builds: reached 100% by the horizon

    def lines(self) -> list[str]:
        return [f"predicted: {self.promotion.describe()}", f"predicted: {self.abort.describe()}"]


def predict(scenario: Scenario, entropy: int, releases: int = RELEASES) -> Prediction:
    """Simulate `releases` good and `releases` bad releases of `scenario` (it has a rollout)."""
    good = scenario.model_copy(update={"build": scenario.build.model_copy(update={"bad_probability": 0.0})})
    bad = scenario.model_copy(update={"build": scenario.build.model_copy(update={"bad_probability": 1.0})})
    setup = release_setup(scenario)
    outcomes = [r.outcome for r in simulate_releases([(s, i) for s in (good, bad) for i in range(releases)],
                                                     entropy, setup)]
    good_runs, bad_runs = outcomes[:releases], outcomes[releases:]
    lead = np.array([o.lead_time for o in good_runs if np.isfinite(o.lead_time)])
    abort = np.array([o.decision_time for o in bad_runs if o.detected and np.isfinite(o.decision_time)])
    return Prediction(
        promotion=Timing("a good build reaches 100% (from the branch cut)", len(lead), releases,
                         quantile_ci(lead, 0.5, CONFIDENCE), quantile_ci(lead, 0.95, CONFIDENCE)),
        abort=Timing("a bad build is aborted (from the branch cut to the decision to act)", len(abort), releases,
                     quantile_ci(abort, 0.5, CONFIDENCE), quantile_ci(abort, 0.95, CONFIDENCE)),
        shipped_share=len(lead) / releases,
    )


def predictions(scenario: Scenario, entropy: int) -> list[tuple[str | None, Prediction]]:
    """The prediction for the rollout with its gates (policy None), or for each policy of an evaluation
    (its gates, and its own steps if it has them)."""
    if scenario.evaluation is None:
        return [(None, predict(scenario, entropy))]
    rollouts = policy_rollouts(scenario)
    found: list[tuple[str | None, Prediction]] = []
    for name, gates in scenario.evaluation.policies.items():
        policy = scenario.model_copy(update={"gates": gates, "rollout": rollouts[name]})
        found.append((name, predict(policy, entropy)))
    return found


def prediction_lines(found: list[tuple[str | None, Prediction]]) -> list[str]:
    """What `check` prints: `predicted (POLICY): ...`, two lines per prediction."""
    return [line if name is None else line.replace("predicted:", f"predicted ({name}):", 1)
            for name, prediction in found for line in prediction.lines()]


def prediction_records(found: list[tuple[str | None, Prediction]]) -> list[dict]:
    """The predictions as `check --format json` gives them: seconds, null where not bounded."""
    def quantile(value: tuple[float, float, float]) -> dict:
        return dict(zip(("value_s", "low_s", "high_s"), (None if np.isnan(x) else float(x) for x in value)))

    return [{"policy": name, "measure": measure, "what": timing.what, "of": timing.of, "among": timing.among,
             "confidence": CONFIDENCE, "p50": quantile(timing.p50), "p95": quantile(timing.p95)}
            for name, prediction in found
            for measure, timing in (("promotion", prediction.promotion), ("abort", prediction.abort))]


def _with_interval(value: tuple[float, float, float]) -> str:
    estimate, low, high = value
    bounds = "-".join("?" if np.isnan(x) else format_duration(x) for x in (low, high))
    return f"{format_duration(estimate)} [{bounds}]"
