"""`run` (fleet growth and releases) and `sweep` on a Dask cluster give the same numbers as the local pool
for the same seed: every job carries its own seeds, so where it runs cannot change a draw. The cluster is
a real distributed.LocalCluster (two worker processes), reached by its scheduler's tcp:// address as a user
would reach theirs with --scheduler."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.commands import run as run_module
from sim.commands.sweep import sweep
from sim.deploy.experiment import close_executor, make_executor
from sim.load.loader import load_mapping
from tests.report.conftest import FLEET, RELEASE, SWEEP

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def loaded(text: str, tmp_path):
    import yaml

    return load_mapping(yaml.safe_load(text), tmp_path / "s.yaml", tmp_path)


def on_both(function, scheduler):
    local = function(None)
    executor = make_executor("dask", scheduler)
    try:
        remote = function(executor)
    finally:
        close_executor(executor)
    return local, remote


def test_fleet_growth_on_dask_executors_is_the_local_run(scheduler, tmp_path):
    scenario = loaded(FLEET, tmp_path)
    local, remote = on_both(lambda pool: run_module.run_loaded(scenario, 11, workers=2, progress=False,
                                                               executor=pool), scheduler)
    pd.testing.assert_frame_equal(local.replications, remote.replications)
    pd.testing.assert_frame_equal(local.summary, remote.summary)
    pd.testing.assert_frame_equal(local.hosts, remote.hosts)


def test_releases_on_dask_executors_are_the_local_releases(scheduler, tmp_path):
    scenario = loaded(RELEASE.replace("replications: 1", "replications: 6"), tmp_path)
    local, remote = on_both(lambda pool: run_module.run_loaded(scenario, 7, workers=2, progress=False,
                                                               executor=pool), scheduler)
    assert len(local.outcomes) == 6
    pd.testing.assert_frame_equal(local.outcomes, remote.outcomes)


def test_a_sweep_on_dask_executors_is_the_local_sweep(scheduler, tmp_path):
    scenario = loaded(SWEEP, tmp_path)
    local, remote = on_both(lambda pool: sweep(scenario, 5, 2, 20, executor=pool), scheduler)
    pd.testing.assert_frame_equal(local.table, remote.table)
