"""`deploysim compare A B`: what differs between two results folders of the same kind (`sim.compare`).

Printed: both folders (scenario, seed, tool version, --set overrides), the settings changed between their
effective scenarios, then a row per measure: both values with their intervals, B - A, and whether the
intervals separate; the interval used and what "separated" means are said under the table. Exit 0
whatever differs; 2 (with both folders named) for a pair that cannot be compared.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from sim.compare.comparison import Comparison
from sim.compare.comparison import compare as compare_folders
from sim.compare.difference import Difference
from sim.compare.text import SEPARATED, SUBJECT, cell, change, setting
from sim.results.envelope import envelope


def compare(a: str | Path, b: str | Path) -> Comparison:
    return compare_folders(a, b)


def render(result: Comparison, console: Console) -> None:
    say = lambda text: console.print(text, markup=False, highlight=False)  # noqa: E731
    for label, side in (("A", result.a), ("B", result.b)):
        sets = "; --set " + ", ".join(side.overrides) if side.overrides else ""
        say(f"{label}: {side.path} ({side.scenario}, seed {side.seed if side.seed is not None else 'none'}, "
            f"entropy {side.entropy}, deploysim {side.tool_version}{sets})")
    say(f"both: {result.kind}, results format {result.format}")
    if result.changes:
        say(f"changed settings, A -> B ({len(result.changes)}; effective values, in s, bytes and bytes/s):")
        for item in result.changes:
            say(f"  {item.key}: {setting(item.a)} -> {setting(item.b)}")
    else:
        say("changed settings: none (the two effective scenarios are the same)")
    for note in result.notes:
        say(f"note: {note}")
    console.print(_table(result), highlight=False)
    say(f"intervals: {result.interval}")
    say(SEPARATED)
    for verdict in result.verdicts:
        if verdict.a != verdict.b:
            say(f"acceptance: {verdict.policy} {verdict.criterion}: {verdict.a or '(not judged)'} -> "
                f"{verdict.b or '(not judged)'}")
    shown = [f"{row.subject} {row.at} {row.name}".replace("  ", " ") for row in result.rows if row.separated]
    say(f"result: {len(shown)} of {len(result.rows)} measures separated" + (f": {', '.join(shown)}" if shown else ""))


def _table(result: Comparison) -> Table:
    subject, at = SUBJECT.get(result.command, ("subject", "at"))
    table = Table(title=Text(f"{result.kind}: A = {result.a.path}, B = {result.b.path}; value [interval] "
                             "(n: the population, where it differs)"))
    for name, justify in ((subject, "left"), (at, "right"), ("measure", "left"), ("A", "right"), ("B", "right"),
                          ("B - A", "right"), ("intervals", "left")):
        table.add_column(Text(name), justify=justify, no_wrap=name != at, min_width=14 if name == at else None)
    for row in result.rows:
        verdict = Text(row.verdict, style="bold" if row.separated else "")
        with_n = row.a is not None and row.b is not None and row.a.n != row.b.n
        table.add_row(*map(Text, (row.subject, row.at, row.name, cell(row.a, with_n), cell(row.b, with_n),
                                  change(row.unit, row.difference))), verdict)
    return table


def to_json(result: Comparison) -> dict:
    """The shape every command prints (`sim.results.envelope`; no scenario or seed of its own), its `results`
    the same content as the table: finite numbers as in the files, null for none (NaN) or unbounded."""
    return envelope("compare", {
        "kind": result.command, "kind_text": result.kind, "folders_format": result.format,
        "a": asdict(result.a), "b": asdict(result.b),
        "changed_settings": [asdict(item) for item in result.changes],
        "notes": list(result.notes), "interval": result.interval, "separated_means": SEPARATED,
        "differences": [_row(row) for row in result.rows],
        "separated": result.separated,
        "acceptance": [asdict(verdict) for verdict in result.verdicts],
    })


def _row(row: Difference) -> dict:
    sides = {}
    for label, m in (("a", row.a), ("b", row.b)):
        sides[label] = None if m is None else _finite(m.value)
        sides[f"{label}_low"] = None if m is None else _finite(m.low)
        sides[f"{label}_high"] = None if m is None else _finite(m.high)
        sides[f"{label}_n"] = None if m is None else m.n
    return {"subject": row.subject, "at": row.at, "measure": row.name, "unit": row.unit, **sides,
            "difference": _finite(row.difference), "separated": row.separated, "verdict": row.verdict}


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None
