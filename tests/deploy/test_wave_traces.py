"""Exact traces of tiny fleets, worked out by hand, against both engines."""

import numpy as np
import pytest

from sim.deploy.engine import Job, fast_wave, simulate
from sim.deploy.plan import WavePlan
from sim.deploy.reference import reference_wave
from tests.conftest import make_scenario

ENGINES = [lambda plan: fast_wave(plan, plan.signal_delay), reference_wave]


def plan(**fields) -> WavePlan:
    n = len(fields["pre"])
    base = dict(signal_delay=0.0, slots=n, signal_offset=np.zeros(n), post=np.zeros(n), size=100.0,
                capacity=100.0, flow_cap=100.0, fail_attempts=np.zeros(n, np.int64), fail_cost=10.0,
                backoff=np.array([5.0, 10.0, 20.0]))
    base.update(fields)
    base["pre"] = np.asarray(base["pre"], float)
    base["post"] = np.asarray(base["post"], float)
    return WavePlan(**base)


def test_push_two_slots_three_hosts_through_a_shared_egress():
    # Two rsyncs connect for 1 s, then share 80 B/s (40 each, under the 50 B/s host cap): 100 B take
    # 2.5 s; activation 2 s; the third host gets a slot at 5.5 s and the egress to itself (50 B/s cap).
    scenario = make_scenario(
        fleet={"hosts": 3, "tiers": {"canary": 0}},
        artifact={"size": "100B", "files": 1},
        network={"deploy_egress": "80B/s", "per_flow": "1000B/s", "host_download": "50B/s"},
        strategies={"push": {"kind": "push", "parallel": 2, "connect": "1s", "scan_per_file": 0, "activation": "2s"}},
    )
    record = simulate(scenario, Job("push", 3, 0, entropy=1))
    assert record.signal.tolist() == [0, 0, 5.5]
    assert record.transfer_start.tolist() == [1, 1, 6.5]
    assert record.transfer_end.tolist() == [3.5, 3.5, 8.5]
    assert record.done.tolist() == [5.5, 5.5, 10.5]


@pytest.mark.parametrize("engine", ENGINES)
def test_pull_processor_sharing_with_staggered_wakeups(engine):
    # 50 B/s shared; hosts wake at 0.5, 1.5, 2.5 s (key at 0.5 s). By hand: h0 alone to 1.5 s (50 B),
    # two flows at 25 B/s to 2.5 s (h0 75 B), three at 16.7 B/s: h0 done at 4.0 s; two at 25 B/s: h1
    # done at 6.0 s; h2 alone at 50 B/s needs 25 B more: 6.5 s. Activation 1 s.
    times = engine(plan(signal_delay=0.5, pre=[0, 1, 2], signal_offset=np.array([0.0, 1.0, 2.0]), post=[1, 1, 1],
                        capacity=50.0))
    assert times.signal.tolist() == [0.5, 1.5, 2.5]
    assert times.transfer_start.tolist() == [0.5, 1.5, 2.5]
    np.testing.assert_allclose(times.transfer_end, [4.0, 6.0, 6.5])
    np.testing.assert_allclose(times.done, [5.0, 7.0, 7.5])


@pytest.mark.parametrize("engine", ENGINES)
def test_failures_retry_with_backoff_and_give_up(engine):
    # 2 slots, 5 hosts, each: 1 s pre, 10 B/s alone (1 s), 2 s post. Host 1 fails once (10 s, then
    # 5 s back-off); host 2 always fails: 4 attempts at 4, 19, 39, 69 s, then gives up.
    times = engine(plan(slots=2, pre=[1] * 5, post=[2] * 5, size=10.0, capacity=10.0, flow_cap=10.0,
                        fail_attempts=np.array([0, 1, 4, 0, 0])))
    assert times.attempts.tolist() == [1, 2, 4, 1, 1]
    np.testing.assert_array_equal(times.signal, [0, 15, np.nan, 10, 14])
    np.testing.assert_array_equal(times.done, [4, 19, np.nan, 14, 18])
