"""The house plan, checked over the import graph: `sim` never imports `bench`, no import circles, and
every import points down the layers (an import inside a function counts as much as one at the top).

Layers, lowest first; a module may import its own layer and those below:
  base        sim's top-level modules: errors, units, quantities, section, limits, distributions,
              streams, progress, interrupts, positions
  leaves      sim.stats (intervals, exact quantiles), sim.policies (gate models and judges),
              sim.backtest (metric histories)
  spec        sim.spec: every scenario model
  load        sim.load: reading, includes, overrides, locations
  results     sim.results: records, tables, the results writer, plots
  report      sim.report: the HTML report of a results folder (reads files only); sim.compare: two folders compared
  deploy      sim.deploy: plans, the wave engine, strategies
  rollout     sim.rollout: releases through the pipeline
  evaluation  sim.evaluation: policies judged on many releases
  commands    sim.commands
  entry       sim.cli, sim.__main__, sim.api
  bench       bench (imports sim only through sim.api)
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LAYERS = [
    ("base", ["sim", "sim.errors", "sim.units", "sim.quantities", "sim.section", "sim.limits",
              "sim.distributions", "sim.streams", "sim.progress", "sim.interrupts", "sim.positions", "sim.week"]),
    ("leaves", ["sim.stats", "sim.policies", "sim.backtest"]),
    ("spec", ["sim.spec"]),
    ("controllers", ["sim.controllers"]),
    ("load", ["sim.load"]),
    ("results", ["sim.results"]),
    ("report", ["sim.report", "sim.compare"]),
    ("deploy", ["sim.deploy"]),
    ("rollout", ["sim.rollout"]),
    ("evaluation", ["sim.evaluation"]),
    ("commands", ["sim.commands"]),
    ("entry", ["sim.cli", "sim.__main__", "sim.api"]),
    ("bench", ["bench"]),
]


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted([*ROOT.glob("sim/**/*.py"), *ROOT.glob("bench/**/*.py")]):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules `name` imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
                break  # `from a.b import c`: c if it is a module, else a.b
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def layer_of(name: str) -> int:
    """The layer of a module: the one whose longest prefix names it (`sim` itself names only the package)."""
    best = None
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = name == prefix or (prefix != "sim" and name.startswith(prefix + "."))
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), i)
    assert best is not None, f"{name}: in no layer of tests/test_layering.py; add it where it belongs"
    return best[1]


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_sim_never_imports_bench():
    wrong = sorted(f"{a} -> {b}" for a, bs in graph().items() for b in bs
                   if a.startswith("sim") and b.startswith("bench"))
    assert not wrong, wrong


def test_no_import_circles():
    assert circles(graph()) == []


def test_every_import_points_down_the_layers():
    edges = graph()
    upward = sorted(f"{a} ({LAYERS[layer_of(a)][0]}) -> {b} ({LAYERS[layer_of(b)][0]})"
                    for a, bs in edges.items() for b in bs if layer_of(b) > layer_of(a))
    assert not upward, "\n".join(upward)


def test_the_checks_can_fail():
    """The checks see a circle and an upward import when there is one."""
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer_of("sim.rollout.release") > layer_of("sim.spec.scenario")
    assert layer_of("sim.errors") == 0 and layer_of("bench.run") == len(LAYERS) - 1
    here = modules()
    assert "sim.spec.scenario" in imports("sim.rollout.release", here["sim.rollout.release"], here)


def test_bench_uses_only_the_public_api():
    wrong = sorted(f"{a} -> {b}" for a, bs in graph().items() for b in bs
                   if a.startswith("bench") and b.startswith("sim") and b != "sim.api")
    assert not wrong, "bench imports sim only through sim.api:\n" + "\n".join(wrong)
