"""Sweeps: the grid, the Pareto front, and a sweep from the command line."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.commands.common import prepare
from sim.commands.evaluate import evaluate
from sim.commands.sweep import closest, recommendation, sweep, write
from sim.evaluation.sweep import grid_points, pareto_front


def test_grid_points_turn_gate_keys_into_policy_overrides():
    points = grid_points("p", {"gates.errors.max": ["1%", "2%"], "rollout.steps[1].pause": ["5m"]})
    assert [p.overrides for p in points] == [
        ('evaluation.policies.p.errors.max="1%"', 'rollout.steps[1].pause="5m"'),
        ('evaluation.policies.p.errors.max="2%"', 'rollout.steps[1].pause="5m"'),
    ]
    # both change only the gates beyond the shared pause: one scenario, whose first rounds they share
    assert {p.scenario_overrides for p in points} == {('rollout.steps[1].pause="5m"',)}


def test_pareto_front_keeps_exactly_the_non_dominated_points():
    table = pd.DataFrame({
        "false_rollback_rate": [0.0, 0.1, 0.0, 0.2, 0.05],
        "bad_requests_mean": [300, 100, 300, 50, 400],
        "lead_time_good_p50": [10, 10, 12, 10, 9],
    })
    # 0: not beaten by anyone on all three; 2 is beaten by 0 (same, same, worse); 4 has the best lead time
    assert pareto_front(table).tolist() == [True, True, False, True, True]
    # among the passing points (1 and 3 fail): 2 is still beaten by 0; 4 keeps its best lead time
    passing = [True, False, True, False, True]
    assert pareto_front(table, among=passing).tolist() == [True, False, False, False, True]


def test_sweep_from_the_command_line(root):
    result = CliRunner().invoke(app, ["sweep", str(root / "scenarios/threshold_policies.yaml"), "--releases", "8",
                                      "--workers", "1", "--format", "json",
                                      "--set", "evaluation.sweep.grid={gates.errors.max_ratio: [1.2, 3]}",
                                      "--set", "evaluation.acceptance={max_false_rollback_rate: 100%, "
                                               "max_blocked_rate: 100%}"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["results"]
    assert [p["point"] for p in data["points"]] == ["max_ratio=1.2", "max_ratio=3"]
    assert data["pareto"] and set(data["pareto"]) <= {"max_ratio=1.2", "max_ratio=3"}
    assert data["recommended"] in data["pareto"] and data["recommendation"].startswith("adopt #")
    low, high = data["points"]
    assert high["false_rollback_rate"] <= low["false_rollback_rate"]  # same releases, looser threshold
    for point in data["points"]:  # every measure with its interval, every point judged
        assert point["false_rollback_rate_low"] <= point["false_rollback_rate"] <= point["false_rollback_rate_high"]
        assert point["status"] == "pass" and point["criterion false_rollback_rate"] == "pass"


ACCEPT = "evaluation.acceptance={max_false_rollback_rate: 5%, max_blocked_rate: 100%}"
GRID = "evaluation.sweep.grid={gates.errors.max_ratio: [1.05, 2], gates.errors.consecutive: [1, 3]}"


def test_a_sweep_recommends_only_a_point_that_passes_and_shows_failing_points_apart(root, tmp_path):
    loaded, entropy = prepare(str(root / "scenarios/threshold_policies.yaml"), [GRID, ACCEPT], None, None)
    run = sweep(loaded, entropy, workers=1, releases=150)
    t = run.table.set_index("point")
    # a ratio of 1.05 on one breach rolls back most good builds: it fails, and is never on the front
    assert t.loc["max_ratio=1.05, consecutive=1", "status"] == "fail"
    assert not t[t.status != "pass"].pareto.any() and not t[t.status != "pass"].recommended.any()
    chosen = run.recommended
    assert chosen is not None and chosen.status == "pass" and chosen.false_rollback_rate_high <= 0.05
    passing = t[t.status == "pass"]
    assert chosen.bad_requests_mean == passing.bad_requests_mean.min()  # best on the default objective
    assert recommendation(run).startswith(f"adopt #{chosen['#']} {chosen.point}")
    assert run.exit_code == 0
    written = write(run, tmp_path / "sweep", False, [GRID, ACCEPT])
    assert {p.name for p in (tmp_path / "sweep").iterdir()} >= {"sweep.csv", "pareto.png", "acceptance.csv",
                                                                  "summary.json", "manifest.json"}
    assert written.out == tmp_path / "sweep"


def test_when_no_point_passes_the_sweep_says_which_came_closest_and_exits_1(root):
    strict = "evaluation.acceptance={max_false_rollback_rate: 0%, caught_before_exposure: 100%, exposure_limit: 0%}"
    loaded, entropy = prepare(str(root / "scenarios/threshold_policies.yaml"), [GRID, strict], None, None)
    run = sweep(loaded, entropy, workers=1, releases=40)
    assert run.recommended is None and not run.table.pareto.any()
    line = recommendation(run)
    near = closest(run)
    assert line.startswith(f"no point passes; closest: #{near['#']} {near.point} (fail on ")
    assert near.failed_criteria == run.table.failed_criteria.min()
    assert run.status == "fail" and run.exit_code == 1


def test_a_sweep_point_is_the_evaluation_of_that_setting_alone(root):
    """Points share first rounds and releases; the numbers are those of evaluating the setting on its own."""
    loaded, entropy = prepare(str(root / "scenarios/threshold_policies.yaml"), [GRID, ACCEPT], None, None)
    run = sweep(loaded, entropy, workers=1, releases=30)
    alone, _ = prepare(str(root / "scenarios/threshold_policies.yaml"),
                       [ACCEPT, "evaluation.policies.ratio-to-baseline.errors.max_ratio=2",
                        "evaluation.policies.ratio-to-baseline.errors.consecutive=3"], None, entropy)
    only = alone.scenario.evaluation.model_copy(
        update={"policies": {"p": alone.scenario.evaluation.policies["ratio-to-baseline"]}})
    single = evaluate(type(alone)(alone.scenario.model_copy(update={"evaluation": only}), alone.source, ()),
                      entropy, 1, None, 30)
    est = single.estimates.set_index("measure").value
    row = run.table.set_index("point").loc["max_ratio=2, consecutive=3"]
    for measure in ("false_rollback_rate", "miss_rate", "bad_requests_mean", "lead_time_good_p50"):
        assert row[measure] == pytest.approx(est[measure], nan_ok=True)
