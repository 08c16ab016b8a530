"""Today's CSV files written back in results format 1, through the rename map of `sim.results.columns`:
the header renamed to the in-memory names, `branch_cut_at` as the human `Tue 11:40`, crossover.csv
without `growth_week`, summary.csv without `bottleneck` and `bound_s` (added later). Format 2 changed
only names, timestamp text and that column, so a file turned back this way is byte for byte the file
format 1 wrote (tests/test_golden_outputs.py checks it against the digests recorded in format 1)."""

from __future__ import annotations

import csv
import io

from sim.results import columns
from sim.rollout import clock

# columns added since format 1, per file: format 2's growth_week; later, summary.csv's bottleneck columns
ADDED = {"crossover.csv": ("growth_week",), "summary.csv": ("bottleneck", "bound_s")}
TIMESTAMPS = ("branch_cut_at",)


def as_format_1(text: str, command: str, file: str) -> str:
    """The CSV `text` of `file` (written by `command`) as results format 1 wrote it."""
    spec = columns.table(command, file)
    rows = list(csv.reader(io.StringIO(text)))
    if spec is None or not rows:
        return text
    back = {c.name: c.internal for c in spec.columns if c.internal}
    header = rows[0]
    keep = [i for i, name in enumerate(header) if name not in ADDED.get(file, ())]
    stamps = {i for i, name in enumerate(header) if name in TIMESTAMPS}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([back.get(header[i], header[i]) for i in keep])
    for row in rows[1:]:
        writer.writerow([clock.human(row[i]) if i in stamps and row[i] else row[i] for i in keep])
    return out.getvalue()
