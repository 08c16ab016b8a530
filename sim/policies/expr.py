"""Argo Rollouts analysis conditions: the subset of expr-lang that `successCondition` and
`failureCondition` use, parsed by a real grammar (lark, LALR) and walked by a small evaluator. Never
Python eval/exec/compile.

This module owns the condition language: `parse(text) -> Condition` refuses, at parse time and with
the 1-based column, anything outside the subset; `evaluate(condition, result) -> bool` runs it on one
measurement, `result` being a Prometheus vector (a list of floats, possibly empty).

Supported (semantics of github.com/expr-lang/expr, which Argo Rollouts uses):
- literals: integers `42`, floats `0.5` `.5` `1e-3`, strings '..' and "..", `true`, `false`, `nil`;
- the name `result`; inside a predicate `{...}` also `#`, the current element (innermost predicate);
- indexing `result[0]`, negative from the end `result[-1]`; a float index is truncated (runtime.Fetch
  uses ToInt); out of range is an error;
- `+ - * / %`, `**` and `^` (power, right-associative, always a float: runtime.Exponent is math.Pow),
  unary `-` `+`; int with int stays int (wrapping at 64 bits, as Go does), int with float gives float;
  `/` is always float division (x/0 is +-Inf, 0/0 NaN, as in Go); `%` takes integers only and `% 0`
  is an error;
- `== != < <= > >=` (NaN compares false except `!=`; `==` between different kinds is false);
  `&& || !` and `and or not`, short-circuit, both sides must be booleans; parentheses; `a ? b : c`;
- functions: len, abs, min, max (numbers or lists, as expr's builtin minMax; an empty list gives
  nil), isNaN, isInf (one argument: Argo's isInf is math.IsInf(f, 0), so `isInf(x, 1)` is refused),
  asInt, asFloat (Argo's: numbers, or strings parsed as strconv.ParseInt / ParseFloat), default(x, y),
  and the predicates all, any, none, one, filter, map, count: `all(result, {# < 0.5})`, braces
  optional. all of [] is true, any and one of [] false, none of [] true (expr's docs).
- Precedence, loosest first (expr's parser/operator/operator.go): `? :`, `|| or`, `&& and`,
  comparisons, `+ -`, `* / %`, unary `! not`, unary `- +`, `** ^`, postfix `[...]`. So `!a == b` is
  `(!a) == b` and `-2 ** 2` is -4. Departure: expr's `!` takes a whole `*`-level operand (`!a * b` is
  `!(a * b)`), here `(!a) * b`; both are type errors, only the message differs.

`default(x, y)` is Argo's own (utils/evaluate/evaluate.go, `defaultFunc`): it ignores x (evaluating it
first, as expr evaluates a call's arguments, so an index out of range is still an error) and gives y
when `result` is nil, else the whole `result`. A Prometheus result is never nil (the provider hands
over `make([]float64, 0, n)`: metricproviders/prometheus/prometheus.go), so `default(result, y)` is
`result`, and `default(result[0], 0) < 0.1` compares a list with a number: an Error in Argo, here too.
Argo's docs (docs/features/analysis.md, "Handling Metric Results") give `default()` for a provider
that returns nil (Datadog) and `len(result) == 0 || result[0] >= 0.95` for an empty vector.

Refused at parse time (ExprError naming the construct and its column): member access and method calls
(`result.foo`, `x.f()`), slicing, pipes `|`, `??`, `?.`, `..`, `let`, `in`, `matches`, `contains`,
`startsWith`, `endsWith`, array and map literals, `#index`-style pointers, other names and functions
(sum, mean, isNil, ...), arithmetic on string literals, chained comparisons `a < b < c` (newer expr
reads them as `a < b && b < c`, older expr as a type error), conditions over 2,000 characters or
nested deeper than 50 levels. A syntax error says the column and what was expected. Columns count
characters from the start of the text, newlines included.

At run time an EvalError (Argo: the measurement is an Error): wrong kinds (`result > 1`), index out of
range, `% 0`, a predicate or a final value that is not a boolean ("condition gave 0.5, not true or
false", as Argo's EvalCondition: "expected bool"), or more than 1,000,000 evaluation steps (nested
predicates over a long vector).

Read: expr-lang docs/language-definition.md (https://expr-lang.org/docs/language-definition),
parser/parser.go, parser/operator/operator.go, vm/runtime/runtime.go, builtin/lib.go; Argo Rollouts
docs/features/analysis.md, docs/analysis/prometheus.md, docs/analysis/datadog.md,
utils/evaluate/evaluate.go.

Example::

    cond = parse("len(result) == 0 || result[0] < 0.01")
    evaluate(cond, [0.005])  # True
"""

