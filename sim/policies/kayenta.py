"""Kayenta (Spinnaker automated canary analysis) semantics: a Mann-Whitney judge per metric, group
scores weighted into a 0-100 score, and scoring intervals judged against marginal / pass.

Mirrors spinnaker/kayenta `kayenta-judge/.../NetflixACAJudge.scala` (per metric: NaNs replaced by 0 or
removed, then `MannWhitneyClassifier(tolerance = 0.25, confLevel = 0.98)`, see mannwhitney.py),
`scorers/WeightedSumScorer.scala` (group score = 100 x Pass / (Pass + High + Low); groups without
classified metrics are left out WITHOUT renormalizing the weights; groups without a weight share 100
minus the given weights; any failing critical metric scores 0) and `classifiers/score/ThresholdScoreClassifier.scala` (>= pass: Pass,
>= marginal: Marginal, else Fail). Spinnaker/orca `AggregateCanaryResultsTask` fails the canary when
the final score is <= marginal or < pass. Each check is one scoring interval judged on every interval
since the analysis started (the series grows); a score <= marginal fails at once, and without `count`
a score >= pass passes at once (docs/sources.md). When 50% or more of the metrics have no data
the score is 0 (Kayenta docs). Fewer than 50 points per series is flagged in the rule text.

Example::

    gates:
      judge: {semantics: kayenta, metric: error_rate, interval: 5m, count: 6,
              metrics: [{name: error_rate}, {name: latency, group: perf}]}
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from sim.policies.gate import Gate, Metric, Section
from sim.policies.mannwhitney import Classification, Direction, classify
from sim.policies.verdict import Verdict, failed, keep_measuring, passed
from sim.policies.window import Window, per_interval_rates

ADVISED_POINTS = 50


class KayentaMetric(Section):
    """One metric of the canary config."""

    name: Metric
    """`error_rate` (per-interval errors / requests) or `latency` (per-interval mean)."""
    group: str = "default"
    """Metric group; group scores are weighted into the summary score."""
    direction: Direction = "increase"
    """Which change fails: `increase`, `decrease` or `either` (Kayenta's own default is either)."""
    critical: bool = False
    """A critical metric that is not Pass makes the score 0."""
    nan_strategy: Literal["replace", "remove"] = "replace"
    """Intervals without requests (NaN): replaced by 0 (Kayenta's default) or removed."""


class KayentaSpec(Gate):
    """A Kayenta canary analysis (judge NetflixACAJudge-v1.0)."""

    semantics: Literal["kayenta"]
    metrics: tuple[KayentaMetric, ...] = ()
    """Metrics judged; omitted: the gate's `metric` alone."""
    group_weights: dict[str, float] = Field(default_factory=dict)
    """Weight (percent) per group; groups without one share what remains of 100."""
    marginal: float = Field(75.0, ge=0, le=100)
    """A scoring interval at or below this score fails (recommended 75)."""
    pass_score: float = Field(95.0, ge=0, le=100, alias="pass")
    """The score needed to pass (recommended 95). Written `pass:` in the scenario."""
    count: int | None = Field(None, ge=1, le=100_000)
    """Scoring intervals (lifetime / interval); the final one decides. Omitted: pass at the first >= pass."""
    confidence: float = Field(0.98, gt=0.5, lt=1)
    """Confidence level of the shift interval (hard-coded 0.98 in Kayenta)."""
    tolerance: float = Field(0.25, ge=0)
    """Fraction of |shift estimate| the interval must clear (hard-coded 0.25 in Kayenta)."""

    model_config = Section.model_config | {"populate_by_name": True}

    @model_validator(mode="after")
    def _ordered(self) -> "KayentaSpec":
        if self.pass_score < self.marginal:
            raise ValueError(f"pass must be >= marginal (got pass {self.pass_score}, marginal {self.marginal})")
        if sum(self.group_weights.values()) > 100 + 1e-9:
            raise ValueError(f"group_weights must add up to at most 100 (got {sum(self.group_weights.values())})")
        return self

    def judged(self) -> tuple[KayentaMetric, ...]:
        return self.metrics or (KayentaMetric(name=self.metric),)


@dataclass(frozen=True)
class KayentaState:
    """Per-interval series since the analysis started, and the scores so far."""

    new_requests: tuple = ()
    new_errors: tuple = ()
    old_requests: tuple = ()
    old_errors: tuple = ()
    new_latency: tuple = ()
    old_latency: tuple = ()
    scores: tuple = ()
    final: Verdict | None = None


def start(spec: KayentaSpec) -> KayentaState:
    return KayentaState()


def _grow(state: KayentaState, w: Window) -> KayentaState:
    def add(old: tuple, new: np.ndarray) -> tuple:
        return old + tuple(np.atleast_1d(new).tolist())
    return KayentaState(add(state.new_requests, w.new_requests), add(state.new_errors, w.new_errors),
                        add(state.old_requests, w.old_requests), add(state.old_errors, w.old_errors),
                        add(state.new_latency, w.new_latency), add(state.old_latency, w.old_latency),
                        state.scores)


def series(state: KayentaState, metric: KayentaMetric) -> tuple[np.ndarray, np.ndarray]:
    """(experiment, control) values per interval after the NaN strategy."""
    if metric.name == "error_rate":
        x = per_interval_rates(np.array(state.new_requests), np.array(state.new_errors))
        y = per_interval_rates(np.array(state.old_requests), np.array(state.old_errors))
    else:
        x, y = np.array(state.new_latency, float), np.array(state.old_latency, float)
    if metric.nan_strategy == "remove":
        return x[np.isfinite(x)], y[np.isfinite(y)]
    return np.nan_to_num(x, nan=0.0), np.nan_to_num(y, nan=0.0)


def _no_data_if_empty(x: np.ndarray, raw: np.ndarray) -> np.ndarray:
    return x if np.isfinite(raw).any() else x[:0]


def classify_all(spec: KayentaSpec, state: KayentaState) -> list[tuple[KayentaMetric, Classification, int]]:
    """Each judged metric with its classification and its number of data points."""
    out = []
    for metric in spec.judged():
        x, y = series(state, metric)
        raw_x, raw_y = series(state, metric.model_copy(update={"nan_strategy": "remove"}))
        x, y = _no_data_if_empty(x, raw_x), _no_data_if_empty(y, raw_y)
        c = classify(x, y, metric.direction, spec.tolerance, spec.confidence)
        out.append((metric, c, min(len(x), len(y))))
    return out


def score(spec: KayentaSpec, results: list[tuple[KayentaMetric, Classification, int]]) -> float:
    """WeightedSumScorer, plus the rule that >= 50% of metrics without data scores 0."""
    if sum(c.label == "Nodata" for _, c, _ in results) >= 0.5 * len(results):
        return 0.0
    if any(m.critical and c.label != "Pass" for m, c, _ in results):
        return 0.0
    groups: dict[str, list[str]] = {}
    for m, c, _ in results:
        groups.setdefault(m.group, []).append(c.label)
    unweighted = [g for g in groups if g not in spec.group_weights]
    share = (100 - sum(spec.group_weights.values())) / len(unweighted) if unweighted else 0.0
    total = 0.0
    for group, labels in groups.items():
        judged = [label for label in labels if label in ("Pass", "High", "Low")]
        if judged:
            weight = spec.group_weights.get(group, share)
            total += 100.0 * judged.count("Pass") / len(judged) * weight / 100
    return total


def _reason(results: list[tuple[KayentaMetric, Classification, int]]) -> tuple[str, str]:
    worst = next(((m, c) for m, c, _ in results if c.label in ("High", "Low")), None)
    worst = worst or (results[0][0], results[0][1])
    parts = [f"{m.name}: {c.reason}" for m, c, _ in results]
    few = [f"{m.name} has {n} points < {ADVISED_POINTS} advised" for m, _, n in results if n < ADVISED_POINTS]
    text = "; ".join(parts + (["warning: " + ", ".join(few)] if few else []))
    return worst[0].name, text


def check(spec: KayentaSpec, state: KayentaState, window: Window) -> tuple[KayentaState, Verdict]:
    if state.final is not None:
        return state, state.final
    grown = _grow(state, window)
    results = classify_all(spec, grown)
    value = score(spec, results)
    metric, why = _reason(results)
    scores = grown.scores + (value,)
    last = spec.count is not None and len(scores) >= spec.count
    own = "success" if value >= spec.pass_score else ("failure" if value <= spec.marginal else "inconclusive")
    head = f"score {value:.1f} (marginal {spec.marginal:g}, pass {spec.pass_score:g}, interval {len(scores)})"
    if value <= spec.marginal or (last and value < spec.pass_score):
        v = failed(spec.action_on_fail, metric, value, f"{head}: fail; {why}", own)
    elif value >= spec.pass_score and (spec.count is None or last):
        v = passed(metric, value, f"{head}: pass; {why}", own)
    else:
        return replace(grown, scores=scores), keep_measuring(metric, value, f"{head}: continue; {why}", own)
    return replace(grown, scores=scores, final=v), v
