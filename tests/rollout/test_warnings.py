"""Warnings before a run: each fires on a scenario built for it, with the numbers of a hand computation,
and stays silent once the setting is corrected; the shipped scenarios give none; `check` prints them
located, on stderr, and exits 0."""

import csv
import types

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.commands.check import warning_lines
from sim.load.loader import load_scenario
from sim.policies import check as policy_check
from sim.policies import parse_policy, start, window_of
from sim.policies.sequential import SequentialSpec
from sim.rollout.nominal import walk
from sim.rollout.warnings import ScenarioWarning, scenario_warnings, sequential_dispersion
from tests.conftest import ROOT
from tests.rollout.helpers import release_scenario


def keyed(scenario) -> dict[str, str]:
    return {w.key: w.message for w in scenario_warnings(scenario)}


def threshold(min_requests, **extra):
    return {"semantics": "threshold", "metric": "error_rate", "max": "1%", "min_requests": min_requests, **extra}


# ---- 1. min_requests: analysis steps -----------------------------------------------------------------------
# 200 production hosts; set_weight 5 -> ceil(0.05 x 200) = 10 hosts at 2 req/s at mean load, x1.5 at the
# peak (amplitude 50%): 10 x 2 x 1.5 x 60 s = 1,800 requests per 1m check at the peak, 1,200 at mean load.
CANARY = [{"set_weight": 5}, {"analysis": {"gates": ["g"], "duration": "10m"}}, {"set_weight": 100}]
TRAFFIC = {"requests_per_host": 2, "diurnal": {"amplitude": "50%"}}


def canary(min_requests, **gate):
    return release_scenario(CANARY, gates={"g": threshold(min_requests, **gate)}, traffic=TRAFFIC)


def test_an_analysis_that_never_reaches_min_requests_warns_with_the_numbers():
    message = keyed(canary(2000))["gates.g.min_requests"]
    assert "analysis at step 1 (5%: 10 production hosts on the new build)" in message
    assert "at most 1,800 new-build requests per check" in message and "below min_requests 2000" in message
    assert "every check is low traffic" in message and "the gate can never fail" in message
    assert message.endswith("lower min_requests to at most 1,800 or raise interval to 2m00s")  # ceil(2000/1800) = 2


def test_below_min_requests_only_off_the_peak_is_a_milder_warning():
    message = keyed(canary(1500))["gates.g.min_requests"]
    assert "1,200 new-build requests per check at mean load (at most 1,800 at the peak)" in message
    assert "checks off the peak is low traffic" in message


def test_an_analysis_that_reaches_min_requests_is_silent():
    assert keyed(canary(1000)) == {}
    assert keyed(canary(2000, interval="2m")) == {}  # a 2m window holds 3,600 at the peak, 2,400 at mean load


def test_each_semantics_says_what_a_low_traffic_check_does():
    argo = release_scenario(CANARY, gates={"g": {**threshold(2000), "semantics": "argo", "inconclusive_limit": 2}},
                            traffic=TRAFFIC)
    flagger = release_scenario(CANARY, gates={"g": {**threshold(2000), "semantics": "flagger", "threshold": 3}},
                               traffic=TRAFFIC)
    assert "argo: an Inconclusive measurement; more than inconclusive_limit 2" in keyed(argo)["gates.g.min_requests"]
    assert "flagger: a failed check; 3 of them trigger rollback" in keyed(flagger)["gates.g.min_requests"]


def test_an_analysis_while_only_staging_runs_the_new_build_has_no_data():
    steps = [{"stage": "staging"}, {"analysis": {"gates": ["g"], "duration": "5m"}}, {"set_weight": 100}]
    fleet = {"hosts": 200, "tiers": {"staging": 4, "canary": "5%"}}
    found = keyed(release_scenario(steps, gates={"g": threshold(0)}, fleet=fleet))
    assert list(found) == ["rollout.steps[1].analysis"]
    assert "staging: 4 staging hosts on the new build" in found["rollout.steps[1].analysis"]
    fixed = [steps[0], {"set_weight": 10}, steps[1], steps[2]]
    assert keyed(release_scenario(fixed, gates={"g": threshold(0)}, fleet=fleet)) == {}


