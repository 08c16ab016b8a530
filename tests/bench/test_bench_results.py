"""The bench writes the same kind of results folder as the simulator, and calibration reads it back."""

from dataclasses import replace

import pandas as pd
import pytest

from bench import results
from bench.analysis.runs import load_run
from bench.config import BenchConfig
from bench.run import BenchResult
from sim.deploy.engine import Job, simulate
from sim.errors import UserError
from sim.results.output import read_manifest
from tests.conftest import make_scenario


def bench_like_result() -> BenchResult:
    scenario = make_scenario(fleet={"hosts": 6, "tiers": {"canary": 0}}, faults={"down": "20%", "retries": 0},
                             strategies={"rsync-parallel-4": {"kind": "push", "parallel": 4}, "consul-pull": {"kind": "pull"}})
    records = [replace(simulate(scenario, Job(name, 6, 0, 1)), source="bench") for name in scenario.strategies]
    config = BenchConfig(hosts=6, scenario="s.yaml", scenario_sha256="ab" * 32, overrides=("fleet.hosts=6",),
                         host_cpu=0.5, host_memory=256_000_000)
    return BenchResult(run_id="t1", config=config, isolated=True, records=records,
                       not_reproduced=["latency", "loss", "jitter"],
                       host_limits={"container": True, "cpu": 0.5, "memory": 256_000_000})


def test_bench_results_folder_is_atomic_and_complete(tmp_path):
    out = results.write(tmp_path / "run", bench_like_result())
    manifest = read_manifest(out)  # the simulator's reader accepts it
    assert manifest["source"] == "bench" and manifest["not_reproduced"] == ["latency", "loss", "jitter"]
    assert sorted(p.name for p in out.iterdir()) == manifest["files"]
    assert manifest["scenario"] == {"source": "s.yaml", "sha256": "ab" * 32, "overrides": ["fleet.hosts=6"]}
    assert (manifest["config"]["host_cpu"], manifest["config"]["host_memory"]) == (0.5, 256_000_000)  # asked
    assert manifest["host_limits"] == {"container": True, "cpu": 0.5, "memory": 256_000_000}  # what hosts had
    hosts = pd.read_csv(out / "hosts.csv")
    assert len(hosts) == 12 and hosts.reason.notna().sum() == hosts.done_s.isna().sum() > 0  # the down hosts say why
    assert list(pd.read_csv(out / "summary.csv").columns)[:4] == ["strategy", "kind", "fleet_hosts", "hosts_updated"]
    assert set(pd.read_csv(out / "replications.csv").strategy) == {"rsync-parallel-4", "consul-pull"}
    assert (out / "fleet_updated_over_time.png").stat().st_size > 0
    assert load_run(out).hosts.shape == hosts.shape  # calibration reads what the bench wrote
    with pytest.raises(UserError, match="already exists"):
        results.write(out, bench_like_result())
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
