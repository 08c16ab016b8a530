"""Helpers for backtest tests: write a file and collect the rendered problem lines of a failed load."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.backtest import MetricsError, load_history

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "scenarios" / "data"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def problems(path: Path, **queries) -> list[str]:
    """The rendered problem lines of loading `path`, which must fail with MetricsError."""
    with pytest.raises(MetricsError) as caught:
        load_history(path, **queries)
    assert caught.value.exit_code == 2
    return [p.render() for p in caught.value.problems]
