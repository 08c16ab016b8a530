"""Writing and showing a bench result: a folder with `manifest.json` and `hosts.csv`, and a table.

Minimal on purpose: the shared results writer of `sim` will replace the file part. The manifest says
how to reproduce the run (config, seed, run id, tool versions) and which network effects the run
could not reproduce.
"""

from __future__ import annotations

import csv
import math
import platform
import shutil
import subprocess
from dataclasses import asdict
from pathlib import Path

import numpy as np

from bench.analysis.recording import BENCH_FORMAT
from bench.harness.consul_cluster import consul_bin
from sim.api import DeployRecord


def _clean(x):
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    return x


def summary_row(r: DeployRecord) -> dict:
    s = r.summary()
    done = r.done[~np.isnan(r.done)]
    xfer = (r.transfer_end - r.transfer_start)[~np.isnan(r.done)]
    act = (r.done - r.transfer_end)[~np.isnan(r.done)]
    row = {"strategy": r.strategy, "kind": r.kind, "hosts": r.fleet_size, "updated": s.updated,
           "p50": s.p50, "p95": s.p95, "max": float(done.max()) if len(done) else float("nan"),
           "transfer_mean": float(xfer.mean()) if len(xfer) else float("nan"),
           "activate_mean": float(act.mean()) if len(act) else float("nan"),
           "fanout_p50": r.extra.get("fanout_p50", float("nan")),
           "fanout_p99": r.extra.get("fanout_p99", float("nan")),
           "connect_mean": r.extra.get("connect_mean", float("nan"))}
    return row


def file_row(row: dict) -> dict:
    """A `summary_row` as summary.csv names it (`sim.results.columns.BENCH_SUMMARY`; NaN: None)."""
    from sim.api import columns

    return columns.rename_row(_clean(row), columns.BENCH_SUMMARY)


def to_json(result, out: Path | None = None) -> dict:
    """The bench's JSON (`--format json`): the shape every command prints (`sim.results.envelope`), with one
    row per deploy named as in summary.csv."""
    from sim.api import envelope

    rows = [file_row(summary_row(r)) for r in result.records]
    return envelope("bench", {"run_id": result.run_id, "fleet_hosts": result.config.hosts, "deploys": rows},
                    scenario=result.config.scenario or None, seed=result.config.seed, entropy=result.config.seed,
                    out=out)


def tool_versions() -> dict:
    binary = consul_bin()
    consul = subprocess.run([binary, "version"], capture_output=True, text=True).stdout.split("\n")[0] if binary else ""
    rsync = subprocess.run(["rsync", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    runc = (subprocess.run(["runc", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
            if shutil.which("runc") else "")
    return {"consul": consul, "rsync": rsync, "runc": runc, "python": platform.python_version(),
            "kernel": platform.release()}


def write(out: Path, result, overwrite: bool = False) -> Path:
    """Write a results folder like the simulator's, atomically (sim.results.output.results_folder): the manifest
    (with the bench's config, tools, not-reproduced effects and per-deploy summaries), `hosts.csv` (one
    row per host deploy), `summary.csv` / `replications.csv` (sim.results.tables) and the plot of the fleet
    updated over time."""
    from sim.api import (
        columns,
        host_table,
        manifest,
        plots,  # matplotlib and pandas: imported late, `register` loads the bench on every start
        replication_table,
        results_folder,
        write_json,
    )

    with results_folder(out, overwrite=overwrite) as folder:
        hosts = host_table(list(result.records))
        columns.write_csv(hosts, folder / "hosts.csv", columns.HOSTS)
        columns.write_csv(replication_table([r.summary() for r in result.records]), folder / "replications.csv",
                          columns.REPLICATIONS)
        rows = [file_row(summary_row(r)) for r in result.records]
        with open(folder / "summary.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns.BENCH_SUMMARY.names())
            writer.writeheader()
            writer.writerows(rows)
        if len(hosts):
            plots.fleet_updated_over_time(hosts, int(hosts.fleet_size.max()), folder / "fleet_updated_over_time.png")
        files = sorted(p.name for p in folder.iterdir()) + ["manifest.json"]
        config = result.config
        data = manifest(command="bench", scenario_source=config.scenario, scenario_digest=config.scenario_sha256,
                        effective={}, overrides=config.overrides, seed=config.seed, entropy=result.config.seed or 0,
                        files=files)
        data.update({"bench_format": BENCH_FORMAT, "source": "bench", "run_id": result.run_id,
                     "config": asdict(result.config), "isolated": result.isolated,
                     "host_limits": result.host_limits,
                     "not_reproduced": result.not_reproduced, "notes": result.notes, "tools": tool_versions(),
                     "deploys": [_clean({**summary_row(r), "extra": r.extra}) for r in result.records]})
        write_json(folder / "manifest.json", _clean(data))
    return out
