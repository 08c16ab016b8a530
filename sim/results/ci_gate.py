"""The CI gate of `evaluate` and `sweep`: JUnit XML (`--junit`), a Markdown job summary (`--summary`) and
GitHub Actions annotations, from the command's acceptance verdicts; and writing those files.

The writers are pure functions of a `Gate` (the verdicts, the exit code, where each criterion is written):
`junit_xml`, `summary_markdown`, `annotations`. A criterion that does not pass turns CI red exactly when
the command's exit code does: while the exit code is non-zero, a failing criterion is a JUnit `<failure
type="fail">` and an `::error` annotation, an uncertain one (JUnit has no such state) a `<failure
type="uncertain">` and a `::warning`; when it is 0 (a sweep where some other point passes) they are
`<skipped>` and not annotated. Every criterion is a share (`sim.evaluation.acceptance.CRITERIA`).

Files: `--junit FILE` and `--summary FILE` name a new file or, with `--overwrite`, a file deploysim wrote
(it opens with `MARKER`); never a link, a folder or any other file (`check_report_path`, before the run).
Each is written to a temporary file beside it and renamed into place, with the parent folders it needs.
A `--summary` naming `$GITHUB_STEP_SUMMARY` is appended to instead: the runner makes that file for this.
Verdicts are duck-typed (`sim.evaluation.acceptance.Verdict`): results sits below evaluation.
"""

from __future__ import annotations

import math
import os
import re
import stat
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml.comments import CommentedMap

from sim.errors import Problem, UserError
from sim.load.includes import IncludedFrom
from sim.results.output import MARKER, opens_with, replace_atomically

PER_KIND = 10  # GitHub shows at most 10 error and 10 warning annotations of a step
SUMMARY_BYTES = 2**20 - 1  # a job summary must stay under 1 MiB
STATUS = {"pass": "PASS", "fail": "FAIL", "uncertain": "UNCERTAIN"}


@dataclass(frozen=True)
class Gate:
    """What one run of `evaluate` or `sweep` tells CI."""

    command: str  # "evaluate" or "sweep"
    scenario: str  # the scenario's name
    verdicts: tuple  # every policy (sweep: point) against every criterion, in the command's order
    keys: dict  # measure -> its acceptance key (`false_rollback_rate` -> `max_false_rollback_rate`)
    exit_code: int
    confidence: float
    seconds: float = 0.0  # the run's wall time
    places: dict = field(default_factory=dict)  # acceptance key -> (file, line) where its bound is written
    recommendation: str | None = None  # sweep's one-line answer
    releases: int | None = None  # per policy

    @property
    def blocking(self) -> bool:
        return self.exit_code != 0


def _key(gate: Gate, verdict) -> str:
    return gate.keys.get(verdict.criterion, verdict.criterion)


def _pct(x: float) -> str:
    return "-" if math.isnan(x) else "never" if math.isinf(x) else f"{100 * x:.3g}%"


def measured(gate: Gate, verdict) -> str:
    """`3.57% [1.9%-6.5%] (95% interval) of 280 good builds; bound <= 1%`."""
    interval = ("[too few to bound]" if math.isnan(verdict.low) and math.isnan(verdict.high)
                else f"[{_pct(verdict.low)}-{_pct(verdict.high)}]")
    return (f"{verdict.criterion} {_pct(verdict.estimate)} {interval} ({gate.confidence:.0%} interval) of "
            f"{verdict.n} {verdict.population}; bound {verdict.op} {_pct(verdict.limit)}")


def why(verdict) -> str:
    if verdict.status == "fail":
        return "the estimate misses the bound"
    if verdict.n == 0 or math.isnan(verdict.estimate):
        return f"no {verdict.population} to measure: more releases (--releases) would settle it"
    return "the estimate meets the bound but its interval reaches past it: more releases (--releases) would settle it"


