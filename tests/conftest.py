"""Shared helpers for tests: tiny scenarios built in code, and paths; the Hypothesis profile of the suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from sim.spec.scenario import Scenario

# One Hypothesis profile for every test file, whichever files are collected (it used to be loaded by
# test_metamorphic.py at import, so a file run alone got Hypothesis's defaults). `ci` (the default;
# it replaces Hypothesis's built-in `ci`, which a CI variable would select) runs the same examples
# every time, with no deadline (simulations vary in speed); tests that set max_examples keep theirs.
# HYPOTHESIS_PROFILE=thorough searches afresh (random, with the example database) and 10x longer
# where a test does not set its own max_examples.
settings.register_profile("ci", deadline=None, max_examples=40, derandomize=True)
settings.register_profile("thorough", deadline=None, max_examples=400, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent


def make_scenario(**sections) -> Scenario:
    """A valid scenario with the given sections (plain data, units allowed)."""
    data = {"version": 1, "name": "test", "seed": 1}
    data.update(sections)
    return Scenario.model_validate(data)


@pytest.fixture
def root() -> Path:
    return ROOT


def pytest_collection_modifyitems(config, items):
    """Under a mutation run (`scripts/mutate`: mutmut sets MUTANT_UNDER_TEST and runs from ./mutants), the
    quickest tests first: the run stops at a mutant's first failing test, so a mutant a quick test kills
    costs that test, not the slow ones before it. The tests and their verdicts are the same."""
    if not os.environ.get("MUTANT_UNDER_TEST"):
        return
    stats = Path("mutmut-stats.json")
    if not stats.exists():
        return
    import json

    durations = json.loads(stats.read_text()).get("duration_by_test", {})
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
