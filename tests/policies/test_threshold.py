"""deploysim's threshold semantics and the shared measurement rules."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from sim.policies import parse_policy
from sim.policies.rules import measure, ratio
from sim.policies.window import window_of
from tests.policies.helpers import BAD, GOOD, run, win

THRESHOLD = {"metric": "error_rate", "max": "1%"}


def test_min_requests_gives_inconclusive_not_failure():
    verdicts = run({**THRESHOLD, "min_requests": 500}, [win(BAD, requests=100)])
    assert verdicts[0].measurement == "inconclusive"
    assert verdicts[0].outcome == "continue"


def test_consecutive_3_needs_three_breaches_in_a_row():
    verdicts = run({**THRESHOLD, "consecutive": 3}, [win(BAD), win(BAD), win(GOOD), win(BAD), win(BAD), win(BAD)])
    assert [v.outcome for v in verdicts] == ["continue"] * 5 + ["fail"]
    assert "3 breaches in a row" in verdicts[-1].rule


def test_inconclusive_measurements_neither_count_nor_break_a_streak():
    low = win(BAD, requests=100)
    verdicts = run({**THRESHOLD, "consecutive": 2, "min_requests": 500}, [win(BAD), low, low, win(BAD)])
    assert [v.outcome for v in verdicts] == ["continue", "continue", "continue", "fail"]


def test_no_data_is_inconclusive():
    assert run(THRESHOLD, [win(None)])[0].measurement == "inconclusive"


def test_count_passes():
    assert run({**THRESHOLD, "count": 2}, [win(GOOD), win(GOOD)])[-1].outcome == "pass"


def test_ratio_and_increase_rules_compare_with_the_old_cohort():
    spec = parse_policy({"metric": "error_rate", "max_ratio": 2})
    assert measure(spec, win(0.005, old_rate=0.002)).result == "breach"     # 2.5x
    assert measure(spec, win(0.003, old_rate=0.002)).result == "success"    # 1.5x
    spec = parse_policy({"metric": "error_rate", "max_increase": "0.5%"})
    assert measure(spec, win(0.008, old_rate=0.002)).result == "breach"
    assert measure(spec, win(0.006, old_rate=0.002)).result == "success"


def test_ratio_edge_cases():
    assert ratio(0.0, 0.0) == 1.0 and ratio(0.1, 0.0) == math.inf and ratio(0.2, 0.1) == 2.0


def test_latency_limits_are_durations():
    spec = parse_policy({"metric": "latency", "max": "300ms"})
    slow = window_of(60, new=([100], [0]), old=([100], [0]), latency=([0.4], [0.2]))
    assert measure(spec, slow).result == "breach"


@pytest.mark.parametrize("bad", [{"metric": "error_rate"}, {"max": "150%"}, {"max": "5ms"},
                                 {"max": "1%", "consecutive": 0}, {"max": "1%", "typo": 1},
                                 {"metric": "latency", "max": "1%"}])
def test_bad_specs_are_rejected(bad):
    with pytest.raises(ValidationError):
        parse_policy(bad)
