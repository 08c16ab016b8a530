"""Push through zone links: the slotted kernel with a virtual clock per zone against the SimPy model with a
flow-by-flow max-min network, against the one-bottleneck wave where they coincide, against hand-worked
allocations, and above its bottleneck bound."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.deploy.bottleneck import bottleneck
from sim.deploy.engine import Job, _run, build_plan, fast_wave, simulate
from sim.deploy.plan import WavePlan, Zones
from sim.deploy.reference import reference_wave
from sim.deploy.wave import run_wave, run_zoned_wave
from sim.spec.scenario import Scenario
from sim.streams import Streams

MB = 1e6


def scenario(hosts: int = 30, zones: int = 3, faults: dict | None = None, **network) -> Scenario:
    return Scenario.model_validate({
        "version": 1, "name": "push-zones", "fleet": {"sizes": [hosts], "zones": zones},
        "artifact": {"size": "100MB", "files": 100}, "network": {"deploy_egress": "1Gbps", **network},
        "faults": faults or {}, "strategies": {"r": {"kind": "push", "parallel": 6}}})


def zones(hosts: int, links) -> Zones:
    links = np.asarray(links, dtype=float)
    return Zones(of_host=np.arange(hosts) % len(links), link=links, cache=0.0, fill_cap=np.inf, by_zone=False,
                 key_write=0.0)


def bare_plan(hosts: int, slots: int, links, capacity: float, flow_cap: float = np.inf, pre: float = 0.0,
              post: float = 0.0) -> WavePlan:
    """A push of 100 MB a host whose only cost besides the bytes is `pre` and `post`, with no faults."""
    return WavePlan(signal_delay=0.0, slots=slots, pre=np.full(hosts, pre), signal_offset=np.zeros(hosts),
                    post=np.full(hosts, post), size=100 * MB, capacity=capacity, flow_cap=flow_cap,
                    fail_attempts=np.zeros(hosts, np.int64), fail_cost=0.0, backoff=np.zeros(0),
                    zones=zones(hosts, links))


FAULTS = [{}, {"flaky": 0.3, "down": 0.1, "straggle": 0.2, "retries": 2}]
NETWORKS = [{"zone_link": "200Mbps"}, {"zone_link": ["100Mbps", "1Gbps", "300Mbps"], "per_flow": "150Mbps"},
            {"zone_link": ["2Gbps", "50Mbps", "2Gbps"], "deploy_egress": "400Mbps"}]


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("faults", FAULTS)
def test_the_kernel_matches_the_simpy_model_with_max_min_links(network, faults):
    s = scenario(faults=faults, **network)
    for replication in range(3):
        plan = build_plan(s, "r", 30, Streams(11, replication))[0]
        assert plan.zones is not None and plan.slots < plan.hosts
        fast, slow = fast_wave(plan, 0.0), reference_wave(plan)
        for name in ("signal", "transfer_start", "transfer_end", "done"):
            np.testing.assert_allclose(getattr(fast, name), getattr(slow, name), rtol=1e-9, atol=1e-9, err_msg=name)
        np.testing.assert_array_equal(fast.attempts, slow.attempts)


@given(st.integers(1, 40), st.integers(1, 4), st.integers(1, 10), st.integers(0, 2**32 - 1))
def test_on_any_small_plan_the_kernel_is_the_simpy_model(hosts, zone_count, slots, seed):
    rng = np.random.default_rng(seed)
    links = rng.choice([np.inf, 20 * MB, 50 * MB, 100 * MB], zone_count)
    plan = replace(bare_plan(hosts, slots, links, float(rng.choice([50 * MB, 100 * MB, 1e9])), flow_cap=40 * MB),
                   pre=rng.uniform(0.1, 2, hosts), post=rng.uniform(0.1, 1, hosts),
                   fail_attempts=rng.integers(0, 3, hosts), fail_cost=2.0, backoff=np.array([1.0, 3.0]))
    fast, slow = fast_wave(plan, 0.0), reference_wave(plan)
    np.testing.assert_allclose(fast.done, slow.done, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(fast.transfer_start, slow.transfer_start, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("faults", FAULTS)
@pytest.mark.parametrize("hosts", [1, 7, 200])
def test_with_one_zone_and_no_limit_the_kernel_is_the_one_bottleneck_wave_exactly(faults, hosts):
    s = scenario(hosts=hosts, faults=faults)
    for replication in range(3):
        plan = build_plan(s, "r", hosts, Streams(5, replication))[0]
        assert plan.zones is None
        alone = run_wave(0.5, plan.slots, plan.pre, plan.post, plan.fail_attempts, plan.fail_cost, plan.backoff,
                         plan.size, plan.capacity, plan.flow_cap, np.empty(0, np.int64))
        one_zone = run_zoned_wave(0.5, plan.slots, plan.pre, plan.post, plan.fail_attempts, plan.fail_cost,
                                  plan.backoff, plan.size, plan.capacity, plan.flow_cap, np.empty(0, np.int64),
                                  np.zeros(hosts, np.int64), np.full(1, np.inf))
        for a, b in zip(alone, one_zone):
            np.testing.assert_array_equal(a, b)  # the same operations: equal to the last bit
        several = fast_wave(replace(plan, zones=zones(hosts, [np.inf] * 3)), 0.5)
        np.testing.assert_allclose(several.done, _run(plan, 0.5)[3], rtol=1e-9, atol=1e-9)


def test_two_transfers_split_the_egress_by_max_min_then_the_slow_one_runs_alone():
    """Egress 50 MB/s; zone 0's link 10 MB/s, zone 1's none. Both start at 0: zone 0's flow is held to 10 by
    its link and zone 1's gets the other 40, ending at 100/40 = 2.5 s; by then zone 0's has 25 MB, and its
    last 75 MB cross the link alone at 10 MB/s: 10 s."""
    times = fast_wave(bare_plan(2, 2, [10 * MB, np.inf], 50 * MB), 0.0)
    np.testing.assert_allclose(times.transfer_end, [10.0, 2.5], rtol=1e-12)
    np.testing.assert_allclose(reference_wave(bare_plan(2, 2, [10 * MB, np.inf], 50 * MB)).transfer_end,
                               [10.0, 2.5], rtol=1e-12)


def test_one_slot_pushes_each_host_alone_at_its_zone_s_rate():
    """Serial push: host h transfers alone at min(egress, its link, cap), so the deploy is the sum of
    pre + 100 MB / rate + post over the hosts; zones 0, 1 alternate (10 and 25 MB/s; egress 20 MB/s)."""
    plan = bare_plan(4, 1, [10 * MB, 25 * MB], 20 * MB, pre=1.0, post=0.5)
    per_host = [1.0 + 100 / 10 + 0.5, 1.0 + 100 / 20 + 0.5] * 2
    np.testing.assert_allclose(fast_wave(plan, 0.0).done, np.cumsum(per_host), rtol=1e-12)


def test_a_zone_link_bounds_its_zone_and_the_bottleneck_says_so():
    """Ample egress and slots: the 3 zones of 30 hosts each push 10 builds through their own 100 Mb/s
    link (12.5 MB/s), which takes 10 x 100 MB / 12.5 MB/s = 80 s at least; named as the bottleneck. The
    link never idles once a zone's first transfer starts (the others arrive within seconds, and one
    transfer alone takes 8 s), so each zone's transfers take exactly those 80 s from first start to last end."""
    s = scenario(hosts=30, zones=3, zone_link="100Mbps", deploy_egress="100Gbps", per_flow="10Gbps",
                 host_download="10Gbps")
    s = s.model_copy(update={"strategies": {"r": s.strategies["r"].model_copy(update={"parallel": 30})}})
    bound = bottleneck(s, s.strategies["r"], 30)
    assert bound.resource == "zone link" and bound.seconds == pytest.approx(80.0)
    record = simulate(s, Job("r", 30, 0, 3))
    for zone in range(3):
        ends, starts = record.transfer_end[zone::3], record.transfer_start[zone::3]
        assert ends.max() - starts.min() == pytest.approx(80.0, rel=1e-9)
    assert record.origin_bytes == 30 * 100 * MB


