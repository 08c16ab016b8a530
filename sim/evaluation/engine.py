"""One evaluation job: a chunk of releases (replications first..first+count-1) under every policy,
simulated together by the batched engine and reduced to one row per release and policy.

Every policy sees the same releases: replication r's build (good or bad, and its spike size) comes
from the stream "evaluation.mix" of replication r, and the release itself from replication r's
streams, so policies differ only in what their gates decide (common random numbers). A release does
not depend on the chunk it is simulated in, so neither do the rows (nor on the executor).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from sim.rollout.records import ReleaseOutcome
from sim.rollout.release import ReleaseResult
from sim.rollout.simulate import ReleaseSetup, simulate_releases
from sim.spec.scenario import Scenario
from sim.streams import Streams


@dataclass(frozen=True)
class EvalJob:
    first: int  # replications first..first+count-1
    count: int
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


def variant(scenario: Scenario, policy: str, draw: ReleaseDraw, build=None, rollouts: dict | None = None) -> Scenario:
    """The scenario as this release under this policy sees it: the policy's gates, its own steps if it
    has any, and the release's build (`build`: `build_of(scenario, draw)`; `rollouts`:
    `policy_rollouts(scenario)`, when the caller has them already)."""
    build = build_of(scenario, draw) if build is None else build
    rollout = (policy_rollouts(scenario) if rollouts is None else rollouts)[policy]
    return scenario.model_copy(update={"gates": scenario.evaluation.policies[policy], "build": build, "rollout": rollout})


def policy_rollouts(scenario: Scenario) -> dict:
    """Each policy's pipeline: the scenario's `rollout:` (the same object), or with the policy's own steps
    (`evaluation.rollouts`)."""
    own, rollout = scenario.evaluation.rollouts, scenario.rollout
    return {policy: rollout if rollout is None else rollout.with_steps(own.get(policy))
            for policy in scenario.evaluation.policies}


def build_of(scenario: Scenario, draw: ReleaseDraw):
    """The release's build: good, or bad with the drawn spike (the same for every policy)."""
    build = scenario.build
    bad = build.bad.model_copy(update={"added_error_rate": draw.spike or build.bad.added_error_rate})
    return build.model_copy(update={"bad_probability": 1.0 if draw.bad else 0.0, "bad": bad})


def run_eval_job(setup: ReleaseSetup, job: EvalJob) -> list[dict]:
    """Rows for each replication of the chunk, and within it each policy (in the order of the scenario
    that `setup` was built from: `release_setup(scenario)`, which every policy's releases share)."""
    scenario = setup.scenario
    keys = [(r, policy) for r in range(job.first, job.first + job.count) for policy in scenario.evaluation.policies]
    draws = {r: draw_mix(scenario, job.entropy, r) for r in range(job.first, job.first + job.count)}
    builds = {r: build_of(scenario, draw) for r, draw in draws.items()}
    rollouts = policy_rollouts(scenario)
    results = simulate_releases([(variant(scenario, policy, draws[r], builds[r], rollouts), r) for r, policy in keys],
                                job.entropy, setup)
    return [row(scenario, policy, r, draws[r], result) for (r, policy), result in zip(keys, results)]


OUTCOME_FIELDS = tuple(f.name for f in fields(ReleaseOutcome) if f.name != "replication")


def row(scenario: Scenario, policy: str, replication: int, draw: ReleaseDraw, result: ReleaseResult) -> dict:
    o, m = result.outcome, result.metrics
    step = scenario.traffic.metric_interval
    budget = scenario.evaluation.error_budget_rate
    during = slice(None) if math.isnan(o.ended) else slice(0, int(np.searchsorted(m.time, o.ended + 1e-9)))
    requests = (m.new_requests + m.old_requests)[during]  # intervals of the release, to its pipeline's end
    errors = (m.new_errors + m.old_errors)[during]
    rate = np.divide(errors, requests, out=np.zeros(len(requests)), where=requests > 0)
    burning = int(np.count_nonzero((requests > 0) & (rate > budget)))
    return {
        "policy": policy, "replication": replication, "spike": draw.spike,
        **{name: getattr(o, name) for name in OUTCOME_FIELDS},
        "missed": o.bad_build and o.bad_serving_at_horizon,
        "error_budget_minutes": burning * step / 60.0,
    }


CHUNK = 50  # releases per job: enough to batch their intervals, small enough to share among workers


def plan_eval_jobs(scenario: Scenario, entropy: int, first: int, count: int, chunk: int = CHUNK) -> list[EvalJob]:
    return [EvalJob(r, min(chunk, first + count - r), entropy) for r in range(first, first + count, chunk)]
