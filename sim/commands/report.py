"""`deploysim report RESULTS_DIR`: write report.html into a results folder deploysim wrote (`sim.report`).

Shown today: fleet growth (`run`), releases through a pipeline (`run` on a scenario with `rollout:`),
evaluations (`evaluate`), sweeps (`sweep`), bench runs (`bench`) and model validations (`validate-model`);
another kind is refused with exit 2 and a message saying so, as is a folder deploysim did not write or a
report.html it did not write. `--report` on `run`, `evaluate`, `sweep` and `bench` calls `report` after
writing the results.
"""

from __future__ import annotations

from pathlib import Path

from sim.report.build import write_report


def report(folder: str | Path) -> Path:
    """Write the folder's report.html and return its path."""
    return write_report(folder)
