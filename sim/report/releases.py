"""The page of releases through a pipeline (`deploysim run` on a scenario with `rollout:`): what happened
to the first release first (caught where, by which gate, how long after it first served users, how many
requests failed, how it ended), then its timeline, each of its decisions in order with its reason and
who acted on it and when, and the outcome distribution over every release with its population.

Sources: `summary.json` (each release's outcome; the distribution with its populations), `decisions.csv`,
`stages.csv` and `metrics.csv` (the timeline and the decision trail; the run keeps them for the first
release unless `output.host_rows: all`), and the manifest's effective scenario (each gate's window and
thresholds). The page shows the first release's records, as the run's own `timeline.png` does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

from sim import week
from sim.report import formats
from sim.report.folder import ResultsFolder
from sim.report.parameters import settings
from sim.report.timeline_figure import timeline

SECTIONS = ("rollout", "gates", "traffic", "build", "commander")
DECISION_COLUMNS = ("time", "stage", "gate", "metric", "value", "outcome", "action", "rule", "measurement")
ACTED = {"rollback": "rollback started", "rolled-back": "rolled back", "hotfix-build": "hotfix build shipped",
         "resumed": "resumed", "smoke-test-failed": "smoke test failed"}


def context(folder: ResultsFolder) -> dict:
    """What the releases template shows."""
    summary = folder.summary()
    releases = [r for r in summary.get("releases") or [] if isinstance(r, dict)]
    first = releases[0] if releases else None
    own = _of(str(first.get("replication", "")) if first else "")
    stages, metrics, decisions = (own(_rows(folder, name)) for name in ("stages.csv", "metrics.csv", "decisions.csv"))
    gates = folder.scenario.get("gates") or {}
    params, params_note = settings(folder.manifest, SECTIONS)
    return {
        "release": _release(first) if first else None,
        "answer": _answer(first, decisions) if first else [],
        "population": _population(releases),
        "figure": timeline(stages, metrics, decisions, gates) if stages or metrics else None,
        "decisions": [_decision(d, gates, stages, decisions) for d in decisions],
        "distribution": [_measure(row) for row in summary.get("distribution") or []],
        "horizon": _horizon(folder.scenario.get("rollout") or {}),
        "settings": params,
        "settings_note": params_note,
    }


def _rows(folder: ResultsFolder, name: str) -> list[dict]:
    return folder.read_csv(name) if folder.has(name) else []


def _of(replication: str):
    return lambda rows: [row for row in rows if row.get("replication") == replication]


def _part(key: str, value: object, text: str) -> dict:
    """A number inside a sentence: shown as `text`, its value as the file holds it."""
    return {"key": key, "value": value, "text": text}


def _release(r: dict) -> dict:
    return {"replication": r.get("replication"), "start": week.human(r.get("start", "")), "bad": bool(r.get("bad_build")),
            "outcome": r.get("outcome", "")}


def _answer(r: dict, decisions: list[dict]) -> list[list]:
    """One or two sentences per fact, each a list of text and numbers (dicts from `_part`)."""
    sentences = [_detection(r, decisions)]
    if r.get("bad_build") and r.get("served_traffic"):
        sentences.append([_part("bad_requests", r.get("bad_requests"), formats.count(r.get("bad_requests"))),
                          " requests failed because of the bad build until the horizon; at most ",
                          _part("peak_bad_share", r.get("peak_bad_share"), formats.share(r.get("peak_bad_share"), 2)),
                          " of the traffic was on it at once."])
    sentences.append(_ending(r))
    return sentences


def _detection(r: dict, decisions: list[dict]) -> list:
    by, stage = str(r.get("detected_by") or ""), str(r.get("detection_stage") or "")
    at = _part("detection_time", r.get("detection_time"), formats.duration(r.get("detection_time")))
    if not r.get("bad_build"):
        failed = [d for d in decisions if d.get("outcome") != "pass"]
        if r.get("false_rollback"):
            return ["A good build was rolled back at ", _part("rollback_stage", r.get("rollback_stage"),
                    str(r.get("rollback_stage"))), " (a false rollback)", *_first_failure(failed), "."]
        return ["The build was good", *_first_failure(failed), "."]
    if not r.get("detected"):
        still = r.get("bad_serving_at_horizon")
        return ["The bad build was not detected", ": it still served users at the horizon." if still else "."]
    if by == "smoke test":
        return ["The bad build was caught by the smoke tests at ", _part("detection_stage", stage, stage), ", ", at,
                " after the branch cut, before it served users."]
    delay = r.get("detection_delay")
    after = [", ", _part("detection_delay", delay, formats.duration(delay)), " after it first served traffic"] \
        if not math.isnan(formats.number(delay)) else []
    acted = next((d for d in decisions if d.get("gate") == by and d.get("outcome") != "pass"), None)
    action = [", and decided: ", _part("action", acted["action"], acted["action"])] if acted else []
    return ["The bad build was caught at ", _part("detection_stage", stage, stage), " by gate ",
            _part("detected_by", by, by), *after, " (", at, " after the branch cut)", *action, "."]


def _first_failure(failed: list[dict]) -> list:
    if not failed:
        return ["; no gate failed"]
    d = failed[0]
    return ["; gate ", _part("gate", d["gate"], d["gate"]), " decided ", _part("action", d["action"], d["action"]),
            " at ", _part("decision_time", d["time"], formats.duration(d["time"]))]


def _ending(r: dict) -> list:
    outcome = str(r.get("outcome", ""))
    lead = _part("lead_time", r.get("lead_time"), formats.duration(r.get("lead_time")))
    if outcome == "promoted":
        return ["Outcome: ", _part("outcome", outcome, "promoted"), "; the build reached 100% ", lead,
                " after the branch cut."]
    if outcome == "hotfixed":
        return ["Outcome: ", _part("outcome", outcome, "hotfixed"), "; a hotfix build reached 100% ", lead,
                " after the branch cut."]
    if outcome == "rolled_back":
        return ["Outcome: ", _part("outcome", outcome, "rolled back"), " at ",
                _part("rollback_stage", r.get("rollback_stage"), str(r.get("rollback_stage"))),
                "; production runs the previous build."]
    return ["Outcome: ", _part("outcome", outcome, outcome), ": ", str(r.get("blocked_reason") or ""), "."]


def _population(releases: list[dict]) -> dict:
    bad = sum(1 for r in releases if r.get("bad_build"))
    return {"releases": len(releases), "bad": bad, "good": len(releases) - bad}


def _decision(d: dict, gates: dict, stages: list[dict], decisions: list[dict]) -> dict:
    """A decision's row: every column of decisions.csv, the gate's window and thresholds, who acted."""
    found = gates.get(d.get("gate"))
    gate: dict = found if isinstance(found, dict) else {}
    metric = d.get("metric", "")
    cells = {key: {"value": d.get(key, ""), "text": d.get(key, "")} for key in DECISION_COLUMNS}
    cells["time"]["text"] = formats.duration(d.get("time"))
    cells["value"]["text"] = _metric(metric, d.get("value"))
    return {"cells": cells, "window": _window(gate, d.get("time")), "threshold": _threshold(gate),
            "semantics": _semantics(gate), "acted": _acted(d, gate, stages, decisions)}


def _metric(metric: str, value: object) -> str:
    if math.isnan(formats.number(value)):
        return formats.MISSING
    return formats.share(value, 2) if metric == "error_rate" else formats.duration(value)


def _window(gate: dict, time: object) -> str:
    interval, end = formats.number(gate.get("interval")), formats.number(time)
    if math.isnan(interval) or math.isnan(end):
        return formats.MISSING
    return f"{formats.duration(interval)}: {formats.duration(max(0.0, end - interval))} – {formats.duration(end)}"


def _threshold(gate: dict) -> str:
    metric = gate.get("metric", "")
    parts = []
    if gate.get("max") is not None:
        parts.append(f"max {_metric(metric, gate['max'])}")
    if gate.get("max_ratio") is not None:
        parts.append(f"max {formats.number(gate['max_ratio']):g}× the old build")
    if gate.get("max_increase") is not None:
        parts.append(f"max the old build + {_metric(metric, gate['max_increase'])}")
    if gate.get("min_requests"):
        parts.append(f"at least {formats.count(gate['min_requests'])} requests to judge")
    for key, text in (("pass_score", "pass score {}"), ("pass", "pass score {}"), ("alpha", "alpha {}")):
        if gate.get(key) is not None and not parts:
            parts.append(text.format(gate[key]))
    return "; ".join(parts) or formats.MISSING


def _semantics(gate: dict) -> str:
    kind = str(gate.get("semantics", ""))
    counts = {"argo": ("failure_limit", "fails when failures exceed failure_limit {}"),
              "threshold": ("consecutive", "fails after {} breaches in a row"),
              "flagger": ("threshold", "rolls back when failed checks reach {}")}
    if kind in counts and gate.get(counts[kind][0]) is not None:
        return f"{kind}: {counts[kind][1].format(gate[counts[kind][0]])}"
    return kind


def _acted(d: dict, gate: dict, stages: list[dict], decisions: list[dict]) -> list[dict]:
    """Who acted on the decision and when: the gate itself (an automatic rollback), the deploy commander
    (after a page: roll back, resume, hotfix), read from the stage events up to the next decision."""
    time = formats.number(d.get("time"))
    if gate.get("dry_run"):
        return [{"who": "nobody", "what": "dry run: recorded only", "time": d.get("time"), "text": ""}]
    if d.get("outcome") == "pass":
        return [{"who": f"gate {d.get('gate')}", "what": "passed; the pipeline went on", "time": d.get("time"),
                 "text": formats.duration(time)}]
    later = [formats.number(x["time"]) for x in decisions if formats.number(x["time"]) > time]
    until = min(later, default=math.inf)
    events = [s for s in stages if s.get("event") in ACTED and time <= formats.number(s["time"]) < until]
    acted = []
    for s in events:
        automatic = s["event"] in ("rollback", "rolled-back") and d.get("action") == "rollback"
        acted.append({"who": f"gate {d.get('gate')}" if automatic else "commander", "what": ACTED[s["event"]],
                      "time": s["time"], "text": formats.duration(s["time"])})
    return acted or [{"who": "nobody" if d.get("action") == "none" else "commander", "what": f"{d.get('action')}: "
                      "nothing more happened before the horizon", "time": "", "text": ""}]


def _measure(row: dict) -> dict:
    kind, measure = str(row.get("kind", "")), str(row.get("measure", ""))
    value = row.get("value")
    show: Callable[[object], str]
    if kind == "share":
        show = formats.share
    elif measure == "peak_bad_share":
        show = partial(formats.share, digits=2)
    elif measure in ("detection_delay", "time_to_mitigate", "lead_time"):
        show = formats.duration
    else:
        show = formats.count
    return {"measure": measure, "kind": kind, "value": value, "text": show(value),
            "interval": "-" if value is None else f"{show(row.get('low'))} – {show(row.get('high'))}",
            "count": row.get("count"), "population": row.get("population", "")}


def _horizon(rollout: dict) -> str:
    watch, horizon = rollout.get("watch"), rollout.get("horizon")
    if watch is None or horizon is None:
        return ""
    return (f"Outcomes are read {formats.duration(watch)} after the pipeline's last step (rollout.watch); a pipeline "
            f"not ended {formats.duration(horizon)} after the branch cut is blocked (rollout.horizon).")
