"""Warnings before a run wastes time: gate settings that cannot work with the scenario's traffic.

`scenario_warnings(scenario)` is a pure function of a validated scenario. It looks at every gate the
rollout uses, in `gates:` and in each policy of `evaluation.policies` (each a full set of gates), and
reports, each with the numbers that justify it and what to change:

1. a gate whose `min_requests` is never reached where it runs (analysis steps: the hosts the steps
   before put on the new build; background gates: from the first step with real traffic to the end),
   so every check is low traffic (`sim.rollout.levels`, `sim.rollout.nominal`); an analysis whose new
   build serves nothing at all (staging only) is reported once, at the step;
2. a Kayenta judge that sees fewer than 2 data points per cohort at its first check (Mann-Whitney
   then cannot compute an interval: score 0, a failed check);
3. a sequential test that assumes binomial errors under synthetic over-dispersion strong enough to
   matter where it runs (variance at least twice the binomial one; its alpha bound then does not hold);
4. a bad build whose onset (median) comes after every gate has stopped watching the new build.

Nothing here runs a release; the numbers are expectations (`sim.rollout.levels`). The CLI prints the
warnings (`sim.commands.check.print_warnings`); they never change an exit code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.distributions import median_of
from sim.rollout.levels import requests_per_check
from sim.rollout.nominal import StepView, walk
from sim.spec.rollout import AnalysisStep, CanaryStep
from sim.units import format_duration


@dataclass(frozen=True)
class ScenarioWarning:
    """A setting that will not work as meant: where it is (keys as in the file) and why, in one line."""

    path: tuple
    message: str

    @property
    def key(self) -> str:
        """The key path as written in errors: `evaluation.policies.p.errors.min_requests`, `steps[2]`."""
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
        return text


def scenario_warnings(scenario) -> list[ScenarioWarning]:
    """Every warning for this scenario, in a stable order."""
    if scenario.rollout is None:
        return []
    found = idle_analyses(scenario)
    for prefix, gates in gate_sets(scenario):
        policy = _pipeline_of(scenario, prefix)
        views = walk(policy, gates)
        for name in used_gates(policy):
            found += gate_warnings(policy, views, prefix + (name,), name, gates[name])
    return found + onset_warnings(scenario)


def _pipeline_of(scenario, prefix: tuple):
    """The scenario as the gate set at `prefix` runs it: with its policy's own steps, if it has them."""
    own = scenario.evaluation.rollouts.get(prefix[-1]) if prefix[:2] == ("evaluation", "policies") else None
    return scenario if own is None else scenario.model_copy(update={"rollout": scenario.rollout.with_steps(own)})


def used_gates(scenario) -> list[str]:
    """Gate names the rollout runs, in order of first mention (background gates first)."""
    names = list(scenario.rollout.background_gates)
    for step in scenario.rollout.steps:
        if isinstance(step, AnalysisStep):
            names += step.analysis.gates
        elif isinstance(step, CanaryStep):
            names += step.canary.gates
    return list(dict.fromkeys(names))


def gate_sets(scenario) -> list[tuple[tuple, dict]]:
    """(key prefix, gates by name): `gates:` when it defines every gate used, then each policy."""
    sets: list[tuple[tuple, dict]] = []
    if set(used_gates(scenario)) <= set(scenario.gates):
        sets.append((("gates",), dict(scenario.gates)))
    for policy, gates in (scenario.evaluation.policies.items() if scenario.evaluation else ()):
        sets.append((("evaluation", "policies", policy), dict(gates)))
    return sets


def gate_warnings(scenario, views: list[StepView], path: tuple, name: str, spec) -> list[ScenarioWarning]:
    """The warnings about one gate of one gate set."""
    analyses = [v for v in views if name in _step_gates(v.step)]
    background = _phases(views) if name in scenario.rollout.background_gates else []
    if spec.semantics == "kayenta":
        return kayenta_points(scenario, path, name, spec)
    if spec.semantics == "sequential":
        return sequential_dispersion(scenario, analyses + background, path, name, spec)
    if spec.min_requests <= 0:
        return []
    found = low_traffic_analyses(scenario, analyses, path, name, spec)
    if background:
        found += low_traffic_background(scenario, background, path, name, spec)
    return found


def _step_gates(step) -> list[str]:
    """The gates an analysis or canary step checks (none for other steps)."""
    if isinstance(step, AnalysisStep):
        return step.analysis.gates
    return step.canary.gates if isinstance(step, CanaryStep) else []


def _phases(views: list[StepView]) -> list[StepView]:
    """The first view of each distinct set of hosts on the new build while background gates watch."""
    phases: list[StepView] = []
    for view in views:
        if view.serving and (not phases or view.cohort != phases[-1].cohort):
            phases.append(view)
    return phases


