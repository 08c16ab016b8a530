"""Sweeps: the grid, the Pareto front, and a sweep from the command line."""

import json

import pandas as pd
from typer.testing import CliRunner

from sim.cli import app
from sim.evaluation.sweep import grid_points, pareto_front


def test_grid_points_turn_gate_keys_into_policy_overrides():
    points = grid_points("p", {"gates.errors.max": ["1%", "2%"], "rollout.steps[1].pause": ["5m"]})
    assert [p.overrides for p in points] == [
        ('evaluation.policies.p.errors.max="1%"', 'rollout.steps[1].pause="5m"'),
        ('evaluation.policies.p.errors.max="2%"', 'rollout.steps[1].pause="5m"'),
    ]


def test_pareto_front_keeps_exactly_the_non_dominated_points():
    table = pd.DataFrame({
        "false_rollback_rate": [0.0, 0.1, 0.0, 0.2, 0.05],
        "bad_requests_mean": [300, 100, 300, 50, 400],
        "lead_time_good_p50": [10, 10, 12, 10, 9],
    })
    # 0: not beaten by anyone on all three; 2 is beaten by 0 (same, same, worse); 4 has the best lead time
    assert pareto_front(table).tolist() == [True, True, False, True, True]


def test_sweep_from_the_command_line(root):
    result = CliRunner().invoke(app, ["sweep", str(root / "scenarios/threshold_policies.yaml"), "--releases", "8",
                                      "--workers", "1", "--format", "json",
                                      "--set", "evaluation.sweep.grid={gates.errors.max_ratio: [1.2, 3]}"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [p["point"] for p in data["points"]] == ["max_ratio=1.2", "max_ratio=3"]
    assert data["pareto"] and set(data["pareto"]) <= {"max_ratio=1.2", "max_ratio=3"}
    low, high = data["points"]
    assert high["false_rollback_rate"] <= low["false_rollback_rate"]  # same releases, looser threshold
