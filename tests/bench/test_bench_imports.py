"""The bench's rooms keep their import rules, read from the source (ast), no root needed.

analysis imports neither harness nor deploy; deploy imports the harness, never analysis; the harness
imports neither. Every import between bench modules sits at the top of its module (none inside a
function to dodge a circle), and the graph has no circle. `sim` never imports `bench`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROOMS = {"bench.harness": ("bench.harness", "bench.config"),
         "bench.deploy": ("bench.deploy", "bench.harness", "bench.config"),
         "bench.analysis": ("bench.analysis",)}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, at the top of the module) for every `bench` import of one file."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            base = node.module
            names = [f"{base}.{a.name}" if (ROOT / base.replace(".", "/") / f"{a.name}.py").exists()
                     or (ROOT / base.replace(".", "/") / a.name).is_dir() else base for a in node.names]
        else:
            continue
        out += [(n, id(node) in top) for n in names if n == "bench" or n.startswith("bench.")]
    return out


def graph(folder: str) -> dict[str, list[tuple[str, bool]]]:
    return {module_name(p): imports(p) for p in sorted((ROOT / folder).rglob("*.py"))}


def test_rooms_import_only_downwards() -> None:
    wrong = [(m, target) for m, edges in graph("bench").items() for room, allowed in ROOMS.items()
             if m.startswith(room) for target, _ in edges if not target.startswith(allowed)]
    assert not wrong, wrong


def test_bench_imports_sit_at_module_top_and_form_no_circle() -> None:
    g = graph("bench")
    assert not [(m, t) for m, edges in g.items() for t, at_top in edges if not at_top]
    edges = {m: {t for t, _ in e if t in g and t != m} for m, e in g.items()}
    done: set[str] = set()

    def visit(m: str, path: tuple[str, ...]) -> None:
        assert m not in path, " -> ".join(path + (m,))
        if m not in done:
            for t in sorted(edges[m]):
                visit(t, path + (m,))
            done.add(m)

    for m in sorted(edges):
        visit(m, ())


def test_sim_never_imports_bench() -> None:
    assert not {m: e for m, e in graph("sim").items() if e}


def test_analysis_loads_without_harness_or_deploy() -> None:
    code = ("import sys, bench.analysis.calibrate, bench.analysis.validate; "
            "print(sorted(m for m in sys.modules if m.startswith(('bench.harness', 'bench.deploy', 'consul'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]", done.stdout
