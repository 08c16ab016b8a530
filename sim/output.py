"""Results folders: written whole or not at all.

Everything goes into a temporary folder beside the target, which is renamed into place only when every
file is complete; a crash or Ctrl-C removes the temporary folder. The manifest says how to reproduce the
run (seed or drawn entropy, effective scenario and its hash, tool version) and which format it uses;
`read_manifest` refuses formats it does not understand.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sim import __version__
from sim.errors import UserError

RESULTS_FORMAT = 1


@contextlib.contextmanager
def results_folder(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder; on success move it to `target` atomically, on failure delete it."""
    target = Path(target)
    if target.exists() and not overwrite:
        raise UserError(f"{target}: already exists; choose another --out or pass --overwrite")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        yield staging
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.rename(target, old)
            os.rename(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def manifest(*, command: str, scenario_source: str, scenario_digest: str, effective: dict, overrides: tuple,
             seed: int | None, entropy: int, files: list[str], extra: dict | None = None) -> dict:
    return {
        "format": "deploysim-results",
        "format_version": RESULTS_FORMAT,
        "tool_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "argv": sys.argv,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "scenario": {"source": scenario_source, "sha256": scenario_digest, "overrides": list(overrides)},
        "seed": seed,
        "entropy": str(entropy),
        "reproduce": f"--seed {entropy}" if seed is None else f"--seed {seed}",
        "files": sorted(files),
        "effective_scenario": effective,
        **(extra or {}),
    }


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")


def read_manifest(folder: str | Path) -> dict:
    path = Path(folder) / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise UserError(f"{path}: not a deploysim results folder ({error})") from None
    if data.get("format") != "deploysim-results" or data.get("format_version") != RESULTS_FORMAT:
        raise UserError(f"{path}: results format {data.get('format_version')!r} is not supported "
                        f"(this is deploysim {__version__}, format {RESULTS_FORMAT})")
    return data
