"""Writing report.html into a results folder: to a temporary file beside it, renamed into place
(`os.replace`), so a reader never sees half a page and a failure leaves the folder as it was.

A report.html already there is replaced only if deploysim wrote it (it opens with
`sim.results.output.REPORT_MARKER`); any other file of that name, a link or a folder is refused with exit 2,
naming it. The results files themselves are never touched; `sim.results.output` knows a report.html
carrying the marker as deploysim's, so `--overwrite` can still replace the folder.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sim.errors import UserError
from sim.results.output import owns_report, replace_atomically

NAME = "report.html"


def check(folder: Path) -> Path:
    """The path of the folder's report.html, if it may be written; a UserError saying why not."""
    path = folder / NAME
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return path
    except OSError as error:
        raise UserError(f"{path}: cannot use this path ({error.strerror})") from None
    if stat.S_ISLNK(mode):
        raise UserError(f"{path}: is a symbolic link; deploysim replaces only a report.html it wrote")
    if not stat.S_ISREG(mode):
        raise UserError(f"{path}: is not a regular file; deploysim replaces only a report.html it wrote")
    if not owns_report(path):
        raise UserError(f"{path}: was not written by deploysim, so it is left as it is; move it away to write "
                        "the report")
    return path


def write(folder: Path, text: str) -> Path:
    """Write `text` as the folder's report.html (checked again just before the rename)."""
    path = check(folder)
    try:
        replace_atomically(path, text, lambda: check(folder))
    except OSError as error:
        raise UserError(f"{path}: cannot write the report ({error.strerror or error}); nothing was written") from None
    return path
