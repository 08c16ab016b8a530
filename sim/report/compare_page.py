"""The HTML page of a comparison (`deploysim compare A B --html FILE`): the same content as the terminal
table, one self-contained file (inline stylesheet, no scripts, no links out), written like the report's
pages (`sim.report.page`: Jinja2 with autoescaping, so every name from a folder is escaped). Each value
cell carries the number as the folders hold it (`data-value`), so a test can check the page against them.
"""

from __future__ import annotations

from importlib.resources import files

from markupsafe import Markup

from sim import __version__
from sim.compare.comparison import Comparison
from sim.compare.text import SEPARATED, SUBJECT, cell, change, setting
from sim.report.page import HEAD, environment


def html(result: Comparison) -> str:
    """The comparison as a page."""
    subject, at = SUBJECT.get(result.command, ("subject", "at"))
    rows = []
    for row in result.rows:
        with_n = row.a is not None and row.b is not None and row.a.n != row.b.n
        rows.append({"subject": row.subject, "at": row.at, "name": row.name, "separated": row.separated,
                     "verdict": row.verdict, "a_text": cell(row.a, with_n), "b_text": cell(row.b, with_n),
                     "a_value": None if row.a is None else row.a.value,
                     "b_value": None if row.b is None else row.b.value,
                     "difference": row.difference, "change": change(row.unit, row.difference)})
    css = files("sim.report").joinpath("templates/report.css").read_text(encoding="utf-8")
    return environment().get_template("compare.html.j2").render(
        marker=Markup(HEAD), css=Markup(css), version=__version__, result=result,
        sides=(("A", result.a), ("B", result.b)), subject=subject, at=at, rows=rows,
        changes=[{"key": c.key, "a": setting(c.a), "b": setting(c.b)} for c in result.changes],
        verdicts=[v for v in result.verdicts if v.a != v.b], separated_means=SEPARATED,
        separated=[f"{r.subject} {r.at} {r.name}".replace("  ", " ") for r in result.rows if r.separated])
