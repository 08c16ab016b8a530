"""`check`'s prediction against a pipeline whose timing is known by hand: 10m build, a deploy of a few
seconds, a 10m pause, a deploy of a few seconds; and a gate that fails every bad build at its first check."""

import math

from typer.testing import CliRunner

from sim.cli import app
from sim.commands.predict import predict
from tests.rollout.helpers import release_scenario

STEPS = [{"set_weight": 10}, {"pause": "10m"}, {"set_weight": 100}]


def test_promotion_takes_the_build_and_the_pause_plus_two_quick_deploys():
    scenario = release_scenario(STEPS, build={"bad": {"added_error_rate": "50%"}})
    prediction = predict(scenario, entropy=7, releases=30)
    promotion = prediction.promotion
    assert (promotion.of, promotion.among) == (30, 30) and prediction.shipped_share == 1.0
    for estimate in (promotion.p50[0], promotion.p95[0]):
        assert 1200.0 < estimate < 1230.0  # 600 s build + 600 s pause + two pull waves of ~100 MB each
    assert prediction.abort.of == 0  # no gate: no bad build is ever aborted ...
    assert "none of 30 releases" in prediction.abort.describe()  # ... and the line says so, with no number


def test_a_gate_that_fails_at_its_first_check_aborts_one_interval_after_the_canary():
    gates = {"errors": {"semantics": "argo", "metric": "error_rate", "max": "5%", "interval": "1m"}}
    scenario = release_scenario([{"set_weight": 10}, {"analysis": {"gates": ["errors"]}}, {"set_weight": 100}],
                                gates=gates, build={"bad": {"added_error_rate": "50%"}})
    abort = predict(scenario, entropy=7, releases=30).abort
    assert abort.of == 30
    low, high = 600.0 + 60.0, 600.0 + 60.0 + 10.0  # build, then one interval of checks after a wave of seconds
    assert low < abort.p50[0] < high and low < abort.p95[0] < high
    assert all(math.isnan(x) or low <= x <= high for x in abort.p95)


def test_check_prints_the_prediction_for_an_imported_rollout(root):
    result = CliRunner().invoke(app, ["check", str(root / "tests/controllers/data/scenario.yaml")])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("predicted: ")]
    assert len(lines) == 2 and "over 60 of 60 releases" in lines[0]