# ---- 1. min_requests: background gates ----------------------------------------------------------------------
# 10 dogfood hosts at 1 req/s and 190 production hosts at 1 req/s, no diurnal swing. Per 1m check:
# dogfood 10 x 60 = 600; 10%: (ceil(19) + 10) x 60 = 1,740; 100%: (190 + 10) x 60 = 12,000.
DOGFOOD = [{"stage": "dogfood"}, {"pause": "5m"}, {"set_weight": 10}, {"pause": "5m"}, {"set_weight": 100}]
FLAT = {"requests_per_host": 1, "dogfood_requests_per_host": 1, "diurnal": {"amplitude": 0}}


def background(min_requests):
    return release_scenario(DOGFOOD, gates={"g": threshold(min_requests)}, background=["g"], traffic=FLAT,
                            fleet={"hosts": 200, "tiers": {"dogfood": 10, "canary": "5%"}})


def test_a_background_gate_says_from_which_weight_it_can_decide():
    message = keyed(background(1000))["gates.g.min_requests"]
    assert message.startswith("background threshold gate g cannot decide before 10%: the new build serves at most "
                              "dogfood 600 requests per check")
    assert "it first can at 10% (1,740 at the peak" in message
    assert message.endswith("lower min_requests to at most 600 or raise interval to 2m00s")


def test_a_background_gate_that_never_can_decide_says_so():
    message = keyed(background(20_000))["gates.g.min_requests"]
    assert message.startswith("background threshold gate g can never decide: the new build serves at most "
                              "dogfood 600, 10% 1,740, 100% 12,000 requests per check")


def test_a_background_gate_that_decides_from_the_first_step_is_silent():
    assert keyed(background(600)) == {}


# ---- 1. min_requests: a backtest -----------------------------------------------------------------------------
def history_levels() -> tuple[int, float]:
    """Busiest and median requests per interval of the example history, read with the csv module."""
    with open(ROOT / "scenarios/data/history_example.csv", newline="") as handle:
        requests = [int(row["requests"]) for row in csv.DictReader(handle)]
    return max(requests), float(np.median(requests))


def test_threshold_policies_on_the_example_history_warn_that_the_canary_never_decides():
    """2,000 hosts: 10 staging, 40 dogfood (5 req/s, weight 5/50), 1,950 production. At 2%: ceil(39) = 39
    production + 40 dogfood hosts, a share (39 + 4) / (1950 + 4) of the history's requests."""
    loaded = load_scenario(ROOT / "scenarios/threshold_policies.yaml", ["traffic.history=data/history_example.csv"])
    busiest, _ = history_levels()
    at_canary = busiest * 43 / 1954
    found = keyed(loaded.scenario)
    message = found["evaluation.policies.argo-absolute-1pct.canary-errors.min_requests"]
    assert f"at most {at_canary:,.0f} new-build requests per check" in message and "below min_requests 500" in message
    assert "every check is low traffic (argo: an Inconclusive measurement" in message
    # the background gate `errors` (min 1000) first reaches it at 25%: ceil(487.5) = 488 + 4 of 1954
    assert f"it first can at 25% ({busiest * 492 / 1954:,.0f} at the peak" in \
        found["evaluation.policies.argo-absolute-1pct.errors.min_requests"]
    for policy in ("argo-absolute-1pct", "flagger-absolute-0.5pct", "ratio-to-baseline"):
        assert f"evaluation.policies.{policy}.canary-errors.min_requests" in found