def _xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 cannot hold (control characters), written as `\\xNN`."""
    return re.sub(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", lambda m: f"\\x{ord(m[0]):02x}", text)


def junit_xml(gate: Gate) -> str:
    """testsuites > a testsuite per policy > a testcase per criterion (classname the policy, name the
    acceptance key). The run's wall time is shared equally among the test cases (every policy is judged on
    the same releases, simulated together)."""
    policies = list(dict.fromkeys(v.policy for v in gate.verdicts))
    each = gate.seconds / max(len(gate.verdicts), 1)
    root = ET.Element("testsuites", name=_xml_safe(f"deploysim {gate.command} {gate.scenario}"))
    for policy in policies:
        mine = [v for v in gate.verdicts if v.policy == policy]
        suite = ET.SubElement(root, "testsuite", name=_xml_safe(policy))
        properties = ET.SubElement(suite, "properties")
        for name, value in (("scenario", gate.scenario), ("confidence", f"{gate.confidence:g}"),
                            ("releases", "" if gate.releases is None else str(gate.releases))):
            ET.SubElement(properties, "property", name=name, value=_xml_safe(value))
        for verdict in mine:
            case = ET.SubElement(suite, "testcase", classname=_xml_safe(policy), name=_key(gate, verdict),
                                 time=f"{each:.3f}")
            if verdict.status != "pass":
                text = f"{STATUS[verdict.status]} {measured(gate, verdict)}"
                kind = "failure" if gate.blocking else "skipped"
                element = ET.SubElement(case, kind, message=_xml_safe(text), **({"type": verdict.status}
                                                                                 if gate.blocking else {}))
                element.text = _xml_safe(_body(gate, verdict))
        _count(suite)
    if gate.recommendation is not None:
        suite = ET.SubElement(root, "testsuite", name="sweep")
        case = ET.SubElement(suite, "testcase", classname="sweep", name="recommendation", time="0.000")
        if gate.blocking:
            ET.SubElement(case, "failure", message=_xml_safe(gate.recommendation),
                          type="fail" if gate.exit_code == 1 else "uncertain")
        else:
            ET.SubElement(case, "system-out").text = _xml_safe(gate.recommendation)
        _count(suite)
    suites = root.findall("testsuite")
    for name in ("tests", "failures", "errors", "skipped"):
        root.set(name, str(sum(int(s.get(name)) for s in suites)))
    root.set("time", f"{gate.seconds:.3f}")
    ET.indent(root)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{MARKER} {gate.command} -->\n'
            + ET.tostring(root, encoding="unicode") + "\n")


def _count(suite: ET.Element) -> None:
    """Set a testsuite's tests, failures, errors, skipped and time (the sum of its cases') from its cases."""
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(len(suite.findall("testcase/failure"))))
    suite.set("errors", "0")
    suite.set("skipped", str(len(suite.findall("testcase/skipped"))))
    suite.set("time", f"{sum(float(case.get('time')) for case in cases):.3f}")


def _body(gate: Gate, verdict) -> str:
    """The failure's text: what it means, and the numbers in full precision (for tools)."""
    blocking = "" if gate.blocking else (" Not blocking: the command passed (some other point passes every "
                                         "criterion).")
    return (f"{verdict.policy}: {_key(gate, verdict)} {STATUS[verdict.status]}: {why(verdict)}.{blocking}\n"
            f"estimate={verdict.estimate!r} low={verdict.low!r} high={verdict.high!r} n={verdict.n} "
            f"population={verdict.population!r} op={verdict.op} bound={verdict.limit!r} "
            f"confidence={gate.confidence!r}\n")


def _md(text: str) -> str:
    """A name as literal Markdown in a table cell: lines joined, the characters that could start emphasis, code,
    a link, HTML, an entity or a cell border escaped with a backslash."""
    return re.sub(r"([\\`*_\[\]<>|&~!#])", r"\\\1", " ".join(str(text).splitlines()))