from __future__ import annotations

import functools
import math
import operator
import re
from dataclasses import dataclass, field
from typing import TypeGuard, Union

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

MAX_LENGTH = 2000
MAX_DEPTH = 50
MAX_STEPS = 1_000_000
_INT64 = 2**63

_GRAMMAR = r"""
?start: expr
?expr: or_expr
     | or_expr QMARK expr COLON expr                       -> ternary
?or_expr: and_expr ((OR | OR_WORD) and_expr)*
?and_expr: cmp_expr ((AND | AND_WORD) cmp_expr)*
?cmp_expr: sum ((EQ | NE | LE | GE | LT | GT) sum)*
?sum: product ((PLUS | MINUS) product)*
?product: unary ((STAR | SLASH | PERCENT) unary)*
?unary: (BANG | NOT) unary                                 -> negation
      | (PLUS | MINUS) unary                               -> sign
      | power
?power: postfix
      | postfix (POW | CARET) unary                        -> pow
?postfix: atom
        | postfix LSQB expr "]"                            -> index
        | postfix LSQB [expr] COLON [expr] "]"             -> slice
        | postfix DOT NAME                                 -> member
        | postfix DOT NAME "(" [args] ")"                  -> method
?atom: INT | FLOAT | STRING | TRUE | FALSE | NIL | NAME | HASH | HASHNAME | refused
     | NAME "(" [args] ")"                                 -> call
     | "(" expr ")"                                        -> paren
     | "{" expr "}"                                        -> closure
args: expr ("," expr)*
refused: PIPE | QQ | QDOT | RANGE | SEMI | LET | IN | MATCHES | CONTAINS | STARTSWITH | ENDSWITH

INT: /[0-9]+/
FLOAT.2: /([0-9]+\.[0-9]+|\.[0-9]+)([eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+/
STRING: /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/s
NAME: /[A-Za-z_][A-Za-z0-9_]*/
HASHNAME.2: /#[A-Za-z_][A-Za-z0-9_]*/
HASH: "#"
TRUE: "true"
FALSE: "false"
NIL: "nil"
OR: "||"
OR_WORD: "or"
AND: "&&"
AND_WORD: "and"
NOT: "not"
BANG: "!"
EQ: "=="
NE: "!="
LE: "<="
GE: ">="
LT: "<"
GT: ">"
PLUS: "+"
MINUS: "-"
STAR: "*"
SLASH: "/"
PERCENT: "%"
POW: "**"
CARET: "^"
QMARK: "?"
COLON: ":"
LSQB: "["
DOT: "."
PIPE: "|"
QQ: "??"
QDOT: "?."
RANGE: ".."
SEMI: ";"
LET: "let"
IN: "in"
MATCHES: "matches"
CONTAINS: "contains"
STARTSWITH: "startsWith"
ENDSWITH: "endsWith"
%ignore /[ \t\r\n]+/
"""

@functools.cache
def _parser() -> Lark:
    """The LALR parser, built on first use (building it takes a quarter of a second: a command that reads
    no condition does not pay for it)."""
    return Lark(_GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=True)