def test_threshold_policies_with_synthetic_traffic_can_decide_and_is_silent():
    """At 2% the canary serves (39 x 50 + 40 x 5) x 60 = 129,000 requests per check at mean load."""
    assert scenario_warnings(load_scenario(ROOT / "scenarios/threshold_policies.yaml").scenario) == []


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_scenarios_give_no_warnings(path):
    assert scenario_warnings(load_scenario(path).scenario) == []


# ---- 2. Kayenta with one data point per cohort -------------------------------------------------------------------
def kayenta(interval):
    gate = {"semantics": "kayenta", "metric": "error_rate", "interval": interval}
    return release_scenario(CANARY, gates={"g": gate})


def test_a_kayenta_judge_with_one_point_per_check_warns():
    message = keyed(kayenta("1m"))["gates.g.interval"]
    assert "its first check judges 1 data point per cohort" in message
    assert message.endswith("set interval to at least 2m00s")
    assert keyed(kayenta("2m")) == {}


def test_the_kayenta_judge_does_fail_on_one_point_per_cohort():
    """What the warning claims, from the policy itself: one interval each, different rates -> score 0, fail."""
    spec = parse_policy({"semantics": "kayenta", "metric": "error_rate", "interval": "1m", "count": 5})
    _, verdict = policy_check(spec, start(spec), window_of(60.0, new=([1000], [1]), old=([19000], [20])))
    assert verdict.outcome == "fail" and verdict.value == 0.0


# ---- 3. sequential test under over-dispersion ----------------------------------------------------------------------
# 10% of 200 = 20 hosts x 50 req/s x 60 s x 0.1% = 60 errors per interval: 1 + 0.2^2 x 60 = 3.4 times the
# binomial variance; at 100%: 600 errors, 1 + 0.04 x 600 = 25.
def sequential(dispersion, **traffic):
    steps = [{"set_weight": 10}, {"pause": "10m"}, {"set_weight": 100}]
    gate = {"semantics": "sequential", "alpha": 0.05}
    return release_scenario(steps, gates={"s": gate}, background=["s"],
                            traffic={"dispersion": dispersion, "error_rate": "0.1%", **traffic})


def test_a_binomial_sequential_test_under_dispersion_warns_with_the_variance_inflation():
    message = keyed(sequential(0.2))["gates.s.variance"]
    assert "traffic.dispersion 0.2" in message
    assert "3.4x the binomial variance at 10% (60 errors per interval) up to 25x at 100% (600)" in message
    assert message.endswith("use variance: baseline")
    assert keyed(sequential(0)) == {}


def test_a_sequential_test_warns_only_where_the_extra_variance_matters():
    """At dispersion 0.05 the excess reaches the binomial variance at 1 / 0.05^2 = 400 errors per interval
    (sim/policies/sequential.py): 600 at 100% with 50 req/s per host warns (2.5x); 12 with 1 req/s does not."""
    assert "2.5x at 100% (600)" in keyed(sequential(0.05))["gates.s.variance"]
    assert keyed(sequential(0.05, requests_per_host=1)) == {}


@pytest.mark.skipif("variance" not in SequentialSpec.model_fields, reason="SequentialSpec has no variance yet")
def test_a_sequential_test_with_baseline_variance_in_the_scenario_is_silent():
    steps = [{"set_weight": 10}, {"pause": "10m"}, {"set_weight": 100}]
    gate = {"semantics": "sequential", "alpha": 0.05, "variance": "baseline"}
    assert keyed(release_scenario(steps, gates={"s": gate}, background=["s"], traffic={"dispersion": 0.2})) == {}


def test_a_sequential_test_with_baseline_variance_is_silent():
    scenario = sequential(0.2)
    views = walk(scenario, scenario.gates)
    spec = types.SimpleNamespace(alpha=0.05, variance="baseline")
    assert sequential_dispersion(scenario, views, ("gates", "s"), "s", spec) == []