@pytest.mark.parametrize("network", NETWORKS)
def test_a_simulated_push_through_zone_links_stays_above_its_bound(network):
    s = scenario(hosts=60, **network)
    bound = bottleneck(s, s.strategies["r"], 60)
    for replication in range(5):
        record = simulate(s, Job("r", 60, replication, 9))
        assert np.nanmax(record.done) >= bound.seconds * (1 - 1e-9)


@pytest.mark.parametrize("network", NETWORKS)
def test_no_zone_link_carries_more_than_its_capacity_with_faults(network):
    """Each zone's updated hosts' bytes all crossed its link between its first transfer start and its last
    end (the bottleneck's bound counts the expected updated hosts; this counts a run's own)."""
    s = scenario(hosts=60, faults=FAULTS[1], **network)
    links = s.network.zone_links(3)
    for replication in range(5):
        record = simulate(s, Job("r", 60, replication, 9))
        for zone, link in enumerate(links):
            ends, starts = record.transfer_end[zone::3], record.transfer_start[zone::3]
            moved = np.isfinite(ends).sum() * 100 * MB
            assert np.nanmax(ends) - np.nanmin(starts) >= moved / link * (1 - 1e-9)


def test_equal_zone_links_slow_every_host_of_a_push_and_it_counts_the_bytes_it_sent():
    plain = simulate(scenario(), Job("r", 30, 0, 4))
    linked = simulate(scenario(zone_link="100Mbps"), Job("r", 30, 0, 4))
    assert np.all(linked.done >= plain.done - 1e-9) and np.nanmax(linked.done) > np.nanmax(plain.done)
    assert np.isnan(plain.origin_bytes) and linked.origin_bytes == 30 * 100 * MB


def test_a_faster_zone_link_can_slow_a_push_as_a_hand_trace_shows():
    """Unlike pull, push through zone links is a list schedule, and speeding up one zone can slow the deploy.
    3 hosts in zones 0, 1, 2 (links 10, 50, 10 MB/s), 2 slots, egress 50 MB/s, 100 MB each, no other cost.
    Zone 0 at 10: hosts 0 and 1 start; 0 is held to 10, 1 gets 40 and ends at 2.5 s, when host 2 takes its
    slot at 10 (its link): host 0 ends at 2.5 + 75/10 = 10 s, host 2 at 2.5 + 10 = 12.5 s.
    Zone 0 at 20: host 0 takes 20, host 1 only 30 and ends at 10/3 s, so host 2 starts later and ends at
    10/3 + 10 = 13.33 s: the deploy is slower, while host 0 ends at 10/3 + (100 - 200/3)/20 = 5 s."""
    slow = bare_plan(3, 2, [10 * MB, 50 * MB, 10 * MB], 50 * MB)
    fast_link = bare_plan(3, 2, [20 * MB, 50 * MB, 10 * MB], 50 * MB)
    for engine in (lambda plan: fast_wave(plan, 0.0), reference_wave):
        np.testing.assert_allclose(engine(slow).done, [10.0, 2.5, 12.5], rtol=1e-12)
        np.testing.assert_allclose(engine(fast_link).done, [5.0, 10 / 3, 10 / 3 + 10], rtol=1e-12)
