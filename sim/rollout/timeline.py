"""The rollout timeline plot (`timeline.png`): share of the fleet on the new build, error rate per cohort,
thresholds, each stage's start labelled with its name, and a distinct marker for each kind of event
(rollback started, rolled back, hotfix build, smoke test failed, resumed) and for the detection.

Stage labels and event styles come from `sim.results.release_marks`, which the HTML report's timeline
uses too; the legend sits below the plots, so it covers neither the data nor a threshold's label."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.results.plots import plt, save_figure
from sim.results.release_marks import boundaries, event_handles, label_stages, mark_events
from sim.rollout import clock
from sim.rollout.release import ReleaseResult
from sim.spec.scenario import Scenario


def timeline(result: ReleaseResult, scenario: Scenario, path: Path | None = None):
    fig, (strip, top, bottom) = plt.subplots(3, 1, figsize=(10, 8), sharex=True, layout="constrained",
                                             gridspec_kw={"height_ratios": [0.45, 3, 3]})
    minutes = lambda t: np.asarray(t) / 60.0
    stages = result.stages
    top.step(minutes([s.time for s in stages]), [s.share for s in stages], where="post", color="tab:blue",
             label="production on the candidate build")
    samples = result.samples
    top.plot(minutes([s.time for s in samples]), [s.bad_share for s in samples], color="tab:red", alpha=0.6,
             label="fleet share on a bad build")
    top.set(ylabel="share of hosts", ylim=(-0.02, 1.05))
    fig.suptitle(f"{scenario.name}: one release ({result.outcome.outcome}; branch cut {clock.human(result.outcome.start)})")
    _errors(bottom, samples, scenario, minutes)
    events = [(s.time, s.event) for s in stages]
    for ax in (top, bottom):
        mark_events(ax, events, minutes)
        _detection(ax, result, minutes)
        ax.grid(True, alpha=0.3)
    bottom.set(xlabel="minutes since branch cut")
    times = [s.time for s in stages] + [s.time for s in samples]
    if times:
        bottom.set_xlim(minutes(min(0.0, *times)) - 1, minutes(max(times)) + 1)
    label_stages(strip, (top, bottom), boundaries((s.time, s.build, s.label, s.event) for s in stages), minutes)
    handles = {h.get_label(): h for ax in (top, bottom) for h in ax.get_legend_handles_labels()[0]}
    handles.update((h.get_label(), h) for h in event_handles(e for _, e in events))
    fig.legend(handles=list(handles.values()), loc="outside lower center", ncols=4, fontsize=8, frameon=False)
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
            ax.annotate(f"{name}: max {100 * ceiling:g}%", (1, 100 * ceiling), xycoords=("axes fraction", "data"),
                        fontsize=7, xytext=(-2, 2), textcoords="offset points", ha="right", va="bottom")
    incidents = [s.time for s in samples if s.incident]
    if incidents:
        ax.scatter(minutes(incidents), np.zeros(len(incidents)), marker="|", color="tab:brown", label="incident")
    ax.set(ylabel="error rate (%)", ylim=(0, None))


def _detection(ax, result: ReleaseResult, minutes) -> None:
    outcome = result.outcome
    if outcome.detected and not np.isnan(outcome.detection_time):
        ax.axvline(minutes(outcome.detection_time), color="black", linewidth=1.5,
                   label=f"detected ({outcome.detected_by})")
