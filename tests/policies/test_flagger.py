"""Flagger semantics against fluxcd/flagger pkg/controller/scheduler.go and scheduler_metrics.go."""

from __future__ import annotations

import pytest

from sim.policies.flagger import checks_to_promote, time_to_promote, time_to_rollback
from tests.policies.helpers import BAD, GOOD, run, win

FLAGGER = {"semantics": "flagger", "metric": "error_rate", "max": "1%"}


def test_a_passing_check_does_not_reset_the_counter():
    """FailedChecks is only ever incremented during a run: fail, pass, fail, pass, fail -> rollback
    on the third failure with threshold 3."""
    verdicts = run({**FLAGGER, "threshold": 3}, [win(BAD), win(GOOD), win(BAD), win(GOOD), win(BAD), win(GOOD)])
    assert [v.outcome for v in verdicts] == ["continue"] * 4 + ["fail"]
    assert verdicts[-1].action == "rollback"
    assert "failed checks 3 >= threshold 3" in verdicts[-1].rule


def test_no_data_counts_as_a_failed_check():
    verdicts = run({**FLAGGER, "threshold": 2}, [win(None), win(None)])
    assert [v.measurement for v in verdicts] == ["failure", "failure"]
    assert verdicts[-1].outcome == "fail"
    assert "no values found" in verdicts[-1].rule


def test_low_traffic_is_a_failed_check_too():
    assert run({**FLAGGER, "min_requests": 500}, [win(GOOD, requests=100)])[0].outcome == "fail"


def test_threshold_defaults_to_one():
    assert run(FLAGGER, [win(BAD)])[0].outcome == "fail"


def test_value_equal_to_max_passes():
    """scheduler_metrics.go: `val > *tr.Max` halts; equality does not."""
    assert run(FLAGGER, [win(0.01)])[0].measurement == "success"


def test_next_tick_lag_copies_the_code():
    verdicts = run({**FLAGGER, "threshold": 2, "rollback_on_next_check": True}, [win(BAD), win(BAD), win(GOOD)])
    assert [v.outcome for v in verdicts] == ["continue", "continue", "fail"]


def test_promotes_after_max_weight_over_step_weight_successful_checks():
    spec = {**FLAGGER, "threshold": 2, "step_weight": 10, "max_weight": 50}
    verdicts = run(spec, [win(GOOD), win(BAD), win(GOOD), win(GOOD), win(GOOD), win(GOOD), win(GOOD)])
    assert [v.outcome for v in verdicts] == ["continue"] * 5 + ["pass"]


def test_documented_time_to_promote_and_to_roll_back():
    """Flagger docs: promote >= interval x maxWeight/stepWeight; roll back = interval x threshold."""
    assert time_to_promote(60.0, 50, 10) == 300.0
    assert time_to_promote(30.0, 50, 5) == 300.0
    assert time_to_rollback(60.0, 10) == 600.0
    assert checks_to_promote(50, 10) == 5 and checks_to_promote(50, 20) == 3


def test_rollback_time_formula_matches_the_policy_when_every_check_fails():
    interval, threshold = 60.0, 5
    verdicts = run({**FLAGGER, "threshold": threshold, "interval": "1m"}, [win(BAD)] * 10)
    assert len(verdicts) * interval == time_to_rollback(interval, threshold)


@pytest.mark.parametrize("bad", [{"interval": "5s"}, {"step_weight": 10}, {"step_weight": 60, "max_weight": 50}])
def test_bad_specs_are_rejected(bad):
    from pydantic import ValidationError

    from sim.policies import parse_policy
    with pytest.raises(ValidationError):
        parse_policy({**FLAGGER, **bad})
