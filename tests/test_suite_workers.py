"""The suite's own split over workers (`scripts/test`: pytest-xdist, `--dist loadgroup`, tests/conftest.py)."""

import pytest


def test_under_loadgroup_each_test_carries_its_group(request):
    # xdist sends a group's tests to one worker by a suffix on their node ids; were that lost (as with
    # pytest 9.2), tests that start real fleets would run two at a time and trip over each other
    option = request.config.option
    if not getattr(option, "loadgroup", False):
        pytest.skip("not run by pytest-xdist with --dist loadgroup (scripts/test does)")
    assert request.node.nodeid.endswith("@test_suite_workers.py"), request.node.nodeid
