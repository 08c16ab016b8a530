"""The mutation score of the last `scripts/mutate` run, per target module.

Reads mutmut's per-file results (mutants/<module>.py.meta) and the list of equivalent mutants
(tests/mutation/equivalent.txt: one `mutant-name fingerprint reason` per line; a mutant is equivalent
when no input can tell it from the original). mutmut numbers a function's mutants anew when the function
changes, so each listing carries a fingerprint of the mutated function's code: a listing whose mutant
is no longer that code is stale and counts as a survivor until judged again
(`score.py --fingerprint NAME...` prints the fingerprints to list). A mutant counts as killed when a
test failed or timed out on it; survivors, mutants no test reaches and suspicious ones count against
the score. Exits 1 when a module scores under the target or a survivor is not listed as equivalent, 2
when nothing has been run.
"""

from __future__ import annotations

import ast
import fnmatch
import functools
import hashlib
import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = 0.90
KILLED = {1, 3, 36, -24, 24, 152, 255, 37}  # a failing test, pytest's internal error, a timeout, a type error


def equivalents(path: Path) -> dict[str, tuple[str, str]]:
    """Mutant name -> (fingerprint, the reason it is equivalent)."""
    found = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, rest = line.partition(" ")
        fingerprint, _, reason = rest.strip().partition(" ")
        if len(fingerprint) != 10 or not reason.strip():
            raise SystemExit(f"{path}:{number}: {name}: write `NAME FINGERPRINT REASON` "
                             "(score.py --fingerprint NAME prints the fingerprint)")
        found[name] = (fingerprint, reason.strip())
    return found


def fingerprint(name: str) -> str | None:
    """A digest of the mutated function's code in ./mutants (None: no such mutant)."""
    module, _, function = name.rpartition(".")
    path = ROOT / "mutants" / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = path.with_suffix("") / "__init__.py"
    return _fingerprints(path).get(function) if path.exists() else None


@functools.lru_cache(maxsize=None)
def _fingerprints(path: Path) -> dict[str, str]:
    """Every function of a mutated file and its digest: the file parsed once, however many listings name it."""
    found = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = ast.unparse(node).split("\n", 1)[1]  # the code, not the def line holding the name
            found.setdefault(node.name, hashlib.sha256(body.encode()).hexdigest()[:10])
    return found


def module_name(meta: Path) -> str:
    return ".".join(meta.relative_to(ROOT / "mutants").with_suffix("").with_suffix("").parts)


def module_results(meta: Path) -> dict[str, int | None]:
    return json.loads(meta.read_text())["exit_code_by_key"]


def target_files(config: dict) -> list[str]:
    """The source files the mutation run covers ([tool.mutmut] only_mutate), relative to the root."""
    return sorted({str(p.relative_to(ROOT)) for pattern in config["only_mutate"] for p in ROOT.glob(pattern)
                   if p.suffix == ".py"})


def unmutated(config: dict) -> list[str]:
    """Target files that ./mutants holds without mutants (no .meta): copied there before they became
    targets, which mutmut takes as done, so they would never be mutated."""
    return [f for f in target_files(config)
            if (ROOT / "mutants" / f).exists() and not (ROOT / "mutants" / (f + ".meta")).exists()]


def main() -> int:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    missing = [f for f in target_files(config) if not (ROOT / "mutants" / (f + ".meta")).exists()]
    if missing:
        print(f"targets without mutation results (run scripts/mutate): {', '.join(missing)}", file=sys.stderr)
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
        current = {k: fingerprint(f"{module_name(meta)}.{k.rpartition('.')[2]}") for k in results if k in listed}
        equivalent = {k for k in current if k not in killed and k not in unrun and current[k] == listed[k][0]}
        stale += [k for k in current if k in killed or current[k] != listed[k][0]]
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
        print(f"\nlisted as equivalent but killed or changed since (judge them again): {', '.join(stale)}")
    if unlisted:
        print(f"\n{len(unlisted)} survivors neither killed nor listed as equivalent "
              "(`.venv/bin/mutmut show NAME` shows each):")
        for name in unlisted:
            print(f"  {name}")
    return 1 if failed or unlisted or missing else 0


NOT_CAUGHT = {0, 33}  # survived; no test reached it
RESULTS = ROOT / "tests" / "mutation" / "results.json"
"""The last run's verdicts, kept in the repository: a run takes hours on 2 cores and machines do not keep
./mutants, so a fresh checkout starts from them (`--restore`) and runs only the mutants of functions that
changed since (mutmut keeps a verdict while its function's hash is the same)."""


