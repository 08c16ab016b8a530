"""Shared helpers for tests: tiny scenarios built in code, and paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent


def make_scenario(**sections) -> Scenario:
    """A valid scenario with the given sections (plain data, units allowed)."""
    data = {"version": 1, "name": "test", "seed": 1}
    data.update(sections)
    return Scenario.model_validate(data)


@pytest.fixture
def root() -> Path:
    return ROOT
