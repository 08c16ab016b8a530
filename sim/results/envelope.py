"""The one top-level shape of every command's JSON (`--format json` on stdout, summary.json, validation.json).

    {"format": "deploysim-results", "format_version": 2, "command": "run", "scenario": "push-vs-pull",
     "seed": 7, "entropy": "7", "out": "results/run1", "results": {...}}

`results` holds what the command found, its tables' rows named as in the files (`sim.results.columns`);
the keys around it are the same for every command (null where a command has none: `compare` has no
scenario of its own), so a script reads `.command` and `.results` whatever it ran.
"""

from __future__ import annotations

import json

import pandas as pd

from sim.results.columns import Table, to_file
from sim.results.output import FORMAT_NAME, RESULTS_FORMAT

KEYS = ("format", "format_version", "command", "scenario", "seed", "entropy", "out", "results")


def envelope(command: str, results: dict, *, scenario: str | None = None, seed: int | None = None,
             entropy: int | str | None = None, out=None) -> dict:
    """A command's JSON: the shared keys, then `results`."""
    return {"format": FORMAT_NAME, "format_version": RESULTS_FORMAT, "command": command, "scenario": scenario,
            "seed": seed, "entropy": None if entropy is None else str(entropy),
            "out": None if out is None else str(out), "results": results}


def records(frame: pd.DataFrame, spec: Table) -> list[dict]:
    """A table's rows as JSON records, named as in its file (NaN: null)."""
    return json.loads(to_file(frame, spec).to_json(orient="records"))


def results_of(data: dict) -> dict:
    """The `results` of a command's JSON (a reader's view; {} when there is none)."""
    inner = data.get("results") if isinstance(data, dict) else None
    return inner if isinstance(inner, dict) else {}