@functools.cache
def _lexer() -> Lark:
    """Every terminal everywhere: finds refused operators wherever they stand."""
    return Lark(_GRAMMAR, parser=None, lexer="basic")

_REFUSED = {
    "PIPE": "the pipe operator '|' is not supported (write len(result), not result | len)",
    "QQ": "the operator '??' is not supported (use default(x, y))",
    "QDOT": "optional chaining '?.' is not supported",
    "RANGE": "the range operator '..' is not supported",
    "SEMI": "';' is not supported (no 'let' variables)",
    "LET": "'let' variables are not supported",
    "IN": "the operator 'in' is not supported",
    "MATCHES": "the regex operator 'matches' is not supported",
    "CONTAINS": "the string operator 'contains' is not supported",
    "STARTSWITH": "the string operator 'startsWith' is not supported",
    "ENDSWITH": "the string operator 'endsWith' is not supported",
    "HASHNAME": "only # (the current element) is supported in a predicate, not #name",
}
_PREDICATES = ("all", "any", "none", "one", "filter", "map", "count")
_ARITY = {"len": 1, "abs": 1, "isNaN": 1, "isInf": 1, "asInt": 1, "asFloat": 1, "default": 2, "min": 0, "max": 0}
_FUNCTIONS = ", ".join(sorted([*_ARITY, *_PREDICATES], key=str.lower))
_OPS = {"or": "||", "and": "&&", "not": "!", "^": "**"}
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_VALUE_START = {"INT", "FLOAT", "STRING", "TRUE", "FALSE", "NIL", "NAME", "HASH", "LPAR", "LBRACE", "BANG", "NOT"}
_OPERATORS = {"OR", "OR_WORD", "AND", "AND_WORD", "EQ", "NE", "LE", "GE", "LT", "GT", "STAR", "SLASH", "PERCENT",
              "POW", "CARET", "QMARK", "LSQB", "DOT"}  # not + and -: they also start a value
_CLOSERS = {"RPAR": "')'", "RSQB": "']'", "RBRACE": "'}'", "COLON": "':'", "COMMA": "','",
            "$END": "the end of the condition"}
_STRING_BODY = re.compile(r"(?:[^\\]|\\(?:u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[ntr\\'\"abfv0]))*", re.S)
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.S)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


class ExprError(ValueError):
    """A condition that cannot be parsed or uses what this subset refuses; `column` (1-based)."""

    def __init__(self, message: str, column: int):
        self.column = column
        self.reason = message
        super().__init__(f"column {column}: {message}")


class EvalError(Exception):
    """A condition that failed while evaluated (Argo: the measurement is an Error)."""


# The syntax tree: frozen records, `col` the 1-based column the node starts (or its operator) at.
@dataclass(frozen=True)
class Lit:
    value: Value
    col: int


@dataclass(frozen=True)
class Var:
    name: str  # "result" or "#"
    col: int


@dataclass(frozen=True)
class Index:
    target: Expr
    index: Expr
    col: int


@dataclass(frozen=True)
class Unary:
    op: str  # "-", "+", "!"
    operand: Expr
    col: int


@dataclass(frozen=True)
class Binary:
    op: str  # a comparison or "**"
    left: Expr
    right: Expr
    col: int


@dataclass(frozen=True)
class Chain:
    """`first op x op y ...`, left to right: all `+ -`, all `* / %`, all `&&` or all `||`."""

    first: Expr
    rest: tuple[tuple[str, int, Expr], ...]
    col: int


@dataclass(frozen=True)
class Cond:
    test: Expr
    then: Expr
    other: Expr
    col: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Expr, ...]  # for a predicate: the list, then the body evaluated per element
    col: int


Value = Union[None, bool, int, float, str, tuple]
Expr = Union[Lit, Var, Index, Unary, Binary, Chain, Cond, Call]


@dataclass(frozen=True)
class Condition:
    """A parsed condition: its text and its syntax tree."""

    text: str
    tree: Expr = field(repr=False, compare=False)


