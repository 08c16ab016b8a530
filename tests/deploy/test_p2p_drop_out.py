"""Agents that fail part-way through a p2p download (`drop_out`): the planner's draws and back-offs by
hand, one host's deploy in closed form in both engines, the engines against each other, and hosts out
of attempts given up on and saying why."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.deploy.engine import Job, build_plan, simulate
from sim.deploy.strategies.p2p import drop_outs
from sim.deploy.swarm import round_length, run_swarm
from sim.deploy.swarm_reference import reference_swarm
from sim.streams import Streams
from tests.conftest import make_scenario
from tests.deploy.p2p_plans import MB, swarm
from tests.deploy.test_p2p_engines import AGREE_HIGH, AGREE_LOW


def test_no_share_draws_nothing():
    assert drop_outs(0.0, 10, np.ones(5, np.int64), np.ones(5, bool), 10.0, np.array([5.0]), Streams(1, 0)) is None


def test_the_drop_is_one_more_failed_attempt_with_its_back_off():
    """Hosts joining on attempt 1, 2 and 3 of 3 (timeout 10 s, back-offs 5 and 10 s), one given up on
    before joining: every joining host drops (share 1); the first waits 10 + 5 s, the second 10 + 10 s,
    the third has no attempt left and is given up on; the one that never joined never drops."""
    attempts = np.array([1, 2, 3, 3])
    joins = np.array([True, True, True, False])
    drops = drop_outs(1.0, 8, attempts, joins, 10.0, np.array([5.0, 10.0]), Streams(2, 0))
    np.testing.assert_array_equal(drops.rejoin[:3], [15.0, 20.0, np.nan])
    assert np.isnan(drops.rejoin[3]) and drops.at[3] == -1
    np.testing.assert_array_equal(drops.attempts, [2, 3, 4, 3])
    assert ((drops.at[:3] >= 0) & (drops.at[:3] < 8)).all()


def test_the_drops_are_the_p2p_drop_stream_s_draws_below_the_share():
    """Reproducible across versions: host h drops when the h-th uniform of the replication's `p2p.drop`
    stream is below the share, at the piece the stream draws next (the same seed, the same hosts)."""
    hosts, share, pieces = 400, 0.3, 16
    drops = drop_outs(share, pieces, np.ones(hosts, np.int64), np.ones(hosts, bool), 10.0, np.array([5.0]),
                      Streams(8, 2))
    stream = Streams(8, 2)("p2p.drop")
    dropped = stream.random(hosts) < share
    np.testing.assert_array_equal(drops.at >= 0, dropped)
    np.testing.assert_array_equal(drops.at[dropped], stream.integers(0, pieces, size=hosts)[dropped])


def test_without_retries_a_dropped_host_is_given_up_on():
    """`faults.retries: 0` (no back-off at all): the drop was the host's one attempt."""
    drops = drop_outs(1.0, 8, np.ones(3, np.int64), np.ones(3, bool), 10.0, np.zeros(0), Streams(4, 0))
    assert np.isnan(drops.rejoin).all()
    np.testing.assert_array_equal(drops.attempts, [2, 2, 2])
    scenario = make_scenario(fleet={"sizes": [6], "zones": 1}, faults={"retries": 0},
                             strategies={"swarm": {"kind": "p2p", "drop_out": "100%"}})
    record = simulate(scenario, Job("swarm", 6, 0, 1))
    assert np.isnan(np.asarray(record.done, dtype=float)).all()


def test_drops_happen_at_the_stated_rate_uniformly_over_the_pieces():
    hosts, share, pieces = 100_000, 0.05, 10
    drops = drop_outs(share, pieces, np.ones(hosts, np.int64), np.ones(hosts, bool), 10.0, np.array([5.0]),
                      Streams(3, 1))
    dropped = drops.at >= 0
    sd = np.sqrt(share * (1 - share) / hosts)
    assert abs(dropped.mean() - share) < 4 * sd
    counts = np.bincount(drops.at[dropped], minlength=pieces)
    expected = dropped.sum() / pieces
    assert ((counts - expected) ** 2 / expected).sum() < 30  # chi-square, 9 dof: p < 0.001 above 27.9


