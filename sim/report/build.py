"""One results folder in, one report.html out: read the folder, gather its page, render, write.

`PAGES` is the one list of what the report shows: per kind of results folder (the manifest's `command`),
the module that gathers the page's content, its template and its title. A new kind of page is a module, a
template and a line here.
"""

from __future__ import annotations

from pathlib import Path

from sim.report import bench_run, evaluation, fleet, fleet_sweep, page, releases, sweep, validation, writer
from sim.report.folder import open_folder
from sim.report.page import Page

PAGES = {
    "run": Page("Fleet growth: push vs pull", "fleet.html.j2", fleet.context),
    "run (releases)": Page("Releases through a pipeline", "releases.html.j2", releases.context),
    "run (sweep)": Page("Fleet growth across swept settings", "fleet_sweep.html.j2", fleet_sweep.context),
    "evaluate": Page("Evaluation of rollback policies", "evaluation.html.j2", evaluation.context),
    "bench": Page("A bench run: real hosts deploying one build", "bench_run.html.j2", bench_run.context),
    "validate-model": Page("Model validation: the simulator against the bench", "validation.html.j2",
                           validation.context),
    "sweep": Page("Sweep of a rollback policy's settings", "sweep.html.j2", sweep.context),
}


def html(folder_path: str | Path) -> str:
    """The report of a results folder deploysim wrote (a UserError, exit 2, for any other folder or kind)."""
    folder = open_folder(folder_path, PAGES)
    return page.render(folder, PAGES[folder.command])


def write_report(folder_path: str | Path) -> Path:
    """Write the folder's report.html; return its path. The folder is checked before any work."""
    folder = open_folder(folder_path, PAGES)
    writer.check(folder.path)
    return writer.write(folder.path, page.render(folder, PAGES[folder.command]))
