"""sim.api: every name it lists resolves, lazily, to the object where it lives."""

import subprocess
import sys

import pytest

import sim.api


@pytest.mark.parametrize("name", sim.api.__all__)
def test_every_name_resolves(name):
    assert getattr(sim.api, name) is not None


def test_an_unknown_name_says_what_is_offered():
    with pytest.raises(AttributeError, match="sim.api.__all__"):
        sim.api.nothing_here  # noqa: B018


def test_importing_the_api_loads_no_engine():
    code = "import sys, sim.api; print(sorted(m for m in ('numba', 'scipy', 'matplotlib', 'simpy') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
