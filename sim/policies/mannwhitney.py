"""Kayenta's Mann-Whitney metric classifier: a confidence interval of the location shift, judged
against a tolerance that is a fraction of the shift's own estimate.

Ports spinnaker/kayenta:
- `kayenta-mannwhitney/.../MannWhitney.scala` (`calculateConfidenceInterval`, `wilcoxonDiff`): R's
  `wilcox.test(conf.int=TRUE, exact=FALSE, correct=TRUE)` asymptotic interval. The standardized rank
  statistic of (experiment - mu) against control, with tie and continuity corrections, is solved for
  mu at +/- z_(alpha/2) (the interval) and at 0 (the estimate) with Brent's method; the search range is
  [min(x) - max(y), max(x) - min(y)]; Brent's method is `KayentaBrentSolver.brentDirect` (R's
  zeroin with an absolute tolerance of 1e-4), ported line by line as `zeroin`.
- `kayenta-judge/.../classifiers/metric/MannWhitneyClassifier.scala` (`classify`, `compare`,
  `calculateBounds`): no data -> Nodata; identical sorted samples -> Pass; a single distinct value in
  both together -> Pass; High when direction allows an increase and `lowerConfidence > tolerance *
  |estimate|`; Low when `upperConfidence < -tolerance * |estimate|`; else Pass. The tolerance is NOT
  relative to the control's level: with a tiny estimate (zero-heavy data) the bound is tiny too, but
  the interval's lower end often sits at 0, so `0 > 0` is false and a clear regression passes
  (kayenta #780).
`NetflixACAJudge.scala` builds it with `tolerance = 0.25, confLevel = 0.98`.

Differences, deterministic by design: Kayenta adds Gaussian noise (sd = first value x 1e-5) when both
samples are constant; here the same-sized jitter is taken from normal quantiles, not a random draw.
Kayenta's IQR outlier removal (`IQRDetector(factor = 3.0)`) is not applied.
`scipy.stats.mannwhitneyu` gives the two-sided p-value reported alongside (Kayenta does not use it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np

Label = Literal["Pass", "High", "Low", "Nodata", "Error"]
Direction = Literal["increase", "decrease", "either"]


@dataclass(frozen=True)
class Classification:
    label: Label
    lower: float
    upper: float
    estimate: float
    p_value: float
    reason: str



def _stats():
    """scipy.stats, imported when a judge first runs (reading and checking a scenario stays light)."""
    from scipy import stats

    return stats

def wilcoxon_diff(mu: float, quantile: float, x: np.ndarray, y: np.ndarray) -> float:
    """Kayenta `wilcoxonDiff`: standardized W of (x - mu) vs y, minus `quantile`."""
    nx, ny = len(x), len(y)
    ranks = _stats().rankdata(np.concatenate([x - mu, y]))  # average ranks for ties
    dz = ranks[:nx].sum() - nx * (nx + 1) / 2 - nx * ny / 2
    _, ties = np.unique(ranks, return_counts=True)
    sigma = np.sqrt((nx * ny / 12) * ((nx + ny + 1) - (ties**3 - ties).sum() / ((nx + ny) * (nx + ny - 1))))
    if sigma == 0:
        raise ValueError("cannot compute confidence interval when all observations are tied")
    return (dz - np.sign(dz) * 0.5) / sigma - quantile


def _interpolated(a: float, b: float, c: float, fa: float, fb: float, fc: float,
                  prev_step: float, tol_act: float, new_step: float) -> float:
    """One inverse-interpolation step of zeroin, kept only if it stays inside the bracket."""
    cb = c - b
    if a == c:
        t1 = fb / fa
        p, q = cb * t1, 1.0 - t1
    else:
        q, t1, t2 = fa / fc, fb / fc, fb / fa
        p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
        q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
    q, p = (-q, p) if p > 0 else (q, -p)
    if p < 0.75 * cb * q - abs(tol_act * q) / 2 and p < abs(prev_step * q / 2):
        return p / q
    return new_step


def zeroin(f: Callable[[float], float], a: float, b: float, fa: float, fb: float, tol: float = 1e-4) -> float:
    """Brent's root finder exactly as Kayenta's `KayentaBrentSolver.brentDirect` (R's zeroin, absolute
    tolerance 1e-4 whatever the metric's scale), so that roots at the jumps of the step-shaped rank
    statistic land where Kayenta's do."""
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    c, fc = a, fa
    for _ in range(1001):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * 2.220446049250313e-16 * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            new_step = _interpolated(a, b, c, fa, fb, fc, prev_step, tol_act, new_step)
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def _root(quantile: float, x: np.ndarray, y: np.ndarray) -> float:
    """`findRoot` (an end of the range when the sign does not change) or `BrentSolver.solve`."""
    lo, hi = x.min() - y.max(), x.max() - y.min()
    f_lo, f_hi = wilcoxon_diff(lo, quantile, x, y), wilcoxon_diff(hi, quantile, x, y)
    if quantile != 0 and f_lo <= 0:
        return float(lo)
    if quantile != 0 and f_hi >= 0:
        return float(hi)
    return float(zeroin(lambda mu: wilcoxon_diff(mu, quantile, x, y), lo, hi, f_lo, f_hi))


def shift_interval(x: np.ndarray, y: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """(lower, upper, estimate) of the location shift x - y, as Kayenta computes them."""
    z = _stats().norm.ppf((1 - confidence) / 2)  # negative
    return _root(-z, x, y), _root(z, x, y), _root(0.0, x, y)


def _jitter(values: np.ndarray) -> np.ndarray:
    scale = abs(values[0]) * 1e-5
    return values + scale * _stats().norm.ppf((np.arange(len(values)) + 0.5) / len(values))


def classify(experiment: np.ndarray, control: np.ndarray, direction: Direction,
             tolerance: float, confidence: float) -> Classification:
    """Classify the experiment (new build) against the control (old build), as Kayenta does."""
    x, y = np.asarray(experiment, float), np.asarray(control, float)
    if len(x) == 0 or len(y) == 0:
        return Classification("Nodata", np.nan, np.nan, np.nan, np.nan, "missing data")
    if len(x) == len(y) and np.array_equal(np.sort(x), np.sort(y)):
        return Classification("Pass", np.nan, np.nan, 0.0, 1.0, "experiment and control data are identical")
    if len(np.unique(np.concatenate([x, y]))) == 1:
        return Classification("Pass", np.nan, np.nan, 0.0, 1.0, "a single distinct value")
    if len(np.unique(x)) == 1 and len(np.unique(y)) == 1:
        x, y = _jitter(x), _jitter(y)
    try:
        lower, upper, estimate = shift_interval(x, y, confidence)
    except ValueError as error:
        return Classification("Error", np.nan, np.nan, np.nan, np.nan, str(error))
    p = float(_stats().mannwhitneyu(x, y, alternative="two-sided").pvalue)
    bound = tolerance * abs(estimate)
    ci = f"shift CI [{lower:.4g}, {upper:.4g}], estimate {estimate:.4g}, tolerance bound {bound:.4g}, p={p:.3g}"
    if direction in ("increase", "either") and lower > bound:
        return Classification("High", lower, upper, estimate, p, f"High: {ci}")
    if direction in ("decrease", "either") and upper < -bound:
        return Classification("Low", lower, upper, estimate, p, f"Low: {ci}")
    return Classification("Pass", lower, upper, estimate, p, f"Pass: {ci}")
