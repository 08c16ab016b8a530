"""The registry dispatches every semantics; specs read from scenario-like mappings."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from sim.policies import POLICIES, Policy, check, parse_policy, start
from tests.policies.helpers import GOOD, win

MINIMAL = {
    "threshold": {"max": "1%"},
    "argo": {"semantics": "argo", "max": "1%"},
    "flagger": {"semantics": "flagger", "max": "1%"},
    "kayenta": {"semantics": "kayenta"},
    "sequential": {"semantics": "sequential"},
}


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_every_semantics_starts_and_checks(name):
    spec = parse_policy(MINIMAL[name])
    assert spec.semantics == name and isinstance(spec, POLICIES[name].spec)
    state, verdict = check(spec, start(spec), win(GOOD))
    assert verdict.outcome in ("continue", "pass", "inconclusive", "fail")
    assert verdict.action in ("none", "pause", "rollback", "hotfix")


def test_gates_in_a_scenario_section():
    class Scenario(BaseModel):
        gates: dict[str, Policy]

    s = Scenario(gates={"errors": {"metric": "error_rate", "max": "1%", "interval": "1m", "failure_limit": 3,
                                   "semantics": "argo"},
                        "slow": {"metric": "latency", "max": "500ms", "consecutive": 2}})
    assert s.gates["errors"].failure_limit == 3 and s.gates["errors"].interval == 60.0
    assert s.gates["slow"].semantics == "threshold" and s.gates["slow"].max == 0.5


def test_errors_name_the_field():
    with pytest.raises(ValidationError) as info:
        parse_policy({"semantics": "argo", "max": "1%", "failure_limt": 3})
    assert "failure_limt" in str(info.value)
