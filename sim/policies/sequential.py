"""An anytime-valid sequential test of "the new build's error rate is higher than the old build's".

Two variants, chosen by `variance`. Both may be watched after every check; the gate fails as soon as
the always-valid p-value p_t = min(1, 1 / max_(s<=t) M_s) drops below alpha. No early pass (no
futility bound): with `count`, the gate passes after that many checks without rejecting; otherwise
it runs until the stage ends it.

`variance: binomial` (the default): a mixture sequential probability ratio test on conditional counts,
in the spirit of Lindon & Malek, "Anytime-valid inference for multinomial count data", NeurIPS 2022,
and Lindon, Sanden & Shirikian, "Rapid regression detection in software deployments through sequential
testing", KDD 2022 (the method behind Netflix's "Sequential A/B testing keeps the world streaming"):

1. In interval t the new cohort served n1 requests and the old n0, with x and y errors, m = x + y.
   Let s = n1 / (n1 + n0). If both cohorts' errors are Poisson (or binomial) with the same rate,
   then given m, x ~ Binomial(m, s) (exact for Poisson counts; for binomial counts x is
   hypergeometric, which Hoeffding (1963, Thm 4) shows is dominated in convex order by that
   binomial, so the test stays valid, slightly conservative).
2. If the new build's rate is rho times the old one, x ~ Binomial(m, theta) with
   theta = rho s / (rho s + 1 - s). The likelihood ratio of interval t is
   (theta / s)^x ((1 - theta) / (1 - s))^(m - x); the product over intervals is a nonnegative
   martingale with mean 1 under the null, for every fixed rho > 1.
3. M_t = the average of those products over a grid of rho in [min_ratio, max_ratio] (a discrete
   mixture, still a martingale); a supermartingale when the new build is no worse (one-sided).
4. Ville's inequality: P(sup_t M_t >= 1 / alpha) <= alpha.

When it is valid: when, in every interval, the two cohorts' error rates stand in the same ratio and
the errors are Poisson or binomial given that rate. A change that multiplies both cohorts' rates
alike (diurnal load, an incident on both) cancels. A rate noise drawn independently per cohort does
NOT (the simulator's `traffic.dispersion`, and real hosts' own variation): then x | m is
Binomial(m, theta_t) with a random theta_t around s, more spread out than Binomial(m, s), and step 2's
product is no longer a supermartingale. The excess matters once a cohort's errors per interval
approach 1 / dispersion^2 (400 at the default 0.05): at alpha 5% and the default dispersion, an hour
of checks falsely rolls back about 14% of good builds with ~1,800 errors per cohort per minute and
about a quarter with ~3,600 (tests/policies/test_sequential_overdispersion.py). Use
`variance: baseline` there.

`variance: baseline`: a sequential t-test on per-interval log ratios new / baseline, so the variance,
binomial and extra-binomial alike, is estimated from the comparison itself (the test is scale-invariant:
no variance has to be known or estimated separately):

1. Consecutive intervals with both cohorts and m > 0 are pooled into blocks, closed as soon as both
   e1 = sum m s and e0 = sum m (1 - s) (the errors each cohort expects under H0 given m) reach
   `block_errors`; with large counts every interval is a block. Block i gives
   D_i = log((x + 1/2) / (y + 1/2)) - log(e1 / e0) (x, y: its errors), the empirical log odds that an
   error came from the new cohort minus its null value (the 1/2 keeps the bias O(1/e^2): Gart &
   Zweifel, Biometrika 1967). Where blocks close depends only on m and s, never on x.
2. Model: D_1, D_2, ... independent N(delta, sigma^2), sigma unknown; H0: delta <= 0 (the new build is
   no worse); eta = delta / sigma. Gamma rate noise with coefficient of variation c, independent per
   cohort, adds about 2 c^2 to the binomial variance 1/e1 + 1/e0; shared noise cancels.
3. What the data say about eta alone is their maximal invariant under D -> c D (c > 0); by Wijsman's
   representation (Eaton, "Group invariance applications in statistics", 1989, ch. 5) its likelihood
   ratio against eta = 0 is L_n(eta) = int c^(n-1) prod phi(c D_i - eta) dc / int c^(n-1) prod phi(c D_i) dc.
   Mixing eta ~ N(0, g) (two Gaussian integrals), with S1 = sum D_i, Q = S1^2 / (n sum D_i^2):
   B_n(g) = (1 + n g)^((n-1)/2) (1 + n g (1 - Q))^(-n/2), the fixed-g Bayes factor of the one-sample
   t-test with the right-Haar prior 1/sigma (Goenen et al., Am. Stat. 2005; Rouder et al., Psychon.
   Bull. Rev. 2009). A likelihood ratio of the invariant, it is a martingale with mean 1 under
   eta = 0 whatever sigma (Lai, "On confidence sequences", Ann. Stat. 1976; Perez-Ortiz, Lardy,
   de Heide & Gruenwald, "E-statistics, group invariance and anytime-valid testing", Ann. Stat. 2024;
   Lindon, Ham, Tingley & Bojinov, arXiv:2210.08589, the same for regression coefficients).
4. M_n = the average of B_n(g) over `points` values of sqrt(g) evenly spaced in log from
   `min_effect` to `max_effect`, counted only while S1 > 0. One-sided validity: for eta0 < 0 and
   S1 >= 0 the integrand of L_n(eta0) carries exp(eta0 c S1 - n eta0^2 / 2) <= 1, so L_n(eta0) <= 1
   and M_n <= M_n / L_n(eta0), the mixture's likelihood ratio against eta0: a martingale with mean 1
   under eta0. By Ville, P(some n has S1 > 0 and M_n >= 1 / alpha) <= alpha for every delta <= 0 and
   every sigma. No burn-in is needed: B_1 = 1, evidence starts with the second block.

Its assumptions, and their cost: Gaussian D_i (about ten expected errors per cohort and block, hence
`block_errors`); one variance for all blocks (a stage change that moves the traffic split changes the
binomial part, so a background gate across stages holds its level only approximately); noise
independent from interval to interval. The unknown variance costs power: a large regression is caught
after three intervals, not one, and small ones take a few times longer.

Repeated fixed-horizon tests at every look do not keep their level (tests/policies/test_sequential.py
shows the peeking inflation Netflix describes).

Example::

    gates:
      seq: {semantics: sequential, metric: error_rate, alpha: 0.05, interval: 1m}
      seq-noisy: {semantics: sequential, variance: baseline, alpha: 0.05}
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from sim.policies.gate import Gate
from sim.policies.verdict import Verdict, failed, keep_measuring, passed
from sim.policies.window import Window

_ONLY = {"binomial": ("min_ratio", "max_ratio"), "baseline": ("min_effect", "max_effect", "block_errors")}


class SequentialSpec(Gate):
    """Anytime-valid sequential test on the error-rate ratio new / old."""

    semantics: Literal["sequential"]
    metric: Literal["error_rate"] = "error_rate"
    """Only `error_rate`: the test works on error counts of the two cohorts."""
    alpha: float = Field(0.05, gt=0, lt=1)
    """False-rollback probability bound over the whole (unbounded) sequence of checks."""
    variance: Literal["binomial", "baseline"] = "binomial"
    """`binomial`: mixture SPRT on counts, valid when the two cohorts' error rates move together
    (errors Poisson or binomial given them); `baseline`: sequential t-test on per-interval log ratios
    new / old with their variance estimated from the data, valid under per-cohort over-dispersion."""
    min_ratio: float = Field(1.1, gt=1)
    """`binomial` only: smallest error-rate ratio new/old in the mixture (smaller effects are detected
    more slowly)."""
    max_ratio: float = Field(10.0, gt=1)
    """`binomial` only: largest ratio in the mixture."""
    min_effect: float = Field(0.3, gt=0)
    """`baseline` only: smallest standardised effect (mean over sd of the per-interval log ratio) in
    the mixture."""
    max_effect: float = Field(30.0, gt=0)
    """`baseline` only: largest standardised effect in the mixture."""
    block_errors: float = Field(10.0, gt=0)
    """`baseline` only: consecutive intervals are pooled until each cohort expects this many errors
    (under H0, given the total), so each log ratio is close to Gaussian."""
    points: int = Field(16, ge=1, le=1000)
    """Grid points of the mixture, evenly spaced in log ratio (or log effect), equal weights."""
    count: int | None = Field(None, ge=1, le=1_000_000)
    """Checks after which the gate passes if it has not rejected; omitted: runs until the stage ends it."""

    @model_validator(mode="after")
    def _range(self) -> "SequentialSpec":
        other = "baseline" if self.variance == "binomial" else "binomial"
        stray = [name for name in _ONLY[other] if name in self.model_fields_set]
        if stray:
            raise ValueError(f"{', '.join(stray)}: only for variance {other} (got variance {self.variance})")
        for low, high in (("min_ratio", "max_ratio"), ("min_effect", "max_effect")):
            if getattr(self, high) < getattr(self, low):
                raise ValueError(f"{high} must be >= {low} (got {getattr(self, high)} < {getattr(self, low)})")
        return self

    def ratios(self) -> np.ndarray:
        return np.exp(np.linspace(math.log(self.min_ratio), math.log(self.max_ratio), self.points))

    def effects(self) -> np.ndarray:
        """Prior standard deviations sqrt(g) of the standardised effect, one per mixture component."""
        return np.exp(np.linspace(math.log(self.min_effect), math.log(self.max_effect), self.points))


@dataclass(frozen=True)
class SequentialState:
    log_lr: tuple = ()
    """`binomial`: log likelihood ratio so far, one per grid ratio."""
    best: float = 1.0
    """Largest mixture value M seen so far (the p-value is 1 / best)."""
    checks: int = 0
    new_errors: int = 0
    old_errors: int = 0
    final: Verdict | None = None
    blocks: int = 0
    """`baseline`: closed blocks of intervals so far (n), each with its log ratio."""
    mean: float = 0.0
    """`baseline`: their mean log ratio."""
    squares: float = 0.0
    """`baseline`: their sum of squared deviations from the mean (Welford)."""
    pending: tuple = (0, 0, 0.0, 0.0)
    """`baseline`: the open block's x, y and expected errors e1, e0."""


