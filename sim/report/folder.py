"""A results folder deploysim wrote, as the report reads it: its manifest, its kind, and its files.

`open_folder` refuses (exit 2) a path that is not a folder, a folder without a manifest.json of
deploysim's own format (`sim.results.output.read_manifest`), and kinds of results the caller cannot
show (`sim.report.build.PAGES` says which it can). Files are read only if the manifest lists them, only from regular files in the folder itself
(not links, pipes or devices) and within `FILE_BYTES`, so a damaged or hostile folder fails with its
path instead of hanging or filling the memory.

The files name their columns with units (`done_s`, `fleet_hosts`: `sim.results.columns`); `read_csv` and
`summary` give the rows back with the in-memory names the commands use (`done`, `fleet_size`), so the
pages read the same names as the code that wrote the files.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from sim.errors import UserError
from sim.results import columns
from sim.results.envelope import results_of
from sim.results.output import read_manifest, read_regular

FILE_BYTES = 64 * 2**20  # the largest file the report reads (hosts.csv, which can be larger, is never read)

# The manifest's `command` -> what that kind of results folder holds, as a refusal names it.
KINDS = {"run": "fleet growth", "run (releases)": "releases through a pipeline", "run (sweep)": "a fleet-growth sweep", "evaluate": "evaluation",
         "sweep": "a sweep", "bench": "a bench run", "validate-model": "a model validation"}


@dataclass(frozen=True)
class ResultsFolder:
    """A results folder and its manifest (`manifest.json`, as deploysim wrote it)."""

    path: Path
    manifest: dict

    @property
    def command(self) -> str:
        return str(self.manifest.get("command", ""))

    @property
    def scenario(self) -> dict:
        """The effective scenario the run used, every default filled in."""
        effective = self.manifest.get("effective_scenario")
        return effective if isinstance(effective, dict) else {}

    def has(self, name: str) -> bool:
        return name in self.manifest.get("files", []) and os.path.isfile(self.path / name)

    def read_bytes(self, name: str) -> bytes:
        """The bytes of a file the manifest lists; a UserError naming it otherwise."""
        path = self.path / name
        if name not in self.manifest.get("files", []):
            raise UserError(f"{path}: missing from the folder's manifest.json; is this folder whole?")
        try:
            return _read_regular(path, FILE_BYTES)
        except OSError as error:
            raise UserError(f"{path}: cannot be read ({error.strerror or error})") from None

    def png_uri(self, name: str) -> str | None:
        """A PNG the run drew, as a data URI to embed; None when the folder has none by that name."""
        if not self.has(name):
            return None
        return "data:image/png;base64," + base64.b64encode(self.read_bytes(name)).decode("ascii")

    def read_json(self, name: str) -> dict:
        try:
            data = json.loads(self.read_bytes(name).decode("utf-8"))
        except ValueError as error:
            raise UserError(f"{self.path / name}: not the JSON deploysim writes ({error})") from None
        if not isinstance(data, dict):
            raise UserError(f"{self.path / name}: not the JSON deploysim writes (a {type(data).__name__})")
        return data

    def read_csv(self, name: str) -> list[dict[str, str]]:
        """The rows of a CSV file, each a dict of its columns (text as written) by their in-memory names."""
        try:
            rows = list(csv.DictReader(io.StringIO(self.read_bytes(name).decode("utf-8"))))
        except (ValueError, csv.Error) as error:
            raise UserError(f"{self.path / name}: not the CSV deploysim writes ({error})") from None
        spec = columns.table(self.command, name)
        return [columns.from_file(row, spec) for row in rows]

    def summary(self) -> dict:
        """The `results` of summary.json, its tables' rows by their in-memory names."""
        results = dict(results_of(self.read_json("summary.json")))
        for key, spec in columns.JSON_TABLES.get(self.command, {}).items():
            if isinstance(results.get(key), list):
                results[key] = [columns.from_file(row, spec) if isinstance(row, dict) else row for row in results[key]]
        return results


def open_folder(path: str | Path, shown: Collection[str]) -> ResultsFolder:
    """The results folder at `path`, if deploysim wrote it and its command is one of `shown`."""
    folder = Path(path)
    if not folder.is_dir():
        raise UserError(f"{path}: not a folder; give a results folder written by deploysim (--out)")
    results = ResultsFolder(folder, read_manifest(folder))
    if results.command not in shown:
        what = KINDS.get(results.command, f"command {results.command!r}")
        kinds = ", ".join(f"{name} ({KINDS[name]})" for name in shown)
        raise UserError(f"{path}: a report of {what} (deploysim {results.command}) is not yet supported; "
                        f"report shows: {kinds}")
    return results


def _read_regular(path: Path, limit: int) -> bytes:
    """At most `limit` bytes of the regular file at `path` (not followed if it is a link)."""
    return read_regular(path, limit, f"larger than the report reads ({limit // 2**20} MiB)")
