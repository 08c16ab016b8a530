"""Every input is read within bounds: exit 2 with a located message and nothing written, in under 2 s
of CPU and under 300 MB, whatever the file or value (issue 10).

Classes: YAML alias expansion ("billion laughs"), nesting depth, file size, NaN / inf / huge numbers,
non-UTF-8 and binary files, YAML 1.1 surprises (and `%YAML 1.1`), tags and cycles, in scenarios,
`include:` files, `--set` values, metric histories (CSV, Prometheus JSON), bench recordings and
parameter files. Expected locations are worked out here from the inputs (which line, which column,
how many nodes an alias expands to), not copied from the implementation.

CPU time and memory are measured in subprocesses (CPU, not wall time: the bound is on the work an
input causes, which a busy machine does not change): `CASES` all run in one `python -c` that imports
the readers first and then times each call (`RUNNER`), reporting the peak RSS after each; the CLI tests
run `deploysim` under a wrapper that reports its child's CPU time and `ru_maxrss`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPLOYSIM = str(Path(sys.executable).with_name("deploysim"))
RECORDED = ROOT / "bench" / "recorded" / "2026-11-26"
SECONDS, MEGABYTES = 2.0, 300

GOOD = """\
version: 1
name: tiny
seed: 3
fleet: {hosts: 20}
strategies:
  push: {kind: push, parallel: 4}
  pull: {kind: pull}
