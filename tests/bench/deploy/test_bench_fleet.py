"""Real fleet (5 hosts): real Consul agents, sshd and rsync in network namespaces.

One fleet serves the module: pull and push each deploy a real build end to end, a host token cannot
change the release, a corrupt artifact is never activated and the fleet converges once it is fixed,
and a percentage rollout reaches exactly the hosts whose bucket is under it.
"""

import json
import time

import consul
import numpy as np
import pytest

from bench.config import BenchConfig
from bench.deploy import agent, rollout
from bench.deploy.pull import collect_pull, deploy_pull, write_release
from bench.deploy.push import deploy_push
from bench.deploy.records import current_ok
from bench.harness import faults, netns, preflight
from bench.harness.fleet import fleet, new_build
from bench.harness.kv import RELEASE_KEY, STATUS_PREFIX

pytestmark = [pytest.mark.bench,
              pytest.mark.skipif(bool(preflight.real_bench_missing()), reason=preflight.real_bench_missing())]


@pytest.fixture(scope="module")
def bench_fleet():
    with fleet(BenchConfig(hosts=5, size=2_000_000, files=40, seed=11, parallel=2, timeout=60)) as f:
        yield f


@pytest.fixture(scope="module")
def good_build(bench_fleet):
    return new_build(bench_fleet, "good", seed=11)


def test_pull_deploys_a_verified_build_everywhere(bench_fleet, good_build) -> None:
    rec = deploy_pull(bench_fleet, good_build)
    assert rec.source == "bench" and rec.fleet_size == 5
    assert rec.updated.all(), list(rec.reason)
    assert all(current_ok(bench_fleet.pull_root(h.name), good_build) for h in bench_fleet.hosts)
    # times are ordered per host: woke <= transfer start <= transfer end <= live
    assert (rec.signal <= rec.transfer_start).all() and (rec.transfer_end <= rec.done).all()
    assert rec.extra["fanout_n"] == 5 and 0 <= rec.extra["fanout_p50"] < 5


def test_push_deploys_the_same_build_everywhere(bench_fleet, good_build) -> None:
    rec = deploy_push(bench_fleet, good_build, parallel=2, name="push")
    assert rec.updated.all(), list(rec.reason)
    assert all(current_ok(bench_fleet.push_root(h.name), good_build) for h in bench_fleet.hosts)
    assert rec.extra["connect_mean"] > 0
    assert (rec.transfer_end <= rec.done).all()


def test_host_token_cannot_write_the_release(bench_fleet) -> None:
    h1, h2 = bench_fleet.hosts[0], bench_fleet.hosts[1]
    with netns.inside(h1.ns):
        c = bench_fleet.cluster.api(bench_fleet.cluster.tokens.hosts[h1.name], member=h1)
        before = c.kv.get(RELEASE_KEY)[1]["Value"]
        with pytest.raises(consul.ACLPermissionDenied):
            c.kv.put(RELEASE_KEY, json.dumps({"build": "evil"}))
        with pytest.raises(consul.ACLPermissionDenied):
            c.kv.put(f"{STATUS_PREFIX}{h2.name}", "forged")
        assert c.kv.put(f"{STATUS_PREFIX}{h1.name}", json.dumps({"probe": True}))  # its own key: allowed
        assert c.kv.get(RELEASE_KEY)[1]["Value"] == before


def test_corrupt_artifact_is_never_activated_then_fleet_converges(bench_fleet, good_build) -> None:
    f = bench_fleet
    bad = new_build(f, "next", seed=12)
    f.server.faults.corrupt = True
    try:
        rec = deploy_pull(f, bad, timeout=30)
    finally:
        f.server.faults.corrupt = False
    assert not rec.updated.any()
    assert all("checksum mismatch" in r for r in rec.reason), list(rec.reason)
    assert all(current_ok(f.pull_root(h.name), good_build) for h in f.hosts)
    assert not any((f.pull_root(h.name) / "releases" / "next").exists() for h in f.hosts)
    rec = deploy_pull(f, bad)  # fault over: the same release written again converges
    assert rec.updated.all(), list(rec.reason)
    assert all(current_ok(f.pull_root(h.name), bad) for h in f.hosts)


def test_percentage_rollout_reaches_only_selected_hosts(bench_fleet) -> None:
    f = bench_fleet
    build = new_build(f, "pct", seed=13)
    names = [h.name for h in f.hosts]
    percent = 50.0
    rec = deploy_pull(f, build, percent=percent)
    expected = np.array([agent.selected(h, percent) for h in names])
    assert (rec.updated == expected).all()
    for h, chosen in zip(names, expected):
        assert current_ok(f.pull_root(h), build) == bool(chosen)


def test_faults_name_the_hosts_behind_and_the_fleet_converges(bench_fleet, good_build) -> None:
    f = bench_fleet
    build = new_build(f, "faulted", seed=14)
    dead, cut = f.hosts[0].name, f.hosts[1].name
    faults.kill_agent(f, dead)
    faults.cut_link(f, cut)
    try:
        t0, t_commit, index = write_release(f, build, 100.0)
        rec = collect_pull(f, build, index, t0, t_commit, timeout=8)
    finally:
        faults.restore_link(f, cut)
        faults.restart_agent(f, dead)
    behind = {f"h{h}": r for h, r, ok in zip(rec.host, rec.reason, rec.updated) if not ok}
    assert set(behind) == {dead, cut}, behind
    assert all("no status" in r for r in behind.values())
    assert current_ok(f.pull_root(dead), build) is False
    rec = collect_pull(f, build, index, t0, t_commit, timeout=60)  # fault over: converge
    assert rec.updated.all(), list(rec.reason)
    assert all(current_ok(f.pull_root(h.name), build) for h in f.hosts)


def test_stopped_artifact_server_is_retried_until_it_is_back(bench_fleet) -> None:
    f = bench_fleet
    build = new_build(f, "retried", seed=15)
    faults.stop_server(f)
    try:
        t0, t_commit, index = write_release(f, build, 100.0)
        time.sleep(1.5)  # every agent's first attempt meets a 503
    finally:
        faults.stop_server(f, stopped=False)
    rec = collect_pull(f, build, index, t0, t_commit, timeout=60)
    assert rec.updated.all(), list(rec.reason)
    assert (rec.attempts >= 2).all()
    assert all(current_ok(f.pull_root(h.name), build) for h in f.hosts)


def test_push_over_the_rsync_daemon_protocol(bench_fleet, good_build) -> None:
    rec = deploy_push(bench_fleet, good_build, parallel=2, name="daemon", transport="daemon")
    assert rec.updated.all(), list(rec.reason)
    assert all(current_ok(bench_fleet.push_root(h.name, "daemon"), good_build) for h in bench_fleet.hosts)
    assert rec.extra["transport"] == "daemon" and rec.extra["connect_mean"] > 0


def test_staged_rollout_then_rollback_converge(bench_fleet, good_build) -> None:
    f = bench_fleet
    build = new_build(f, "staged", seed=16)
    records = rollout.staged_rollout(f, build, [20.0, 60.0, 100.0])
    assert sum(int(r.updated.sum()) for r in records) == len(f.hosts)  # each host in exactly one step
    assert all(current_ok(f.pull_root(h.name), build) for h in f.hosts)
    back = rollout.rollback(f, good_build)
    assert back.updated.all(), list(back.reason)
    assert all(current_ok(f.pull_root(h.name), good_build) for h in f.hosts)
