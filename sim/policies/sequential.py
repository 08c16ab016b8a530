"""An anytime-valid sequential test of "the new build's error rate is higher than the old build's".

The test (a mixture sequential probability ratio test on conditional counts, in the spirit of Lindon &
Malek, "Anytime-valid inference for multinomial count data", NeurIPS 2022, and Lindon, Sanden &
Shirikian, "Rapid regression detection in software deployments through sequential testing", KDD 2022,
the method behind Netflix's "Sequential A/B testing keeps the world streaming"):

1. In interval t the new cohort served n1 requests and the old n0, with x and y errors, m = x + y.
   Let s = n1 / (n1 + n0). If both cohorts have the same error rate, then given m, x ~ Binomial(m, s)
   (exact for Poisson error counts; for binomial counts x is hypergeometric, which Hoeffding (1963,
   Thm 4) shows is dominated in convex order by that binomial, so the test stays valid, slightly
   conservative).
2. If the new build's rate is rho times the old one, x ~ Binomial(m, theta) with
   theta = rho s / (rho s + 1 - s). The likelihood ratio of interval t is
   (theta / s)^x ((1 - theta) / (1 - s))^(m - x); the product over intervals is a nonnegative
   martingale with mean 1 under the null, for every fixed rho > 1, whatever the base error rate does
   from one interval to the next (diurnal load, incidents that hit both cohorts alike cancel out).
3. M_t = the average of those products over a grid of rho in [min_ratio, max_ratio] (a discrete
   mixture, still a martingale). For rho > 1 it is a supermartingale when the new build is no worse,
   so the test is one-sided.
4. Ville's inequality: P(sup_t M_t >= 1 / alpha) <= alpha. The always-valid p-value
   p_t = min(1, 1 / max_(s<=t) M_s) may be watched after every interval, and the gate fails as soon as
   p_t < alpha. No early pass (no futility bound): with `count`, the gate passes after that many
   checks without rejecting; otherwise it runs until the stage ends it.

Repeated fixed-horizon tests at every look do not have this property (tests/policies/test_sequential.py
shows the peeking inflation Netflix describes).

Example::

    gates:
      seq: {semantics: sequential, metric: error_rate, alpha: 0.05, interval: 1m}
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from sim.policies.gate import Gate
from sim.policies.verdict import Verdict, failed, keep_measuring, passed
from sim.policies.window import Window


class SequentialSpec(Gate):
    """Anytime-valid mixture SPRT on the error-rate ratio new / old."""

    semantics: Literal["sequential"]
    metric: Literal["error_rate"] = "error_rate"
    """Only `error_rate`: the test works on error counts of the two cohorts."""
    alpha: float = Field(0.05, gt=0, lt=1)
    """False-rollback probability bound over the whole (unbounded) sequence of checks."""
    min_ratio: float = Field(1.1, gt=1)
    """Smallest error-rate ratio new/old in the mixture (smaller effects are detected more slowly)."""
    max_ratio: float = Field(10.0, gt=1)
    """Largest ratio in the mixture."""
    points: int = Field(16, ge=1, le=1000)
    """Grid points of the mixture, evenly spaced in log ratio, equal weights."""
    count: int | None = Field(None, ge=1, le=1_000_000)
    """Checks after which the gate passes if it has not rejected; omitted: runs until the stage ends it."""

    @model_validator(mode="after")
    def _range(self) -> "SequentialSpec":
        if self.max_ratio < self.min_ratio:
            raise ValueError(f"max_ratio must be >= min_ratio (got {self.max_ratio} < {self.min_ratio})")
        return self

    def ratios(self) -> np.ndarray:
        return np.exp(np.linspace(math.log(self.min_ratio), math.log(self.max_ratio), self.points))


@dataclass(frozen=True)
class SequentialState:
    log_lr: tuple = ()
    """Log likelihood ratio so far, one per grid ratio."""
    best: float = 1.0
    """Largest mixture value M seen so far (the p-value is 1 / best)."""
    checks: int = 0
    new_errors: int = 0
    old_errors: int = 0
    final: Verdict | None = None


def start(spec: SequentialSpec) -> SequentialState:
    return SequentialState(log_lr=(0.0,) * spec.points)


def interval_log_lr(rhos: np.ndarray, window: Window) -> np.ndarray:
    """Sum over the window's intervals of log LR(rho), for each rho; intervals lacking a cohort are skipped."""
    n1 = np.asarray(window.new_requests, float)
    n0 = np.asarray(window.old_requests, float)
    x = np.asarray(window.new_errors, float)
    m = x + np.asarray(window.old_errors, float)
    use = (n1 > 0) & (n0 > 0) & (m > 0)
    s = n1[use] / (n1[use] + n0[use])
    theta = rhos[:, None] * s / (rhos[:, None] * s + 1 - s)
    terms = x[use] * np.log(theta / s) + (m[use] - x[use]) * np.log((1 - theta) / (1 - s))
    return terms.sum(axis=1)


def mixture(log_lr: np.ndarray) -> float:
    """The equal-weight average of exp(log_lr), computed stably."""
    top = float(log_lr.max())
    return math.exp(top) * float(np.mean(np.exp(log_lr - top))) if top < 700 else math.inf


def check(spec: SequentialSpec, state: SequentialState, window: Window) -> tuple[SequentialState, Verdict]:
    if state.final is not None:
        return state, state.final
    log_lr = np.asarray(state.log_lr) + interval_log_lr(spec.ratios(), window)
    best = max(state.best, mixture(log_lr))
    p = min(1.0, 1.0 / best)
    errs = (state.new_errors + int(np.sum(window.new_errors)), state.old_errors + int(np.sum(window.old_errors)))
    s = SequentialState(tuple(log_lr.tolist()), best, state.checks + 1, *errs)
    rule = f"always-valid p {p:.4g} vs alpha {spec.alpha:g} (mixture LR {best:.4g}; errors new {errs[0]}, old {errs[1]})"
    if p < spec.alpha:
        v = failed(spec.action_on_fail, "error_rate", p, f"reject: new error rate higher; {rule}", "failure")
    elif spec.count is not None and s.checks >= spec.count:
        v = passed("error_rate", p, f"count {spec.count} reached without rejecting; {rule}", "inconclusive")
    else:
        return s, keep_measuring("error_rate", p, rule, "inconclusive")
    return SequentialState(s.log_lr, best, s.checks, *errs, final=v), v