def start(spec: SequentialSpec) -> SequentialState:
    return SequentialState(log_lr=(0.0,) * spec.points if spec.variance == "binomial" else ())


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


def interval_counts(window: Window) -> tuple[np.ndarray, ...]:
    """x, y and the errors each cohort would expect under H0 given m (m s and m (1 - s)), for each
    interval with both cohorts and at least one error."""
    n1 = np.asarray(window.new_requests, float)
    n0 = np.asarray(window.old_requests, float)
    x = np.asarray(window.new_errors, float)
    y = np.asarray(window.old_errors, float)
    use = (n1 > 0) & (n0 > 0) & (x + y > 0)
    s = n1[use] / (n1[use] + n0[use])
    m = x[use] + y[use]
    return x[use], y[use], m * s, m * (1 - s)


def close_blocks(pending: tuple, window: Window, least: float) -> tuple[list[float], tuple]:
    """Add the window's intervals to the open block (x, y, e1, e0 so far); each time both expected
    counts reach `least`, close it into D = log((x + 1/2) / (y + 1/2)) - log(e1 / e0).

    >>> from sim.policies.window import window_of
    >>> w = window_of(60.0, new=([1000, 0, 1000], [9, 0, 3]), old=([3000, 10, 3000], [28, 0, 9]))
    >>> d, rest = close_blocks((0, 0, 0.0, 0.0), w, 5.0)
    >>> [round(v, 6) for v in d], rest
    ([0.0], (3, 9, 3.0, 9.0))
    """
    x, y, e1, e0 = pending
    closed = []
    for terms in zip(*(a.tolist() for a in interval_counts(window))):
        x, y, e1, e0 = x + terms[0], y + terms[1], e1 + terms[2], e0 + terms[3]
        if min(e1, e0) >= least:
            closed.append(math.log((x + 0.5) / (y + 0.5)) - math.log(e1 / e0))
            x, y, e1, e0 = 0, 0, 0.0, 0.0
    return closed, (int(x), int(y), e1, e0)