def save_results() -> int:
    """Write every target module's verdicts and function hashes to `RESULTS` (mutant names without their
    module, which is the key they sit under). Returns how many verdicts were written."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    out, count = {}, 0
    for file in target_files(config):
        meta = ROOT / "mutants" / (file + ".meta")
        if not meta.exists():
            continue
        data = json.loads(meta.read_text())
        module = file.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        verdicts = {k.removeprefix(module + "."): code for k, code in data["exit_code_by_key"].items()
                    if code is not None}
        out[file] = {"hashes": data.get("hash_by_function_name", {}), "verdicts": dict(sorted(verdicts.items()))}
        count += len(verdicts)
    text = json.dumps(out, indent=0, sort_keys=True) + "\n"
    tmp = RESULTS.with_name(f".{RESULTS.name}.tmp")
    tmp.write_text(text)
    tmp.replace(RESULTS)
    return count


def restore_results() -> int:
    """Before mutmut first makes ./mutants: put the saved verdicts where mutmut looks for its own (one .meta
    per target file), so that it keeps those whose function is unchanged. Returns how many were placed."""
    if not RESULTS.exists():
        return 0
    count = 0
    for file, saved in json.loads(RESULTS.read_text()).items():
        meta = ROOT / "mutants" / (file + ".meta")
        if meta.exists():
            continue
        module = file.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text(json.dumps({
            "exit_code_by_key": {f"{module}.{k}": code for k, code in saved["verdicts"].items()},
            "hash_by_function_name": saved["hashes"], "type_check_error_by_key": {}, "durations_by_key": {},
            "estimated_durations_by_key": {}}))
        count += len(saved["verdicts"])
    return count


def forget_survivors() -> int:
    """Mark every mutant no test caught (survived, or reached by no test) as not run, so the next
    `mutmut run` tries it against today's tests (mutmut re-runs a mutant only when its function changes,
    not when the tests do). Mutants listed as equivalent, with their fingerprint current, are kept: no
    test can catch them, and running their every covering test again costs the most (the score checks
    their fingerprints once mutmut has made the mutants)."""
    listed = equivalents(ROOT / "tests" / "mutation" / "equivalent.txt")
    count = 0
    for meta in sorted((ROOT / "mutants").glob("sim/**/*.py.meta")):
        data = json.loads(meta.read_text())
        survivors = [k for k, code in data["exit_code_by_key"].items() if code in NOT_CAUGHT
                     and not (k in listed and fingerprint(k) in (listed[k][0], None))]  # None: not made yet
        for key in survivors:
            data["exit_code_by_key"][key] = None
        if survivors:
            meta.write_text(json.dumps(data))
            count += len(survivors)
    return count


def refresh_stats() -> bool:
    """Drop mutmut's map of which tests reach which function when it was made at another commit: mutmut
    updates it only for new tests, so a function that existing tests began to call (or one that moved)
    keeps no tests, and its mutants are reported as reached by none or survive tests that never ran.
    The next run maps every test again (one run of the suite). True when it was dropped."""
    stats = ROOT / "mutants" / "mutmut-stats.json"
    if not stats.exists():
        return False
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    if json.loads(stats.read_text()).get("git_commit") == head:
        return False
    stats.unlink()
    return True


if __name__ == "__main__":
    if sys.argv[1:2] == ["--refresh-stats"]:
        if refresh_stats():
            print("the code changed since mutmut mapped tests to functions: mapping again", file=sys.stderr)
        sys.exit(0)
    if sys.argv[1:2] == ["--save"]:
        print(f"{save_results()} verdicts saved to {RESULTS.relative_to(ROOT)}", file=sys.stderr)
        sys.exit(0)
    if sys.argv[1:2] == ["--restore"]:
        print(f"{restore_results()} verdicts of the last saved run restored into ./mutants", file=sys.stderr)
        sys.exit(0)
    if sys.argv[1:2] == ["--forget-survivors"]:
        print(f"{forget_survivors()} survivors marked as not run", file=sys.stderr)
        sys.exit(0)
    if sys.argv[1:2] == ["--unmutated"]:
        settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
        for stale_copy in unmutated(settings):
            (ROOT / "mutants" / stale_copy).unlink()  # mutmut copies it again, with its mutants
            print(f"{stale_copy}: a target without mutants in ./mutants; it will be mutated", file=sys.stderr)
        sys.exit(0)
    if sys.argv[1:2] == ["--fingerprint"]:
        for name in sys.argv[2:]:
            print(name, fingerprint(name) or "(no such mutant in ./mutants)")
        sys.exit(0)
    sys.exit(main())
