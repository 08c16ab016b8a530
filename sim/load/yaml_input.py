"""Parsing YAML text within the budgets of `sim.limits`, every refusal located.

`parse_yaml` reads one YAML 1.2 document (round-trip, keeping line and column of every value; or
plain, for `--set` values) and refuses, at the line and column of the first offending node:

- nesting deeper than `MAX_DEPTH` (checked while scanning `[`/`{`, before ruamel's scanner slows
  down on deep flow collections (there the message has no key path), and while composing, before its
  composer runs out of stack);
- more nodes than the node budget, an alias counting as the whole value it names each time it is
  used (so a few hundred bytes of nested aliases cannot expand into gigabytes later), and an alias
  inside the value it names (a cycle);
- a `%YAML` directive other than 1.2 (YAML 1.1 would read `no` as false and `0777` as octal), and
  tags other than `!!int`, `!!float`, `!!bool`, `!!null`, `!!seq`, `!!map` (`!!binary`, `!!python/...`,
  `!local`; and `!!str`, which the round-trip reader keeps as a tagged object: quote text instead);
- numbers that are not finite (`.nan`, `.inf`, `1e400`), whole numbers of `MAX_INTEGER` or more,
  strings that are not valid Unicode (a lone surrogate escape), characters YAML does not allow, and
  scalars that cannot be read as their type (`!!int abc`, a date such as 2024-13-45).

In YAML 1.2, as read here: `no`, `on`, `yes` are strings; `0777` and `010` are decimal 777 and 10;
`0o17` is octal, `0x1F` hex; `1e3` is the float 1000.0 (a whole float is accepted where a whole number
is expected); `1_000` is 1000.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer
from ruamel.yaml.constructor import RoundTripConstructor, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionStartEvent
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scanner import RoundTripScanner, Scanner

from sim import limits
from sim.errors import Problem, ScenarioError
from sim.limits import MAX_DEPTH, MAX_INTEGER, NODES_VARIABLE, max_nodes, read_bounded
from sim.spec.references import render_path

CORE = "tag:yaml.org,2002:"
CORE_TAGS = {"!", *(CORE + name for name in ("int", "float", "bool", "null", "seq", "map"))}
MAX_REPORTED = 20
SCALAR_KINDS = {CORE + "str": "text", CORE + "int": "a whole number", CORE + "float": "a number",
                CORE + "bool": "true or false", CORE + "null": "null or ~", CORE + "timestamp": "a date"}
INTEGER_ALLOWED = "whole numbers smaller than 2**128 in size"
DEPTH_ALLOWED = f"at most {MAX_DEPTH} levels of mappings and lists inside each other"
_DIRECTIVE = re.compile(r"^\ufeff?%YAML\b[ \t]*([^\s#]*)", re.MULTILINE)


class Refusal(Exception):
    """A budget or rule broken at `mark` (a ruamel mark: 0-based line and column), at key path `path`."""

    def __init__(self, mark: Any, path: tuple, message: str, got: str | None = None, allowed: str | None = None):
        super().__init__(message)
        self.mark, self.path, self.message, self.got, self.allowed = mark, path, message, got, allowed


class Refusals(Exception):
    """Every scalar of a document that cannot be used, in document order."""

    def __init__(self, found: list[Refusal]):
        super().__init__(f"{len(found)} values refused")
        self.found = found


def read_text(path: Path) -> str:
    """A YAML file's text (a scenario, an included file, a manifest), read within the YAML size budget of
    `sim.limits`; ScenarioError located at the first byte that is not UTF-8."""
    source = str(path)
    raw = read_bounded(path, limits.YAML, ScenarioError)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise ScenarioError([Problem(source, line, column, "", "file is not UTF-8 text",
                                     got=f"byte 0x{raw[error.start]:02x}", allowed="UTF-8")]) from None


def parse_yaml(text: str, source: str, *, round_trip: bool = True, located: bool = True, prefix: tuple = (),
               documents: bool = False) -> Any:
    """The one document in `text` (with `documents`: the list of every `---` document, as Kubernetes
    manifests are written; one node budget for the whole file); ScenarioError located at
    `source:line:col` (or `source` alone when not `located`, e.g. a `--set` value) with key paths under
    `prefix`."""
    _check_directives(text, source, located, prefix)
    yaml = YAML(typ="rt" if round_trip else "safe", pure=True)
    yaml.Scanner = _BoundedRoundTripScanner if round_trip else _BoundedScanner
    yaml.Composer = _BoundedComposer
    yaml.Constructor = _CheckedRoundTripConstructor if round_trip else _CheckedSafeConstructor
    yaml.deploysim_nodes = max_nodes()
    try:
        return list(yaml.load_all(text)) if documents else yaml.load(text)
    except (Refusal, Refusals) as refused:
        found = refused.found if isinstance(refused, Refusals) else [refused]
        problems = [_problem(source, located, r.mark, prefix + r.path, r.message, r.got, r.allowed)
                    for r in found[:MAX_REPORTED]]
        if len(found) > MAX_REPORTED:
            more = len(found) - MAX_REPORTED
            problems.append(Problem(source, None, None, "", f"... and {more} more problem{'s' * (more > 1)} not shown"))
        raise ScenarioError(problems) from None
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = f"YAML syntax error: {error.problem or error.context}"
        raise ScenarioError([_problem(source, located, mark, prefix, message)]) from None
    except ReaderError as error:
        line, column = _line_column(text, error.position)
        got = f"U+{error.character:04X}" if isinstance(error.character, int) else repr(error.character)
        raise ScenarioError([Problem(source, line if located else None, column if located else None,
                                     render_path(prefix), "a character YAML does not allow (binary data?)", got=got,
                                     allowed="printable Unicode text")]) from None
    except YAMLError as error:
        raise ScenarioError([Problem(source, None, None, render_path(prefix), f"YAML error: {error}")]) from None


def _problem(source: str, located: bool, mark: Any, path: tuple, message: str, got: str | None = None,
             allowed: str | None = None) -> Problem:
    line, column = (mark.line + 1, mark.column + 1) if located and mark is not None else (None, None)
    return Problem(source, line, column, render_path(path), message, got=got, allowed=allowed)


def _line_column(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _check_directives(text: str, source: str, located: bool, prefix: tuple) -> None:
    for match in _DIRECTIVE.finditer(text):
        if match[1] != "1.2":
            line, column = _line_column(text, match.start())
            raise ScenarioError([Problem(source, line if located else None, column if located else None,
                                         render_path(prefix), "unsupported YAML version: scenario files are YAML 1.2 "
                                         "(YAML 1.1 would read no/on as booleans and 0777 as octal)",
                                         got=f"%YAML {match[1]}".strip(), allowed="%YAML 1.2 or no directive")])


class _ScanGuard:
    """Refuses `[` and `{` nested deeper than MAX_DEPTH as they are scanned: ruamel's scanner does work per
    open flow level on every token and looks ahead for keys, so very deep flow nesting would take minutes
    before the composer sees it. (Otherwise the scanner is lazy: the composer's node count bounds its work.)"""

    def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:
        if len(self.indents) + len(self.flow_context) >= MAX_DEPTH:  # block levels open, flow levels open
            raise Refusal(self.reader.get_mark(), (), "nested too deep", got=f"more than {MAX_DEPTH} levels",
                          allowed=DEPTH_ALLOWED)
        super().fetch_flow_collection_start(TokenClass, to_push)


class _BoundedScanner(_ScanGuard, Scanner):
    pass


class _BoundedRoundTripScanner(_ScanGuard, RoundTripScanner):
    pass


class _BoundedComposer(Composer):
    """Composes within the depth and node budgets, counting each alias as the nodes it names."""

    def compose_document(self) -> Any:
        self._nodes, self._levels, self._sizes, self._path = 0, 0, {}, []
        self._budget = getattr(self.loader, "deploysim_nodes", max_nodes())
        return super().compose_document()

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        self._path.append(_part(parent, index))
        try:
            if isinstance(event, AliasEvent):
                self._count_alias(event)
                return super().compose_node(parent, index)
            return self._compose_counted(event, parent, index)
        finally:
            self._path.pop()

    def _compose_counted(self, event: Any, parent: Any, index: Any) -> Any:
        tag = str(event.ctag) if getattr(event, "ctag", None) is not None else None
        if tag is not None and tag not in CORE_TAGS:
            raise Refusal(event.start_mark, self._where(), "unsupported YAML tag", got=tag.replace(CORE, "!!"),
                          allowed="plain values; quote a value to make it text ('123' rather than !!str 123)")
        collection = isinstance(event, CollectionStartEvent)
        if collection and self._levels >= MAX_DEPTH:
            raise Refusal(event.start_mark, self._where(), "nested too deep", got=f"more than {MAX_DEPTH} levels",
                          allowed=DEPTH_ALLOWED)
        start = self._nodes
        self._count(1, event, None)
        self._levels += collection
        node = super().compose_node(parent, index)
        self._levels -= collection
        if node.anchor is not None:
            self._sizes[id(node)] = self._nodes - start
        return node

    def _count_alias(self, event: Any) -> None:
        node = self.anchors.get(event.anchor)
        if node is None:
            return  # ruamel reports the undefined alias
        size = self._sizes.get(id(node))
        if size is None:
            raise Refusal(event.start_mark, self._where(), "an alias inside the value it names (a cycle)",
                          got=f"*{event.anchor}", allowed="aliases to values defined before them")
        self._count(size, event, event.anchor)

    def _count(self, size: int, event: Any, alias: str | None) -> None:
        self._nodes += size
        if self._nodes > self._budget:
            what = f"alias *{alias} ({size} nodes) takes" if alias else "this value takes"
            raise Refusal(event.start_mark, self._where(), f"too many values: {what} the document past its node budget",
                          got=f"more than {self._budget} keys, values and list items, each alias counted as the "
                              "whole value it names",
                          allowed=f"at most {self._budget}; raise with {NODES_VARIABLE}=N")

    def _where(self) -> tuple:
        return tuple(part for part in self._path if part is not None)


def _part(parent: Any, index: Any) -> Any:
    """The key path element of a node composed as `index` of `parent` (None: the root or a key)."""
    if isinstance(index, ScalarNode):
        return index.value
    if isinstance(index, int):
        return index
    return "?" if isinstance(index, (MappingNode, SequenceNode)) else None


class _ScalarChecks:
    """Constructs every scalar once before the document, refusing values that make no sense anywhere."""

    def get_single_data(self) -> Any:
        node = self.composer.get_single_node()
        if node is None:
            return None
        found: list[Refusal] = []
        self._check(node, (), set(), found)
        if found:
            raise Refusals(found)
        return self.construct_document(node)

    def _check(self, node: Any, path: tuple, seen: set, found: list) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            problem = self._scalar_problem(node) if node.tag in SCALAR_KINDS else None
            if problem:
                found.append(Refusal(node.start_mark, path, *problem))
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                self._check(item, path + (i,), seen, found)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                self._check(key, path, seen, found)
                self._check(value, path + (key.value if isinstance(key, ScalarNode) else "?",), seen, found)

    def _scalar_problem(self, node: ScalarNode) -> tuple[str, str, str] | None:
        kind = SCALAR_KINDS[node.tag]
        if node.tag == CORE + "int" and len(node.value) > 60:
            return "number too large", f"a number of {len(node.value)} characters", INTEGER_ALLOWED
        try:
            value = self.construct_object(node)
        except (ValueError, LookupError, TypeError, ArithmeticError) as error:
            reason = f": {_reason(error)}" if node.tag == CORE + "timestamp" else ""
            return f"cannot read this value as {kind}{reason}", _short(node.value), kind
        return _value_problem(value, node.value)


def _value_problem(value: Any, text: str) -> tuple[str, str, str] | None:
    if isinstance(value, float) and not math.isfinite(value):
        return "not a finite number", _short(text), "a finite number"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= MAX_INTEGER:
        return "number too large", _short(text), INTEGER_ALLOWED
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            return ("not valid Unicode text (a lone surrogate escape)", f"\\u{ord(value[error.start]):04x}",
                    "text whose \\u escapes name characters (a surrogate pair is written as one \\U00xxxxxx)")
    return None


def _reason(error: Exception) -> str:
    return str(error).splitlines()[0][:80] if str(error) else type(error).__name__


def _short(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


class _CheckedSafeConstructor(_ScalarChecks, SafeConstructor):
    pass


class _CheckedRoundTripConstructor(_ScalarChecks, RoundTripConstructor):
    pass