def parse(text: str) -> Condition:
    """Parse a successCondition/failureCondition, or raise ExprError saying where and why."""
    if len(text) > MAX_LENGTH:
        raise ExprError(f"the condition is {len(text):,} characters long; the limit is {MAX_LENGTH:,}",
                        MAX_LENGTH + 1)
    if not text.strip(" \t\r\n"):
        raise ExprError("the condition is empty", 1)
    _refuse_tokens(text)
    try:
        tree = _parser().parse(text)
    except UnexpectedToken as exc:
        raise _token_error(text, exc) from None
    except UnexpectedCharacters as exc:
        pos = exc.pos_in_stream or 0
        raise ExprError(f"unexpected character {text[pos]!r}", pos + 1) from None
    except UnexpectedInput as exc:  # pragma: no cover - LALR reports the end of input as a token
        raise ExprError("cannot parse the condition", (exc.pos_in_stream or len(text)) + 1) from None
    _check_depth(tree)
    return Condition(text, _build(tree, in_predicate=False))


def _refuse_tokens(text: str) -> None:
    """Name a refused operator wherever it stands (the parser alone would see `??` as `?` `?`)."""
    try:
        for tok in _lexer().lex(text):
            if tok.type in _REFUSED:
                raise ExprError(_REFUSED[tok.type], _col(tok))
    except UnexpectedCharacters:
        return  # the parser reports it, with what was expected


def _token_error(text: str, exc: UnexpectedToken) -> ExprError:
    tok = exc.token
    if tok.type in _REFUSED:
        return ExprError(_REFUSED[tok.type], tok.start_pos + 1)
    expected = set(exc.expected)
    if tok.type == "$END":
        return ExprError(f"the condition ends too early; expected {_expected(expected)}",
                         len(text.rstrip(" \t\r\n")) + 1)
    if tok.type == "LSQB" and expected & _VALUE_START:
        return ExprError("array literals [...] are not supported", tok.start_pos + 1)
    words = {"NAME": "name ", "INT": "number ", "FLOAT": "number ", "STRING": "string "}
    return ExprError(f"unexpected {words.get(tok.type, '')}{tok.value!r}; expected {_expected(expected)}",
                     tok.start_pos + 1)


def _expected(names: set[str]) -> str:
    parts = []
    if names & _VALUE_START:
        parts.append("a value (a number, result, a function call or '(')")
    if names & _OPERATORS:
        parts.append("an operator")
    parts += [word for name, word in _CLOSERS.items() if name in names]
    if not parts:
        return "something else"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def _check_depth(tree: Tree | Token) -> None:
    """Refuse trees nested deeper than MAX_DEPTH (without recursion: the tree may be 2,000 deep)."""
    stack = [(tree, 1)] if isinstance(tree, Tree) else []
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExprError(f"the condition is nested deeper than {MAX_DEPTH} levels", _col(node))
        for child in node.children:
            if isinstance(child, Tree):
                stack.append((child, depth if child.data == "args" else depth + 1))


def _col(node: Tree | Token) -> int:
    if isinstance(node, Token):
        return (node.start_pos or 0) + 1
    return node.meta.start_pos + 1 if not node.meta.empty else 1


