"""Recorded bench runs as analysis sees them: a results folder's manifest and host rows, found under paths.

The files are read within bounds and checked first (`bench.analysis.recording`); a folder whose
manifest is not a bench one (a simulator run) is passed over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from bench.analysis.recording import read_hosts, read_manifest
from sim.api import UserError

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class BenchRun:
    """One bench results folder: its manifest and its host rows."""

    folder: Path
    manifest: dict
    hosts: pd.DataFrame

    @property
    def fleet_size(self) -> int:
        return int(self.manifest["config"]["hosts"])

    @property
    def size(self) -> float:
        return float(self.manifest["config"]["size"])

    @property
    def files(self) -> int:
        return int(self.manifest["config"]["files"])

    @property
    def date(self) -> str:
        """The run's date: a YYYY-MM-DD folder in its path, else the manifest's modification day."""
        for part in reversed(self.folder.resolve().parts):
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", part):
                return part
        mtime = (self.folder / "manifest.json").stat().st_mtime
        return datetime.fromtimestamp(mtime, timezone.utc).date().isoformat()

    @property
    def label(self) -> str:
        return f"run {self.manifest.get('run_id', '?')}, {self.date}, {self.fleet_size} hosts"

    @property
    def host_link_rate(self) -> float:
        """Bytes/s of the tbf the bench set on each host's link (`network.host_download`), 0 when unshaped."""
        return float(self.manifest["config"].get("host_rate_mbit") or 0.0) * 1e6 / 8

    @property
    def host_limits(self) -> dict:
        """What each host had: `container` (a runc container or not), `cpu` (cores) and `memory` (bytes),
        None for no limit; runs recorded before hosts could be containers had neither."""
        got = self.manifest.get("host_limits")
        got = got if isinstance(got, dict) else {}
        return {"container": bool(got.get("container", False)), "cpu": got.get("cpu"), "memory": got.get("memory")}

    def strategies(self) -> list[dict]:
        """The bench strategies of the run (name, kind, parallel, transport)."""
        return list(self.manifest["config"]["strategies"])

    def deploy(self, strategy: str) -> dict:
        return next((d for d in self.manifest.get("deploys", []) if d["strategy"] == strategy), {})

    def deploy_extra(self, strategy: str) -> dict:
        """What the bench recorded beside a deploy's times (`extra`: a p2p deploy's `piece_size` used, its
        `connections`, ...); older manifests kept it at the top of the deploy."""
        d = self.deploy(strategy)
        return d.get("extra", d)


def phases(run: BenchRun, strategy: str) -> pd.DataFrame:
    """Per-host phase durations of one strategy's first-attempt, updated hosts (seconds)."""
    import pandas as pd  # imported late: `register` loads the bench on every deploysim start

    h = run.hosts[(run.hosts.strategy == strategy) & run.hosts.done.notna() & (run.hosts.attempts == 1)]
    return pd.DataFrame({
        "host": h.host.to_numpy(),
        "signal": h.signal.to_numpy(),
        "start": h.transfer_start.to_numpy(),
        "end": h.transfer_end.to_numpy(),
        "lead": (h.transfer_start - h.signal).to_numpy(),
        "transfer": (h.transfer_end - h.transfer_start).to_numpy(),
        "activation": (h.done - h.transfer_end).to_numpy(),
        "done": h.done.to_numpy(),
    })


def find_runs(paths: list[Path | str]) -> list[BenchRun]:
    """Every bench results folder at or under `paths` (a folder with a bench `manifest.json`)."""
    runs = []
    for path in map(Path, paths):
        manifests = [path / "manifest.json"] if (path / "manifest.json").is_file() else sorted(path.rglob("manifest.json"))
        for m in manifests:
            run = load_run(m.parent)
            if run is not None:
                runs.append(run)
    if not runs:
        raise UserError(f"{', '.join(map(str, paths))}: no bench results folder (manifest.json with source 'bench')")
    return sorted(runs, key=lambda r: (r.fleet_size, str(r.folder)))


def load_run(folder: Path) -> BenchRun | None:
    """A bench results folder, or None when the manifest is not a bench one (e.g. a simulator run).

    Both files are read within bounds and checked first (`bench.analysis.recording`): UserError names every problem."""
    manifest = read_manifest(folder)
    if manifest is None:
        return None
    return BenchRun(folder, manifest, read_hosts(folder))
