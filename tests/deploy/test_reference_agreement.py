"""The fast engine and the straightforward SimPy model give the same per-host times on the same draws."""

import numpy as np
import pytest

from sim.deploy.engine import build_plan, fast_wave
from sim.deploy.reference import reference_wave
from sim.streams import Streams
from tests.conftest import make_scenario

SCENARIO = make_scenario(
    faults={"down": "2%", "flaky": "10%", "straggle": "5%", "retries": 2},
    network={"deploy_egress": "10Gbps", "origin_egress": "2Gbps", "host_download": "1Gbps"},
    strategies={
        "serial": {"kind": "push", "parallel": 1},
        "push-7": {"kind": "push", "parallel": 7},
        "push-64": {"kind": "push", "parallel": 64},
        "pull": {"kind": "pull", "publish": "5s"},
    },
)
FIELDS = ("signal", "transfer_start", "transfer_end", "done")


@pytest.mark.parametrize("strategy", list(SCENARIO.strategies))
@pytest.mark.parametrize("hosts", [1, 2, 13, 400])
@pytest.mark.parametrize("replication", [0, 1])
def test_same_per_host_times(strategy, hosts, replication):
    plan, _ = build_plan(SCENARIO, strategy, hosts, Streams(11, replication))
    fast, slow = fast_wave(plan, plan.signal_delay), reference_wave(plan)
    np.testing.assert_array_equal(fast.attempts, slow.attempts)
    for field in FIELDS:
        np.testing.assert_allclose(getattr(fast, field), getattr(slow, field), rtol=1e-9, atol=1e-9, err_msg=field)


def test_the_agreement_is_not_vacuous():
    # The scenario above really exercises retries, give-ups and sharing.
    plan, faults = build_plan(SCENARIO, "push-7", 400, Streams(11, 0))
    times = fast_wave(plan, 0.0)
    assert (times.attempts > 1).sum() > 10 and np.isnan(times.done).sum() >= 2
    overlap = np.sum((times.transfer_start[:, None] < times.transfer_end[None, :]) &
                     (times.transfer_start[None, :] < times.transfer_end[:, None]), axis=1)
    assert np.nanmax(overlap) > 1