def _build(node: Tree | Token, in_predicate: bool) -> Expr:
    """The syntax tree of one parse-tree node, refusing what the subset does not cover."""
    if isinstance(node, Token):
        return _leaf(node, in_predicate)
    kind, kids = node.data, node.children

    def sub(i: int, predicate: bool = in_predicate) -> Expr:
        return _build(kids[i], predicate)

    if kind == "paren":
        return sub(0)
    if kind in ("or_expr", "and_expr", "sum", "product"):
        rest = tuple((_op(kids[i]), _col(kids[i]), sub(i + 1)) for i in range(1, len(kids), 2))
        chain = Chain(sub(0), rest, rest[0][1])
        if kind in ("sum", "product"):
            for operand in (chain.first, *(x for _, _, x in rest)):
                if isinstance(operand, Lit) and isinstance(operand.value, str):
                    raise ExprError("arithmetic on strings is not supported", operand.col)
        return chain
    if kind == "cmp_expr":
        if len(kids) > 3:
            raise ExprError("chained comparisons (a < b < c) are not supported; write a < b && b < c", _col(kids[3]))
        return Binary(_op(kids[1]), sub(0), sub(2), _col(kids[1]))
    if kind == "ternary":  # test ? then : other
        return Cond(sub(0), sub(2), sub(4), _col(kids[1]))
    if kind in ("negation", "sign"):
        return Unary(_op(kids[0]), sub(1), _col(kids[0]))
    if kind == "pow":
        return Binary("**", sub(0), sub(2), _col(kids[1]))
    if kind == "index":
        return Index(sub(0), sub(2), _col(kids[1]))
    if kind in ("slice", "member", "method"):
        sub(0)  # report the leftmost problem first
    if kind == "slice":
        raise ExprError("slicing [a:b] is not supported; index one element, e.g. result[0]", _col(kids[1]))
    if kind in ("member", "method"):
        what = f"method call '.{kids[2]}()'" if kind == "method" else f"member access '.{kids[2]}'"
        raise ExprError(f"{what} is not supported (result is a list of numbers)", _col(kids[1]))
    if kind == "call":
        args = kids[1]
        return _call(_token(kids[0]), args.children if isinstance(args, Tree) else [], in_predicate)
    if kind == "closure":
        raise ExprError(f"a {{...}} predicate is only allowed as the second argument of {', '.join(_PREDICATES)}",
                        _col(node))
    if kind == "refused":
        return sub(0)
    raise AssertionError(f"unhandled parse node {kind}")  # pragma: no cover - the grammar has no other rule


def _token(node: Tree | Token) -> Token:
    assert isinstance(node, Token), node
    return node


def _op(node: Tree | Token) -> str:
    """An operator's canonical spelling: `or` is `||`, `and` `&&`, `not` `!`, `^` `**`."""
    text = str(_token(node))
    return _OPS.get(text, text)


def _leaf(tok: Token, in_predicate: bool) -> Expr:
    col, text = _col(tok), str(tok)
    if tok.type in _REFUSED:
        raise ExprError(_REFUSED[tok.type], col)
    if tok.type == "INT":
        if int(text) >= _INT64:
            raise ExprError(f"integer literal {text} is too large (the limit is {_INT64 - 1})", col)
        return Lit(int(text), col)
    if tok.type == "FLOAT":
        if math.isinf(float(text)):
            raise ExprError(f"float literal {text} is too large", col)
        return Lit(float(text), col)
    if tok.type == "STRING":
        return Lit(_unescape(text, col), col)
    if tok.type in ("TRUE", "FALSE", "NIL"):
        return Lit({"TRUE": True, "FALSE": False, "NIL": None}[tok.type], col)
    if tok.type == "HASH":
        if not in_predicate:
            raise ExprError("# is only allowed inside a predicate, e.g. all(result, {# < 0.5})", col)
        return Var("#", col)
    if text == "result":
        return Var("result", col)
    if text in _ARITY or text in _PREDICATES:
        raise ExprError(f"{text} is a function: call it as {text}(...)", col)
    raise ExprError(f"unknown name {text!r} (allowed: result, and in a {{...}} predicate #)", col)


def _unescape(raw: str, col: int) -> str:
    body = raw[1:-1]
    if not _STRING_BODY.fullmatch(body):
        raise ExprError("invalid escape sequence in string literal", col)
    return _ESCAPE.sub(lambda m: chr(int(m[1][1:], 16)) if m[1][0] in "ux" else _ESCAPES.get(m[1], m[1]), body)


