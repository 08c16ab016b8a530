"""The table of columns (`sim.results.columns`): the reference page is rendered from it, the writers refuse
a header it does not document, and results format 1's names map to today's and back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.results import columns
from sim.results.columns_doc import render
from sim.rollout import clock

ROOT = Path(__file__).resolve().parents[2]


def test_the_reference_page_is_rendered_from_the_table_of_columns():
    page = ROOT / "docs" / "results-files.md"
    assert page.read_text(encoding="utf-8") == render(), \
        "docs/results-files.md is stale: python -m sim.results.columns_doc > docs/results-files.md"


def test_every_column_is_named_with_its_unit():
    suffix = {"s": "_s", "share": "_share", "ISO 8601": "_at", "%": "_pct"}
    for spec in columns.TABLES:
        for column in spec.columns:
            if column.unit in suffix:
                assert column.name.endswith(suffix[column.unit]) or column.name in ("spike", "peak_bad_share"), \
                    (spec.file, column.name)
            assert column.meaning, (spec.file, column.name)


def test_a_writer_refuses_a_header_the_table_does_not_document(tmp_path):
    frame = pd.DataFrame({"pull": ["a"], "push": ["b"], "hosts": [1.0], "note": ["x"]})  # no week
    with pytest.raises(ValueError, match="crossover.csv"):
        columns.write_csv(frame, tmp_path / "crossover.csv", columns.CROSSOVER)


FORMAT_1_HOSTS = ["strategy", "kind", "fleet_size", "replication", "host", "tier", "zone", "attempts", "signal",
                  "transfer_start", "transfer_end", "done", "updated", "reason"]
TODAY_HOSTS = ["strategy", "kind", "fleet_hosts", "replication", "host", "tier", "zone", "attempts", "signal_s",
               "transfer_start_s", "transfer_end_s", "done_s", "updated", "reason"]


def test_format_1_names_map_to_today_and_one_reader_takes_both():
    old = pd.DataFrame([range(14)], columns=FORMAT_1_HOSTS)
    new = pd.DataFrame([range(14)], columns=TODAY_HOSTS)
    assert list(columns.from_format_1(old, columns.HOSTS).columns) == TODAY_HOSTS
    assert list(columns.from_format_1(new, columns.HOSTS).columns) == TODAY_HOSTS
    assert list(columns.to_memory(new, columns.HOSTS).columns) == FORMAT_1_HOSTS
    assert list(columns.to_memory(old, columns.HOSTS).columns) == FORMAT_1_HOSTS


def test_timestamps_are_iso_8601_with_zone_and_read_back_as_the_terminal_says_them():
    wall = 1 * clock.DAY + 11 * 3600 + 40 * 60
    assert clock.iso(wall) == "2001-01-02T11:40:00+00:00"
    assert clock.human(clock.iso(wall)) == clock.describe(wall) == "Tue 11:40"
    assert clock.human("Tue 11:40") == "Tue 11:40"  # any other text as it is
