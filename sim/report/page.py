"""The report's HTML: Jinja2 templates (`templates/`) with autoescaping on, so every text that comes
from a scenario or a results file (names of scenarios, strategies, policies, notes) is escaped wherever it
lands. Only two things are inserted as they are: the stylesheet (`templates/report.css`, part of deploysim)
and the SVG figures (`sim.report.figures.svg` marks them safe; matplotlib escapes the text in them).

The page opens with `HEAD` (`sim.results.output.REPORT_MARKER` in its first 256 bytes), which is how
`sim.report.writer` and `--overwrite` know a report.html is deploysim's to replace.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from sim.report.folder import ResultsFolder
from sim.results.output import REPORT_MARKER

HEAD = f"{REPORT_MARKER}: deploysim replaces only a report.html that opens with this line -->"


@dataclass(frozen=True)
class Page:
    """A kind of page: its title, its template (in `templates/`, extending base.html.j2) and the function
    that gathers what the template shows from a results folder."""

    title: str
    template: str
    context: Callable[[ResultsFolder], dict]


def environment() -> Environment:
    env = Environment(loader=PackageLoader("sim.report", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["raw"] = raw
    return env


def raw(value: object) -> str:
    """A number as read from a results file, for a data-value attribute: its exact text ('' for none)."""
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def render(folder: ResultsFolder, kind: Page) -> str:
    """The page of `folder` as `kind` shows it."""
    page = kind.context(folder)  # figures in it are Markup (sim.report.figures.svg); all else is escaped
    css = files("sim.report").joinpath("templates/report.css").read_text(encoding="utf-8")
    template = environment().get_template(kind.template)
    return template.render(marker=Markup(HEAD), css=Markup(css), kind=kind.title, run=_run(folder), **page)


def _run(folder: ResultsFolder) -> dict:
    """What the header and the provenance section say about the run, from its manifest."""
    m = folder.manifest
    scenario: dict = m["scenario"] if isinstance(m.get("scenario"), dict) else {}
    argv = m.get("argv") if isinstance(m.get("argv"), list) else []
    name = folder.scenario.get("name") or scenario.get("source") or folder.path.name
    return {
        "scenario": str(name), "command": folder.command, "created": str(m.get("created", "")),
        "argv": shlex.join(["deploysim", *map(str, argv[1:])]) if argv else "",
        "source": str(scenario.get("source", "")), "sha256": str(scenario.get("sha256", "")),
        "overrides": [str(o) for o in scenario.get("overrides") or []],
        "reproduce": str(m.get("reproduce", "")), "tool_version": str(m.get("tool_version", "")),
        "python": str(m.get("python", "")), "machine": str(m.get("machine", "")),
        "files": [str(f) for f in m.get("files") or []],
    }