def _call(name_tok: Token, args: list[Tree | Token], in_predicate: bool) -> Call:
    name, col = str(name_tok), _col(name_tok)
    if name in _PREDICATES:
        if len(args) != 2:
            raise ExprError(f"{name}() takes a list and a predicate, e.g. {name}(result, {{# < 0.5}})", col)
        body = args[1].children[0] if isinstance(args[1], Tree) and args[1].data == "closure" else args[1]
        return Call(name, (_build(args[0], in_predicate), _build(body, in_predicate=True)), col)
    if name not in _ARITY:
        raise ExprError(f"unknown function {name!r} (allowed: {_FUNCTIONS})", col)
    if name == "isInf" and len(args) == 2:
        raise ExprError("isInf takes one argument (Argo's isInf is math.IsInf(x, 0): either sign)", col)
    want = _ARITY[name]
    if (want and len(args) != want) or not args:
        takes = {0: "at least 1 argument", 1: "1 argument", 2: "2 arguments"}[want]
        raise ExprError(f"{name}() takes {takes}, not {len(args)}", col)
    return Call(name, tuple(_build(a, in_predicate) for a in args), col)


# Evaluation.


@dataclass
class _Run:
    result: tuple[float, ...]
    steps: int = 0


def evaluate(condition: Condition, result: list[float]) -> bool:
    """The truth of `condition` for one measurement; EvalError if it fails or is not a boolean."""
    value = _eval(condition.tree, _Run(tuple(float(x) for x in result)), None)
    if not isinstance(value, bool):
        raise EvalError(f"condition gave {_show(value)}, not true or false")
    return value


def _eval(node: Expr, run: _Run, elem: Value) -> Value:
    run.steps += 1
    if run.steps > MAX_STEPS:
        raise EvalError(f"the condition took more than {MAX_STEPS:,} steps (nested predicates over a long result?)")
    match node:
        case Lit():
            return node.value
        case Var():
            return run.result if node.name == "result" else elem
        case Index():
            return _index(_eval(node.target, run, elem), _eval(node.index, run, elem), node.col)
        case Unary():
            return _unary(node.op, _eval(node.operand, run, elem), node.col)
        case Binary():
            left, right = _eval(node.left, run, elem), _eval(node.right, run, elem)
            return _power(left, right, node.col) if node.op == "**" else _compare(node.op, left, right, node.col)
        case Chain():
            return _chain(node, run, elem)
        case Cond():
            test = _eval(node.test, run, elem)
            if not isinstance(test, bool):
                raise EvalError(f"column {node.col}: the test of '? :' gave {_show(test)}, not true or false")
            return _eval(node.then if test else node.other, run, elem)
        case Call() if node.name in _PREDICATES:
            return _predicate(node, run, elem)
        case Call() if node.name == "default":
            _eval(node.args[0], run, elem)  # evaluated first, as expr does (an index out of range is an error)
            return _eval(node.args[1], run, elem) if run.result is None else run.result
        case Call():
            return _function(node.name, [_eval(a, run, elem) for a in node.args], node.col)
    raise AssertionError(f"unknown node {node!r}")  # pragma: no cover


def _chain(node: Chain, run: _Run, elem: Value) -> Value:
    value = _eval(node.first, run, elem)
    if node.rest[0][0] in ("&&", "||"):
        stop = node.rest[0][0] == "||"  # || stops at the first true, && at the first false
        value = _boolean(value, node.rest[0][0], node.col)
        for op, col, operand in node.rest:
            if value == stop:
                break
            value = _boolean(_eval(operand, run, elem), op, col)
        return value
    for op, col, operand in node.rest:
        value = _arith(op, value, _eval(operand, run, elem), col)
    return value


