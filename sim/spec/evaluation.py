"""The `evaluation:` section: the mix of releases, the policies to compare, and what counts as good enough."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sim.policies import Policy
from sim.quantities import PositiveDuration, Share
from sim.section import Section
from sim.spec.rollout import PolicySteps


class SpikeSizes(Section):
    """Bad builds' added error rate, drawn log-uniformly between `min` and `max` for each bad release."""

    min: Share = 0.002
    max: Share = 0.10

    @model_validator(mode="after")
    def _ordered(self) -> "SpikeSizes":
        if not 0 < self.min <= self.max:
            raise ValueError(f"need 0 < min <= max (got min={self.min:g}, max={self.max:g})")
        return self


class Acceptance(Section):
    """What a policy must achieve. `evaluate` exits 1 when a policy's estimate misses a bound, 3 when
    none misses but an interval still reaches past its bound (uncertain: more releases would settle it)."""

    max_false_rollback_rate: Share | None = None
    """Good builds rolled back, at most this share of good builds (for example 1%)."""
    max_blocked_rate: Share | None = 0.05
    """Good builds blocked (the pipeline never ended by `rollout.horizon`: inconclusive gates, pauses,
    gates that never had enough data), at most this share of good builds. On by default, so that a policy
    that never ships anything cannot pass on its false-rollback rate; `null` turns it off. Guess: 5%."""
    max_miss_rate: Share | None = None
    """Bad builds still serving (on any host) at the horizon, at most this share of bad builds."""
    caught_before_exposure: Share | None = None
    """Bad builds detected while at most `exposure_limit` of the fleet ran them: at least this share."""
    exposure_limit: Share = 0.10
    """The exposure that `caught_before_exposure` refers to (Slack: catch it before 10% of the fleet)."""
    mitigated_within: PositiveDuration | None = None
    """Detection to mitigation (no host serves the bad build) of detected bad builds that served
    traffic, at most this long..."""
    mitigated_share: Share = 0.95
    """...for at least this share of them (Slack's goal: automated remediation within 10 minutes)."""


class PolicySweep(Section):
    """A grid of settings around one policy, for `deploysim sweep`."""

    base: str
    """The policy (from `policies`) whose gates the `gates.` keys change (checked with the scenario's other
    names, see `sim.spec.references`)."""
    grid: dict[str, list] = Field(..., min_length=1)
    """Key -> values. `gates.NAME.FIELD` changes the base policy; other keys are scenario overrides
    such as `rollout.steps[2].pause`."""
    objective: Literal["bad_requests_mean", "false_rollback_rate", "blocked_rate", "miss_rate",
                       "lead_time_good_p50", "detection_delay_p50", "time_to_mitigate_p50",
                       "error_budget_minutes_mean", "caught_before_exposure", "detection_rate"] = "bad_requests_mean"
    """What the recommended setting is best at, among the points that pass every acceptance criterion
    (rates of catching are maximised, everything else minimised). Default: the fewest bad requests."""


class Evaluation(Section):
    """How `deploysim evaluate` builds its releases and compares policies."""

    releases: int = Field(1000, ge=1, le=10_000_000)
    """Releases to simulate (each policy sees the same ones). The cap when `precision` is set."""
    bad_share: Share = 0.3
    """Share of releases whose build is bad. Guess."""
    spike: SpikeSizes = SpikeSizes()
    policies: dict[str, dict[str, Policy]] = Field(..., min_length=1)
    """Policies by name; each maps every gate name the rollout uses to its spec (a policy that lacks one
    is an error, located at the policy). A policy may be a controller object instead:
    `current: {argo: k8s/rollout.yaml, templates: [k8s/analysis.yaml]}` (or `flagger:`), imported into
    its gates here and its own steps in `rollouts`."""
    rollouts: dict[str, PolicySteps] = Field(default_factory=dict)
    """A policy's own steps and background gates, by policy name, run instead of `rollout:`'s (with its
    strategy, watch and horizon): a policy imported from a controller object brings its own."""
    acceptance: Acceptance = Acceptance()
    precision: Share | None = None
    """Adaptive: stop once every rate's 95% interval is at most this wide (checked every `batch`)."""
    batch: int = Field(200, ge=10, le=1_000_000)
    """Releases per batch when `precision` is set."""
    confidence: float = Field(0.95, gt=0.5, lt=1)
    """Confidence level of the reported intervals."""
    sweep: PolicySweep | None = None
    """The grid that `deploysim sweep` explores."""
    error_budget_rate: Share = 0.01
    """An interval whose overall error rate exceeds this burns error budget: error-budget minutes count such
    intervals from the branch cut to the pipeline's end (to the horizon if it never ends)."""
