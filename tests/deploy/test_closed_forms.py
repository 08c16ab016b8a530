"""The engine against closed forms: serial push, origin-bound pull, the Kurose-Ross client-server bound."""

import numpy as np
import pytest

from sim.deploy.engine import Job, build_plan, simulate
from sim.streams import Streams
from tests.conftest import make_scenario


def test_serial_push_makespan_is_the_sum_of_per_host_times():
    scenario = make_scenario(fleet={"hosts": 200}, faults={"straggle": "5%"},
                             strategies={"serial": {"kind": "push", "parallel": 1}})
    plan, _ = build_plan(scenario, "serial", 200, Streams(1, 0))
    transfer = plan.size / min(plan.flow_cap, plan.capacity)
    expected = np.sum(plan.pre + transfer + plan.post)
    record = simulate(scenario, Job("serial", 200, 0, 1))
    assert np.nanmax(record.done) == pytest.approx(expected, rel=1e-12)
    # and each host starts exactly when the previous one finished
    np.testing.assert_allclose(record.signal[1:], record.done[:-1], rtol=1e-12)


def test_origin_bound_pull_takes_n_f_over_u_s_plus_fixed_costs():
    # 1 GB to 1,000 hosts from a 10 Gb/s origin: at least 800 s (docs/sources.md, derived).
    n = 1000
    scenario = make_scenario(
        fleet={"hosts": n}, artifact={"size": "1GB"},
        network={"origin_egress": "10Gbps", "per_flow": "5Gbps", "host_download": "1Gbps"},
        strategies={"pull": {"kind": "pull", "publish": "3s", "key_write": "10ms", "wakeup": "50ms",
                             "verify_rate": "500MB/s", "activation": "2s"}})
    record = simulate(scenario, Job("pull", n, 0, 1))
    fixed = 3 + 0.010 + 0.050
    np.testing.assert_allclose(record.transfer_end, fixed + 800.0, rtol=1e-9)
    np.testing.assert_allclose(record.done, fixed + 800.0 + 1e9 / 5e8 + 2, rtol=1e-9)


@pytest.mark.parametrize("hosts", [1, 3, 10, 100, 1000])
@pytest.mark.parametrize("d_min", ["100Mbps", "1Gbps", "10Gbps"])
def test_fair_sharing_meets_the_client_server_bound(hosts, d_min):
    # Kurose & Ross 2.5: distributing F to N clients from one server takes at least
    # max(N*F/u_s, F/d_min); with fair sharing and no fixed costs the model meets it exactly.
    scenario = make_scenario(
        fleet={"hosts": hosts, "tiers": {"canary": 0}}, artifact={"size": "1GB"},
        network={"origin_egress": "10Gbps", "per_flow": "100Gbps", "host_download": d_min},
        strategies={"pull": {"kind": "pull", "key_write": 0, "wakeup": 0, "verify_rate": "1000000GB/s", "activation": 0}})
    record = simulate(scenario, Job("pull", hosts, 0, 1))
    u_s, d = 1.25e9, {"100Mbps": 1.25e7, "1Gbps": 1.25e8, "10Gbps": 1.25e9}[d_min]
    bound = max(hosts * 1e9 / u_s, 1e9 / d)
    assert np.nanmax(record.done) == pytest.approx(bound + 1e9 / 1e15, rel=1e-9)


@pytest.mark.parametrize("hosts, parallel, factor", [
    (64, 16, 6.4),   # 16 connections x 0.8 core on 2 cores: each connection's work 6.4x as long
    (64, 2, 1.0),    # 1.6 cores asked of 2: no slowdown
    (4, 16, 1.6),    # the fleet is smaller than the fan-out: 4 connections, not 16
])
def test_a_busy_deploy_host_slows_every_connection_by_its_cpu_demand_over_its_cores(hosts, parallel, factor):
    """Constant 1 s connect and 0.5 s activation, a 1 KB build on 10 Gb/s links (transfers of microseconds):
    the hosts go in waves of `parallel`, each wave taking 1.5 s times max(1, connections x 0.8 / 2)."""
    push = {"kind": "push", "parallel": parallel, "connect": "1s", "scan_per_file": 0, "activation": "0.5s"}
    scenario = make_scenario(
        fleet={"hosts": hosts}, artifact={"size": "1KB", "files": 10},
        network={"deploy_egress": "10Gbps", "per_flow": "10Gbps", "host_download": "10Gbps"},
        strategies={"busy": {**push, "connection_cpu": 0.8, "deploy_cores": 2}, "idle": push})
    waves = -(-hosts // parallel)
    busy = simulate(scenario, Job("busy", hosts, 0, 1))
    idle = simulate(scenario, Job("idle", hosts, 0, 1))
    assert np.nanmax(busy.done) == pytest.approx(waves * 1.5 * factor, rel=1e-4)
    assert np.nanmax(idle.done) == pytest.approx(waves * 1.5, rel=1e-4)
    np.testing.assert_allclose(busy.transfer_start - busy.signal, factor * 1.0, rtol=1e-12)
    np.testing.assert_allclose(busy.done - busy.transfer_end, factor * 0.5, rtol=1e-12)
