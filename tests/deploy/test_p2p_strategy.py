"""The p2p strategy through the engine: scenario keys, faults, reproducibility and the results tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.deploy.engine import Job, build_plan, simulate
from sim.deploy.experiment import plan_jobs, run_jobs
from sim.errors import UserError
from sim.load.loader import load_scenario
from sim.results.tables import crossovers, fleet_summary, replication_table
from sim.streams import Streams
from tests.conftest import make_scenario

P2P = {"kind": "p2p", "publish": "1s", "key_write": "10ms", "activation": "2s"}


def scenario_with(hosts=300, faults=None, **p2p):
    return make_scenario(fleet={"hosts": hosts}, artifact={"size": "200MB"}, faults=faults or {},
                         network={"origin_egress": "10Gbps", "host_download": "1Gbps"},
                         strategies={"swarm": {**P2P, **p2p}, "pull": {"kind": "pull", "publish": "1s"}})


def test_defaults_come_from_the_network_section():
    scenario = scenario_with()
    plan, _ = build_plan(scenario, "swarm", 10, Streams(1, 0))
    net = scenario.network
    assert (plan.download, plan.upload, plan.flow_cap, plan.seeder_rate) == (
        net.host_download, net.host_download, net.per_flow, net.origin_egress)
    assert (plan.piece_size, plan.connections, plan.seed_time, plan.seeders) == (4e6, 10, 300.0, 1)
    assert plan.piece_selection == "rarest_first" and plan.extra_rate == net.deploy_egress


@pytest.mark.parametrize("key,value,words", [
    ("piece_size", "0MB", "> 0"), ("connections", 0, ">= 1"), ("piece_selection", "endgame", "rarest_first"),
    ("peers", "same_zone", "tracker_random"), ("seed_time", "-5s", ">= 0"), ("seeders", 0, ">= 1"),
    ("drop_out", "150%", "between 0% and 100%"), ("download_p99_slowdown", 0.5, ">= 1"),
])
def test_wrong_values_are_located_errors(key, value, words, tmp_path):
    path = tmp_path / "p2p.yaml"
    path.write_text(f"version: 1\nname: x\nfleet: {{hosts: 10}}\nstrategies:\n  swarm:\n    kind: p2p\n"
                    f"    {key}: {value!r}\n")
    with pytest.raises(UserError) as error:
        load_scenario(path)
    message = str(error.value)
    assert "p2p.yaml:7:" in message and f"strategies.swarm.{key}" in message and words in message and "allowed" in message, message


def test_same_seed_same_numbers_whatever_the_number_of_workers():
    scenario = scenario_with(hosts=200, faults={"flaky": "5%", "straggle": "5%"})
    scenario = scenario.model_copy(update={"replications": 2})
    jobs = plan_jobs(scenario, entropy=7)
    one = replication_table([r.summary for r in run_jobs(scenario, jobs, workers=1)])
    two = replication_table([r.summary for r in run_jobs(scenario, jobs, workers=2)])
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    assert one.origin_bytes.notna().sum() == 2  # the p2p rows, one per replication
    again = simulate(scenario, Job("swarm", 200, 1, 7))
    first = simulate(scenario, Job("swarm", 200, 1, 7))
    np.testing.assert_array_equal(again.done, first.done)
    assert again.origin_bytes == first.origin_bytes


def test_down_hosts_are_never_updated_and_say_why():
    scenario = scenario_with(hosts=2000, faults={"down": "2%"})
    record = simulate(scenario, Job("swarm", 2000, 0, 3))
    _, faults = build_plan(scenario, "swarm", 2000, Streams(3, 0))
    assert faults.down.any()
    assert np.isnan(record.done[faults.down]).all() and not np.isnan(record.done[~faults.down]).any()
    assert all("host down" in reason for reason in record.reason[faults.down])
    assert (record.attempts[faults.down] == faults.max_attempts).all()


def test_stragglers_are_slower_and_flaky_hosts_join_later():
    scenario = scenario_with(hosts=2000, faults={"straggle": "10%", "straggle_factor": 5, "flaky": "10%"})
    record = simulate(scenario, Job("swarm", 2000, 0, 3))
    _, faults = build_plan(scenario, "swarm", 2000, Streams(3, 0))
    slow = faults.slowdown > 1
    after = record.done - record.transfer_end
    assert np.nanmin(after[slow]) > np.nanmedian(after[~slow])
    retried = record.attempts > 1
    assert retried.any() and np.nanmin(record.signal[retried]) > np.nanmedian(record.signal[~retried])


def test_records_and_tables_carry_origin_bytes_and_p2p_crossovers():
    scenario = make_scenario(fleet={"sizes": [10, 300, 3000]}, artifact={"size": "200MB"},
                             network={"origin_egress": "10Gbps", "host_download": "1Gbps"},
                             strategies={"swarm": P2P, "pull": {"kind": "pull", "publish": "1s"},
                                         "rsync": {"kind": "push", "parallel": 32}})
    results = list(run_jobs(scenario, plan_jobs(scenario, entropy=5), workers=1))
    table = replication_table([r.summary for r in results])
    assert table[table.kind == "p2p"].origin_bytes.notna().all()
    assert table[table.kind != "p2p"].origin_bytes.isna().all()
    pairs = {(c.pull, c.push) for c in crossovers(fleet_summary(table))}
    assert pairs == {("pull", "rsync"), ("swarm", "rsync"), ("swarm", "pull")}
    no_p2p = replication_table([r.summary for r in results if r.job.strategy != "swarm"])
    assert "origin_bytes" not in no_p2p  # push and pull tables keep their columns