def _predicate(node: Call, run: _Run, elem: Value) -> Value:
    items = _eval(node.args[0], run, elem)
    if not isinstance(items, tuple):
        raise EvalError(f"column {node.col}: {node.name}() needs a list, got {_kind(items)} {_show(items)}")
    body = node.args[1]
    if node.name == "map":
        return tuple(_eval(body, run, x) for x in items)

    def holds(x: Value) -> bool:
        v = _eval(body, run, x)
        if not isinstance(v, bool):
            raise EvalError(f"column {body.col}: the predicate of {node.name}() gave {_show(v)}, not true or false")
        return v

    if node.name == "all":  # all, any and none stop at the first decisive element, as expr's loops do
        return all(holds(x) for x in items)
    if node.name == "any":
        return any(holds(x) for x in items)
    if node.name == "none":
        return not any(holds(x) for x in items)
    hits = tuple(x for x in items if holds(x))  # one, count and filter test every element
    if node.name == "filter":
        return hits
    return len(hits) if node.name == "count" else len(hits) == 1


def _function(name: str, args: list[Value], col: int) -> Value:
    x = args[0]
    if name in ("min", "max"):
        return _extreme(name, args, col)
    if name == "len":
        if isinstance(x, (tuple, str)):
            return len(x)
        raise EvalError(f"column {col}: len() needs a list, got {_kind(x)} {_show(x)}")
    if name == "asInt":
        return _as_int(x, col)
    if name == "asFloat":
        return _as_float(x, col)
    if not _is_num(x):
        hint = f" (use {name}(result[0]))" if isinstance(x, tuple) else ""
        raise EvalError(f"column {col}: {name}() needs a number, got {_kind(x)} {_show(x)}{hint}")
    if name == "abs":
        return _wrap(abs(x)) if isinstance(x, int) else abs(x)
    return math.isnan(x) if name == "isNaN" else math.isinf(x)


def _extreme(name: str, args: list[Value], col: int) -> Value:
    best: int | float | None = None
    for v in _flatten(args):
        if not _is_num(v):
            raise EvalError(f"column {col}: {name}() needs numbers, got {_kind(v)} {_show(v)}")
        if best is None or (_less(best, v) if name == "max" else _less(v, best)):
            best = v
    return best


def _flatten(values: list[Value] | tuple) -> list[Value]:
    out: list[Value] = []
    for v in values:
        out.extend(_flatten(v) if isinstance(v, tuple) else [v])
    return out


def _as_int(x: Value, col: int) -> int:
    if isinstance(x, str) and re.fullmatch(r"[+-]?[0-9]+", x) and -_INT64 <= int(x) < _INT64:
        return int(x)
    if _is_num(x) and (isinstance(x, int) or (math.isfinite(x) and -_INT64 <= x < _INT64)):
        return int(x)  # Go's int64(f): towards zero
    raise EvalError(f"column {col}: asInt() cannot convert {_kind(x)} {_show(x)} to an integer")


def _as_float(x: Value, col: int) -> float:
    if _is_num(x):
        return float(x)
    number = r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)"
    if isinstance(x, str) and re.fullmatch(number, x, re.IGNORECASE):
        value = float(x)
        if not (math.isinf(value) and "inf" not in x.lower()):  # ParseFloat: out of range is an error
            return value
    raise EvalError(f"column {col}: asFloat() cannot convert {_kind(x)} {_show(x)} to a number")


def _index(target: Value, index: Value, col: int) -> Value:
    if not isinstance(target, tuple):
        raise EvalError(f"column {col}: cannot index {_kind(target)} {_show(target)}; only lists have elements")
    if not _is_num(index) or (isinstance(index, float) and not math.isfinite(index)):
        raise EvalError(f"column {col}: an index must be a number, got {_kind(index)} {_show(index)}")
    i = int(index)  # expr's runtime.ToInt truncates a float index
    n = len(target)
    if not -n <= i < n:
        raise EvalError(f"column {col}: index {i} out of range (the list has {n} element{'s' if n != 1 else ''})")
    return target[i]


def _unary(op: str, x: Value, col: int) -> Value:
    if op == "!":
        return not _boolean(x, "!", col)
    if not _is_num(x):
        raise EvalError(f"column {col}: unary '{op}' needs a number, got {_kind(x)} {_show(x)}")
    return x if op == "+" else (_wrap(-x) if isinstance(x, int) else -x)


