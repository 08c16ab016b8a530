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


REAL_FLEETS = ("bench/harness", "bench/deploy")  # real agents, namespaces and containers: one at a time


def pytest_itemcollected(item):
    """With pytest-xdist (`scripts/test` runs the suite on every core, `--dist loadgroup`): each test file
    goes to one worker (its module fixtures are built once), and every test that starts a real fleet
    goes to the same worker, so two fleets never share the machine's namespaces and addresses. (Marked
    here, as each test is collected: xdist reads the groups in its own `pytest_collection_modifyitems`.)"""
    if item.config.pluginmanager.has_plugin("xdist"):
        where = Path(str(item.fspath)).resolve().relative_to(ROOT / "tests").as_posix()
        fleet = item.get_closest_marker("bench") or where.startswith(REAL_FLEETS)
        item.add_marker(pytest.mark.xdist_group("real-fleets" if fleet else where))


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
