"""Backtests: a release replays a resampled real history, and the spike is injected into it."""

import numpy as np
from typer.testing import CliRunner

from sim.cli import app
from sim.load.loader import load_scenario
from sim.rollout.release import make_context
from sim.rollout.simulate import release_setup, simulate_release

HISTORY = "data/history_example.csv"


def test_a_release_replays_the_real_requests_and_injects_the_spike(root):
    scenario = load_scenario(root / "scenarios/slack_2020_pipeline.yaml",
                             [f"traffic.history={HISTORY}", "build.bad.added_error_rate=50%",
                              "rollout.steps[0].smoke_test.detection=0"]).scenario
    result = simulate_release(scenario, 0, 7)
    replay = make_context(scenario, 0, 7, release_setup(scenario)).release.replay
    totals = np.array([s.new_requests + s.old_requests for s in result.samples])
    np.testing.assert_array_equal(totals, replay.requests[: len(totals)])  # every real request is served once
    spiked = [s for s in result.samples if s.new_requests > 0 and s.bad_share > 0 and s.new_true_rate > 0.4]
    assert spiked, "the bad build's spike shows up on the new cohort"
    real = [s for s in result.samples if s.old_requests > 0]
    rate = np.array([s.old_true_rate for s in real])
    expected = np.array([replay.errors[int(s.time // 60) - 1] / replay.requests[int(s.time // 60) - 1] for s in real])
    np.testing.assert_allclose(rate, np.minimum(expected * np.where([s.incident for s in real], 3, 1), 1))


def test_bad_history_file_is_a_located_error(tmp_path, root):
    bad = tmp_path / "h.csv"
    bad.write_text("timestamp,requests,errors\n2024-01-01T00:00:00Z,10,2\n2024-01-01T00:01:00Z,5,7\n")
    result = CliRunner().invoke(app, ["evaluate", str(root / "scenarios/threshold_policies.yaml"), "--metrics", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:3:24: errors: more errors than requests (5) (got '7'; allowed 0..5, at most requests)" in result.output