"""
HEADER = "timestamp,requests,errors\n"
PROM = ('{"status":"success","data":{"resultType":"matrix","result":['
        '{"metric":{"series":"requests"},"values":%s},{"metric":{"series":"errors"},"values":%s}]}}')


def laughs(levels: int = 9, indent: str = "") -> str:
    """Nested aliases: level i is a list of ten aliases of level i-1 (10**9 leaves at 9 levels)."""
    lines = [f"{indent}a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"{indent}a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def first_crossing(budget: int, start: int, levels: int = 9) -> tuple[int, int, int]:
    """Where expanding `laughs()` passes `budget` nodes, counting in document order from `start` nodes
    already seen: (level, list index, nodes one alias of level-1 expands to). A list of n items is
    1 + n nodes; each key is a node; an alias counts as the whole value it names."""
    sizes = [11]
    for _ in range(1, levels):
        sizes.append(1 + 10 * sizes[-1])
    count = start
    for level in range(levels):
        count += 2  # the key and the list node
        if level == 0:
            count += 10
            continue
        for index in range(10):
            count += sizes[level - 1]
            if count > budget:
                return level, index, sizes[level - 1]
    raise AssertionError("never crosses")


def alias_column(index: int) -> int:
    """1-based column of the index-th alias in `aN: &aN [*aM, *aM, ...` (single-digit N, M)."""
    return len("a3: &a3 [") + 5 * index + 1


@dataclass
class Case:
    """One hostile input: files to write, what reads them, and the first problem line expected."""

    name: str
    files: dict
    call: str                      # scenario | metrics | calibrate | validate
    target: str = "s.yaml"
    overrides: list = field(default_factory=list)
    expect: str = ""               # how the first rendered problem starts, `{d}` standing for the folder
    env: dict = field(default_factory=dict)
    also: str = ""                 # and what else it says


def cases() -> list[Case]:
    level, index, size = first_crossing(5000, 1 + 2 + 2)  # the top mapping, version: 1, name: tiny
    laughs_line = 3 + level
    too_big = "# filler\n" * 30_000
    prom_ok = json.dumps([[1709510460, "10"], [1709510520, "10"]])
    return [
        # --- alias expansion
        Case("laughs-scenario", {"s.yaml": "version: 1\nname: tiny\n" + laughs()}, "scenario",
             expect=f"{{d}}/s.yaml:{laughs_line}:{alias_column(index)}: a{level}[{index}]: too many values: alias "
                    f"*a{level - 1} ({size} nodes) takes the document past its node budget"),
        Case("laughs-include", {"s.yaml": "version: 1\nname: tiny\ninclude: p.yaml\n", "p.yaml": laughs()},
             "scenario", expect=(lambda lv, ix, sz: f"{{d}}/p.yaml:{lv + 1}:{alias_column(ix)}: a{lv}[{ix}]: too many "
                                 f"values: alias *a{lv - 1} ({sz} nodes)")(*first_crossing(5000, 1))),
        Case("laughs-set", {"s.yaml": GOOD}, "scenario",
             overrides=["description={" + laughs().replace("\n", ", ").rstrip(", ") + "}"],
             expect=(lambda lv, ix, sz: f"--set description: description.a{lv}[{ix}]: too many values: alias "
                     f"*a{lv - 1} ({sz} nodes)")(*first_crossing(5000, 1))),
        Case("laughs-raised-budget", {"s.yaml": "version: 1\nname: tiny\n" + laughs(levels=4)}, "scenario",
             env={"DEPLOYSIM_MAX_YAML_NODES": "20000"},
             expect="{d}/s.yaml:3:1: a0: unknown key"),
        Case("merged-past-budget", {"s.yaml": "version: 1\nname: tiny\ninclude: [p.yaml, q.yaml, r.yaml]\n",
                                    **{f"{k}.yaml": f"{k}0: [" + ", ".join(["1"] * 2000) + "]\n" for k in "pqr"}},
             "scenario", expect="{d}/r.yaml:1:", also="r0[9"),  # each file 2002 nodes: the third passes 5000
        Case("alias-cycle", {"s.yaml": GOOD + "description: &a [1, *a]\n"}, "scenario",
             expect=f"{{d}}/s.yaml:8:{'description: &a [1, *a]'.index('*a') + 1}: description[1]: an alias inside the "
                    "value it names (a cycle) (got *a;"),
        # --- nesting depth: the 65th level is refused where it starts
        Case("deep-flow", {"s.yaml": "version: 1\nname: " + "[" * 10_000 + "]" * 10_000 + "\n"}, "scenario",
             expect=f"{{d}}/s.yaml:2:{len('name: ') + 64}: ",  # the top mapping and 63 lists: the 64th [ is level 65
             also="nested too deep (got more than 64 levels; allowed at most 64 levels of mappings and lists inside "
                  "each other)"),
        Case("deep-block", {"s.yaml": "version: 1\n" + "".join(" " * i + "a:\n" for i in range(600)) + " " * 600 + "x\n"},
             "scenario", expect="{d}/s.yaml:66:65: " + ".".join(["a"] * 64) + ": nested too deep"),
        Case("deep-dashes", {"s.yaml": "version: 1\nname:\n" + "- " * 5000 + "x\n"}, "scenario",
             expect="{d}/s.yaml:3:127: name" + "[0]" * 63 + ": nested too deep"),
        Case("deep-include", {"s.yaml": "version: 1\nname: tiny\ninclude: p.yaml\n",
                              "p.yaml": "fleet: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n"}, "scenario",
             expect="{d}/p.yaml:1:" + str(len("fleet: ") + 4 * 63 + 1) + ": ", also="nested too deep"),
        Case("deep-set", {"s.yaml": GOOD}, "scenario", overrides=["description=" + "[" * 50_000 + "]" * 50_000],
             expect="--set description: nested too deep"),
        Case("deep-set-key", {"s.yaml": GOOD}, "scenario", overrides=[".".join(["a"] * 65) + "=1"],
             expect="--set " + ".".join(["a"] * 65) + ": key path too deep (got 65 keys; allowed at most 64)"),
        Case("deep-json", {"m.json": '{"status":"success","data":' + "[" * 100_000 + "]" * 100_000 + "}"}, "metrics",
             target="m.json", expect="{d}/m.json:1:" + str(len('{"status":"success","data":') + 64) +
                                     ": invalid JSON: nested too deep (got more than 64 levels"),
        # --- file size: checked before reading
        Case("big-scenario", {"s.yaml": GOOD + too_big}, "scenario",
             expect=f"{{d}}/s.yaml: file too large (got {len(GOOD + too_big) / 1024:.4g} KiB ({len(GOOD + too_big)} bytes); "
                    "allowed at most 256 KiB (262144 bytes) for a YAML file (scenario, include, parameters, --set value); "
                    "raise with DEPLOYSIM_MAX_YAML_BYTES=SIZE)"),
        Case("big-scenario-raised", {"s.yaml": GOOD + too_big}, "scenario", env={"DEPLOYSIM_MAX_YAML_BYTES": "1MiB"}),
        Case("big-budget-unreadable", {"s.yaml": GOOD}, "scenario", env={"DEPLOYSIM_MAX_YAML_BYTES": "lots"},
             expect="DEPLOYSIM_MAX_YAML_BYTES: cannot read this size budget (got 'lots'"),
        Case("big-include", {"s.yaml": "version: 1\nname: tiny\ninclude: p.yaml\n", "p.yaml": too_big}, "scenario",
             expect="{d}/p.yaml: file too large"),
        Case("many-includes", {"s.yaml": "version: 1\nname: tiny\ninclude: [" + ", ".join(["p.yaml"] * 40) + "]\n",
                               "p.yaml": "fleet: {hosts: 3}\n"}, "scenario",
             expect="{d}/s.yaml:3:10: include: too many included files (got more than 32 (this one: p.yaml)"),
        Case("many-nodes-one-line", {"s.yaml": "version: 1\nname: x\nfleet: {sizes: [" + ",".join(["1"] * 120_000) + "]}\n"},
             "scenario", expect="{d}/s.yaml:3:" + str(len("fleet: {sizes: [") + 2 * (5000 - 9) + 1) +
                                f": fleet.sizes[{5000 - 9}]: too many values: this value takes"),
        Case("big-set-value", {"s.yaml": GOOD}, "scenario", overrides=["description=" + "x" * 300_000],
             expect="--set description: value too large"),
        Case("big-csv", {"m.csv": HEADER + "1709510400,1,0\n" * 2_400_000}, "metrics", target="m.csv",
             expect="{d}/m.csv: file too large (got 34.33 MiB (36000026 bytes); allowed at most 32 MiB (33554432 bytes) "
                    "for a metric history (CSV or Prometheus JSON); raise with DEPLOYSIM_MAX_METRICS_BYTES=SIZE)"),
        Case("big-hosts-csv", {"run/manifest.json": (RECORDED / "n10" / "manifest.json").read_text(),
                               "run/hosts.csv": (RECORDED / "n10" / "hosts.csv").read_text() + "#" * (33 << 20)},
             "calibrate", target="run", expect="{d}/run/hosts.csv: file too large"),
        # --- NaN, inf, huge numbers
        Case("nan-scenario", {"s.yaml": GOOD + "gates:\n  g: {semantics: threshold, max_ratio: .nan}\n"}, "scenario",
             expect=f"{{d}}/s.yaml:9:{'  g: {semantics: threshold, max_ratio: .nan}'.index('.nan') + 1}: gates.g.max_ratio: "
                    "not a finite number (got '.nan'; allowed a finite number)"),
        Case("inf-scenario", {"s.yaml": GOOD.replace("hosts: 20", "hosts: .inf")}, "scenario",
             expect="{d}/s.yaml:4:16: fleet.hosts: not a finite number (got '.inf'; allowed a finite number)"),
        Case("overflow-scenario", {"s.yaml": GOOD.replace("seed: 3", "seed: 1e400")}, "scenario",
             expect="{d}/s.yaml:3:7: seed: not a finite number (got '1e400'; allowed a finite number)"),
        Case("bigint-scenario", {"s.yaml": GOOD.replace("seed: 3", "seed: " + "9" * 5000)}, "scenario",
             expect="{d}/s.yaml:3:7: seed: number too large (got a number of 5000 characters; allowed whole numbers "
                    "smaller than 2**128 in size)"),
        Case("2**128-scenario", {"s.yaml": GOOD.replace("seed: 3", f"seed: {2**128}")}, "scenario",
             expect=f"{{d}}/s.yaml:3:7: seed: number too large (got '{2**128}'"),
        Case("nan-set", {"s.yaml": GOOD}, "scenario", overrides=["fleet.sizes=[10, -.inf]"],
             expect="--set fleet.sizes: fleet.sizes[1]: not a finite number (got '-.inf'; allowed a finite number)"),
        Case("overflow-set", {"s.yaml": GOOD}, "scenario", overrides=["seed=1e400"],
             expect="--set seed: not a finite number (got '1e400'; allowed a finite number)"),
        Case("nan-csv", {"m.csv": HEADER + "1709510400,NaN,0\n1709510460,10,inf\n1709510520,10,1\n"}, "metrics",
             target="m.csv", expect="{d}/m.csv:2:12: requests: not a whole number (got 'NaN'; allowed a whole number >= 0)"),
        Case("huge-csv-count", {"m.csv": HEADER + "1709510400,1e300,0\n1709510460,10,1\n1709510520,10,1\n"},
             "metrics", target="m.csv",
             expect="{d}/m.csv:2:12: requests: count too large (got '1e300'; allowed a whole number from 0 to 9007199254740992)"),
        Case("negative-time-csv", {"m.csv": HEADER + "-1e300,10,0\n1709510460,10,1\n1709510520,10,1\n"}, "metrics",
             target="m.csv", expect="{d}/m.csv:2:1: timestamp: before 1970 (got '-1e300'"),
        Case("huge-json", {"m.json": PROM % (json.dumps([[1709510460, "1e300"], [1709510520, "1"]]), prom_ok)},
             "metrics", target="m.json",
             expect="{d}/m.json: data.result[0].values[0]: requests must be a finite count >= 0 (got 1e+300"),
        Case("bigint-json", {"m.json": PROM % ("[[1709510460, \"1\"], [" + "9" * 5000 + ", \"1\"]]", prom_ok)},
             "metrics", target="m.json",  # a 5000-digit time reads as infinity, not as Python's 4300-digit error
             expect="{d}/m.json: data.result[0].values[1]: not a [time, value] point (got [Infinity, \"1\"]"),
        Case("inf-json-time", {"m.json": PROM % ("[[1709510460, \"1\"], [-1e300, \"1\"]]", prom_ok)}, "metrics",
             target="m.json", expect="{d}/m.json: data.result[0].values[1]: time out of range (got -1e+300"),
        Case("inf-hosts-csv", {"run/manifest.json": (RECORDED / "n10" / "manifest.json").read_text(),
                               "run/hosts.csv": _replace_cell(RECORDED / "n10" / "hosts.csv", 3, "transfer_start", "inf")},
             "calibrate", target="run",
             expect="{d}/run/hosts.csv:3:" + str(_column_of(RECORDED / "n10" / "hosts.csv", 3, "transfer_start")) +
                    ": transfer_start_s: not a finite number of seconds (got 'inf'"),
        Case("nan-manifest", {"run/manifest.json": _edit_manifest(lambda m: m["config"].update(size=float("nan"))),
                              "run/hosts.csv": (RECORDED / "n10" / "hosts.csv").read_text()}, "calibrate", target="run",
             expect="{d}/run/manifest.json: config.size: must be a finite number > 0 (got NaN; allowed bytes > 0)"),
        Case("nan-params", {"p.yaml": "network: {deploy_egress: .nan}\n"}, "validate", target="p.yaml",
             expect="{d}/p.yaml:1:26: network.deploy_egress: not a finite number (got '.nan'"),
        Case("laughs-params", {"p.yaml": laughs()}, "validate", target="p.yaml",
             expect=(lambda lv, ix, sz: f"{{d}}/p.yaml:{lv + 1}:{alias_column(ix)}: a{lv}[{ix}]: too many "
                     f"values")(*first_crossing(5000, 1))),
        # --- not UTF-8, binary
        Case("latin1-scenario", {"s.yaml": GOOD.encode() + b"description: caf\xe9\n"}, "scenario",
             expect=f"{{d}}/s.yaml:8:{len('description: caf') + 1}: file is not UTF-8 text (got byte 0xe9; allowed UTF-8)"),
        Case("nul-scenario", {"s.yaml": GOOD.encode() + b"description: a\x00b\n"}, "scenario",
             expect="{d}/s.yaml:8:15: a character YAML does not allow (binary data?) (got U+0000; allowed printable "
                    "Unicode text)"),
        Case("binary-include", {"s.yaml": "version: 1\nname: tiny\ninclude: p.yaml\n", "p.yaml": b"\x7fELF\x02\x01\x01\x00\xff"},
             "scenario", expect="{d}/p.yaml:1:9: file is not UTF-8 text (got byte 0xff; allowed UTF-8)"),
        Case("utf16-csv", {"m.csv": HEADER.encode("utf-16")}, "metrics", target="m.csv",
             expect="{d}/m.csv:1:1: file is not UTF-8 text (got byte 0xff"),
        Case("binary-json", {"m.json": b'{"status": "\xc3\x28"}'}, "metrics", target="m.json",
             expect="{d}/m.json:1:13: file is not UTF-8 text (got byte 0xc3"),
        Case("binary-manifest", {"run/manifest.json": b"\x89PNG\r\n\x1a\n", "run/hosts.csv": HEADER}, "calibrate",
             target="run", expect="{d}/run/manifest.json:1:1: file is not UTF-8 text (got byte 0x89; allowed UTF-8)"),
        Case("binary-params", {"p.yaml": b"network:\n  deploy_egress: \xff\n"}, "validate", target="p.yaml",
             expect="{d}/p.yaml:2:18: file is not UTF-8 text (got byte 0xff; allowed UTF-8)"),
        # --- YAML 1.1 cannot sneak in; tags and unreadable scalars are refused where they are
        Case("yaml-1.1-scenario", {"s.yaml": "%YAML 1.1\n---\n" + GOOD}, "scenario",
             expect="{d}/s.yaml:1:1: unsupported YAML version: scenario files are YAML 1.2 (YAML 1.1 would read no/on "
                    "as booleans and 0777 as octal) (got %YAML 1.1; allowed %YAML 1.2 or no directive)"),
        Case("yaml-1.1-include", {"s.yaml": "version: 1\nname: tiny\ninclude: p.yaml\n",
                                  "p.yaml": "# shared\n%YAML 1.1\n---\nfleet: {hosts: 010}\n"}, "scenario",
             expect="{d}/p.yaml:2:1: unsupported YAML version"),
        Case("yaml-1.1-set", {"s.yaml": GOOD}, "scenario", overrides=["seed=%YAML 1.1\n--- 0777"],
             expect="--set seed: unsupported YAML version"),
        Case("yaml-1.1-after-bom", {"s.yaml": "\ufeff%YAML 1.1\n---\n" + GOOD}, "scenario",
             expect="{d}/s.yaml:1:1: unsupported YAML version"),
        Case("yaml-1.3", {"s.yaml": "%YAML 1.3\n---\n" + GOOD}, "scenario",
             expect="{d}/s.yaml:1:1: unsupported YAML version"),
        Case("python-tag", {"s.yaml": GOOD + "description: !!python/object/apply:os.system [ls]\n"}, "scenario",
             expect="{d}/s.yaml:8:14: description: unsupported YAML tag (got !!python/object/apply:os.system"),
        Case("bad-int-tag", {"s.yaml": GOOD + "description: !!int 0x\n"}, "scenario",
             expect="{d}/s.yaml:8:14: description: cannot read this value as a whole number (got '0x'; allowed a whole number)"),
        Case("bad-date", {"s.yaml": GOOD + "description: 2024-13-45\n"}, "scenario",
             expect="{d}/s.yaml:8:14: description: cannot read this value as a date: month must be in 1..12"),
        Case("lone-surrogate", {"s.yaml": GOOD + 'description: "\\ud800"\n'}, "scenario",
             expect="{d}/s.yaml:8:14: description: not valid Unicode text (a lone surrogate escape) (got \\ud800"),
    ]


def _replace_cell(path: Path, line: int, column: str, value: str) -> str:
    lines = path.read_text().splitlines(keepends=True)
    header = lines[0].strip().split(",")
    cells = lines[line - 1].rstrip("\n").split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells) + "\n"
    return "".join(lines)


def _column_of(path: Path, line: int, column: str) -> int:
    header = path.read_text().splitlines()[0].split(",")
    cells = path.read_text().splitlines()[line - 1].split(",")
    return sum(len(c) + 1 for c in cells[: header.index(column)]) + 1


def _edit_manifest(change) -> str:
    manifest = json.loads((RECORDED / "n10" / "manifest.json").read_text())
    change(manifest)
    return json.dumps(manifest)


SPAWN = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"
"""Starts a command from a small interpreter: a child's peak RSS counts the memory of the process it was
forked from, and pytest's own is large."""

