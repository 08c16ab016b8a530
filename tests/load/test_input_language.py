"""One input language everywhere: compound durations (`1h30m`) in every duration field, shares as `25%` or
`0.25` in every share field, percents (`set_weight`) as `10%` or `10`; garbage refused with what is allowed.

Expected values are written by hand (seconds in a minute, an hour, a day), not computed by the parser.
"""

import re
import types
from typing import Annotated, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from sim.errors import ScenarioError
from sim.load.loader import load_scenario
from sim.quantities import DURATION_PATTERN
from sim.spec.scenario import Scenario
from sim.units import UnitError, parse_duration, parse_percent

DURATIONS = [
    ("90s", 90), ("250ms", 0.25), ("5m", 300), ("2d", 172_800), ("1w", 604_800), ("1.5h", 5_400),
    ("1h30m", 5_400), ("1m30s", 90), ("1h 30m", 5_400), ("1d2h", 93_600), ("2h0m5s", 7_205),
    ("1s500ms", 1.5), ("1m30.5s", 90.5), ("1h30min", 5_400), ("1min30sec", 90), ("1ms500us", 0.0015),
    ("-1m30s", -90), ("45", 45), (" 2m ", 120), ("10 s", 10),
]
GARBAGE = [
    ("1h30", "a unit is missing after '30'"), ("h", "cannot read 'h'"), ("30m1h", "units out of order"),
    ("1m1m", "units out of order or repeated"), ("1h-30m", "cannot read"), ("1h30x", "unknown unit 'x'"),
    ("", "cannot read ''"), ("-", "cannot read"), ("1hh", "unknown unit 'hh'"), ("m5", "cannot read"),
    ("1h.", "cannot read"), ("1 h 30", "a unit is missing after '30'"), ("1s1h", "units out of order"),
    ("1m 1", "a unit is missing after '1'"),
]


@pytest.mark.parametrize("text, seconds", DURATIONS)
def test_durations_by_hand(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds, rel=1e-12)


@pytest.mark.parametrize("text, reason", GARBAGE)
def test_duration_garbage_is_refused_with_what_is_allowed(text, reason):
    with pytest.raises(UnitError) as caught:
        parse_duration(text)
    assert reason in caught.value.reason
    assert "1h30m" in caught.value.allowed


@pytest.mark.parametrize("text, seconds", DURATIONS)
def test_the_json_schema_accepts_what_the_parser_reads(text, seconds):
    assert re.match(DURATION_PATTERN, text)


@pytest.mark.parametrize("text", [t for t, _ in GARBAGE if t not in ("30m1h", "1m1m", "1s1h", "1hh", "1h30x")])
def test_the_json_schema_refuses_what_the_parser_cannot_read(text):
    # the schema cannot check the order of units, nor tell units apart: the parser does
    assert not re.match(DURATION_PATTERN, text)


@pytest.mark.parametrize("text, percent", [("10%", 10), (10, 10), ("10", 10), ("2.5%", 2.5), (0.1, 0.1),
                                           ("0.1%", 0.1), ("100%", 100), (100, 100), ("0", 0)])
def test_percents_are_percent_whether_written_with_or_without_the_sign(text, percent):
    assert parse_percent(text) == pytest.approx(percent)


@pytest.mark.parametrize("text", ["150%", 101, "-1", "10x", "ten", True])
def test_bad_percents(text):
    with pytest.raises(UnitError):
        parse_percent(text)


def _unit_fields(model, seen=None):
    """(model, field name, parser name) of every field read through a unit parser, in every model."""
    seen = set() if seen is None else seen
    if model in seen:
        return
    seen.add(model)
    for name, field in model.model_fields.items():
        parser = _parser((field.annotation, *field.metadata))
        if parser:
            yield model, name, field, parser
        for inner in _models(field.annotation):
            yield from _unit_fields(inner, seen)


def _parser(args):
    for meta in args[1:]:
        func = getattr(meta, "func", None)
        if func is not None and func.__closure__:
            return func.__closure__[0].cell_contents.__name__
    if get_origin(args[0]) is Annotated:
        return _parser(get_args(args[0]))
    if get_origin(args[0]) in (Union, types.UnionType):
        return next(filter(None, (_parser((a,)) if get_origin(a) is Annotated else None
                                  for a in get_args(args[0]))), None)
    return None


