"""When each p2p host joins the swarm (`p2p.join_delays`, `p2p.plan`), against hand traces.

A host whose first f attempts fail joins after f failed attempts, each costing `attempt_timeout` plus the
back-off before the next try: waited = sum over r < f of (timeout + backoff[r]); it makes f + 1 attempts.
A host failing every one of its 1 + len(backoff) attempts is given up on (waited NaN). The expected
numbers below are that sum written out, not the vectorised cumsum of the module. The plan's `wakeup`
must be pull's draws (common random numbers, docs/p2p.md), and `join` is the failed attempts' wait plus
the wake-up. The swarm's seed comes from its own named stream `p2p.swarm` (a renamed stream changes
every p2p result of a seeded run).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.deploy.engine import build_plan
from sim.deploy.strategies.p2p import join_delays
from sim.streams import Streams
from tests.conftest import make_scenario

NAN = math.nan


@pytest.mark.parametrize("fail_attempts, timeout, backoff, attempts, waited", [
    # 3 attempts at most: waits 0, 10 + 1 = 11, 11 + 10 + 2 = 23; a 4th failure gives up
    ([0, 1, 2, 3, 7], 10.0, [1.0, 2.0], [1, 2, 3, 3, 3], [0.0, 11.0, 23.0, NAN, NAN]),
    # one retry: the host failing once joins on its second (last) attempt after 10 + 5 s
    ([0, 1, 2], 10.0, [5.0], [1, 2, 2], [0.0, 15.0, NAN]),
    # no retries: the first failure is the last
    ([0, 1], 10.0, [], [1, 1], [0.0, NAN]),
    # the defaults (timeout 10 s, back-off 5 s doubling, 3 retries): 15, 15 + 20 = 35, 35 + 30 = 65
    ([0, 1, 2, 3, 4], 10.0, [5.0, 10.0, 20.0], [1, 2, 3, 4, 4], [0.0, 15.0, 35.0, 65.0, NAN]),
    # a zero timeout: only the back-offs count
    ([2, 0], 0.0, [0.5, 0.25, 4.0], [3, 1], [0.75, 0.0]),
])
def test_join_delays_are_the_sum_of_failed_attempts(fail_attempts, timeout, backoff, attempts, waited):
    got_attempts, got_waited = join_delays(np.array(fail_attempts, dtype=np.int64), timeout, np.array(backoff))
    assert got_attempts.tolist() == attempts
    assert got_attempts.dtype == np.int64  # counts, written to the tables as integers
    np.testing.assert_array_equal(got_waited, np.array(waited))


def test_a_host_that_never_fails_waits_nothing():
    attempts, waited = join_delays(np.zeros(4, dtype=np.int64), 10.0, np.array([5.0, 10.0]))
    assert attempts.tolist() == [1, 1, 1, 1] and waited.tolist() == [0.0, 0.0, 0.0, 0.0]


def scenario(faults):
    return make_scenario(fleet={"hosts": 400}, artifact={"size": "200MB"}, faults=faults,
                         strategies={"swarm": {"kind": "p2p", "publish": "1s"},
                                     "pull": {"kind": "pull", "publish": "1s"}})


@pytest.mark.parametrize("faults", [{}, {"flaky": "30%", "retries": 2, "backoff": "3s", "attempt_timeout": "7s"}])
def test_the_plan_joins_after_the_failed_attempts_and_pulls_wake_up(faults):
    s = scenario(faults)
    plan, host_faults = build_plan(s, "swarm", 400, Streams(11, 2))
    pull, _ = build_plan(s, "pull", 400, Streams(11, 2))
    np.testing.assert_array_equal(plan.wakeup, pull.signal_offset)  # the same draws as pull (common random numbers)
    assert (plan.wakeup > 0).all()  # (the default wake-up is lognormal: a minus sign would show)
    timeout, backoff = s.faults.attempt_timeout, s.faults.backoff_delays().tolist()
    for host, failed in enumerate(host_faults.fail_attempts.tolist()):
        if failed > len(backoff):
            assert math.isnan(plan.join[host]) and plan.attempts[host] == len(backoff) + 1
            continue
        waited = sum(timeout + backoff[r] for r in range(failed))
        assert plan.join[host] == pytest.approx(waited + plan.wakeup[host], rel=1e-15, abs=0)
        assert plan.attempts[host] == failed + 1
    if faults:
        assert (host_faults.fail_attempts > 0).any() and np.isnan(plan.join).any()


@pytest.mark.parametrize("entropy, replication", [(11, 0), (11, 2), (20261201, 5)])
def test_the_swarm_seed_comes_from_its_own_named_stream(entropy, replication):
    plan, _ = build_plan(scenario({}), "swarm", 50, Streams(entropy, replication))
    assert plan.seed == int(Streams(entropy, replication)("p2p.swarm").integers(2**63))
    assert plan.seed >= 2**32  # (63 random bits: a seed under 2^32 has odds of 2^-31)
