"""A structure-aware fuzzer of deploysim's inputs: the shipped scenarios and metric files, mutated.

Each case is a base input (a shipped scenario made small enough to run in about a second, or a shipped
metric history) and a list of mutations, some on the parsed tree (drop, rename or duplicate a key, swap
a type, extreme and non-finite numbers, odd units, unicode, deep nesting) and some on the text (YAML
aliases, truncation, stray bytes). `run_case` runs the command the base belongs to on the mutated files,
in this process, under a time limit and a memory limit, and `contract_problems` says how the outcome
breaks the contract:

- exit 0 (or an evaluation's verdict code 1 or 3) with a complete results folder, or
- exit 2 with a located message (`file:line:col: ...`, `--set key: ...`, `--out PATH: ...`), no
  traceback and no folder;
- never a hang, a traceback or another exit code.

`tests/fuzz/test_fuzz.py` runs a small budget in the default suite and replays the corpus of cases
found so far (`tests/fuzz/corpus/*.json`); `scripts/fuzz` runs a large one.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import random
import re
import resource
import signal
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 30  # a case that takes longer is a hang
MEMORY = 3 * 2**30  # address space a case may add to the test process

# The shipped scenarios, made small: (file, shrinking overrides on the tree, command, extra CLI args)
BASES = {
    "push_vs_pull": ("scenarios/push_vs_pull.yaml",
                     {"replications": 1, "fleet": {"growth": {"start": 10, "per_week": 100, "weeks": 10, "points": 3}}},
                     "run", []),
    "slack_pipeline": ("scenarios/slack_2020_pipeline.yaml", {"fleet": {"hosts": 300}}, "run", []),
    "threshold_policies": ("scenarios/threshold_policies.yaml", {"fleet": {"hosts": 300}, "evaluation": {"releases": 4}},
                           "evaluate", []),
    "bench_small": ("scenarios/bench_small.yaml", {}, "run", []),
}
METRICS = ("scenarios/data/history_example.csv", "scenarios/data/prometheus_example.json")
OK_CODES = {"run": {0}, "evaluate": {0, 1, 3}, "check": {0}}
LOCATED = re.compile(r"^(\S[^\n]*?:\d+(:\d+)?: |--set \S+: |--out \S|--metrics \S|--\w[\w-]*: |\S[^\n]*?: )")


@dataclass
class Case:
    """A base and the mutations applied to it, replayable from its JSON form."""

    base: str
    mutations: list = field(default_factory=list)  # [name, args...]

    def to_json(self) -> str:
        return json.dumps({"base": self.base, "mutations": self.mutations})

    @staticmethod
    def from_json(text: str) -> "Case":
        data = json.loads(text)
        return Case(data["base"], data["mutations"])


# ---- mutations ------------------------------------------------------------------------------------------
ODD_VALUES = [None, True, "", "x", -1, 0, 1e308, -1e308, 1e-300, 10**30, float("nan"), float("inf"), "nan", "inf",
              "-5m", "5 parsecs", "1e3%", "150%", "-3%", "%", "5mm", "1h30", "0.5s5", "1.5TB", "10Gbps/s", "∞",
              "💥", "\u202e", "a" * 100_000, [], {}, [1, 2], {"a": 1}, "0777", "no", "on", "1e3", "010"]


def _paths(node, prefix=()):
    """Every path to a node of the tree (dict keys and list indices)."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


def _get(node, path):
    for part in path:
        node = node[part]
    return node


def tree_mutation(rng: random.Random, tree) -> list:
    """One mutation of the tree, as [name, path, args...] (replayable by `apply_tree`)."""
    paths = [p for p in _paths(tree) if p]
    path = list(rng.choice(paths))
    kind = rng.choice(["drop", "rename", "value", "value", "value", "wrap", "swap"])
    if kind == "rename":
        return ["rename", path, rng.choice(["", "x", path[-1] + "s" if isinstance(path[-1], str) else "0", "ü", "0"])]
    if kind == "value":
        return ["value", path, rng.randrange(len(ODD_VALUES))]
    if kind == "wrap":
        return ["wrap", path, rng.choice([2, 30, 150])]  # deeper: the text mutation "deep"
    if kind == "swap":
        return ["swap", path, list(rng.choice(paths))]
    return ["drop", path]


