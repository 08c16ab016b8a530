"""The Argo condition language (sim/policies/expr.py) against values worked by hand from expr-lang's and
Argo Rollouts' documented semantics, not from the implementation: each expected value says why."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.policies.expr import Condition, EvalError, ExprError, evaluate, parse

NAN, INF = math.nan, math.inf


def ev(text: str, result: list[float]) -> bool:
    return evaluate(parse(text), result)


def refused(text: str) -> ExprError:
    with pytest.raises(ExprError) as info:
        parse(text)
    return info.value


# Argo's documented templates (docs/features/analysis.md, docs/analysis/prometheus.md).


@pytest.mark.parametrize("result, expected", [([0.96], True), ([0.95], True), ([0.94], False), ([NAN], False)])
def test_success_rate_threshold(result, expected):
    # NaN >= 0.95 is false: Argo's docs show such a measurement as Failed.
    assert ev("result[0] >= 0.95", result) is expected


def test_an_empty_vector_indexed_is_an_error():
    with pytest.raises(EvalError, match=r"column 7: index 0 out of range \(the list has 0 elements\)"):
        ev("result[0] >= 0.95", [])


@pytest.mark.parametrize("result, expected", [([], True), ([0.005], True), ([0.02], False)])
def test_empty_vector_guard_short_circuits(result, expected):
    # `||` stops at a true left side, so result[0] is never read on [].
    assert ev("len(result) == 0 || result[0] < 0.01", result) is expected


def test_and_guard_short_circuits_to_false_on_empty():
    assert ev("len(result) > 0 && result[0] >= 0.95", []) is False


@pytest.mark.parametrize("result, expected", [([NAN], True), ([1.0], False), ([INF], False)])
def test_isnan(result, expected):
    assert ev("isNaN(result[0])", result) is expected


@pytest.mark.parametrize("result, expected", [([INF], True), ([-INF], True), ([1e308], False), ([NAN], False)])
def test_isinf_either_sign(result, expected):
    assert ev("isInf(result[0])", result) is expected


# default(x, y), as Argo codes it (utils/evaluate/evaluate.go, defaultFunc): y when `result` is nil, else
# the whole `result` (x is evaluated, then ignored). A Prometheus result is a list, never nil.


@pytest.mark.parametrize("result", [[0.05], [0.2]])
def test_default_gives_the_whole_result_so_comparing_it_with_a_number_is_an_error(result):
    with pytest.raises(EvalError):
        ev("default(result[0], 0) < 0.1", result)
    assert ev("len(default(result, 0)) == 1", result) is True


def test_default_does_not_catch_an_index_out_of_range():
    with pytest.raises(EvalError, match="out of range"):
        ev("default(result[0], 0) < 0.1", [])


def test_default_of_an_empty_result_is_the_empty_result():
    assert ev("len(default(result, 0)) == 0", []) is True
    assert ev("len(default(nil, 0)) == 0", []) is True  # x is ignored: result is not nil


# Predicates: expr's docs give all([]) true, any([]) false, one([]) false, none([]) true.


@pytest.mark.parametrize("result, expected", [([0.1, 0.4], True), ([0.1, 0.6], False), ([], True)])
def test_all(result, expected):
    assert ev("all(result, {# < 0.5})", result) is expected


def test_braces_around_a_predicate_are_optional():
    # Argo's range-query example: successCondition: "all(result, # < 1000)".
    assert ev("all(result, # < 1000)", [999.0, 10.0]) is True
    assert ev("all(result, # < 1000)", [999.0, 1000.0]) is False


@pytest.mark.parametrize("result, expected", [([0.1, 0.6], True), ([0.1, 0.2], False), ([], False)])
def test_any(result, expected):
    assert ev("any(result, {# > 0.5})", result) is expected


@pytest.mark.parametrize("result, expected", [([0.1, 0.2], True), ([0.1, 0.6], False), ([], True)])
def test_none(result, expected):
    assert ev("none(result, {# > 0.5})", result) is expected


@pytest.mark.parametrize("result, expected", [([0.1, 0.6], True), ([0.6, 0.7], False), ([0.1], False), ([], False)])
def test_one(result, expected):
    assert ev("one(result, {# > 0.5})", result) is expected


def test_count_filter_and_map():
    r = [0.6, 0.1, 0.7, 0.2]
    assert ev("count(result, {# > 0.5}) == 2", r) is True
    assert ev("len(filter(result, {# > 0.5})) == 2", r) is True
    assert ev("filter(result, {# > 0.5})[1] == 0.7", r) is True  # order kept: 0.6, 0.7
    assert ev("len(map(result, {# * 10})) == 4", r) is True
    assert ev("map(result, {# * 10})[2] == 7", r) is True  # 0.7 * 10 = 7.0 (int 7 promoted)
    assert ev("count(result, {# > 0.5}) == 0", []) is True


def test_hash_is_the_innermost_element():
    # For each outer x in [1, 2, 3]: the inner # runs over result, so count(# > 2) is 1 every time.
    assert ev("all(result, {count(result, {# > 2}) == 1})", [1.0, 2.0, 3.0]) is True
    # The outer # is the outer element: exactly one x with x > 2.
    assert ev("count(result, {# > 2 && len(result) == 3}) == 1", [1.0, 2.0, 3.0]) is True


def test_a_predicate_that_is_not_boolean_is_an_error():
    with pytest.raises(EvalError, match="predicate of all"):
        ev("all(result, {# * 2})", [1.0])


# Precedence and associativity: expr's parser/operator/operator.go.


@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3 == 7", True),              # * before +
    ("(1 + 2) * 3 == 9", True),
    ("2 ** 3 ** 2 == 512", True),          # right-associative: 2 ** 9, not 8 ** 2 = 64
    ("2 ^ 3 ^ 2 == 512", True),            # ^ is ** in expr
    ("(2 ** 3) ** 2 == 64", True),
    ("-2 ** 2 == -4", True),               # unary - (90) is looser than ** (100)
    ("2 ** -1 == 0.5", True),
    ("10 - 4 - 3 == 3", True),             # left-associative
    ("8 / 4 / 2 == 1", True),
    ("!true || true", True),               # (!true) || true
    ("not false and false", False),        # (not false) and false
    ("not (false and false)", True),
    ("true || false && false", True),      # && before ||
    ("false && false || true", True),
    ("!true == false", True),              # ! (50) before == (20): (!true) == false
    ("1 > 2 ? false : true", True),        # the ternary is loosest
    ("true ? false : true ? true : true", False),  # right-nested: true ? false : (...)
    ("false ? false : true ? true : false", True),
])
def test_precedence(text, expected):
    assert ev(text, []) is expected


@pytest.mark.parametrize("result, expected", [([], True), ([0.3], True), ([0.7], False)])
def test_ternary_guard(result, expected):
    assert ev("len(result) > 0 ? result[0] < 0.5 : true", result) is expected


# Numbers: expr promotes int with float to float, `/` is float division, `%` is integer only.


@pytest.mark.parametrize("text", [
    "7 / 2 == 3.5",                 # not 3: / always divides as floats
    "1 / 0 > 1e308",                # Go: 1/0 = +Inf
    "isInf(-1 / 0) && -1 / 0 < 0",
    "isNaN(0 / 0)",
    "7 % 3 == 1",
    "-7 % 3 == -1",                 # Go's %: the sign of the dividend (Python would give 2)
    "7 % -3 == 1",
    "1 + 0.5 == 1.5",
    "1 == 1.0",
    "1e-3 == 0.001",
    ".5 == 0.5",
    "2.5e2 == 250",
    "abs(-2) == 2 && abs(-0.5) == 0.5",
    "max(1, 2.5) == 2.5 && min(1, 2.5) == 1",
    "asFloat('1.5') + 1 == 2.5",
    "asInt(1.9) == 1 && asInt(-1.9) == -1",  # Go's int64(f) truncates towards zero
    "asInt('42') == 42",
    "'a' == 'a' && 'a' != 'b' && 'a' < 'b'",
    "1 != 'a'",                     # different kinds are unequal, not an error
    "nil == nil && nil != 0",
    "(-8) ** (1 / 3) != (-8) ** (1 / 3)",  # Go's math.Pow gives NaN here, and NaN != NaN
    "0 ** -1 > 1e308",              # math.Pow(0, -1) = +Inf
])
def test_number_semantics(text):
    assert ev(text, []) is True


@pytest.mark.parametrize("text, message", [
    ("7 % 0 == 0", "modulo by zero"),
    ("7.5 % 2 == 1", "'%' needs two integers"),
    ("asInt('1.1') == 1", "asInt"),       # Argo's TestAsInt: "1.1" panics
    ("asFloat('NotANum') == 1", "asFloat"),
    ("asFloat(' 1') == 1", "asFloat"),    # strconv.ParseFloat takes no spaces
    ("'a' < 1", "cannot compare"),
    ("true + 1 == 2", "cannot apply '\\+'"),
])
def test_runtime_errors(text, message):
    with pytest.raises(EvalError, match=message):
        ev(text, [])


def test_modulo_of_a_measurement_is_an_error_since_it_is_a_float():
    with pytest.raises(EvalError, match="'%' needs two integers"):
        ev("result[0] % 2 == 0", [4.0])


@pytest.mark.parametrize("text, expected", [
    ("result[0] != result[0]", True),   # NaN != NaN
    ("result[0] == result[0]", False),
    ("result[0] < 1 || result[0] >= 1", False),
    ("isNaN(result[0]) || result[0] >= 0.95", True),  # Argo's docs: NaN considered successful
])
def test_nan_compares_false_except_not_equal(text, expected):
    assert ev(text, [NAN]) is expected


def test_negative_and_float_indices():
    assert ev("result[-1] == 3 && result[-3] == 1", [1.0, 2.0, 3.0]) is True
    assert ev("result[1.9] == 2", [1.0, 2.0, 3.0]) is True  # expr's runtime.ToInt truncates
    with pytest.raises(EvalError, match="index -4 out of range"):
        ev("result[-4] == 0", [1.0, 2.0, 3.0])


def test_wrong_kinds_are_errors():
    with pytest.raises(EvalError, match=r"column 8: cannot compare list .*\(result is a list"):
        ev("result > 1", [2.0])
    with pytest.raises(EvalError, match="'&&' needs true or false"):
        ev("result[0] && true", [1.0])
    with pytest.raises(EvalError, match="len\\(\\) needs a list"):
        ev("len(result[0]) == 1", [1.0])
    with pytest.raises(EvalError, match="isNaN\\(\\) needs a number"):
        ev("isNaN(result)", [1.0])


def test_the_final_value_must_be_a_boolean():
    with pytest.raises(EvalError, match=r"^condition gave 0.5, not true or false$"):
        ev("result[0]", [0.5])
    with pytest.raises(EvalError, match=r"^condition gave nil, not true or false$"):
        ev("nil", [])
    with pytest.raises(EvalError, match=r"^condition gave 3, not true or false$"):
        ev("1 + 2", [])


# Refusals at parse time, with the 1-based column.


@pytest.mark.parametrize("text, column, words", [
    ("result.foo", 7, "member access '.foo'"),
    ("result.foo()", 7, "method call '.foo()'"),
    ("foo(1)", 1, "unknown function 'foo'"),
    ("result[0] > 1 && sum(result) > 1", 18, "unknown function 'sum'"),
    ("result[0:1]", 7, "slicing"),
    ("result[:1]", 7, "slicing"),
    ("result | len", 8, "pipe operator '|'"),
    ("result[0] ?? 0", 11, "'??'"),
    ("result?.x", 7, "optional chaining"),
    ("1..3", 2, "range operator"),
    ("let x = 1; x", 1, "'let'"),
    ("0.5 in result", 5, "'in'"),
    ("result[0] not in result", 15, "'in'"),
    ("'a' matches 'b'", 5, "'matches'"),
    ("'a' startsWith 'b'", 5, "'startsWith'"),
    ("[1, 2]", 1, "array literals"),
    ("{# > 1}", 1, "predicate is only allowed"),
    ("# > 1", 1, "# is only allowed inside a predicate"),
    ("all(result, {#index > 1})", 14, "#name"),
    ("1 < 2 < 3", 7, "chained comparisons"),
    ("isInf(result[0], 1)", 1, "isInf takes one argument"),
    ("all(result)", 1, "takes a list and a predicate"),
    ("len(result, 1) == 1", 1, "takes 1 argument, not 2"),
    ("'a' + 'b' == 'ab'", 1, "arithmetic on strings"),
    ("len == 1", 1, "len is a function"),
    ("99999999999999999999 > 1", 1, "too large"),
    ("$env", 1, "unexpected character '$'"),
    ("", 1, "empty"),
])
def test_refusals_name_the_construct_and_column(text, column, words):
    err = refused(text)
    assert err.column == column
    assert words in str(err)
    assert str(err).startswith(f"column {column}: ")


def test_unknown_name_message():
    err = refused("x > 1")
    assert str(err) == "column 1: unknown name 'x' (allowed: result, and in a {...} predicate #)"
    assert isinstance(err, ValueError)


@pytest.mark.parametrize("text, column, expected", [
    ("result[0] >=", 13, "ends too early; expected a value"),
    ("(result[0] > 1", 15, "expected ')'"),
    ("result[0] > 1)", 14, "unexpected ')'; expected the end of the condition"),
    ("all(result, {# > 1)", 19, "expected '}'"),
    ("result[0] 1", 11, "unexpected number '1'; expected an operator"),
])
def test_syntax_errors_say_the_column_and_what_was_expected(text, column, expected):
    err = refused(text)
    assert err.column == column
    assert expected in str(err)


def test_length_limit_is_2000_characters():
    assert ev("true" + " " * 1996, []) is True  # exactly 2,000
    text = ("result[0] > 0.5 && " * 200)[:2996] + "true"
    assert len(text) == 3000
    err = refused(text)
    assert err.column == 2001
    assert "2,000" in str(err)


def test_nesting_limit_is_50_levels():
    assert ev("(" * 50 + "true" + ")" * 50, []) is True
    err = refused("(" * 60 + "true" + ")" * 60)
    assert err.column == 51  # the 51st parenthesis
    assert "nested deeper than 50 levels" in str(err)


@pytest.mark.parametrize("text", ["!" * 1990 + "true", "(" * 999 + "1" + ")" * 999, "-" * 1990 + "1",
                                  "2 ** " * 399 + "2"])
def test_hostile_nesting_is_refused_without_blowing_the_stack(text):
    assert "nested deeper" in str(refused(text))


def test_a_long_flat_chain_is_not_nesting():
    assert ev("1 + " * 495 + "1 == 496", []) is True


def test_nested_predicates_stop_at_the_step_budget():
    text = "all(result, {" * 12 + "true" + "})" * 12  # 5 ** 12 evaluations of the innermost body
    start = time.process_time()  # CPU seconds: the work done, whatever else runs
    with pytest.raises(EvalError, match="steps"):
        ev(text, [1.0] * 5)
    assert time.process_time() - start < 30


def test_condition_keeps_its_text():
    cond = parse("result[0] < 0.5")
    assert isinstance(cond, Condition) and cond.text == "result[0] < 0.5"
    assert evaluate(cond, [0.1]) is True and evaluate(cond, [0.9]) is False  # reusable


# Properties: any text either parses or is refused with ExprError, quickly.

TOKENS = ["result", "#", "[", "]", "(", ")", "{", "}", ",", "0", "1", "-1", "0.5", ".5", "1e-3", "'a'", "true",
          "false", "nil", "+", "-", "*", "/", "%", "**", "^", "==", "!=", "<", "<=", ">", ">=", "&&", "||",
          "and", "or", "not", "!", "?", ":", "len", "isNaN", "isInf", "default", "abs", "min", "max", "asInt",
          "asFloat", "all", "any", "none", "one", "filter", "map", "count", ".", "|", "in", "x"]


def _parse_or_refuse(text: str) -> Condition | None:
    start = time.process_time()  # CPU seconds: the work done, whatever else runs
    try:
        cond = parse(text)
    except ExprError as err:
        assert 1 <= err.column <= len(text) + 1
        cond = None
    assert time.process_time() - start < 2.0
    return cond


@given(st.text(max_size=200))
def test_any_text_parses_or_raises_expr_error(text):
    _parse_or_refuse(text)


@given(st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join),
       st.lists(st.sampled_from([0.0, 0.5, 1.0, -2.0, NAN, INF]), max_size=4))
def test_token_soup_parses_or_refuses_and_evaluates_to_bool_or_eval_error(text, result):
    cond = _parse_or_refuse(text)
    if cond is not None:
        try:
            assert isinstance(evaluate(cond, result), bool)
        except EvalError:
            pass


# Messages a user reads: the kind and the value of each offending operand, in expr's spelling (true,
# false, nil, NaN, +Inf, -Inf as Go's fmt prints them), with the column.


@pytest.mark.parametrize("text, result, message", [
    ("true ** 'x'", [], "column 6: cannot apply '**' to bool true and string 'x'"),
    ("false ** nil", [], "column 7: cannot apply '**' to bool false and nil nil"),
    ("nil + 1.5", [], "column 5: cannot apply '+' to nil nil and float 1.5"),
    ("1 - true", [], "column 3: cannot apply '-' to int 1 and bool true"),
    ("-'a'", [], "column 1: unary '-' needs a number, got string 'a'"),
    ("!1", [], "column 1: '!' needs true or false, got int 1"),
    ("7.5 % 2", [], "column 5: '%' needs two integers, got 7.5 and 2"),
    ("max(1, 'a')", [], "column 1: max() needs numbers, got string 'a'"),
    ("asInt('x')", [], "column 1: asInt() cannot convert string 'x' to an integer"),
    ("asFloat('x')", [], "column 1: asFloat() cannot convert string 'x' to a number"),
    ("asInt(result[0])", [NAN], "column 1: asInt() cannot convert float NaN to an integer"),
    ("asInt(result[0])", [INF], "column 1: asInt() cannot convert float +Inf to an integer"),
    ("asInt(result[0])", [-INF], "column 1: asInt() cannot convert float -Inf to an integer"),
    # A list shows its first five elements, then "...".
    ("-result", [1, 2, 3, 4, 5], "column 1: unary '-' needs a number, got list [1.0, 2.0, 3.0, 4.0, 5.0]"),
    ("-result", [1, 2, 3, 4, 5, 6], "column 1: unary '-' needs a number, got list [1.0, 2.0, 3.0, 4.0, 5.0, ...]"),
])
def test_runtime_error_messages(text, result, message):
    with pytest.raises(EvalError) as info:
        ev(text, result)
    assert str(info.value) == message


@pytest.mark.parametrize("text, message", [
    ("'\\q' == 'q'", "column 1: invalid escape sequence in string literal"),
    ("1 + )", "column 5: unexpected ')'; expected a value (a number, result, a function call or '(')"),
    ("[1]", "column 1: array literals [...] are not supported"),
    ("len(result", "column 11: the condition ends too early; expected ')' or ','"),
    ("result[0", "column 9: the condition ends too early; expected ']' or ':'"),
])
def test_parse_error_messages(text, message):
    assert str(refused(text)) == message


@pytest.mark.parametrize("text, start", [
    ("result foo", "column 8: unexpected name 'foo'; expected "),
    ("result[0] 0.5", "column 11: unexpected number '0.5'; expected "),
    ("result[0] 'a'", "column 11: unexpected string \"'a'\"; expected "),
])
def test_an_unexpected_token_is_named_by_its_kind(text, start):
    message = str(refused(text))
    assert message.startswith(start)
    # Several expectations are listed as "a, b, ... or z".
    assert message.endswith("an operator, ')', ']', '}', ':' or ','")


# Go string escapes (expr's lexer unescapes as strconv does): \t \n \\ \' \" \xHH \uHHHH.


@pytest.mark.parametrize("text", [
    "'\\x41' == 'A'",
    "\"\\u0041\" == 'A'",
    "len('\\u00e9') == 1",
    "'\\t' == '\t'",
    "'a\\nb' == 'a\nb'",
    "'\\'' == \"'\"",
    "len('a\\\\b') == 3",
    "'\\\"' == '\"'",
])
def test_go_string_escapes(text):
    assert ev(text, []) is True


# Unary +, float subtraction, int64 wrap-around (Go's two's complement arithmetic).


@pytest.mark.parametrize("text", [
    "+1 == 1 && +0.5 == 0.5",
    "2.5 - 1 == 1.5",
    "9223372036854775807 + 1 == -9223372036854775807 - 1",
    "-(-9223372036854775807 - 1) == -9223372036854775807 - 1",  # Go: -MinInt64 is MinInt64
])
def test_more_arithmetic(text):
    assert ev(text, []) is True


# Go's math.Pow special cases (https://pkg.go.dev/math#Pow).


@pytest.mark.parametrize("text", [
    "(-10) ** 309 < 0 && isInf((-10) ** 309)",   # overflow with an odd exponent keeps the sign: -Inf
    "10 ** 309 > 0 && isInf(10 ** 309)",          # +Inf
    "(-10) ** 310 > 0 && isInf((-10) ** 310)",    # even exponent: +Inf
    "0.5 ** -1025 > 0 && isInf(0.5 ** -1025)",    # 2 ** 1025: +Inf
    "(-0.0) ** -1 < 0 && isInf((-0.0) ** -1)",    # Pow(-0, y) for y an odd integer < 0: -Inf
    "(-0.0) ** -2 > 0 && isInf((-0.0) ** -2)",    # Pow(+-0, y) for y < 0 and not an odd integer: +Inf
    "(-0.0) ** -0.5 > 0 && isInf((-0.0) ** -0.5)",
    "0 ** -1 > 0 && 0 ** -2 > 0",
])
def test_go_pow_special_cases(text):
    assert ev(text, []) is True


def test_pow_needs_numbers():
    with pytest.raises(EvalError, match="cannot apply"):
        ev("'a' ** 2 == 1", [])


# min and max: lists are flattened; expr's runtime.Less compares an int with a float as float64(int).


@pytest.mark.parametrize("text, expected", [
    ("max(result) == 3 && min(result) == 1", True),
    ("max(result, 7) == 7 && min(0, result) == 0", True),
    ("max(9007199254740992, 9007199254740993) == 9007199254740993", True),  # int with int: exact
    # float64(2**53 + 1) == 2**53, not greater: the float stays, and 2**53 + 1.0 is 2**53 again.
    ("max(9007199254740992.0, 9007199254740993) + 1 == 9007199254740994", False),
    ("1 / min(0.0, -0.0) > 0", True),  # -0.0 is not less than 0.0: the first stays
])
def test_min_max(text, expected):
    assert ev(text, [1.0, 3.0, 2.0]) is expected


# == : numbers compare as float64 when either is a float; different kinds are unequal; lists elementwise.


@pytest.mark.parametrize("text, expected", [
    ("9007199254740993 == 9007199254740992.0", True),   # float64(2**53 + 1) == 2**53
    ("9007199254740993 == 9007199254740992", False),    # int with int: exact
    ("1.5 == 'a' || 1.5 == nil || nil == 1.5", False),
    ("result == 1 || result == nil", False),
    ("result == result", True),
    ("result == filter(result, {# < 2})", False),      # different lengths
])
def test_equality(text, expected):
    assert ev(text, [1.0, 2.0]) is expected


# asInt and asFloat: Argo's, strconv.ParseInt(s, 10, 64) and strconv.ParseFloat(s, 64).


@pytest.mark.parametrize("text", [
    "asInt('-9223372036854775808') == -9223372036854775807 - 1",  # ParseInt's lower bound
    "asInt(-9223372036854775808.0) == -9223372036854775807 - 1",
    "asFloat(2) == 2 && asFloat(0.5) == 0.5",
    "asFloat('1E3') == 1000",
    "isNaN(asFloat('NaN')) && isInf(asFloat('Inf')) && asFloat('-inf') < 0 && isInf(asFloat('infinity'))",
])
def test_as_int_and_as_float_accept(text):
    assert ev(text, []) is True


@pytest.mark.parametrize("text", [
    "asInt('9223372036854775808') == 0",   # ParseInt: out of range
    "asFloat('1e400') > 0",                 # ParseFloat: out of range (ErrRange), Argo's asFloat panics
    # Go's int64(f) is implementation-dependent outside the int64 range (the Go spec, Conversions): refused.
    "asInt(1e19) == 0",
    "asInt(9223372036854775808.0) == 0",
])
def test_as_int_and_as_float_refuse(text):
    with pytest.raises(EvalError, match="cannot convert"):
        ev(text, [])


def test_a_refused_token_the_parser_meets_is_named_at_its_column():
    # `||` where a value must stand: the parser reads `|` `|`, and the second `|` (column 6) is refused.
    err = refused("1 + || 2")
    assert err.column == 6
    assert str(err) == "column 6: the pipe operator '|' is not supported (write len(result), not result | len)"


@pytest.mark.parametrize("text, result, message", [
    ("all(1, {true})", [], "column 1: all() needs a list, got int 1"),
    # `#` in a nested predicate's list argument is the outer element (a number here, not a list).
    ("all(result, {any(#, {true})})", [1.0], "column 14: any() needs a list, got float 1.0"),
    ("all(result, {#})", [0.5], "column 14: the predicate of all() gave 0.5, not true or false"),
    ("1 && true", [], "column 3: '&&' needs true or false, got int 1"),
    ("true && 1", [], "column 6: '&&' needs true or false, got int 1"),
    ("'a' < 1", [], "column 5: cannot compare string 'a' with int 1 using '<'"),
    ("result > 1", [2.0], "column 8: cannot compare list [2.0] with int 1 using '>' "
                          "(result is a list: index it, e.g. result[0])"),
    ("len(1) == 1", [], "column 1: len() needs a list, got int 1"),
    ("isNaN(result)", [1.0], "column 1: isNaN() needs a number, got list [1.0] (use isNaN(result[0]))"),
    ("abs('a') == 1", [], "column 1: abs() needs a number, got string 'a'"),
    ("1[0] == 1", [], "column 2: cannot index int 1; only lists have elements"),
    ("result['a'] == 1", [1.0], "column 7: an index must be a number, got string 'a'"),
    ("result[0 / 0] == 1", [1.0], "column 7: an index must be a number, got float NaN"),
    ("result[1] == 1", [1.0], "column 7: index 1 out of range (the list has 1 element)"),
    ("result[5] == 1", [1.0, 2.0], "column 7: index 5 out of range (the list has 2 elements)"),
])
def test_more_runtime_error_messages(text, result, message):
    with pytest.raises(EvalError) as info:
        ev(text, result)
    assert str(info.value) == message


@pytest.mark.parametrize("text, result, expected", [
    ("any(result, {false || # > 1})", [2.0], True),  # # inside || and + is the element
    ("all(result, {0 + # > 1})", [2.0], True),
    ("any(result, {# > 0})", [1.0, 2.0], True),       # two hits: any is still true
    ("9007199254740993 > 9007199254740992.0", [], False),  # compared as float64: equal
    ("9007199254740993 > 9007199254740992", [], True),     # int with int: exact
    ("abs(-9223372036854775807 - 1) == -9223372036854775807 - 1", [], True),  # Go: -MinInt64 wraps
])
def test_more_semantics(text, result, expected):
    assert ev(text, result) is expected


@pytest.mark.parametrize("text, message", [
    ("isInf(result[0], 1)", "column 1: isInf takes one argument (Argo's isInf is math.IsInf(x, 0): either sign)"),
    ("max() == 1", "column 1: max() takes at least 1 argument, not 0"),
])
def test_call_refusal_messages(text, message):
    assert str(refused(text)) == message


def test_expr_error_keeps_the_reason_apart_from_the_column():
    err = refused("x > 1")
    assert err.reason == "unknown name 'x' (allowed: result, and in a {...} predicate #)"


@pytest.mark.parametrize("text, message", [
    ("9223372036854775808 > 1",
     "column 1: integer literal 9223372036854775808 is too large (the limit is 9223372036854775807)"),  # 2**63
    ("1e400 > 1", "column 1: float literal 1e400 is too large"),
    ("# > 1", "column 1: # is only allowed inside a predicate, e.g. all(result, {# < 0.5})"),
    ("default(1) == 1", "column 1: default() takes 2 arguments, not 1"),
])
def test_literal_and_arity_refusal_messages(text, message):
    assert str(refused(text)) == message


@pytest.mark.parametrize("text, result, message", [
    ("all(result, {1})", [0.5], "column 14: the predicate of all() gave 1, not true or false"),
    ("all(result, {0.5})", [0.5], "column 14: the predicate of all() gave 0.5, not true or false"),
    ("all(result, {nil})", [0.5], "column 14: the predicate of all() gave nil, not true or false"),
    ("1 ? true : false", [], "column 3: the test of '? :' gave 1, not true or false"),
    # default's first argument is evaluated with # bound to the element.
    ("all(result, {len(default(#[0], 0)) == 1})", [1.0], "column 27: cannot index float 1.0; only lists have elements"),
])
def test_predicate_and_ternary_error_messages(text, result, message):
    with pytest.raises(EvalError) as info:
        ev(text, result)
    assert str(info.value) == message


@pytest.mark.parametrize("text", [
    "all(map(result, {result}), {#[0] == 1})",  # # as an indexed list
    "all(result, {result[# - 1] == #})",        # # as an index
    "any(result, {-# < 0})",
    "all(result, {0 < #})",
    "all(result, {# > 0 ? true : false})",
    "all(result, {true ? # > 0 : false})",
    "all(result, {abs(#) > 0})",
])
def test_hash_is_bound_everywhere_in_a_predicate(text):
    assert ev(text, [1.0, 2.0]) is True


def test_the_step_budget_is_exactly_one_million():
    cond = parse("all(result, {true})")  # 1 step for the call, 1 for result, 1 per element
    assert evaluate(cond, [0.0] * 999_998) is True
    with pytest.raises(EvalError, match="more than 1,000,000 steps"):
        evaluate(cond, [0.0] * 999_999)


def test_a_refused_token_inside_the_tree_is_named_at_its_column():
    # The basic lexer reads `||` `||` (nothing refused); the parser reads `|` `||` `|`, two refused atoms.
    assert str(refused("||||")) == "column 4: the pipe operator '|' is not supported (write len(result), not result | len)"


@pytest.mark.parametrize("text, message", [
    ("x[0:1]", "column 1: unknown name 'x' (allowed: result, and in a {...} predicate #)"),  # leftmost first
    ("x.foo", "column 1: unknown name 'x' (allowed: result, and in a {...} predicate #)"),
    ("x.foo()", "column 1: unknown name 'x' (allowed: result, and in a {...} predicate #)"),
    ("'a' * 2 == 1", "column 1: arithmetic on strings is not supported"),
    ("1 < 2 < 3", "column 7: chained comparisons (a < b < c) are not supported; write a < b && b < c"),
    ("result[0:1]", "column 7: slicing [a:b] is not supported; index one element, e.g. result[0]"),
    ("{# > 1}", "column 1: a {...} predicate is only allowed as the second argument of "
                "all, any, none, one, filter, map, count"),
    ("X", "column 1: unknown name 'X' (allowed: result, and in a {...} predicate #)"),
    (" \t\r\n", "column 1: the condition is empty"),
    ("\x0c", "column 1: unexpected character '\\x0c'"),  # only space, tab, CR and LF are blank
    ("1 + $", "column 5: unexpected character '$'"),
])
def test_more_parse_refusal_messages(text, message):
    assert str(refused(text)) == message


def test_a_predicate_body_that_is_result_is_not_a_boolean():
    with pytest.raises(EvalError) as info:
        ev("all(result, {result})", [0.5])
    assert str(info.value) == "column 14: the predicate of all() gave [0.5], not true or false"


def test_a_call_is_one_level_of_nesting():
    # 40 nested calls are 40 levels (the argument list is not a level of its own), within the limit of 50.
    assert ev("abs(" * 40 + "-1" + ")" * 40 + " == 1", []) is True


def test_nested_predicates_over_a_long_result_stop_at_the_step_budget_with_a_reason(monkeypatch):
    """Three nested `all` over 20 values visit about 32,000 nodes: a budget of 10,000 steps stops them with an
    error naming the likely cause (the shipped budget, 1,000,000, does the same for 100 values); without the
    budget they finish. Kept small so that a broken step count fails in milliseconds, not minutes."""
    from sim.policies import expr

    nested = parse("all(result, {all(result, {all(result, {# >= 0})})})")
    assert evaluate(nested, [1.0] * 20) is True
    monkeypatch.setattr(expr, "MAX_STEPS", 10_000)
    with pytest.raises(EvalError, match=r"took more than 10,000 steps \(nested predicates over a long result\?\)"):
        evaluate(nested, [1.0] * 20)


def test_every_node_visited_is_one_step_and_the_budget_is_inclusive(monkeypatch):
    """`1 < 2` is three nodes (the comparison and its two numbers): it fits a budget of 3, not of 2."""
    from sim.policies import expr

    monkeypatch.setattr(expr, "MAX_STEPS", 3)
    assert evaluate(parse("1 < 2"), []) is True
    monkeypatch.setattr(expr, "MAX_STEPS", 2)
    with pytest.raises(EvalError, match="took more than 2 steps"):
        evaluate(parse("1 < 2"), [])
