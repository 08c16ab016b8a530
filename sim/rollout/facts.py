"""What happened to one release, as the pipeline and the commander saw it; `release.outcome` reads it.

Times are the first occurrence (a later rollback does not move the detection); counts add up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.rollout.traffic import NoiseBlocks


@dataclass
class ReleaseFacts:
    detection_time: float | None = None  # a gate or smoke test first caught a bad build
    detected_by: str = ""  # gate name or "smoke test"
    detection_stage: str = ""
    decision_time: float | None = None  # someone (a gate's action or a person) first decided to act
    mitigated_time: float | None = None  # no host serving users ran a bad build any more
    rollbacks: int = 0
    hosts_not_rolled_back: int = 0

    def detected(self, now: float, by: str, stage: str) -> None:
        if self.detection_time is None:
            self.detection_time, self.detected_by, self.detection_stage = now, by, stage

    def decided(self, now: float) -> None:
        if self.decision_time is None:
            self.decision_time = now

    def mitigated(self, now: float) -> None:
        if self.mitigated_time is None:
            self.mitigated_time = now


@dataclass
class RoundMemo:
    """What one round of the batched engine computed that the next round of the same release (or of a
    release sharing its dynamics) reuses: its noise, its deploy waves, and its gate checks' verdicts."""

    noise: NoiseBlocks | None = None
    waves: dict[tuple, np.ndarray] = field(default_factory=dict)  # (purpose, time, hosts, published) -> done
    judged: dict = field(default_factory=dict)  # by gate run: its checks' verdicts (see sim.rollout.batch)