RUNNER = r"""
import json, os, resource, sys, time
from pathlib import Path
from sim.errors import UserError

cases = json.loads(sys.stdin.read())
call = cases[0]["call"]  # one kind of reader per interpreter: import only what it needs
if call == "scenario":
    from sim.load.loader import load_scenario
    run = lambda c: load_scenario(c["target"], c["overrides"])
elif call == "metrics":
    from sim.backtest import load_history
    run = lambda c: load_history(c["target"])
elif call == "calibrate":
    import pandas  # what the hosts.csv reader imports on first use
    from bench.analysis.runs import find_runs
    run = lambda c: find_runs([c["target"]])
else:
    import sim.load.loader  # what parameter_layer imports on first use
    from bench.analysis.validate import parameter_layer
    run = lambda c: parameter_layer(Path(c["target"]), Path(c["scenario"]))
out = {}
for case in cases:
    os.chdir(case["dir"])
    case["target"] = os.path.join(case["dir"], case["target"])
    saved = {k: os.environ.get(k) for k in case["env"]}
    os.environ.update(case["env"])
    start = time.process_time()  # CPU seconds: the work done, whatever else the machine is doing
    try:
        run(case)
        lines = []
    except UserError as error:
        lines = [p.render() for p in error.problems]
    elapsed = time.process_time() - start
    for k, v in saved.items():
        os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out[case["name"]] = {"elapsed": elapsed, "rss_mb": rss, "lines": lines}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict:
    """Every case, by kind of reader in a fresh interpreter (after its imports): seconds, peak MB of the
    interpreter so far (imports included), and the problem lines."""
    groups: dict[str, list] = {}
    for case in cases():
        folder = tmp_path_factory.mktemp(case.name.replace("*", "x"))
        for name, content in case.files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        groups.setdefault(case.call, []).append(
            {"name": case.name, "dir": str(folder), "call": case.call, "target": case.target,
             "overrides": case.overrides, "env": case.env, "scenario": str(ROOT / "scenarios" / "bench_small.yaml")})
    results = {}
    for payload in groups.values():
        done = subprocess.run([sys.executable, "-c", SPAWN, sys.executable, "-c", RUNNER], input=json.dumps(payload),
                              capture_output=True, text=True, cwd=ROOT, timeout=600,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert done.returncode == 0, done.stderr[-3000:]
        for name, result in json.loads(done.stdout).items():
            results[name] = {**result, "dir": next(p["dir"] for p in payload if p["name"] == name)}
    return results


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_each_hostile_input_is_refused_where_it_is_quickly_and_in_little_memory(outcomes, case):
    outcome = outcomes[case.name]
    assert outcome["elapsed"] < SECONDS, f"{case.name} took {outcome['elapsed']:.2f} s"
    assert outcome["rss_mb"] < MEGABYTES, f"{case.name}: peak {outcome['rss_mb']:.0f} MB"
    if not case.expect:
        assert outcome["lines"] == []
        return
    assert outcome["lines"], f"{case.name} was accepted"
    expected = case.expect.format(d=outcome["dir"])
    assert outcome["lines"][0].startswith(expected), outcome["lines"][0][:400]
    assert case.also in outcome["lines"][0]


# ---- YAML 1.2 as documented: what each YAML 1.1 surprise reads as ----

@pytest.mark.parametrize("written, expected", [
    ("no", "no"), ("on", "on"), ("yes", "yes"), ("off", "off"), ("y", "y"),
])
def test_yaml_1_1_booleans_are_text(tmp_path, written, expected):
    from sim.load.loader import load_scenario

    path = tmp_path / "s.yaml"
    path.write_text(GOOD + f"description: {written}\n")
    assert load_scenario(path).scenario.description == expected


@pytest.mark.parametrize("written, seed", [
    ("0777", 777), ("010", 10), ("1e3", 1000), ("0o17", 15), ("0x1F", 31), ("1_000", 1000), ("+12", 12),
])
def test_yaml_numbers_read_as_yaml_1_2(tmp_path, written, seed):
    """YAML 1.2 core schema: a leading zero is decimal, 0o is octal; a whole float is a whole number."""
    from sim.load.loader import load_scenario

    path = tmp_path / "s.yaml"
    path.write_text(GOOD.replace("seed: 3", f"seed: {written}"))
    assert load_scenario(path).scenario.seed == seed
    assert load_scenario(tmp_path / "s.yaml", [f"seed={written}"]).scenario.seed == seed  # --set reads the same


def test_a_yaml_1_2_directive_is_accepted_and_merge_keys_work(tmp_path):
    from sim.load.loader import load_scenario

    path = tmp_path / "s.yaml"
    path.write_text("%YAML 1.2\n---\nversion: 1\nname: tiny\nstrategies:\n  a: &b {kind: push, parallel: 1}\n"
                    "  c: {<<: *b, parallel: 2}\n")
    strategies = load_scenario(path).scenario.strategies
    assert (strategies["a"].parallel, strategies["c"].parallel, strategies["c"].kind) == (1, 2, "push")


def test_a_yes_no_setting_still_reads_as_a_boolean(tmp_path):
    """`no` stays the string 'no' in the YAML, and the model reads it as false where a boolean is asked for."""
    from sim.load.loader import load_scenario

    base = ROOT / "scenarios" / "slack_2020_pipeline.yaml"
    loaded = load_scenario(base, ["commander.hotfix.fast_path=yes", "commander.business_hours.weekdays_only=no"])
    assert loaded.scenario.commander.hotfix.fast_path is True
    assert loaded.scenario.commander.business_hours.weekdays_only is False


def test_the_shipped_scenarios_fit_the_budgets_with_room_to_spare():
    """The budgets refuse nothing real: the largest shipped scenario uses under a tenth of the node budget."""
    from sim.load.yaml_input import parse_yaml

    for path in [*sorted((ROOT / "scenarios").glob("*.yaml")), RECORDED / "params.yaml"]:
        assert path.stat().st_size < 256 * 1024 // 10
        parse_yaml(path.read_text(), str(path))
    from sim.limits import DEFAULT_NODES

    text = (ROOT / "scenarios" / "slack_2020_pipeline.yaml").read_text()
    os.environ["DEPLOYSIM_MAX_YAML_NODES"] = str(DEFAULT_NODES // 10)
    try:
        parse_yaml(text, "slack")
    finally:
        del os.environ["DEPLOYSIM_MAX_YAML_NODES"]


# ---- the command line: exit 2, one located line, nothing written, bounded memory ----

WRAPPER = r"""
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(done.returncode, used.ru_utime + used.ru_stime, used.ru_maxrss / 1024)
sys.stderr.write(done.stderr)
"""


def measured(*args: str, cwd: Path) -> tuple[int, float, float, str]:
    """(exit code, CPU seconds, peak MB of the command alone, stderr). CPU time, not wall time: the bound
    is on the work a hostile input causes, which a busy machine does not change."""
    done = subprocess.run([sys.executable, "-c", WRAPPER, *args], capture_output=True, text=True, cwd=cwd, timeout=300)
    code, seconds, megabytes = done.stdout.split()
    return int(code), float(seconds), float(megabytes), done.stderr


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """Seconds each command takes here to refuse a file that is not there (its imports included): the
    CLI's own cost, on top of which a hostile input may take at most 2 s."""
    folder, seen = tmp_path_factory.mktemp("baseline"), {}
    missing = {"check": ["missing.yaml"], "run": ["missing.yaml", "--out", "out"],
               "calibrate": ["missing", "--out", "out/params.yaml"],
               "validate-model": ["missing", "--params", str(RECORDED / "params.yaml"), "--out", "out"]}

    def seconds(command: str) -> float:
        if command not in seen:
            code, seen[command], _, err = measured(DEPLOYSIM, command, *missing[command], cwd=folder)
            assert code == 2, err
        return seen[command]
    return seconds