def apply_tree(tree, mutation: list) -> None:
    name, path = mutation[0], [tuple(p) if isinstance(p, list) else p for p in mutation[1]]
    try:
        parent, last = _get(tree, path[:-1]), path[-1]
        target = parent[last]
    except (KeyError, IndexError, TypeError):
        return  # an earlier mutation removed it
    if name == "drop":
        del parent[last]
    elif name == "rename" and isinstance(parent, dict):
        parent[mutation[2]] = parent.pop(last)
    elif name == "value":
        parent[last] = ODD_VALUES[mutation[2]]
    elif name == "wrap":
        for _ in range(mutation[2]):
            target = [target]
        parent[last] = target
    elif name == "swap":  # a copy of another node (never of an ancestor: no cycles)
        source = [tuple(p) if isinstance(p, list) else p for p in mutation[2]]
        with contextlib.suppress(KeyError, IndexError, TypeError):
            if path[: len(source)] != source:
                parent[last] = copy.deepcopy(_get(tree, source))


BILLION_LAUGHS = "\nlaughs: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"l{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n"
    for i in range(1, 10))


def text_mutation(rng: random.Random, text: str) -> list:
    kind = rng.choice(["truncate", "bytes", "aliases", "duplicate", "deep", "directive"])
    if kind in ("truncate", "bytes", "duplicate"):
        return [kind, rng.randrange(max(1, len(text)))]
    return [kind]


def apply_text(text: str, mutation: list) -> str | bytes:
    name = mutation[0]
    if name == "truncate":
        return text[: mutation[1]]
    if name == "bytes":
        raw = text.encode()
        return raw[: mutation[1]] + b"\xff\xfe\x00\x80" + raw[mutation[1]:]
    if name == "aliases":
        return text + BILLION_LAUGHS
    if name == "duplicate":
        lines = text.splitlines(keepends=True)
        i = mutation[1] % max(1, len(lines))
        return "".join(lines[: i + 1] + lines[i: i + 1] + lines[i + 1:])
    if name == "deep":
        return text + "\ndeep: " + "[" * 5000 + "]" * 5000 + "\n"
    if name == "directive":
        return "%YAML 1.1\n---\n" + text
    return text


# ---- running a case -------------------------------------------------------------------------------------
class Hang(BaseException):
    """A case ran past its time limit."""


@dataclass
class Outcome:
    command: list
    exit_code: int | None
    output: str
    exception: BaseException | None
    out_dir: Path
    seconds_over: bool = False


def materialise(case: Case, tmp: Path) -> tuple[list, Path]:
    """Write the case's files into `tmp`; return the CLI arguments and the results folder it may write."""
    yaml = YAML(typ="safe", pure=True)
    out = tmp / "results"
    if case.base.startswith("metrics:"):
        source = ROOT / case.base.removeprefix("metrics:")
        target = tmp / source.name
        text = source.read_text()
        body: str | bytes = text
        for mutation in case.mutations:
            body = apply_text(body if isinstance(body, str) else body.decode("utf-8", "replace"), mutation)
        target.write_bytes(body.encode() if isinstance(body, str) else body)
        scenario = tmp / "pipeline.yaml"
        scenario.write_text((ROOT / "scenarios/slack_2020_pipeline.yaml").read_text())
        return ["check", str(scenario), "--set", f"traffic.history={json.dumps(str(target))}"], out
    file, shrink, command, extra = BASES[case.base]
    source = ROOT / file
    for sibling in source.parent.glob("*.yaml"):  # includes resolve against the scenario's folder
        (tmp / sibling.name).write_text(sibling.read_text())
    plain = yaml.load(source.read_text())
    _merge(plain, shrink)
    for mutation in case.mutations:
        if mutation[0] in ("drop", "rename", "value", "wrap", "swap"):
            apply_tree(plain, mutation)
    stream = io.StringIO()
    YAML(typ="safe", pure=True).dump(plain, stream)
    text: str | bytes = stream.getvalue()
    for mutation in case.mutations:
        if mutation[0] not in ("drop", "rename", "value", "wrap", "swap"):
            text = apply_text(text if isinstance(text, str) else text.decode("utf-8", "replace"), mutation)
    target = tmp / source.name
    target.write_bytes(text.encode() if isinstance(text, str) else text)
    args = [command, str(target), "--workers", "1", *extra]
    return (args + ["--out", str(out)] if command != "check" else args), out


