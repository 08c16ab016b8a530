"""Reading what the bench recorded: a run's `manifest.json` and `hosts.csv`, and `calibration.json`.

`deploysim calibrate` and `deploysim validate-model` read these back. Each file is read only within
the bench recording budget of `sim.limits` (32 MiB; `DEPLOYSIM_MAX_BENCH_BYTES` raises it), must be
UTF-8, and is checked for what calibration and validation use before any of it is used, so a
damaged or foreign folder is refused with every problem located, never with a traceback:

- the manifest: `bench_format` 1 (`format_version` in runs recorded before it), `config.hosts`, `config.files` (whole numbers >= 1),
  `config.size` (a finite number > 0), `config.strategies` (each a name, `kind` push, pull or p2p,
  `parallel` >= 1 for a push, `transport` ssh or daemon), `deploys[].release_signalled` finite;
- hosts.csv: the columns strategy, host, attempts, signal_s, transfer_start_s, transfer_end_s, done_s
  (or results format 1's names, signal ... done: one reader for both, through the rename map of
  `sim.results.columns`); whole numbers of attempts; times finite numbers or empty (a host that never
  got there), and every host that finished (`done_s`) with its signal and transfer times. The rows come
  back with the in-memory names of `DeployRecord` (done, fleet_size, ...);
- for calibration (`fit_problems`): each strategy with at least one host that finished on its first
  attempt;
- calibration.json (`calibration_info`, beside a parameter file): an object whose `runs` is a list and
  whose `contention` terms are finite numbers (a phase's intercept and slope, or a shared rate's positive
  aggregate).

Problems are located as `file:line:col: key: message (got X; allowed Y)`: a JSON key path in the
manifest, the line, column and column name in hosts.csv.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.api import BENCH, MAX_DEPTH, Problem, UserError, read_bounded, too_deep_in_json

if TYPE_CHECKING:
    import pandas as pd

MAX_SHOWN = 20
HOST_COLUMNS = ("strategy", "host", "attempts", "signal_s", "transfer_start_s", "transfer_end_s", "done_s")
TIMES = ("signal_s", "transfer_start_s", "transfer_end_s", "done_s")


def read_json(path: Path) -> Any:
    """A JSON file within the bench budget; UserError located at the first problem."""
    text = _text(path)
    try:
        return json.loads(text, parse_int=lambda s: int(s) if len(s) <= 40 else float(s))
    except json.JSONDecodeError as error:
        raise UserError([Problem(str(path), error.lineno, error.colno, "", f"invalid JSON: {error.msg}")]) from None
    except RecursionError:
        line, column = too_deep_in_json(text)
        raise UserError([Problem(str(path), line, column, "", "invalid JSON: nested too deep", got=f"more than "
                                 f"{MAX_DEPTH} levels", allowed="a bench manifest (4 levels deep)")]) from None


def read_manifest(folder: Path) -> dict | None:
    """The checked manifest of a bench results folder; None when it is not a bench one (a simulator run)."""
    path = folder / "manifest.json"
    manifest = read_json(path)
    if not isinstance(manifest, dict):
        raise UserError([Problem(str(path), None, None, "", "not a results manifest", got=type(manifest).__name__,
                                 allowed="a JSON object")])
    if manifest.get("source") != "bench":
        return None
    problems = manifest_problems(str(path), manifest)
    _raise(problems)
    return manifest


BENCH_FORMAT = 1  # the bench's own fields in a results manifest (`bench_format`), beside the results format


def bench_format(manifest: dict):
    """The bench format of a manifest: its `bench_format`; runs recorded before that field existed carry
    it in `format_version` (both were 1)."""
    return manifest.get("bench_format", manifest.get("format_version"))


def manifest_problems(source: str, manifest: dict) -> list[Problem]:
    """What calibration would trip over in a bench manifest."""
    def bad(key: str, message: str, got: Any, allowed: str) -> Problem:
        return Problem(source, None, None, key, message, got=_short(got), allowed=allowed)

    if bench_format(manifest) != BENCH_FORMAT:
        key = "bench_format" if "bench_format" in manifest else "format_version"
        return [bad(key, "bench format not supported", bench_format(manifest), str(BENCH_FORMAT))]
    config = manifest.get("config")
    if not isinstance(config, dict):
        return [bad("config", "missing or not an object", config, "the bench configuration")]
    problems = [bad(f"config.{key}", "must be a whole number >= 1", config.get(key), "a whole number >= 1")
                for key in ("hosts", "files") if not _whole(config.get(key), 1)]
    if not _finite(config.get("size")) or not config["size"] > 0:
        problems.append(bad("config.size", "must be a finite number > 0", config.get("size"), "bytes > 0"))
    strategies = config.get("strategies")
    if not isinstance(strategies, list) or not strategies:
        problems.append(bad("config.strategies", "missing or empty", strategies, "a list of strategies"))
    else:
        problems += [p for i, s in enumerate(strategies) for p in _strategy_problems(source, i, s)]
    deploys = manifest.get("deploys", [])
    if not isinstance(deploys, list) or not all(isinstance(d, dict) for d in deploys):
        problems.append(bad("deploys", "not a list of objects", deploys, "one object per deploy"))
    else:
        problems += [bad(f"deploys[{i}].release_signalled", "must be a finite number of seconds", value, "seconds")
                     for i, d in enumerate(deploys)
                     for value in [d.get("release_signalled", (d.get("extra") or {}).get("release_signalled"))]
                     if value is not None and not _finite(value)]
    return problems


def _strategy_problems(source: str, index: int, spec: Any) -> list[Problem]:
    key = f"config.strategies[{index}]"
    if not isinstance(spec, dict):
        return [Problem(source, None, None, key, "not an object", got=_short(spec),
                        allowed='{"name": ..., "kind": ...}')]
    problems = []
    if not isinstance(spec.get("name"), str) or not spec["name"]:
        problems.append(Problem(source, None, None, f"{key}.name", "missing or not a name",
                                got=_short(spec.get("name")), allowed="the strategy's name"))
    if spec.get("kind") not in ("push", "pull", "p2p"):
        problems.append(Problem(source, None, None, f"{key}.kind", "unknown kind", got=_short(spec.get("kind")),
                                allowed="push, pull, p2p"))
    if spec.get("kind") == "push" and not _whole(spec.get("parallel"), 1):
        problems.append(Problem(source, None, None, f"{key}.parallel", "must be a whole number >= 1",
                                got=_short(spec.get("parallel")), allowed="rsyncs at a time, >= 1"))
    if spec.get("transport", "ssh") not in ("ssh", "daemon"):
        problems.append(Problem(source, None, None, f"{key}.transport", "unknown transport",
                                got=_short(spec.get("transport")), allowed="ssh, daemon"))
    return problems


def read_hosts(folder: Path) -> pd.DataFrame:
    """The checked host rows of a bench results folder, read by pandas as before (times as floats, NaN where
    empty)."""
    import pandas as pd  # imported late: `register` loads the bench commands on every deploysim start

    path = folder / "hosts.csv"
    source = str(path)
    text = _text(path)
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines, strict=True)
    try:  # (physical line where the record starts, cells)
        rows = [(reader.line_num - sum(c.count("\n") for c in cells), cells) for cells in reader]
    except csv.Error as error:
        raise UserError([Problem(source, reader.line_num, None, "", f"malformed CSV: {error}")]) from None
    if not rows:
        raise UserError([Problem(source, 1, 1, "", "file is empty", allowed=", ".join(HOST_COLUMNS))])
    from sim.api import columns as names

    header = [names.HOSTS.renames().get(cell.strip(), cell.strip()) for cell in rows[0][1]]  # format 1 -> today
    missing = [name for name in HOST_COLUMNS if name not in header]
    if missing:
        message = f"missing column{'s' * (len(missing) > 1)} {', '.join(missing)}"
        raise UserError([Problem(source, 1, 1, "header", message, got=_short(lines[0].rstrip("\r\n")),
                                 allowed=", ".join(header + missing))])
    columns = {name: header.index(name) for name in header}
    problems: list[Problem] = []
    for number, cells in rows[1:]:
        if any(c.strip() for c in cells):
            _check_host_row(source, number, lines[number - 1], cells, header, columns, problems)
    _raise(problems)
    return names.to_memory(pd.read_csv(io.StringIO(text), keep_default_na=True), names.HOSTS)


def fit_problems(folder: Path, manifest: dict, hosts: pd.DataFrame) -> list[Problem]:
    """What calibration cannot fit from a checked run: a strategy of the manifest with no host in hosts.csv
    that finished on its first attempt (every per-host phase would be fitted to nothing)."""
    problems = []
    finished = hosts[hosts["done"].notna() & (hosts["attempts"] == 1)]
    for i, spec in enumerate(manifest["config"]["strategies"]):
        count = int((finished["strategy"] == spec["name"]).sum())
        if count == 0:
            message = (f"no host of {spec['name']!r} (config.strategies[{i}] of manifest.json) finished on its "
                       "first attempt: nothing to calibrate from")
            problems.append(Problem(str(folder / "hosts.csv"), None, None, "strategy", message, got="0 such rows",
                                    allowed="at least one row with this strategy, attempts 1 and a done time"))
    return problems


def calibration_info(params: Path) -> dict:
    """calibration.json beside the parameter file (fit sizes, contention terms), or {}; read within bounds and
    checked for what validation uses (`runs`, `contention` terms)."""
    path = params.with_name("calibration.json")
    if not path.is_file():
        return {}
    info = read_json(path)
    problems = calibration_problems(str(path), info)
    if problems:
        raise UserError(problems)
    return info


def calibration_problems(source: str, info: Any) -> list[Problem]:
    """What `validate` would trip over in calibration.json."""
    if not isinstance(info, dict):
        return [Problem(source, None, None, "", "not a calibration", got=type(info).__name__, allowed="a JSON object")]
    problems = []
    if not isinstance(info.get("runs", []), list):
        problems.append(Problem(source, None, None, "runs", "not a list", allowed="the labels of the fitted runs"))
    problems += host_link_problems(source, info.get("network"))
    terms = info.get("contention") or {}
    if not isinstance(terms, dict):
        return problems + [Problem(source, None, None, "contention", "not an object",
                                   allowed="phase: {intercept, per_host}")]
    for name, term in terms.items():
        shared = isinstance(term, dict) and "aggregate" in term  # a rate the fleet shares (p2p.host_rate)
        for key in ("aggregate",) if shared else ("intercept", "per_host"):
            value = term.get(key) if isinstance(term, dict) else None
            if not _finite(value) or (shared and value <= 0):
                problems.append(Problem(
                    source, None, None, f"contention.{name}.{key}", "must be a " + ("positive " if shared else "")
                    + "finite number", got=json.dumps(value),
                    allowed="bytes per second shared by the fleet" if shared else "seconds (intercept) or seconds per host"))
    return problems


def host_link_problems(source: str, network: Any) -> list[Problem]:
    """`network.host_link` (what a shaped host link delivered), when there is one: a share of its tbf rate."""
    link = network.get("host_link") if isinstance(network, dict) else None
    if link is None:
        return []
    if not isinstance(link, dict):
        return [Problem(source, None, None, "network.host_link", "not an object", got=type(link).__name__,
                        allowed="{identified, efficiency, ...} as calibrate writes it")]
    problems = []
    if not isinstance(link.get("identified"), bool):
        problems.append(Problem(source, None, None, "network.host_link.identified", "not true or false",
                                got=json.dumps(link.get("identified"))[:80], allowed="true or false"))
    share = link.get("efficiency")
    if not _finite(share) or not 0 < share <= 2:
        problems.append(Problem(source, None, None, "network.host_link.efficiency", "must be a number in (0, 2]",
                                got=json.dumps(share)[:80], allowed="the share of its tbf rate a shaped link delivered"))
    return problems


def _check_host_row(source: str, line: int, text: str, cells: list[str], header: list[str], columns: dict,
                    problems: list[Problem]) -> None:
    if len(cells) != len(header):
        problems.append(Problem(source, line, None, "", "wrong number of cells", got=str(len(cells)),
                                allowed=f"{len(header)}, as in the header"))
        return
    times = {name: _time(source, line, text, cells, columns, name, problems) for name in TIMES}
    attempts = cells[columns["attempts"]].strip()
    if not attempts.isdigit() or len(attempts) > 9:
        _cell_problem(source, line, text, cells, columns, "attempts", "not a whole number of attempts",
                      "a whole number >= 0", problems)
    if times["done_s"] is not None and not math.isnan(times["done_s"]):
        for name in ("signal_s", "transfer_start_s", "transfer_end_s"):
            if times[name] is not None and math.isnan(times[name]):
                _cell_problem(source, line, text, cells, columns, name,
                              "missing for a host that finished (done_s is set)", "seconds since the deploy started",
                              problems)


def _time(source: str, line: int, text: str, cells: list[str], columns: dict, name: str,
          problems: list[Problem]) -> float | None:
    cell = cells[columns[name]].strip()
    if not cell:
        return math.nan
    try:
        value = float(cell)
    except ValueError:
        value = math.inf
    if math.isnan(value):
        return value  # NaN written out: empty, as pandas reads it
    if not math.isfinite(value):
        _cell_problem(source, line, text, cells, columns, name, "not a finite number of seconds",
                      "seconds since the deploy started, or empty", problems)
        return None
    return value


def _cell_problem(source: str, line: int, text: str, cells: list[str], columns: dict, name: str, message: str,
                  allowed: str, problems: list[Problem]) -> None:
    index = columns[name]
    column = None if '"' in text else sum(len(c) + 1 for c in cells[:index]) + 1
    problems.append(Problem(source, line, column, name, message, got=_short(cells[index]), allowed=allowed))


def _text(path: Path) -> str:
    raw = read_bounded(path, BENCH)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise UserError([Problem(str(path), line, column, "", "file is not UTF-8 text",
                                 got=f"byte 0x{raw[error.start]:02x}", allowed="UTF-8")]) from None


def _raise(problems: list[Problem]) -> None:
    if problems:
        shown = problems[:MAX_SHOWN]
        if len(problems) > MAX_SHOWN:
            shown.append(Problem(problems[0].source, None, None, "",
                                 f"... and {len(problems) - MAX_SHOWN} more problems not shown"))
        raise UserError(shown)


def _whole(value: Any, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value < 2**63


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = repr(text) if isinstance(value, str) else text
    return text if len(text) <= 60 else text[:57] + "..."
