"""One evaluation job: one release (replication r) under one policy, reduced to a row.

Every policy sees the same releases: replication r's build (good or bad, and its spike size) comes
from the stream "evaluation.mix" of replication r, and the release itself from replication r's
streams, so policies differ only in what their gates decide (common random numbers).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from sim.rollout.release import ReleaseResult, simulate_release
from sim.scenario import Scenario
from sim.streams import Streams


@dataclass(frozen=True)
class EvalJob:
    replication: int
    policy: str
    entropy: int


@dataclass(frozen=True)
class ReleaseDraw:
    bad: bool
    spike: float  # added error rate of a bad build (0 for a good one)


def draw_mix(scenario: Scenario, entropy: int, replication: int) -> ReleaseDraw:
    evaluation = scenario.evaluation
    rng = Streams(entropy, replication)("evaluation.mix")
    bad = bool(rng.random() < evaluation.bad_share)
    low, high = math.log(evaluation.spike.min), math.log(evaluation.spike.max)
    spike = math.exp(rng.uniform(low, high))
    return ReleaseDraw(bad=bad, spike=spike if bad else 0.0)


def variant(scenario: Scenario, policy: str, draw: ReleaseDraw) -> Scenario:
    """The scenario as this release under this policy sees it."""
    build = scenario.build
    bad = build.bad.model_copy(update={"added_error_rate": draw.spike or build.bad.added_error_rate})
    build = build.model_copy(update={"bad_probability": 1.0 if draw.bad else 0.0, "bad": bad})
    return scenario.model_copy(update={"gates": scenario.evaluation.policies[policy], "build": build})


def run_eval_job(scenario: Scenario, job: EvalJob) -> dict:
    draw = draw_mix(scenario, job.entropy, job.replication)
    result = simulate_release(variant(scenario, job.policy, draw), job.replication, job.entropy)
    return row(scenario, job, draw, result)


def row(scenario: Scenario, job: EvalJob, draw: ReleaseDraw, result: ReleaseResult) -> dict:
    o = result.outcome
    step = scenario.traffic.metric_interval
    exposure = max((s.bad_share for s in result.samples if s.time <= o.detection_time + step), default=0.0) \
        if o.detected else float("nan")
    budget = scenario.evaluation.error_budget_rate
    burning = sum(1 for s in result.samples
                  if (s.new_requests + s.old_requests) and
                  (s.new_errors + s.old_errors) / (s.new_requests + s.old_requests) > budget)
    return {
        "policy": job.policy, "replication": job.replication, "spike": draw.spike,
        **{k: v for k, v in asdict(o).items() if k != "replication"},
        "missed": o.bad_build and o.outcome == "promoted",
        "exposure_at_detection": exposure,
        "error_budget_minutes": burning * step / 60.0,
    }


def plan_eval_jobs(scenario: Scenario, entropy: int, first: int, count: int) -> list[EvalJob]:
    return [EvalJob(r, policy, entropy) for r in range(first, first + count) for policy in scenario.evaluation.policies]