def one_host(drop_at: int, rejoin: float):
    plan = swarm(1, pieces=20, origin=300 * MB, upload=100 * MB, download=80 * MB, join=np.array([0.25]),
                 post=3.0)
    return plan, dataclasses.replace(plan, drop_at=np.array([drop_at]), rejoin=np.array([rejoin]))


@pytest.mark.parametrize("drop_at", [0, 7, 19])
def test_one_host_resumes_where_it_dropped(drop_at):
    """One host, one seeder: pieces move one after another at min(download, origin); the drop costs
    exactly the rejoin delay in the piece-level model, and at most one round more in the fast engine
    (it rounds the drop and the return to round boundaries)."""
    plan, dropping = one_host(drop_at, rejoin=12.0)
    closed = 0.25 + plan.size / min(plan.download, plan.seeder_rate) + 12.0 + 3.0
    assert reference_swarm(dropping).done[0] == pytest.approx(closed, rel=1e-9)
    fast = run_swarm(dropping, 0.0).done[0]
    assert closed - 1e-9 <= fast <= closed + 2 * round_length(plan)
    assert reference_swarm(dropping).origin_bytes == pytest.approx(plan.size)


@pytest.mark.parametrize("engine", [run_swarm, reference_swarm])
def test_a_host_given_up_on_never_finishes_and_the_rest_do(engine):
    base = swarm(12, pieces=16)
    drop_at = np.full(12, -1)
    drop_at[[2, 5]] = [3, 9]
    rejoin = np.full(12, np.nan)  # out of attempts: neither comes back
    times = engine(dataclasses.replace(base, drop_at=drop_at, rejoin=rejoin), 0.0)
    assert np.isnan(times.done[[2, 5]]).all()
    assert np.isfinite(np.delete(times.done, [2, 5])).all()


@pytest.mark.parametrize("hosts,pieces", [(5, 16), (20, 16), (40, 8)])
def test_engines_agree_with_drop_outs_within_the_stated_bound(hosts, pieces):
    base = swarm(hosts, pieces=pieces)
    rng = np.random.default_rng(hosts)
    drop_at = np.where(rng.random(hosts) < 0.3, rng.integers(0, pieces, hosts), -1)
    plan = dataclasses.replace(base, drop_at=drop_at, rejoin=np.where(drop_at >= 0, 3.0, np.nan))
    fast, slow = run_swarm(plan, 0.0), reference_swarm(plan)
    for measure in (np.median, np.max):
        ratio = measure(fast.done) / measure(slow.done)
        assert AGREE_LOW <= ratio <= AGREE_HIGH, (measure.__name__, ratio)
    dropped = drop_at >= 0
    for times in (fast, slow):  # each dropped host's done includes its 3 s away
        assert (times.done[dropped] - times.transfer_start[dropped] >= 3.0).all()


def test_drop_outs_through_the_engine_count_attempts_and_say_why():
    scenario = make_scenario(
        fleet={"hosts": 2000}, artifact={"size": "200MB"}, faults={"retries": 1, "flaky": "10%"},
        network={"origin_egress": "10Gbps", "host_download": "1Gbps"},
        strategies={"swarm": {"kind": "p2p", "drop_out": "20%"}})
    plan, faults = build_plan(scenario, "swarm", 2000, Streams(3, 0))
    record = simulate(scenario, Job("swarm", 2000, 0, 3))
    dropped = plan.drop_at >= 0
    assert 0.15 < dropped.mean() < 0.25
    np.testing.assert_array_equal(record.attempts, plan.attempts)
    np.testing.assert_array_equal(record.attempts, np.minimum(faults.fail_attempts + 1, 2) + dropped)
    given_up = dropped & (faults.fail_attempts >= 1)  # a retry already spent: the drop ends it
    assert given_up.any()
    assert np.isnan(record.done[given_up]).all()
    assert all("gave up after 2 failed attempts" in reason for reason in record.reason[given_up])
    back = dropped & ~given_up
    assert np.isfinite(record.done[back]).all()
