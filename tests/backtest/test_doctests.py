"""The examples in the backtest modules' docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["history", "selectors", "blocklength", "bootstrap", "cohorts"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"sim.backtest.{name}")
    assert doctest.testmod(module).failed == 0
