"""One results folder in, one report.html out: read the folder, gather its page, render, write."""

from __future__ import annotations

from pathlib import Path

from sim.report import evaluation, fleet, page, writer
from sim.report.folder import open_folder

PAGES = {"run": fleet.context, "evaluate": evaluation.context}


def html(folder_path: str | Path) -> str:
    """The report of a results folder deploysim wrote (a UserError, exit 2, for any other folder or kind)."""
    folder = open_folder(folder_path)
    return page.render(folder, PAGES[folder.command](folder))


def write_report(folder_path: str | Path) -> Path:
    """Write the folder's report.html; return its path. The folder is checked before any work."""
    folder = open_folder(folder_path)
    writer.check(folder.path)
    return writer.write(folder.path, page.render(folder, PAGES[folder.command](folder)))
