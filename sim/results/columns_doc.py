"""docs/results-files.md, rendered from the table of columns (`sim.results.columns`) and the JSON shape
(`sim.results.envelope`): `tests/results/test_columns.py` holds the page to this text."""

from __future__ import annotations

from sim.results.columns import JSON_TABLES, TABLES, Table
from sim.results.envelope import KEYS
from sim.results.output import RESULTS_FORMAT

INTRO = f"""# Results files

<!-- rendered from sim/results/columns.py by `python -m sim.results.columns_doc > docs/results-files.md`; edit those, not this page -->

Every command that takes `--out` writes one folder: `manifest.json` (how to reproduce the run, the files,
`format_version` {RESULTS_FORMAT}), the tables below as CSV, `summary.json`, and PNG plots. This page lists
every column of every table: its name, unit, meaning, and what one row is (the population).

**Names carry their units.** Seconds end in `_s`, bytes in `_bytes`, shares of a whole (0-1, never percent)
in `_share`, timestamps in `_at` (ISO 8601 with zone); counts are nouns (`hosts_updated`, `rollbacks`);
relative errors in percent, which are not shares, end in `_pct`. Text, flags and ids have no suffix. Empty
cells are "none" or "never" (NaN).

**Timestamps.** A release's simulated week has no date of its own: files date it as the week of Monday
2001-01-01 in UTC (`2001-01-02T11:40:00+00:00` is Tuesday 11:40); terminal tables and reports say
`Tue 11:40`. Other times are seconds since an event the column names (the deploy's start, the branch cut).

**Format {RESULTS_FORMAT}.** Format 1 wrote the in-memory names (`done`, `fleet_size`, `start` as `Tue 11:40`);
`deploysim report` and `compare` refuse a format 1 folder and say so: run the command again. The bench's
recorded `hosts.csv` files are read in either format (`sim.results.columns.to_memory`).
"""

JSON = f"""## JSON

`--format json` on stdout (every command that has it), `summary.json` and `validation.json` are one object
with the same top-level keys: {", ".join(f"`{k}`" for k in KEYS)}. `results` holds what the command found;
where it holds a table's rows, they are named as in the CSV file:

"""


def render() -> str:
    parts = [INTRO]
    for command in dict.fromkeys(c for t in TABLES for c in t.commands):
        parts.append(f"## {command}\n")
        for spec in TABLES:
            if command == spec.commands[0]:
                parts.append(_table(spec))
            elif command in spec.commands:
                parts.append(f"### {spec.file}\n\nAs for {spec.commands[0]} above.\n")
    parts.append(JSON + "\n".join(f"- {command}: " + ", ".join(f"`results.{key}` ({spec.file})"
                                                                for key, spec in keys.items())
                                   for command, keys in JSON_TABLES.items()) + "\n")
    parts.append(CHECK)
    return "\n".join(parts)


CHECK = """`deploysim check --format json` writes no file; its `results`: `ok`; for a valid scenario `source`,
`sha256` (of the effective scenario), `strategies`, `fleet_hosts`, `replications`, `rollout` (`strategy`,
`steps`, `backtest`, `policies`; null without one), `imported` (`file`, `line`, `key`, `note`: what importing a
controller object left out), `warnings` (`file`, `line`, `column`, `key`, `message`, `got`, `allowed`) and
`predictions` (per policy, `promotion` and `abort`: `of` of `among` releases, `p50` and `p95` as `value_s`,
`low_s`, `high_s` at `confidence`); for an invalid one (exit 2) `source` and `problems`, each as a warning is.
"""


def _table(spec: Table) -> str:
    lines = [f"### {spec.file}\n", f"One row: {spec.rows}.\n", "| column | unit | meaning |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {c.unit or '-'} | {c.meaning.replace('|', '/')}"
              f"{f' (written only when {c.only_when})' if c.only_when else ''} |" for c in spec.columns]
    if spec.more:
        lines.append(f"\nThen {spec.more}.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