CLI = [
    ("check", ["s.yaml"], {"s.yaml": "version: 1\nname: tiny\n" + laughs()}, r"s\.yaml:\d+:\d+: a\d\[\d\]: too many values"),
    ("check", ["s.yaml"], {"s.yaml": "version: 1\nname: " + "[" * 10_000 + "]" * 10_000}, r"s\.yaml:2:70: nested too deep"),
    ("check", ["s.yaml", "--set", "seed=.nan"], {"s.yaml": GOOD}, r"--set seed: not a finite number"),
    ("run", ["s.yaml", "--out", "out"], {"s.yaml": GOOD + "description: " + "{a: " * 5000 + "1" + "}" * 5000},
     rf"s\.yaml:8:{len('description: ') + 4 * 63 + 1}: nested too deep"),
    ("run", ["s.yaml", "--out", "out", "--set", "description=[&x [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], " + ", ".join(["*x"] * 600) + "]"],
     {"s.yaml": GOOD}, r"--set description: description\[454\]: too many values: alias \*x \(11 nodes\)"),
    ("run", ["s.yaml", "--out", "out"], {"s.yaml": "%YAML 1.1\n---\n" + GOOD}, r"s\.yaml:1:1: unsupported YAML version"),
    ("run", ["s.yaml", "--out", "out"], {"s.yaml": GOOD + "# x\n" * 70_000}, r"s\.yaml: file too large"),
    ("run", ["s.yaml", "--out", "out"], {"s.yaml": GOOD.encode() + b"description: \xff\n"}, r"s\.yaml:8:14: file is not UTF-8"),
    ("run", [str(ROOT / "scenarios" / "slack_2020_pipeline.yaml"), "--metrics", "m.csv", "--out", "out"],
     {"m.csv": HEADER + "1709510400,NaN,0\n1709510460,10,1\n"}, r"m\.csv:2:12: requests: not a whole number"),
    ("run", [str(ROOT / "scenarios" / "slack_2020_pipeline.yaml"), "--metrics", "m.json", "--out", "out"],
     {"m.json": '{"status":"success","data":' + "[" * 100_000 + "]" * 100_000 + "}"},
     r"m\.json:1:91: invalid JSON: nested too deep"),
    ("calibrate", ["run", "--out", "out/params.yaml"],
     {"run/manifest.json": b"\x89PNG\r\n", "run/hosts.csv": HEADER}, r"run/manifest\.json:1:1: file is not UTF-8"),
    ("validate-model", [str(RECORDED / "n10"), "--params", "p.yaml", "--out", "out"], {"p.yaml": laughs()},
     r"p\.yaml:\d+:\d+: a\d\[\d\]: too many values"),
]


@pytest.mark.parametrize("command, args, files, pattern", CLI, ids=[f"{c[0]}-{i}" for i, c in enumerate(CLI)])
def test_the_cli_exits_2_with_one_located_line_and_writes_nothing(tmp_path, baseline, command, args, files, pattern):
    import re

    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    code, seconds, megabytes, err = measured(DEPLOYSIM, command, *args, cwd=tmp_path)
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("no seed given")]
    assert code == 2, err[-2000:]
    assert len(lines) == 1 and re.search(pattern, lines[0]) and "Traceback" not in err, err[-2000:]
    assert not (tmp_path / "out").exists()
    assert megabytes < MEGABYTES
    if command in ("check", "run"):  # the simulator's commands read their input before loading the engine
        assert seconds < SECONDS, f"{seconds:.2f} s"
    else:  # the bench's commands: at most 2 s on top of refusing a file that is not there
        start = baseline(command)
        assert seconds < start + SECONDS, f"{seconds:.2f} s against {start:.2f} s to refuse a missing file"