# ---- 1. min_requests never reached --------------------------------------------------------------------------
def idle_analyses(scenario) -> list[ScenarioWarning]:
    """Analysis steps while the new build serves no requests at all (staging only, or nothing yet)."""
    found = []
    for view in walk(scenario, {}):
        if isinstance(view.step, AnalysisStep) and serves_nothing(scenario, view):
            gates = ", ".join(view.step.analysis.gates)
            found.append(ScenarioWarning(
                ("rollout", "steps", view.index, "analysis"),
                f"analysis of {gates} runs while the new build serves no requests ({view.cohort.describe()}; "
                f"staging serves none): every check has no data; move it after a dogfood or set_weight step"))
    return found


def serves_nothing(scenario, view: StepView) -> bool:
    return requests_per_check(scenario, view.cohort, scenario.traffic.metric_interval).busiest <= 0


def low_traffic_analyses(scenario, analyses: list[StepView], path: tuple, name: str, spec) -> list[ScenarioWarning]:
    levels = [(v, requests_per_check(scenario, v.cohort, spec.interval)) for v in analyses]
    levels = [(v, level) for v, level in levels if level.busiest > 0]  # serving nothing: see idle_analyses
    for attr, how in (("busiest", "every check"), ("typical", "checks off the peak")):
        short = [(v, level) for v, level in levels if getattr(level, attr) < spec.min_requests]
        if short:
            view, level = short[0]
            steps = ", ".join(str(v.index) for v, _ in short)
            where = f"step {steps}" if len(short) == 1 else f"steps {steps}"
            seen = (f"at most {level.busiest:,.0f} new-build requests per check ({level.basis})" if attr == "busiest"
                    else f"{level.typical:,.0f} new-build requests per check at {level.typical_name} "
                         f"(at most {level.busiest:,.0f} at the peak)")
            return [ScenarioWarning(path + ("min_requests",),
                                    f"{spec.semantics} gate {name}, analysis at {where} ({view.cohort.describe()}), "
                                    f"sees {seen}, below min_requests {spec.min_requests}: {how} is low traffic "
                                    f"({low_traffic_means(spec, view.step)}); {_remedy(scenario, spec, getattr(level, attr))}")]
    return []


def low_traffic_background(scenario, phases: list[StepView], path: tuple, name: str, spec) -> list[ScenarioWarning]:
    levels = [(v, requests_per_check(scenario, v.cohort, spec.interval)) for v in phases]
    first_busy = next((i for i, (_, level) in enumerate(levels) if level.busiest >= spec.min_requests), None)
    first_typical = next((i for i, (_, level) in enumerate(levels) if level.typical >= spec.min_requests), None)
    if first_busy == 0 and first_typical == 0:
        return []
    low = levels[: len(levels) if first_busy is None else max(first_busy, 1)]
    if first_busy == 0:  # decides at the peak from the start, not at typical load
        view, level = levels[0]
        later = "never" if first_typical is None else f"not before {levels[first_typical][0].cohort.label}"
        text = (f"background {spec.semantics} gate {name} sees {level.typical:,.0f} new-build requests per check at "
                f"{level.typical_name} at {view.cohort.describe()} (at most {level.busiest:,.0f} at the peak), "
                f"below min_requests {spec.min_requests}: off the peak it decides {later} "
                f"({low_traffic_means(spec)}); {_remedy(scenario, spec, level.typical)}")
        return [ScenarioWarning(path + ("min_requests",), text)]
    counts = ", ".join(f"{v.cohort.label} {level.busiest:,.0f}" for v, level in low)
    view, level = low[0]
    if first_busy is None:
        head = f"background {spec.semantics} gate {name} can never decide"
        tail = ""
    else:
        head = f"background {spec.semantics} gate {name} cannot decide before {levels[first_busy][0].cohort.label}"
        typical = "never" if first_typical is None else f"from {levels[first_typical][0].cohort.label}"
        tail = (f"; it first can at {levels[first_busy][0].cohort.label} "
                f"({levels[first_busy][1].busiest:,.0f} at the peak; at {level.typical_name} {typical})")
    text = (f"{head}: the new build serves at most {counts} requests per check ({view.cohort.label}: {level.basis}), "
            f"below min_requests {spec.min_requests} ({low_traffic_means(spec)}){tail}; "
            f"{_remedy(scenario, spec, level.busiest)}")
    return [ScenarioWarning(path + ("min_requests",), text)]


def low_traffic_means(spec, step=None) -> str:
    """What a low-traffic check does under this semantics (see sim/policies), in `step` (a canary step
    counts failed checks against its own threshold)."""
    if spec.semantics == "argo":
        return (f"argo: an Inconclusive measurement; more than inconclusive_limit {spec.inconclusive_limit} "
                f"make the run Inconclusive, which pauses the rollout")
    if isinstance(step, CanaryStep):
        return f"flagger: a failed check; the canary step's threshold {step.canary.threshold} of them trigger {spec.action_on_fail}"
    if spec.semantics == "flagger":
        return f"flagger: a failed check; {spec.threshold} of them trigger {spec.action_on_fail}"
    return "threshold: inconclusive, so the gate can never fail"