def _arith(op: str, a: Value, b: Value, col: int) -> Value:
    if not (_is_num(a) and _is_num(b)):
        raise EvalError(f"column {col}: cannot apply '{op}' to {_kind(a)} {_show(a)} and {_kind(b)} {_show(b)}")
    if op == "/":
        return _divide(float(a), float(b))
    if op == "%":
        if not (isinstance(a, int) and isinstance(b, int)):
            raise EvalError(f"column {col}: '%' needs two integers, got {_show(a)} and {_show(b)}")
        if b == 0:
            raise EvalError(f"column {col}: integer modulo by zero")
        r = abs(a) % abs(b)
        return _wrap(-r if a < 0 else r)  # Go's %: the sign of the dividend
    if isinstance(a, int) and isinstance(b, int):
        return _wrap(a + b if op == "+" else a - b if op == "-" else a * b)
    fa, fb = float(a), float(b)
    return fa + fb if op == "+" else fa - fb if op == "-" else fa * fb


def _divide(a: float, b: float) -> float:
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _power(a: Value, b: Value, col: int) -> float:
    """Go's math.Pow, which returns Inf or NaN where Python's math.pow raises."""
    if not (_is_num(a) and _is_num(b)):
        raise EvalError(f"column {col}: cannot apply '**' to {_kind(a)} {_show(a)} and {_kind(b)} {_show(b)}")
    x, y = float(a), float(b)
    odd = y.is_integer() and int(y) % 2 == 1
    try:
        return math.pow(x, y)
    except OverflowError:
        return -math.inf if x < 0 and odd else math.inf
    except ValueError:  # 0 to a negative power, or a negative base to a fractional power
        if x == 0:
            return math.copysign(math.inf, x) if odd else math.inf
        return math.nan


def _compare(op: str, a: Value, b: Value, col: int) -> bool:
    if op in ("==", "!="):
        return _equal(a, b) == (op == "==")
    if _is_num(a) and _is_num(b):
        mixed = isinstance(a, float) or isinstance(b, float)
        return bool(_ORDER[op](float(a), float(b)) if mixed else _ORDER[op](a, b))
    if isinstance(a, str) and isinstance(b, str):
        return bool(_ORDER[op](a, b))
    hint = " (result is a list: index it, e.g. result[0])" if isinstance(a, tuple) or isinstance(b, tuple) else ""
    raise EvalError(f"column {col}: cannot compare {_kind(a)} {_show(a)} with {_kind(b)} {_show(b)} "
                    f"using '{op}'{hint}")


def _equal(a: Value, b: Value) -> bool:
    if _is_num(a) and _is_num(b):
        return float(a) == float(b) if isinstance(a, float) or isinstance(b, float) else a == b
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _less(a: int | float, b: int | float) -> bool:
    return float(a) < float(b) if isinstance(a, float) or isinstance(b, float) else a < b


def _boolean(x: Value, op: str, col: int) -> bool:
    if not isinstance(x, bool):
        raise EvalError(f"column {col}: '{op}' needs true or false, got {_kind(x)} {_show(x)}")
    return x


def _is_num(x: Value) -> TypeGuard[int | float]:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _wrap(n: int) -> int:
    """Go's int64 arithmetic wraps around."""
    return (n + _INT64) % (2 * _INT64) - _INT64


def _kind(x: Value) -> str:
    if x is None:
        return "nil"
    return {bool: "bool", int: "int", float: "float", str: "string", tuple: "list"}[type(x)]


def _show(x: Value) -> str:
    if x is None:
        return "nil"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float) and not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("+Inf" if x > 0 else "-Inf")
    if isinstance(x, tuple):
        shown = ", ".join(_show(v) for v in x[:5])
        return f"[{shown}{', ...' if len(x) > 5 else ''}]"
    return repr(x) if isinstance(x, str) else str(x)
