"""The mutation score of the last `scripts/mutate` run, per target module.

Reads mutmut's per-file results (mutants/<module>.py.meta) and the list of equivalent mutants
(tests/mutation/equivalent.txt: one `mutant-name  reason` per line; a mutant is equivalent when no
input can tell it from the original). A mutant counts as killed when a test failed or timed out on it;
survivors, mutants no test reaches and suspicious ones count against the score. Exits 1 when a module
scores under the target or a survivor is not listed as equivalent, 2 when nothing has been run.
"""

from __future__ import annotations

import fnmatch
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = 0.90
KILLED = {1, 3, 36, -24, 24, 152, 255, 37}  # a failing test, pytest's internal error, a timeout, a type error


def equivalents(path: Path) -> dict[str, str]:
    """Mutant name -> the reason it is equivalent."""
    found = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{path}:{number}: {name}: give the reason it is equivalent after the name")
        found[name] = reason.strip()
    return found


def module_results(meta: Path) -> dict[str, int | None]:
    return json.loads(meta.read_text())["exit_code_by_key"]


def main() -> int:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    listed = equivalents(ROOT / "tests" / "mutation" / "equivalent.txt")
    metas = sorted((ROOT / "mutants").glob("sim/**/*.py.meta"))
    targets = [m for m in metas if any(fnmatch.fnmatch(str(m.relative_to(ROOT / "mutants"))[:-5], p)
                                       for p in config["only_mutate"])]
    if not targets:
        print("no mutation results: run scripts/mutate first", file=sys.stderr)
        return 2
    failed, unlisted, stale = False, [], []
    print(f"{'module':38} {'mutants':>7} {'killed':>7} {'equiv':>6} {'left':>5} {'unrun':>6} {'score':>7}")
    totals = [0, 0, 0, 0, 0]
    for meta in targets:
        results = module_results(meta)
        killed = {k for k, code in results.items() if code in KILLED}
        unrun = {k for k, code in results.items() if code is None}
        equivalent = {k for k in results if k in listed and k not in killed}
        stale += [k for k in results if k in listed and k in killed]
        left = set(results) - killed - unrun - equivalent
        unlisted += sorted(left)
        judged = len(results) - len(unrun) - len(equivalent)
        score = len(killed) / judged if judged else 1.0
        failed |= score < TARGET or bool(unrun)
        name = str(meta.relative_to(ROOT / "mutants"))[:-5]
        print(f"{name:38} {len(results):7} {len(killed):7} {len(equivalent):6} {len(left):5} {len(unrun):6} "
              f"{score:7.1%}")
        for i, n in enumerate((len(results), len(killed), len(equivalent), len(left), len(unrun))):
            totals[i] += n
    judged = totals[0] - totals[2] - totals[4]
    print(f"{'all':38} {totals[0]:7} {totals[1]:7} {totals[2]:6} {totals[3]:5} {totals[4]:6} "
          f"{(totals[1] / judged if judged else 1.0):7.1%}")
    if stale:
        print(f"\nlisted as equivalent but killed (remove them from equivalent.txt): {', '.join(stale)}")
    if unlisted:
        print(f"\n{len(unlisted)} survivors neither killed nor listed as equivalent "
              "(`.venv/bin/mutmut show NAME` shows each):")
        for name in unlisted:
            print(f"  {name}")
    return 1 if failed or unlisted else 0


if __name__ == "__main__":
    sys.exit(main())
