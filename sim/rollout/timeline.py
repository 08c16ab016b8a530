"""The rollout timeline plot: share of the fleet on the new build, error rate per cohort, thresholds,
and markers for detection, decision, rollback and hotfix."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.results.plots import plt, save_figure
from sim.rollout.release import ReleaseResult
from sim.spec.scenario import Scenario

MARKERS = {"rollback": ("tab:red", "rollback"), "rolled-back": ("tab:red", "rolled back"),
           "hotfix-build": ("tab:purple", "hotfix build"), "smoke-test-failed": ("tab:orange", "smoke test failed"),
           "resumed": ("tab:green", "resumed")}


def timeline(result: ReleaseResult, scenario: Scenario, path: Path | None = None):
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True, constrained_layout=True)
    minutes = lambda t: np.asarray(t) / 60.0
    stages = result.stages
    top.step(minutes([s.time for s in stages]), [s.share for s in stages], where="post", color="tab:blue",
             label="production on the candidate build")
    samples = result.samples
    top.plot(minutes([s.time for s in samples]), [s.bad_share for s in samples], color="tab:red", alpha=0.6,
             label="fleet share on a bad build")
    top.set(ylabel="share of hosts", ylim=(-0.02, 1.05), title=f"{scenario.name}: one release "
            f"({result.outcome.outcome}; branch cut {result.outcome.start})")
    _errors(bottom, samples, scenario, minutes)
    for ax in (top, bottom):
        _mark(ax, result, minutes)
        ax.grid(True, alpha=0.3)
    top.legend(loc="upper left", fontsize=8)
    bottom.legend(loc="upper left", fontsize=8)
    bottom.set(xlabel="minutes since branch cut")
    save_figure(fig, path)
    return fig


def _errors(ax, samples, scenario: Scenario, minutes) -> None:
    t = minutes([s.time for s in samples])
    rate = lambda e, r: np.where(np.asarray(r) > 0, np.asarray(e) / np.maximum(np.asarray(r), 1), np.nan)
    ax.plot(t, 100 * rate([s.new_errors for s in samples], [s.new_requests for s in samples]), label="new build",
            color="tab:orange")
    ax.plot(t, 100 * rate([s.old_errors for s in samples], [s.old_requests for s in samples]), label="old build",
            color="tab:gray")
    for name, gate in scenario.gates.items():
        ceiling = getattr(gate, "max", None)  # only some kinds of gate have one
        if gate.metric == "error_rate" and ceiling is not None:
            ax.axhline(100 * ceiling, linestyle="--", linewidth=1, color="black", alpha=0.6)
            ax.annotate(f"{name}: max {100 * ceiling:g}%", (0, 100 * ceiling), fontsize=7,
                        xytext=(2, 2), textcoords="offset points")
    incidents = [s.time for s in samples if s.incident]
    if incidents:
        ax.scatter(minutes(incidents), np.zeros(len(incidents)), marker="|", color="tab:brown", label="incident")
    ax.set(ylabel="error rate (%)", ylim=(0, None))


def _mark(ax, result: ReleaseResult, minutes) -> None:
    seen = set()
    for stage in result.stages:
        if stage.event in MARKERS:
            color, text = MARKERS[stage.event]
            ax.axvline(minutes(stage.time), color=color, linestyle=":", linewidth=1.2,
                       label=None if text in seen else text)
            seen.add(text)
    outcome = result.outcome
    if outcome.detected and not np.isnan(outcome.detection_time):
        ax.axvline(minutes(outcome.detection_time), color="black", linewidth=1.5,
                   label=None if "detected" in seen else f"detected ({outcome.detected_by})")
        seen.add("detected")
