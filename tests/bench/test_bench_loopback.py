"""The loopback fallback (what runs without root): plain processes on 127.77.x.x, no namespaces.

Run here with 3 Consul servers, so the same test also covers a 3-server Raft cluster.
"""

import ipaddress

import pytest

from bench import netns, preflight, run
from bench.fleet import BenchConfig, fleet

pytestmark = [pytest.mark.bench,
              pytest.mark.skipif(bool(preflight.real_bench_missing()), reason=preflight.real_bench_missing())]


def test_loopback_fleet_with_three_servers_deploys_by_pull_and_daemon_push() -> None:
    with fleet(BenchConfig(hosts=3, servers=3, isolated=False, timeout=90)) as f:
        assert not f.net.isolated and not netns.list_namespaces(f"{netns.PREFIX}{f.run_id}-")
        assert all(ipaddress.ip_address(m.addr) in netns.LOOPBACK_NET for m in f.net.members)
        assert len(f.cluster.servers) == 3
        build = run.new_build(f, "lo", seed=5)
        pulled = run.deploy_pull(f, build)
        pushed = run.deploy_push(f, build, parallel=3, name="lo-daemon", transport="daemon")
        assert pulled.updated.all() and pushed.updated.all(), (list(pulled.reason), list(pushed.reason))
        assert all(run.current_ok(f.pull_root(h.name), build) for h in f.hosts)
        assert all(run.current_ok(f.push_root(h.name, "lo-daemon"), build) for h in f.hosts)
