"""Bytes that cross zones in a p2p deploy: counted flow by flow by the reference model, estimated by the
fast engine from its peer bytes and the peer sets' zones (docs/p2p.md states how closely)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sim.deploy.engine import Job, simulate
from sim.deploy.swarm import cross_zone_share, run_swarm
from sim.deploy.swarm_plan import PEER_SET
from sim.deploy.swarm_reference import reference_swarm
from sim.results.tables import fleet_summary, replication_table
from sim.spec.scenario import Scenario
from tests.deploy.p2p_plans import swarm

MB = 1e6
RANDOM_LOW, RANDOM_HIGH = 0.8, 1.25  # fast / reference with a tracker's random peer sets (measured 0.88-1.07)


def zoned(hosts: int, zones: int, peers: str = "tracker_random", **kw):
    return replace(swarm(hosts, **kw), zone=np.arange(hosts) % zones, peers=peers)


@pytest.mark.parametrize("peers", ["tracker_random", "zone_first"])
@pytest.mark.parametrize("engine", [run_swarm, reference_swarm])
def test_one_zone_sends_nothing_across_zones(engine, peers):
    assert engine(zoned(30, 1, peers, pieces=8), 0.0).cross_zone_bytes == 0.0


@pytest.mark.parametrize("zones", [2, 3])
@pytest.mark.parametrize("hosts,pieces,origin", [(20, 16, 1250 * MB), (40, 8, 125 * MB), (120, 8, 1250 * MB)])
def test_with_random_peers_the_estimate_agrees_with_the_count(zones, hosts, pieces, origin):
    plan = zoned(hosts, zones, pieces=pieces, origin=origin)
    fast, slow = run_swarm(plan, 0.0), reference_swarm(plan)
    assert RANDOM_LOW <= fast.cross_zone_bytes / slow.cross_zone_bytes <= RANDOM_HIGH
    # and the reference's own share is the peer sets': (J - n_z) / (J - 1) of what hosts got from peers
    from_peers = hosts * plan.size - slow.origin_bytes
    assert slow.cross_zone_bytes / from_peers == pytest.approx(cross_zone_share(plan), abs=0.05)


def test_the_fast_estimate_is_peer_bytes_times_the_peer_sets_share():
    """Two equal zones, every host joins: a random peer set is (J - J/2) / (J - 1) other-zone hosts."""
    plan = zoned(40, 2, pieces=8)
    assert cross_zone_share(plan) == pytest.approx(20 / 39)
    times = run_swarm(plan, 0.0)
    peer_bytes = 40 * plan.size - times.origin_bytes  # no extra seeders: the rest came from peers
    assert times.cross_zone_bytes == pytest.approx(peer_bytes * 20 / 39, rel=1e-9)
    assert cross_zone_share(replace(plan, peers="zone_first")) == pytest.approx(20 / 39)  # 19 own + 20 others: all
    big = zoned(3 * (PEER_SET + 1), 3, "zone_first", pieces=8)
    assert cross_zone_share(big) == 0.0  # each zone fills the whole peer set


@pytest.mark.parametrize("engine", [run_swarm, reference_swarm])
def test_zones_large_enough_to_fill_the_peer_set_send_nothing_across(engine):
    plan = zoned(3 * (PEER_SET + 1), 3, "zone_first", pieces=8)
    assert engine(plan, 0.0).cross_zone_bytes == 0.0


def test_preferring_the_own_zone_sends_fewer_bytes_across():
    """Zones of 50 hosts: a zone-first set holds 49 of its own and one other; a random set two thirds others."""
    for seed in (1, 2):
        random = reference_swarm(zoned(150, 3, pieces=8, seed=seed), 0.0).cross_zone_bytes
        first = reference_swarm(zoned(150, 3, "zone_first", pieces=8, seed=seed), 0.0).cross_zone_bytes
        assert first < 0.5 * random


def test_a_run_reports_cross_zone_bytes_for_p2p_only():
    scenario = Scenario.model_validate({
        "version": 1, "name": "zones", "fleet": {"sizes": [200], "zones": 4}, "artifact": {"size": "100MB"},
        "strategies": {"p": {"kind": "p2p"}, "q": {"kind": "pull"}}})
    records = [simulate(scenario, Job(name, 200, r, 5)) for name in ("p", "q") for r in range(2)]
    table = replication_table([record.summary() for record in records])
    assert table.loc[table.strategy == "p", "cross_zone_bytes"].gt(0).all()
    assert table.loc[table.strategy == "q", "cross_zone_bytes"].isna().all()
    summary = fleet_summary(table)
    assert summary.loc[summary.strategy == "p", "cross_zone_bytes"].iloc[0] == pytest.approx(
        table.loc[table.strategy == "p", "cross_zone_bytes"].median())
    only_pull = replication_table([record.summary() for record in records if record.strategy == "q"])
    assert "cross_zone_bytes" not in only_pull


@pytest.mark.parametrize("peers", ["tracker_random", "zone_first"])
def test_the_planner_carries_the_peer_rule_and_spreads_hosts_over_the_zones(peers):
    from sim.deploy.engine import build_plan
    from sim.streams import Streams

    scenario = Scenario.model_validate({
        "version": 1, "name": "zones", "fleet": {"sizes": [7], "zones": 3}, "artifact": {"size": "100MB"},
        "strategies": {"p": {"kind": "p2p", "peers": peers}}})
    plan, _ = build_plan(scenario, "p", 7, Streams(3, 0))
    assert plan.peers == peers
    assert plan.zone.tolist() == [0, 1, 2, 0, 1, 2, 0]
