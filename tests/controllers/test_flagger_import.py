"""A Flagger Canary with its MetricTemplates becomes a `canary:` step and flagger gates: checked against a
hand translation, against Flagger's documented closed forms (interval x threshold to roll back), and by an
exact trace of the step's counter; everything it cannot simulate is refused where it is written."""

import shutil
from pathlib import Path

import pytest

from sim.errors import UserError
from sim.load.loader import load_scenario
from sim.policies.flagger import time_to_rollback
from sim.policies.rules import Measurement
from sim.rollout import canary as canary_module
from sim.rollout.simulate import simulate_release
from sim.spec.rollout import ApprovalStep, CanaryStep, SetWeightStep

DATA = Path(__file__).parent / "data"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("canary.yaml", "metric-templates.yaml", "flagger_scenario.yaml"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


def edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))
    return path


def problems(path: Path, overrides=()) -> list[str]:
    with pytest.raises(UserError) as caught:
        load_scenario(path, list(overrides))
    return [p.render() for p in caught.value.problems]


def test_the_canary_becomes_a_canary_step_and_gates_as_translated_by_hand(folder):
    loaded = load_scenario(folder / "flagger_scenario.yaml")
    steps, gates = loaded.scenario.rollout.steps, loaded.scenario.gates
    assert [type(s) for s in steps] == [CanaryStep, ApprovalStep, SetWeightStep]
    step = steps[0].canary
    # stepWeight 20 up to maxWeight 50: 20, 40, then 60 (Flagger adds a step while below the max)
    assert (step.gates, step.weights, step.interval, step.threshold, step.approval) == (
        ["request-success-rate", "request-duration", "not-found-percentage"], [20, 40, 60], 60.0, 3, None)
    assert steps[2].set_weight == 100
    limits = {name: (g.semantics, g.metric, g.max, g.interval) for name, g in gates.items()}
    assert limits == {"request-success-rate": ("flagger", "error_rate", pytest.approx(0.01), 60.0),
                      "request-duration": ("flagger", "latency", 0.5, 60.0),
                      "not-found-percentage": ("flagger", "error_rate", 0.05, 60.0)}
    notes = {n.path: n.note for n in loaded.imported}
    assert {"spec.provider", "spec.targetRef", "spec.service", "spec.progressDeadlineSeconds",
            "spec.analysis.stepWeightPromotion", "spec.analysis.metrics[2].templateRef"} <= set(notes)
    assert gates["request-duration"].quantile == "p99"  # Flagger's request-duration is the P99: no approximation
    assert "spec.analysis.metrics[1].name" not in notes
    assert notes["spec.analysis.webhooks[0]"].startswith("confirm-promotion: a person approves")
    assert "assumed to succeed" in notes["spec.analysis.webhooks[1]"]  # no type: a rollout webhook


def test_an_imported_canary_releases_like_its_hand_translation(folder):
    for bad in ("0%", "100%"):
        imported = load_scenario(folder / "flagger_scenario.yaml", [f"build.bad_probability={bad}"]).scenario
        native = load_scenario(DATA / "flagger_native.yaml", [f"build.bad_probability={bad}"]).scenario
        for replication in range(3):
            a, b = simulate_release(imported, replication, 9), simulate_release(native, replication, 9)
            assert repr(a.outcome) == repr(b.outcome) and a.decisions == b.decisions
            assert a.outcome.outcome == ("promoted" if bad == "0%" else "rolled_back")


def test_every_failing_check_rolls_back_after_interval_times_threshold(folder):
    """Flagger's docs: with every check failing, rollback comes interval x threshold after the analysis
    starts (here after the first weight's hosts have moved)."""
    scenario = load_scenario(folder / "flagger_scenario.yaml", ["build.bad_probability=100%",
                                                                "build.bad.added_error_rate=50%"]).scenario
    for replication in range(3):
        result = simulate_release(scenario, replication, 4)
        reached = next(s.time for s in result.stages if s.label == "20%" and s.event == "reached")
        [decision] = result.decisions
        assert decision.time - reached == pytest.approx(time_to_rollback(60.0, 3))
        assert (decision.gate, decision.stage, decision.action) == ("request-success-rate", "20%", "rollback")
        assert "failed checks 3 >= threshold 3 at 20%" in decision.rule