def _remedy(scenario, spec, per_check: float) -> str:
    """Lower min_requests to what a check sees, or check less often so a window holds enough."""
    step = scenario.traffic.metric_interval
    per_interval = per_check * step / max(spec.interval, step)
    if per_interval <= 0:
        return "lower min_requests"
    needed = math.ceil(spec.min_requests / per_interval) * step
    return f"lower min_requests to at most {math.floor(per_check):,} or raise interval to {format_duration(needed)}"


# ---- 2. Kayenta with one data point --------------------------------------------------------------------------
def kayenta_points(scenario, path: tuple, name: str, spec) -> list[ScenarioWarning]:
    step = scenario.traffic.metric_interval
    points = math.floor(spec.interval / step + 1e-9)
    if points >= 2:
        return []
    seen = "0 or 1 data point" if points == 0 else "1 data point"
    return [ScenarioWarning(path + ("interval",), (
        f"kayenta gate {name} checks every {format_duration(spec.interval)} and traffic.metric_interval is "
        f"{format_duration(step)}: its first check judges {seen} per cohort, from which Mann-Whitney cannot compute "
        f"a shift interval (all observations tied, or no data): score 0, which fails the check unless both "
        f"cohorts' values are equal; set interval to at least {format_duration(2 * step)}"))]


# ---- 3. sequential test under over-dispersion ----------------------------------------------------------------
INFLATION = 2.0
"""Warn from this variance inflation on: errors per interval reaching 1 / dispersion^2, where
sim/policies/sequential.py says the excess starts to matter."""


def sequential_dispersion(scenario, places: list[StepView], path: tuple, name: str, spec) -> list[ScenarioWarning]:
    traffic = scenario.traffic
    if traffic.history is not None or traffic.dispersion <= 0 or getattr(spec, "variance", "binomial") != "binomial":
        return []  # a backtest gives both cohorts the same real error rate in each interval: binomial holds
    d, step = traffic.dispersion, traffic.metric_interval
    means = [(v.cohort.label, traffic.error_rate * requests_per_check(scenario, v.cohort, step).typical)
             for v in places]
    means = sorted((mu, label) for label, mu in means if mu > 0)
    if not means or 1 + d * d * means[-1][0] < INFLATION:
        return []  # Poisson noise dominates the rate noise: the binomial variant is the right test there
    (mu_lo, at_lo), (mu_hi, at_hi) = means[0], means[-1]
    spread = f"{1 + d * d * mu_lo:.3g}x the binomial variance at {at_lo} ({mu_lo:,.0f} errors per interval)"
    if at_hi != at_lo:
        spread += f" up to {1 + d * d * mu_hi:.3g}x at {at_hi} ({mu_hi:,.0f})"
    return [ScenarioWarning(path + ("variance",), (
        f"sequential gate {name} assumes binomial error counts, but traffic.dispersion {d:g} gives each cohort's "
        f"error rate its own gamma noise: error counts vary {spread}, as 1 + dispersion^2 x errors; its "
        f"false-rollback bound alpha {spec.alpha:g} then does not hold and it rolls back far more good builds; "
        f"use variance: baseline"))]


# ---- 4. the spike shows after the gates stop watching ------------------------------------------------------
def onset_warnings(scenario) -> list[ScenarioWarning]:
    evaluation = scenario.evaluation
    if scenario.build.bad_probability <= 0 and (evaluation is None or evaluation.bad_share <= 0):
        return []
    onset = median_of(scenario.build.bad.onset)
    short: dict[tuple[float, str], list[str]] = {}  # (span, how) -> the gate sets that watch so long
    for prefix, gates in gate_sets(scenario) or [(("gates",), dict(scenario.gates))]:
        watched = watch_span(scenario, walk(scenario, gates))
        if watched is not None and onset > watched[0]:
            short.setdefault(watched, []).append("gates" if prefix == ("gates",) else f"policy {prefix[-1]}")
    if not short:
        return []
    spans = "; ".join(f"{format_duration(span)} ({how})" + ("" if len(short) == 1 else f" with {', '.join(sets)}")
                      for (span, how), sets in short.items())
    return [ScenarioWarning(("build", "bad", "onset"), (
        f"the bad build's effect shows a median {format_duration(onset)} after a host goes live, but gates watch "
        f"the new build's first hosts for at most {spans}, deploy time not counted: most bad builds reach "
        f"100% before a gate can see them; lengthen the pauses, or watch to the end with a background gate"))]


def watch_span(scenario, views: list[StepView]) -> tuple[float, str] | None:
    """How long after the first step with real traffic some gate still watches, and how (None: never)."""
    first = next((v for v in views if v.serving), None)
    if first is None:
        return None
    ends = [(v.end, f"analysis at step {v.index} ends") for v in views
            if v.serving and isinstance(v.step, AnalysisStep)]
    if scenario.rollout.background_gates:
        ends.append((views[-1].end, f"background gates from step {first.index} to the last step"))
    if not ends:
        return None
    end, how = max(ends, key=lambda e: e[0])
    return end - first.start, how
