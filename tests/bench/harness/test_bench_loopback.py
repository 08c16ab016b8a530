"""The loopback fallback (what runs without root): plain processes on 127.77.x.x, no namespaces.

Run here with 3 Consul servers, so the same test also covers a 3-server Raft cluster.
"""

import ipaddress

import pytest

from bench.config import BenchConfig
from bench.deploy.pull import deploy_pull
from bench.deploy.push import deploy_push
from bench.deploy.records import current_ok
from bench.harness import netns, preflight
from bench.harness.fleet import fleet, new_build

pytestmark = [pytest.mark.bench,
              pytest.mark.skipif(bool(preflight.real_bench_missing()), reason=preflight.real_bench_missing())]


def test_loopback_fleet_with_three_servers_deploys_by_pull_and_daemon_push() -> None:
    with fleet(BenchConfig(hosts=3, servers=3, isolated=False, timeout=90)) as f:
        assert not f.net.isolated and not netns.list_namespaces(f"{netns.PREFIX}{f.run_id}-")
        assert all(ipaddress.ip_address(m.addr) in netns.LOOPBACK_NET for m in f.net.members)
        assert len(f.cluster.servers) == 3
        build = new_build(f, "lo", seed=5)
        pulled = deploy_pull(f, build)
        pushed = deploy_push(f, build, parallel=3, name="lo-daemon", transport="daemon")
        assert pulled.updated.all() and pushed.updated.all(), (list(pulled.reason), list(pushed.reason))
        assert all(current_ok(f.pull_root(h.name), build) for h in f.hosts)
        assert all(current_ok(f.push_root(h.name, "lo-daemon"), build) for h in f.hosts)