def summary_markdown(gate: Gate, limit: int = SUMMARY_BYTES) -> str:
    """GitHub-flavoured Markdown for a job summary: the overall status, a row per policy and criterion,
    the recommendation (sweep); at most `limit` bytes, rows left out with a line saying how many."""
    status = "pass" if gate.exit_code == 0 else "fail" if gate.exit_code == 1 else "uncertain"
    what, whats = ("point", "points") if gate.command == "sweep" else ("policy", "policies")
    head = [f"{MARKER} {gate.command} -->", "",
            f"## deploysim {gate.command} {_md(gate.scenario)}: {STATUS[status]} (exit code {gate.exit_code})", ""]
    counts = {s: sum(v.status == s for v in gate.verdicts) for s in STATUS}
    releases = "" if gate.releases is None else f" on {gate.releases:,} releases per {what}"
    head.append(f"{len(gate.verdicts)} checks of {len(set(v.policy for v in gate.verdicts))} {whats}{releases}: "
                f"{counts['pass']} pass, {counts['fail']} fail, {counts['uncertain']} uncertain. Measured value "
                f"with its {gate.confidence:.0%} interval and the releases it was measured on.")
    if gate.recommendation is not None:
        head += ["", f"**Recommendation:** {_md(gate.recommendation)}"]
    head += ["", f"| {what} | criterion | status | measured [{gate.confidence:.0%} interval] | of | bound |",
             "|---|---|---|---|---|---|"]
    rows = [f"| {_md(v.policy)} | `{_key(gate, v)}` | {STATUS[v.status]} | {_pct(v.estimate)} {_interval(v)} | "
            f"{v.n:,} {_md(v.population)} | {_md(v.op)} {_pct(v.limit)} |"
            for v in gate.verdicts]
    text = "\n".join(head) + "\n"
    if len((text + "".join(row + "\n" for row in rows)).encode()) <= limit:
        return text + "".join(row + "\n" for row in rows)
    size = len(text.encode())
    for kept, row in enumerate(rows):  # room for this row and for the note about the rows after it
        if size + len(row.encode()) + 1 + len(_left_out(len(rows) - kept - 1).encode()) > limit:
            return text + _left_out(len(rows) - kept)
        text += row + "\n"
        size += len(row.encode()) + 1
    return text


def _interval(verdict) -> str:
    if math.isnan(verdict.low) and math.isnan(verdict.high):
        return "[too few to bound]"
    return f"[{_pct(verdict.low)}-{_pct(verdict.high)}]"


def _left_out(rows: int) -> str:
    return (f"\n_{rows:,} more rows left out to keep this summary under 1 MiB; the JUnit report (--junit) and "
            "the results folder (--out) hold every row._\n")


def annotations(gate: Gate, per_kind: int = PER_KIND) -> list[str]:
    """GitHub Actions workflow commands: `::error` per failing criterion, `::warning` per uncertain one, at
    most `per_kind` of each, the largest relative miss of the bound first, at the file and line where the
    bound is written; then a plain line counting those left out. Nothing when the exit code is 0."""
    if not gate.blocking:
        return []
    lines, left = [], []
    for status, command in (("fail", "error"), ("uncertain", "warning")):
        ranked = sorted((v for v in gate.verdicts if v.status == status), key=miss, reverse=True)
        for verdict in ranked[:per_kind]:
            file, line = gate.places.get(_key(gate, verdict), ("", None))
            title = f"deploysim {gate.command}: {verdict.policy} {'fails' if status == 'fail' else 'is uncertain on'} " \
                    f"{_key(gate, verdict)}"
            props = ",".join(f"{k}={_escape_property(str(v))}" for k, v in
                             (("file", file), ("line", line), ("title", title)) if v not in ("", None))
            lines.append(f"::{command} {props}::{_escape_data(f'{measured(gate, verdict)}: {why(verdict)}')}")
        if len(ranked) > per_kind:
            left.append(f"{len(ranked) - per_kind} more {'failing' if status == 'fail' else 'uncertain'}")
    if left:
        lines.append(f"deploysim: {' and '.join(left)} criteria not annotated (at most {per_kind} of each kind; "
                     "the JUnit report and the summary list them all)")
    return lines


def miss(verdict) -> float:
    """How far a criterion is from its bound, relative to the bound: the estimate past it for a failing one,
    the interval's far end past it for an uncertain one; -inf when nothing was measured."""
    value = verdict.estimate if verdict.status == "fail" else verdict.high if verdict.op == "<=" else verdict.low
    if math.isnan(value):
        return -math.inf
    past = value - verdict.limit if verdict.op == "<=" else verdict.limit - value
    return past / abs(verdict.limit) if verdict.limit else math.inf if past > 0 else past


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def written_at(loaded, path: tuple, base: str | None = None) -> tuple[str, int]:
    """(file, line) of the key at `path` as written in the scenario or a file it includes, else of its
    nearest ancestor written in a file (a key set by `--set` has no line), else the scenario's line 1.
    `base`: a folder to give file names relative to (GitHub wants them relative to the workspace)."""
    file, line = loaded.source, 1
    for length in range(len(path), 0, -1):
        found = _key_line(loaded.data, loaded.source, loaded.origins, path[:length])
        if found:
            file, line = found
            break
    if base is not None:
        full, root = os.path.realpath(file), os.path.realpath(base)
        if os.path.commonpath([full, root]) == root:
            file = os.path.relpath(full, root)
    return file, line