def test_a_sequential_test_on_a_backtest_is_silent(tmp_path):
    """A replayed interval gives both cohorts the same real error rate: the binomial model holds there."""
    history = tmp_path / "h.csv"
    history.write_text("timestamp,requests,errors\n" + "".join(
        f"2024-03-04T00:{m:02d}:00Z,100000,100\n" for m in range(30)))
    assert keyed(sequential(0.2, history=str(history))) == {}


# ---- 4. onset after the gates stop watching ------------------------------------------------------------------------
# set_weight 10 at t=0 (first real traffic), pause 10m, set_weight 100, pause 5m: a background gate watches
# the first hosts for 15m (deploy time not counted).
BAKE = [{"set_weight": 10}, {"pause": "10m"}, {"set_weight": 100}, {"pause": "5m"}]


def onset(value, steps=BAKE, background=("g",), **build):
    return release_scenario(steps, gates={"g": threshold(0)}, background=background,
                            build={"bad_probability": 1, "bad": {"added_error_rate": "2%", "onset": value}, **build})


def test_an_onset_after_the_last_watch_warns():
    message = keyed(onset("20m"))["build.bad.onset"]
    assert "median 20m00s after a host goes live" in message
    assert "at most 15m00s (background gates from step 0 to the last step)" in message
    assert keyed(onset({"dist": "lognormal", "median": "10m", "p95": "1h"})) == {}


def test_an_analysis_with_count_watches_until_it_passes():
    """threshold count 5 at 1m: the analysis passes after 5m, so it watches the canary for 5m."""
    steps = [{"set_weight": 10}, {"analysis": {"gates": ["g"]}}, {"set_weight": 100}]
    scenario = release_scenario(steps, gates={"g": threshold(0, count=5)},
                                build={"bad_probability": 1, "bad": {"onset": "6m"}})
    assert "at most 5m00s (analysis at step 1 ends)" in keyed(scenario)["build.bad.onset"]


def test_an_onset_matters_only_when_a_build_can_be_bad():
    assert keyed(onset("20m", bad_probability=0)) == {}


# ---- rendering ------------------------------------------------------------------------------------------------------
SCENARIO = """\
version: 1
name: located
fleet: {hosts: 200, tiers: {canary: 5%}}
strategies: {pull: {kind: pull}}
rollout:
  strategy: pull
  steps:
    - set_weight: 5
    - analysis: {gates: [g], duration: 10m}
    - set_weight: 100
gates:
  g: {metric: error_rate, max: 1%, min_requests: 2000}
traffic: {requests_per_host: 2, diurnal: {amplitude: 50%}}
build: {bad_probability: 0}
"""


def test_check_prints_the_located_warning_on_stderr_and_exits_0(tmp_path):
    path = tmp_path / "a:100:b.yaml"  # `:100:` is an emoji code to rich: it must print literally
    path.write_text(SCENARIO)
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 0
    assert ": ok: scenario 'located'" in result.stdout and "warning" not in result.stdout
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{path}:12:50: gates.g.min_requests: warning: threshold gate g, analysis at step 1")


def test_warnings_are_located_in_an_included_file_and_at_a_set_override(tmp_path):
    (tmp_path / "base.yaml").write_text(SCENARIO.replace("name: located", "name: base"))
    (tmp_path / "top.yaml").write_text("version: 1\nname: top\ninclude: base.yaml\n")
    [line] = warning_lines(load_scenario(tmp_path / "top.yaml"))
    assert line.startswith(f"{tmp_path / 'base.yaml'}:12:50: gates.g.min_requests: warning: ")
    [line] = warning_lines(load_scenario(tmp_path / "top.yaml", ["gates.g.min_requests=5000"]))
    assert line.startswith("--set gates.g.min_requests: warning: ")


def test_a_warning_key_renders_list_items_and_dotted_names():
    assert ScenarioWarning(("rollout", "steps", 2, "analysis"), "m").key == "rollout.steps[2].analysis"
    assert ScenarioWarning(("evaluation", "policies", "p-0.5pct", "errors"), "m").key == \
        "evaluation.policies.p-0.5pct.errors"