def test_a_good_build_passes_one_check_at_each_weight_in_order(folder):
    scenario = load_scenario(folder / "flagger_scenario.yaml", ["build.bad_probability=0%",
                                                                "rollout.steps[1]={set_weight: 100}"]).scenario
    result = simulate_release(scenario, 0, 4)
    reached = list({s.label: s.time for s in reversed(result.stages) if s.event == "reached"}.items())[::-1]
    assert [label for label, _ in reached] == ["20%", "40%", "60%", "100%"]  # the first time each is reached
    starts = {s.label: s.time for s in result.stages if s.event == "start"}
    for (label, time), following in zip(reached, ["40%", "60%"]):
        assert starts[following] == pytest.approx(time + 60.0)  # one passing check, then the next weight
    [decision] = result.decisions
    assert decision.outcome == "pass" and "every check passed at the last weight 60%" in decision.rule


def test_a_rollback_record_names_the_failing_metric_and_its_breach(folder):
    """Flagger halts at the first failing metric and logs its value against the limit (`checkCanaryMetrics`:
    "Halt shop.test advancement success rate 49.90% < 99%"); at the threshold it rolls back. The decision record says the
    same: the gate that failed (the release's detector), its metric, the measured error rate (the bad build's
    added 50% on the 0.1% baseline) and the broken limit, a failed measurement."""
    scenario = load_scenario(folder / "flagger_scenario.yaml", ["build.bad_probability=100%",
                                                                "build.bad.added_error_rate=50%"]).scenario
    for replication in range(2):
        result = simulate_release(scenario, replication, 4)
        [decision] = result.decisions
        assert (decision.gate, decision.outcome, decision.action, decision.metric, decision.measurement) == (
            "request-success-rate", "fail", "rollback", "error_rate", "failure")
        assert 0.4 < decision.value < 0.6  # the failing check's error rate: about 50% (Poisson noise, onsets)
        assert decision.rule == f"error_rate {decision.value:.6g} > max 0.01; failed checks 3 >= threshold 3 at 20%"
        assert result.outcome.detected_by == "request-success-rate"


def test_too_little_traffic_rolls_back_as_no_values_found(folder):
    """A check with fewer requests than `min_requests` is Flagger's "no values found": a failed check, not a
    breach, whatever the build; at the threshold the canary is rolled back and the record says why."""
    scenario = load_scenario(folder / "flagger_scenario.yaml", ["build.bad_probability=0%",
                                                                "gates.request-success-rate.min_requests=100000000"]).scenario
    [decision] = simulate_release(scenario, 0, 4).decisions
    assert (decision.gate, decision.outcome, decision.action, decision.metric, decision.measurement) == (
        "request-success-rate", "fail", "rollback", "error_rate", "failure")
    assert decision.rule == "no values found (no data counts as a failed check); failed checks 3 >= threshold 3 at 20%"
    assert 0 < decision.value < 100_000_000  # the requests the check saw


def test_the_promotion_record_is_the_first_gates_passing_measurement(folder):
    """Promotion at the last weight is recorded once, under the step's first gate (request-success-rate):
    its metric and its last measured value (a good build's error rate, about the 0.1% baseline), a
    successful measurement."""
    scenario = load_scenario(folder / "flagger_scenario.yaml", ["build.bad_probability=0%",
                                                                "rollout.steps[1]={set_weight: 100}"]).scenario
    [decision] = simulate_release(scenario, 0, 4).decisions
    assert (decision.gate, decision.stage, decision.outcome, decision.action, decision.metric, decision.measurement) == (
        "request-success-rate", "60%", "pass", "none", "error_rate", "success")
    assert 0 < decision.value < 0.01 and decision.value == pytest.approx(0.001, abs=0.001)


