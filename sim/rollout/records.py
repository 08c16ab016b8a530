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
    """One replication's release, summed up. Times are seconds since the branch cut; NaN: never."""

    replication: int
    start: str  # wall clock of the branch cut, e.g. "Tue 10:00"
    bad_build: bool
    outcome: str  # promoted | rolled_back | hotfixed | halted
    detected: bool
    detected_by: str  # gate name, "smoke test", or ""
    detection_stage: str
    detection_time: float
    detection_delay: float  # since the bad build first served production traffic
    decision_time: float
    mitigated_time: float
    time_to_mitigate: float  # detection to no host serving the bad build
    peak_bad_share: float
    bad_requests: float  # extra failed requests caused by the bad build (expected, from true rates)
    lead_time: float  # branch cut to the final build at 100%
    false_rollback: bool
    rollbacks: int
    hosts_not_rolled_back: int
