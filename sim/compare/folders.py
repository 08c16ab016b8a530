"""The two folders of a comparison, or a refusal (exit 2) that names both folders and why.

Refused, in this order: a path that is not a results folder deploysim wrote; folders written in
different results formats (like pyperf, which refuses to compare incompatible runs); folders of
different kinds (the manifests' `command`); a kind that cannot be compared yet (`COMPARABLE` says which
can). Then each folder is opened as the report opens it (`sim.report.folder.open_folder`: bounded reads,
a format this deploysim reads).
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.errors import UserError
from sim.report.folder import KINDS, ResultsFolder, open_folder
from sim.results.output import FORMAT_NAME, manifest_text

COMPARABLE = ("run", "run (releases)", "run (sweep)", "evaluate", "sweep", "bench")  # sim.compare.comparison.READERS reads each


def open_pair(a: str | Path, b: str | Path) -> tuple[ResultsFolder, ResultsFolder]:
    """Folders A and B, if both are deploysim's, in the same format, of the same comparable kind."""
    head = f"cannot compare {a} and {b}"
    manifests = [_manifest(path, head) for path in (a, b)]
    formats = [f"{m.get('format')} {m.get('format_version')}" for m in manifests]
    if formats[0] != formats[1]:
        raise UserError(f"{head}: they were written in different results formats ({a}: {formats[0]}; "
                        f"{b}: {formats[1]}); compare folders written by the same format (run both again with "
                        "one deploysim)")
    commands = [str(m.get("command", "")) for m in manifests]
    if commands[0] != commands[1]:
        raise UserError(f"{head}: they hold different kinds of results ({a}: {kind(commands[0])}; "
                        f"{b}: {kind(commands[1])}); compare two folders of the same kind")
    if commands[0] not in COMPARABLE:
        shown = ", ".join(kind(name) for name in COMPARABLE)
        raise UserError(f"{head}: comparing {kind(commands[0])} is not yet supported; compare compares {shown}")
    try:
        return open_folder(a, COMPARABLE), open_folder(b, COMPARABLE)
    except UserError as error:
        raise UserError(f"{head}: {error}") from None


def kind(command: str) -> str:
    """'fleet growth (deploysim run)'."""
    return f"{KINDS.get(command, 'unknown results')} (deploysim {command or '?'})"


def _manifest(path: str | Path, head: str) -> dict:
    """The manifest of a folder deploysim wrote, whatever its format version (checked against the other's)."""
    folder = Path(path)
    if not folder.is_dir():
        raise UserError(f"{head}: {path} is not a folder; give two results folders written by deploysim (--out)")
    try:
        data = json.loads(manifest_text(folder / "manifest.json"))
    except (OSError, ValueError) as error:
        raise UserError(f"{head}: {path} is not a results folder deploysim wrote (its manifest.json: "
                        f"{getattr(error, 'strerror', None) or error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise UserError(f"{head}: {path} is not a results folder deploysim wrote (manifest format {found!r})")
    return data