def _merge(tree: dict, shrink: dict) -> None:
    for key, value in shrink.items():
        if isinstance(value, dict) and isinstance(tree.get(key), dict):
            _merge(tree[key], value)
        else:
            tree[key] = value


def run_case(case: Case, tmp: Path) -> Outcome:
    from sim.cli import app

    args, out = materialise(case, tmp)

    def timeout(signum, frame):
        raise Hang(f"over {SECONDS} s")

    previous = signal.signal(signal.SIGALRM, timeout)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    used = _address_space()
    limit = used + MEMORY if hard == resource.RLIM_INFINITY else min(hard, used + MEMORY)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    signal.alarm(SECONDS)
    try:
        result = CliRunner().invoke(app, args, catch_exceptions=True)
        return Outcome(args, result.exit_code, result.output, result.exception, out)
    except Hang as hang:
        return Outcome(args, None, "", hang, out, seconds_over=True)
    finally:
        signal.alarm(0)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        signal.signal(signal.SIGALRM, previous)


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def contract_problems(case: Case, outcome: Outcome) -> list[str]:
    """How the outcome breaks the contract (empty: it keeps it)."""
    command = outcome.command[0]
    problems = []
    if outcome.seconds_over:
        return [f"hang: no answer within {SECONDS} s"]
    if "Traceback" in outcome.output:
        problems.append("a traceback was printed")
    exception = outcome.exception
    if exception is not None and not isinstance(exception, SystemExit):
        problems.append(f"uncaught {type(exception).__name__}: {exception}"[:300])
    leftovers = [p.name for p in outcome.out_dir.parent.glob(".*partial*")]
    if leftovers:
        problems.append(f"half-written folders left behind: {leftovers}")
    if outcome.exit_code in OK_CODES[command]:
        if command != "check":
            problems += _incomplete(outcome.out_dir)
    elif outcome.exit_code == 2:
        if outcome.out_dir.exists():
            problems.append("exit 2 but a results folder was written")
        first = outcome.output.strip().splitlines()[0] if outcome.output.strip() else ""
        if not LOCATED.match(first):
            problems.append(f"exit 2 without a located message: {first[:200]!r}")
    else:
        problems.append(f"exit code {outcome.exit_code}")
    return problems


def _incomplete(folder: Path) -> list[str]:
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return [f"no {manifest.name} in the results folder"]
    listed = json.loads(manifest.read_text()).get("files", [])
    missing = [name for name in listed if not (folder / name).exists()]
    return [f"files listed but missing: {missing}"] if missing else []


def random_case(rng: random.Random) -> Case:
    """A base and 1-4 mutations (tree mutations for scenarios, text mutations for either)."""
    yaml = YAML(typ="safe", pure=True)
    if rng.random() < 0.15:
        base = "metrics:" + rng.choice(METRICS)
        text = (ROOT / base.removeprefix("metrics:")).read_text()
        return Case(base, [text_mutation(rng, text) for _ in range(rng.randint(1, 2))])
    base = rng.choice(list(BASES))
    tree = yaml.load((ROOT / BASES[base][0]).read_text())
    _merge(tree, BASES[base][1])
    mutations = []
    for _ in range(rng.randint(1, 4)):
        mutation = text_mutation(rng, json.dumps(tree)) if rng.random() < 0.2 else tree_mutation(rng, tree)
        mutations.append(mutation)
        if mutation[0] in ("drop", "rename", "value", "wrap", "swap"):
            apply_tree(tree, mutation)
    return Case(base, mutations)