def _key_line(data, source: str, origins: dict, path: tuple) -> tuple[str, int] | None:
    parent = data
    for part in path[:-1]:
        parent = parent.get(part) if isinstance(parent, dict) else None
    if not isinstance(parent, CommentedMap) or path[-1] not in parent:
        return None
    at = next((path[:n] for n in range(len(path), 0, -1) if path[:n] in origins), None)
    origin = origins.get(at)
    if isinstance(origin, str):  # a --set override
        return None
    if path[-1] in parent.lc.data:
        line = parent.lc.key(path[-1])[0] + 1
    elif isinstance(origin, IncludedFrom) and at == path and origin.line is not None:
        line = origin.line
    else:
        return None
    return (origin.file if isinstance(origin, IncludedFrom) else source), line


# --- files ---

def refuse(flag: str, path: str, why: str) -> UserError:
    return UserError([Problem(source=f"{flag} {path}", line=None, column=None, path="", message=why)])


def appends(path: str, step_summary: str | None) -> bool:
    """Whether `--summary path` is the runner's `$GITHUB_STEP_SUMMARY` file, appended to."""
    return bool(step_summary) and os.path.abspath(path) == os.path.abspath(step_summary)


def report_problems(junit: str | None, summary: str | None, out: str | None, overwrite: bool,
                    step_summary: str | None) -> list[Problem]:
    """Every reason `--junit` and `--summary` cannot be written (checked before the run, with `--out`)."""
    problems: list[Problem] = []
    given = [(flag, path) for flag, path in (("--junit", junit), ("--summary", summary)) if path is not None]
    for flag, path in given:
        try:
            check_report_path(flag, path, overwrite, append=flag == "--summary" and appends(path, step_summary))
        except UserError as error:
            problems += error.problems
            continue
        if out is not None and _inside(path, out):
            problems += refuse(flag, path, f"is inside the --out folder {out}, which holds only the files its "
                                           "manifest lists; write the report beside it").problems
    if len(given) == 2 and os.path.abspath(junit) == os.path.abspath(summary):
        problems += refuse("--summary", summary, "is also the --junit file; give each its own file").problems
    return problems


def _inside(path: str, folder: str) -> bool:
    full, root = os.path.realpath(path), os.path.realpath(folder)
    return full != root and os.path.commonpath([full, root]) == root


def check_report_path(flag: str, path: str, overwrite: bool, append: bool = False) -> None:
    """Raise a UserError (`--junit PATH: why`) unless `path` may be written: a new file, or with
    `overwrite` a regular file deploysim wrote; with `append`, a regular file or a new one. Reads only."""
    if not path:
        raise refuse(flag, path, "needs a file name")
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise refuse(flag, path, f"cannot use this path ({error.strerror})") from None
    if mode is not None and stat.S_ISLNK(mode) and not append:
        raise refuse(flag, path, "is a symbolic link; deploysim replaces only a file it wrote")
    if mode is not None and not _regular(path):
        raise refuse(flag, path, "is a folder or not a regular file; give the name of a file to write")
    if append:
        if mode is not None and not os.access(path, os.W_OK):
            raise refuse(flag, path, "cannot be written (permission denied)")
    elif mode is not None and not overwrite:
        raise refuse(flag, path, "already exists; choose another file or pass --overwrite")
    elif mode is not None and not opens_with(path, MARKER):
        raise refuse(flag, path, "was not written by deploysim; --overwrite replaces only a file deploysim wrote")
    parent = Path(os.path.abspath(path)).parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise refuse(flag, path, f"cannot be created: {parent} is not a folder this user can write to")


def _regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def write_report(flag: str, path: str, text: str, overwrite: bool, append: bool = False) -> None:
    """Write `text` to `path` (checked again first): appended, or to a temporary file beside it renamed
    into place; missing parent folders are created. A failure leaves nothing behind and is a UserError."""
    check_report_path(flag, path, overwrite, append)
    target = Path(os.path.abspath(path))
    created: list[Path] = []
    try:
        for folder in reversed([p for p in target.parents if not p.exists()]):
            folder.mkdir()
            created.append(folder)
        if append:
            with open(target, "a", encoding="utf-8") as file:
                file.write(text)
            return
        replace_atomically(target, text, lambda: check_report_path(flag, path, overwrite))
    except BaseException as error:
        for folder in reversed(created):
            try:
                folder.rmdir()
            except OSError:
                break
        if isinstance(error, OSError):
            raise refuse(flag, path, f"cannot write the report ({error.strerror or error}); nothing was "
                                     "written there") from None
        raise