def accumulate(n: int, mean: float, squares: float, values: list[float]) -> tuple[int, float, float]:
    """Welford's update of (count, mean, sum of squared deviations) by `values`, in order."""
    for d in values:
        n += 1
        step = d - mean
        mean += step / n
        squares += step * (d - mean)
    return n, mean, squares


def t_mixture(effects: np.ndarray, n: int, mean: float, squares: float) -> float:
    """The average over g = effects^2 of B_n(g) = (1 + n g)^((n-1)/2) (1 + n g (1 - Q))^(-n/2), where
    1 - Q = squares / (squares + n mean^2) (the module docstring derives it); 1 for n < 2."""
    if n < 2:
        return 1.0
    spread = squares + n * mean * mean
    rest = squares / spread if spread > 0 else 1.0
    ng = n * effects**2
    return mixture(0.5 * (n - 1) * np.log1p(ng) - 0.5 * n * np.log1p(ng * rest))


def _update_binomial(spec: SequentialSpec, state: SequentialState, window: Window) -> SequentialState:
    log_lr = np.asarray(state.log_lr) + interval_log_lr(spec.ratios(), window)
    return replace(state, log_lr=tuple(log_lr.tolist()), best=max(state.best, mixture(log_lr)))


def _update_baseline(spec: SequentialSpec, state: SequentialState, window: Window) -> SequentialState:
    closed, pending = close_blocks(state.pending, window, spec.block_errors)
    n, mean, squares = accumulate(state.blocks, state.mean, state.squares, closed)
    evidence = t_mixture(spec.effects(), n, mean, squares) if mean > 0 else 1.0
    return replace(state, blocks=n, mean=mean, squares=squares, pending=pending, best=max(state.best, evidence))


