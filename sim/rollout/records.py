"""Records of one release: stage changes, metric samples, gate decisions, and the outcome.

Flat, immutable, one type per fact; tables are built from them afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StageChange:
    time: float
    build: int
    step: int
    label: str
    event: str  # "start", "reached", "rollback", "hotfix-build", ...
    share: float  # share of production hosts on the candidate build


@dataclass(frozen=True, slots=True)
class MetricSample:
    time: float  # end of the interval
    interval: float
    new_requests: int
    new_errors: int
    old_requests: int
    old_errors: int
    new_latency: float
    old_latency: float
    new_true_rate: float
    old_true_rate: float
    new_share: float  # share of requests served by the candidate cohort
    bad_share: float  # share of requests served by a bad build (any host on it, onset or not)
    incident: bool


@dataclass(frozen=True, slots=True)
class Decision:
    time: float
    gate: str
    stage: str
    outcome: str
    action: str
    metric: str
    value: float
    rule: str
    measurement: str


@dataclass(frozen=True, slots=True)
class ReleaseOutcome:
    """One replication's release, summed up at its horizon. Times are seconds since the branch cut;
    NaN: never.

    Every release ends in exactly one `outcome`:
    - promoted: the pipeline ended with the first build at 100%, and it still serves at the horizon;
    - hotfixed: the pipeline ended with a later (hotfix) build at 100%;
    - rolled_back: the final build was aborted at `rollback_stage` (rolled back, including after 100%,
      or stopped by staging's smoke tests) and production runs the previous build;
    - blocked: the pipeline had not ended by `rollout.horizon` (`blocked_reason` says why).
    """

    replication: int
    start: str  # the branch cut, ISO 8601 in the simulated week (`clock.iso`): "2001-01-02T10:00:00+00:00"
    bad_build: bool
    outcome: str  # promoted | hotfixed | rolled_back | blocked
    rollback_stage: str  # rolled_back: the stage of the final build when it was aborted; else ""
    blocked_reason: str  # blocked: why the pipeline never ended; else ""
    horizon: float  # when the outcome was read: the pipeline's end plus `rollout.watch`, or `rollout.horizon`
    ended: float  # when the pipeline's last step ended (NaN: blocked)
    detected: bool
    detected_by: str  # gate name, "smoke test", or ""
    detection_stage: str
    detection_time: float
    detection_delay: float  # since the bad build first served production traffic
    exposure_at_detection: float  # peak share of the fleet's request weight on a bad build up to detection (NaN: undetected)
    decision_time: float
    mitigated_time: float
    time_to_mitigate: float  # detection to no host serving the bad build
    served_traffic: bool  # the first build served user requests (dogfood or production) before the horizon
    bad_serving_at_horizon: bool  # some host still served a bad build at the horizon
    peak_bad_share: float  # the largest share of the fleet's traffic on a bad build in one metric interval
    bad_requests: float  # extra failed requests caused by the bad build until the horizon (expected, from true rates)
    lead_time: float  # branch cut to the final build at 100% (promoted or hotfixed releases only)
    false_rollback: bool
    rollbacks: int
    hosts_not_rolled_back: int