def _models(annotation):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _models(arg)


FIELDS = list(_unit_fields(Scenario))
SHARES = [(m, n, f) for m, n, f, p in FIELDS if p == "parse_share"]
DURATION_FIELDS = [(m, n, f) for m, n, f, p in FIELDS if p == "parse_duration"]


def _adapter(field):
    return TypeAdapter(Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation)


def test_the_walk_finds_the_fields():
    names = {(m.__name__, n) for m, n, _ in SHARES}
    assert {("Tiers", "canary"), ("Traffic", "error_rate"), ("Acceptance", "max_false_rollback_rate")} <= names
    assert {("Rollout", "horizon"), ("PauseStep", "pause"), ("ThresholdSpec", "interval")} <= {
        (m.__name__, n) for m, n, _ in DURATION_FIELDS}
    assert ("SetWeightStep", "set_weight", "parse_percent") in {(m.__name__, n, p) for m, n, _, p in FIELDS}


@pytest.mark.parametrize("model, name, field", SHARES, ids=[f"{m.__name__}.{n}" for m, n, _ in SHARES])
def test_every_share_takes_a_percent_and_a_fraction_alike(model, name, field):
    adapter = _adapter(field)
    assert adapter.validate_python("25%") == pytest.approx(0.25) == adapter.validate_python(0.25)
    assert adapter.validate_python("0.5%") == pytest.approx(0.005) == adapter.validate_python("0.005")
    with pytest.raises(ValidationError):
        adapter.validate_python("150%")


@pytest.mark.parametrize("model, name, field", DURATION_FIELDS,
                         ids=[f"{m.__name__}.{n}" for m, n, _ in DURATION_FIELDS])
def test_every_duration_takes_a_compound_form(model, name, field):
    adapter = _adapter(field)
    assert adapter.validate_python("1m30s") == pytest.approx(90) == adapter.validate_python("90s")
    with pytest.raises(ValidationError):
        adapter.validate_python("1m30")


PIPELINE = """\
version: 1
name: words
fleet: {hosts: 200}
rollout:
  strategy: consul-pull
  steps:
    - set_weight: 10%
    - pause: 1m30s
    - set_weight: 25
    - pause: 1h30m
    - set_weight: 100
  horizon: 2d
  watch: 1h30m
"""


def test_a_scenario_in_the_written_forms(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(PIPELINE)
    rollout = load_scenario(path).scenario.rollout
    assert [getattr(s, "set_weight", None) or s.pause for s in rollout.steps] == [10, 90, 25, 5_400, 100]
    assert (rollout.horizon, rollout.watch) == (172_800, 5_400)
    same = load_scenario(path, ["rollout.steps[0].set_weight=10", "rollout.steps[1].pause=90"]).scenario.rollout
    assert same.steps[:2] == rollout.steps[:2]


def test_a_bare_small_set_weight_is_a_percent_not_a_fraction(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(PIPELINE)
    assert load_scenario(path, ["rollout.steps[0].set_weight=0.1"]).scenario.rollout.steps[0].set_weight == 0.1


def test_garbage_in_a_scenario_is_located(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(PIPELINE.replace("pause: 1m30s", "pause: 1m30").replace("set_weight: 25", "set_weight: 25 %%"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert [p.render() for p in caught.value.problems] == [
        f"{path}:8:14: rollout.steps[1].pause: a unit is missing after '30' in '1m30' (got '1m30'; allowed a "
        "duration such as 250ms, 90s, 5m, 1h30m, 2d (bare numbers are seconds))",
        f"{path}:9:19: rollout.steps[2].set_weight: unknown unit '%%' (got '25 %%'; allowed a percent such as 10%, "
        "2.5% or a bare number of percent 10 between 0 and 100)"]


def test_the_examples_in_the_units_docstring():
    import doctest

    import sim.units

    assert doctest.testmod(sim.units).failed == 0