def _rule(spec: SequentialSpec, state: SequentialState, p: float) -> str:
    counts = f"errors new {state.new_errors}, old {state.old_errors}"
    if spec.variance == "binomial":
        return f"always-valid p {p:.4g} vs alpha {spec.alpha:g} (mixture LR {state.best:.4g}; {counts})"
    sd = math.sqrt(state.squares / (state.blocks - 1)) if state.blocks > 1 else math.nan
    return (f"always-valid p {p:.4g} vs alpha {spec.alpha:g} (t-mixture {state.best:.4g}; {state.blocks} "
            f"blocks, log ratio mean {state.mean:+.3g} sd {sd:.3g}; {counts})")


def check(spec: SequentialSpec, state: SequentialState, window: Window) -> tuple[SequentialState, Verdict]:
    if state.final is not None:
        return state, state.final
    update = _update_baseline if spec.variance == "baseline" else _update_binomial
    s = replace(update(spec, state, window), checks=state.checks + 1,
                new_errors=state.new_errors + int(np.sum(window.new_errors)),
                old_errors=state.old_errors + int(np.sum(window.old_errors)))
    p = min(1.0, 1.0 / s.best)
    rule = _rule(spec, s, p)
    if p < spec.alpha:
        v = failed(spec.action_on_fail, "error_rate", p, f"reject: new error rate higher; {rule}", "failure")
    elif spec.count is not None and s.checks >= spec.count:
        v = passed("error_rate", p, f"count {spec.count} reached without rejecting; {rule}", "inconclusive")
    else:
        return s, keep_measuring("error_rate", p, rule, "inconclusive")
    return replace(s, final=v), v