@pytest.mark.parametrize("script, threshold, expected", [
    # fail at 20% (stay), pass (-> 40%), fail, pass (-> 60%), fail: the 3rd failed check, counted over the run
    ("FPFPF", 3, ("fail", 5, "60%")),
    ("FPFPPF", 3, ("pass", 5, "60%")),  # passing at the last weight promotes before a later failure
    ("FFFFF", 5, ("fail", 5, "20%")),
    ("PPP", 1, ("pass", 3, "60%")),
])
def test_the_failed_check_counter_is_cumulative_over_the_analysis(folder, monkeypatch, script, threshold, expected):
    """An exact trace of the step's counter: each check's result is scripted (every gate measured the same)."""
    calls = []

    def scripted(spec, window):  # three gates: one check measures three times
        calls.append(spec)
        result = "success" if script[(len(calls) - 1) // 3] == "P" else "breach"
        return Measurement(result, spec.metric, 0.0, "scripted")

    monkeypatch.setattr(canary_module, "measure", scripted)
    scenario = load_scenario(folder / "flagger_scenario.yaml", [f"rollout.steps[0].canary.threshold={threshold}",
                                                                "rollout.steps[1]={set_weight: 100}"]).scenario
    result = simulate_release(scenario, 0, 4)
    outcome, checks, stage = expected
    [decision] = result.decisions
    assert (decision.outcome, len(calls) // 3, decision.stage) == (outcome, checks, stage)
    if outcome == "fail":
        assert f"failed checks {threshold} >= threshold {threshold}" in decision.rule


def test_an_approval_before_each_increase_comes_from_confirm_traffic_increase(folder):
    edit(folder / "canary.yaml", "      type: confirm-promotion\n", "      type: confirm-traffic-increase\n")
    loaded = load_scenario(folder / "flagger_scenario.yaml")
    steps = loaded.scenario.rollout.steps
    assert [type(s) for s in steps] == [CanaryStep, SetWeightStep] and steps[0].canary.approval is not None


def test_step_weights_are_the_schedule(folder):
    edit(folder / "canary.yaml", "    stepWeight: 20\n    maxWeight: 50\n", "    stepWeights: [1, 5, 25, 50]\n")
    step = load_scenario(folder / "flagger_scenario.yaml").scenario.rollout.steps[0].canary
    assert step.weights == [1, 5, 25, 50]


@pytest.mark.parametrize("old, new, expected", [
    ("    stepWeight: 20\n", "    iterations: 10\n    match: [{headers: {x-canary: {exact: insider}}}]\n",
     "canary.yaml:23:12: spec.analysis.match: A/B testing routes requests by header or cookie"),
    ("    stepWeight: 20\n", "    iterations: 10\n", "spec.analysis.iterations: blue/green switches all traffic at once"),
    ("    stepWeight: 20\n", "", "spec.analysis.stepWeight: a canary needs stepWeight (or stepWeights)"),
    ("  analysis:\n", "  skipAnalysis: true\n  analysis:\n", "spec.skipAnalysis: promotes every build without analysis"),
    ("      thresholdRange: {max: 5}\n", "      thresholdRange: {min: 5}\n",
     "canary.yaml:34:29: spec.analysis.metrics[2].thresholdRange.min: a floor on error_rate has no equivalent limit"),
    ("      thresholdRange: {min: 99}\n", "      thresholdRange: {max: 99}\n",
     "spec.analysis.metrics[0].thresholdRange.max: a ceiling on a success rate has no equivalent limit"),
    ("      thresholdRange: {max: 5}\n", "", "spec.analysis.metrics[2].thresholdRange: a metric without thresholdRange"),
    ("    threshold: 3\n", "    threshold: 0\n", "canary.yaml:21:16: spec.analysis.threshold: not a count of failed checks"),
    ("      templateRef: {name: not-found-percentage,", "      templateRef: {name: not-found,",
     "spec.analysis.metrics[2].templateRef.name: no MetricTemplate of this name among the templates given (got 'not-found'; allowed not-found-percentage, unused)"),
    ("      type: confirm-promotion\n", "      type: confirm-everything\n", "spec.analysis.webhooks[0].type: not a webhook type"),
])
def test_what_cannot_be_simulated_is_refused_where_it_is_written(folder, old, new, expected):
    edit(folder / "canary.yaml", old, new)
    found = problems(folder / "flagger_scenario.yaml")
    assert any(expected in m for m in found), found


def test_an_unmapped_custom_metric_names_the_metric_to_map(folder):
    edit(folder / "flagger_scenario.yaml", "  not-found-percentage: {measure: error_rate, scale: 100}\n", "  other: error_rate\n")
    [message] = problems(folder / "flagger_scenario.yaml")
    assert message.startswith(f"{folder / 'canary.yaml'}:32:") and "spec.analysis.metrics[2].name" in message
    assert "metrics: {not-found-percentage: {measure: <measure>, scale: <unit>}}" in message


def test_a_canary_step_refuses_gates_that_are_not_flagger_gates():
    found = problems(DATA / "flagger_native.yaml", ["gates.request-duration={semantics: threshold, metric: latency, max: 500ms}"])
    assert any("rollout.steps[0].canary.gates[1]: a canary step's gates need semantics: flagger" in m for m in found), found


def test_a_canary_step_must_be_followed_by_full_promotion():
    found = problems(DATA / "flagger_native.yaml", ["rollout.steps[2]={pause: 1m}"])
    assert any("rollout.steps[0].canary" in m and "add one after it" in m for m in found), found


@pytest.mark.parametrize("weights, message", [("[20, 20]", "weights must increase"), ("[0, 20]", "above 0")])
def test_canary_weights_must_increase_within_0_and_100(weights, message):
    found = problems(DATA / "flagger_native.yaml", [f"rollout.steps[0].canary.weights={weights}"])
    assert any("rollout.steps[0].canary.weights" in m and message in m for m in found), found


def test_a_low_traffic_warning_counts_against_the_canary_steps_threshold():
    from sim.rollout.warnings import scenario_warnings

    scenario = load_scenario(DATA / "flagger_native.yaml", ["gates.request-success-rate.min_requests=10000000"]).scenario
    [warning] = [w for w in scenario_warnings(scenario) if w.path[-2:] == ("request-success-rate", "min_requests")]
    assert "analysis at step 0 (20%:" in warning.message  # the first weight: the least traffic
    assert "the canary step's threshold 3 of them trigger rollback" in warning.message


def imported_step(folder: Path):
    loaded = load_scenario(folder / "flagger_scenario.yaml")
    return loaded.scenario.rollout.steps[0].canary, {n.path: n.note for n in loaded.imported}


@pytest.mark.parametrize("interval, seconds, note", [
    (None, 60.0, ("spec.analysis", "no interval: Flagger checks every 1m")),  # GetAnalysisInterval's default, 60s
    ("5s", 10.0, ("spec.analysis.interval", "5s is under 10s: Flagger checks every 10s")),  # its floor, 10s
    ("10s", 10.0, None),
    ("90s", 90.0, None),
])
def test_the_analysis_interval_is_flaggers_default_1m_and_floor_10s(folder, interval, seconds, note):
    """Flagger's `Canary.GetAnalysisInterval`: no interval is 60s, an interval under 10s is 10s, any other is
    as written; the import says where it read a default or the floor."""
    edit(folder / "canary.yaml", "    interval: 1m\n    threshold", "    threshold" if interval is None
         else f"    interval: {interval}\n    threshold")
    step, notes = imported_step(folder)
    assert step.interval == seconds
    said = {path: text for path, text in notes.items() if path in ("spec.analysis", "spec.analysis.interval")}
    assert said == (dict([note]) if note else {})


def test_an_interval_that_is_not_a_duration_is_refused_where_it_is_written(folder):
    edit(folder / "canary.yaml", "    interval: 1m\n    threshold", "    interval: soon\n    threshold")
    [message] = problems(folder / "flagger_scenario.yaml")
    assert message.startswith(f"{folder / 'canary.yaml'}:20:15: spec.analysis.interval: cannot read 'soon'")
    assert message.endswith("(got 'soon'; allowed a duration such as 1m or 30s)")


@pytest.mark.parametrize("written, weights", [
    ("stepWeight: 25", [25, 50, 75, 100]),  # maxWeight defaults to the total weight, 100
    ("stepWeight: 30", [30, 60, 90, 100]),  # a step past 100 is capped at 100
    ("stepWeight: 100", [100]),
    ("stepWeight: 1\n    maxWeight: 3", [1, 2, 3]),
    ("stepWeight: 1\n    maxWeight: 1", [1]),
    ("stepWeight: 50\n    maxWeight: 100", [50, 100]),
    ("stepWeights: [10, 100]", [10, 100]),
])
def test_the_weights_walk_flaggers_step_weight_up_to_its_max_weight(folder, written, weights):
    """Flagger's `advanceCanary`: the canary's weight grows by stepWeight while under maxWeight (default: the
    total weight, 100; `maxWeight`), never past 100; or walks stepWeights as listed (`nextStepWeight`)."""
    edit(folder / "canary.yaml", "    stepWeight: 20\n    maxWeight: 50\n", f"    {written}\n")
    step, _ = imported_step(folder)
    assert step.weights == weights


@pytest.mark.parametrize("written, where, said", [
    ("stepWeight: 0", "22:17: spec.analysis.stepWeight", "a canary needs stepWeight (or stepWeights) (got 0; allowed a percentage in (0, 100])"),
    ("stepWeight: 101", "22:17: spec.analysis.stepWeight", "a canary needs stepWeight (or stepWeights) (got 101; allowed a percentage in (0, 100])"),
    ("stepWeight: 20\n    maxWeight: 0", "23:16: spec.analysis.maxWeight", "not a percentage (got 0; allowed (0, 100])"),
    ("stepWeight: 20\n    maxWeight: 101", "23:16: spec.analysis.maxWeight", "not a percentage (got 101; allowed (0, 100])"),
    ("stepWeight: 20\n    maxWeight: '50'", "23:16: spec.analysis.maxWeight", "not a percentage (got '50'; allowed (0, 100])"),
    ("stepWeights: [0, 10]", "22:18: spec.analysis.stepWeights", "(got [0, 10]; "),
    ("stepWeights: [10, 101]", "22:18: spec.analysis.stepWeights", "(got [10, 101]; "),
    ("stepWeights: ['10', 20]", "22:18: spec.analysis.stepWeights", "(got ['10', 20]; "),
    ("stepWeights: [10, 10]", "22:18: spec.analysis.stepWeights", "(got [10, 10]; "),
    ("stepWeights: [10, 20, 15]", "22:18: spec.analysis.stepWeights", "(got [10, 20, 15]; "),
])
def test_weights_that_are_not_increasing_percentages_are_refused_where_they_are_written(folder, written, where, said):
    edit(folder / "canary.yaml", "    stepWeight: 20\n    maxWeight: 50\n", f"    {written}\n")
    [message] = problems(folder / "flagger_scenario.yaml")
    if said.startswith("(got"):
        said = "weights must be numbers in (0, 100], increasing " + said + "allowed [5, 10, 20, 50])"
    assert message == f"{folder / 'canary.yaml'}:{where}: {said}"
