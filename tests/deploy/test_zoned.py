"""Pull through zone links and caches: max-min sharing by hand, the class kernel against the flow-by-flow
model, the one-bottleneck wave where they coincide, closed forms and metamorphic relations."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sim.deploy.bottleneck import bottleneck
from sim.deploy.engine import Job, _run, build_plan, simulate
from sim.deploy.maxmin import max_min_rates
from sim.deploy.plan import Zones
from sim.deploy.wave import fill_rates
from sim.deploy.zoned import zoned_wave
from sim.deploy.zoned_reference import reference_zoned
from sim.spec.scenario import Scenario
from sim.streams import Streams

MB = 1e6


# --- max-min fairness, by hand --------------------------------------------------------------------

@pytest.mark.parametrize("links, capacity, ceiling, expected", [
    ([[0], [0], [0]], [9.0], None, [3.0, 3.0, 3.0]),  # one link, equal shares
    ([[0], [0], [0]], [10.0], [1.0, 10.0, 10.0], [1.0, 4.5, 4.5]),  # a capped flow leaves the rest to others
    ([[0, 1], [0], [1]], [10.0, 10.0], None, [5.0, 5.0, 5.0]),  # parking lot, two links
    ([[0, 1], [0], [1]], [10.0, 4.0], None, [2.0, 8.0, 2.0]),  # the long flow is held by the tight link
    # three links of 1, 2, 3: the long flow and link 0's own flow halve link 0; the others take what is left
    ([[0, 1, 2], [0], [1], [2]], [1.0, 2.0, 3.0], None, [0.5, 0.5, 1.5, 2.5]),
    ([[0]], [np.inf], [3.0], [3.0]),  # a link with no limit: the ceiling decides
    # Bertsekas-Gallager style: link 0 (cap 1) shared by flows 0-2, link 1 (cap 2) by flows 2-3
    ([[0], [0], [0, 1], [1]], [1.0, 2.0], None, [1 / 3, 1 / 3, 1 / 3, 5 / 3]),
])
def test_max_min_rates_by_hand(links, capacity, ceiling, expected):
    assert max_min_rates(links, capacity, ceiling) == pytest.approx(expected, rel=1e-12)


def test_an_unbounded_flow_is_refused():
    with pytest.raises(ValueError, match="flow 0 has no finite link or ceiling"):
        max_min_rates([[0]], [np.inf])


topologies = st.integers(1, 4).flatmap(lambda links: st.tuples(
    st.lists(st.lists(st.integers(0, links - 1), min_size=1, max_size=links, unique=True), min_size=1, max_size=6),
    st.lists(st.floats(0.5, 100.0) | st.just(np.inf), min_size=links, max_size=links),
    st.floats(0.5, 200.0)))


@given(topologies)
def test_max_min_rates_meet_the_definition(topology):
    """Feasible, and every flow has a bottleneck: its ceiling, or a full link on which no flow has more
    (Bertsekas-Gallager's characterisation of the max-min fair allocation)."""
    links, capacity, cap = topology
    rate = max_min_rates(links, capacity, [cap] * len(links))
    load = np.zeros(len(capacity))
    for f, crossed in enumerate(links):
        load[crossed] += rate[f]
    assert np.all(load <= np.asarray(capacity) * (1 + 1e-9))
    for f, crossed in enumerate(links):
        at_ceiling = rate[f] >= cap * (1 - 1e-9)
        held = any(load[link] >= capacity[link] * (1 - 1e-9)
                   and all(rate[g] <= rate[f] * (1 + 1e-9) for g in range(len(links)) if link in links[g])
                   for link in crossed)
        assert at_ceiling or held, (f, rate)


classes = st.lists(st.tuples(st.integers(0, 5), st.floats(0.5, 200.0), st.floats(0.5, 100.0) | st.just(np.inf),
                             st.booleans()), min_size=1, max_size=6)


@given(classes, st.floats(0.5, 300.0))
def test_the_kernel_fills_classes_as_the_flows_would(spec, origin):
    """`fill_rates` on classes of identical flows (each with a link of its own, some crossing the origin)
    equals `max_min_rates` on the flows written out: link 0 the origin, link 1 + k class k's own."""
    counts, ceilings, own, via = (np.asarray(column) for column in zip(*spec))
    by_class = fill_rates(counts.astype(float), ceilings, own, via, origin)
    flows = [([0] if via[k] else []) + [1 + k] for k in range(len(spec)) for _ in range(counts[k])]
    if not flows:
        assert not by_class.any()
        return
    by_flow = max_min_rates(flows, [origin, *own], np.repeat(ceilings, counts))
    assert by_flow == pytest.approx(np.repeat(by_class, counts), rel=1e-9)


# --- the wave through zones -----------------------------------------------------------------------

def scenario(hosts=30, zones=3, faults=None, strategy=None, **network) -> Scenario:
    """A pull scenario; `zone_cache` given with the network's keys goes to the strategy."""
    strategy = {**(strategy or {}), **({"zone_cache": network.pop("zone_cache")} if "zone_cache" in network else {})}
    return Scenario.model_validate({
        "version": 1, "name": "zones", "fleet": {"sizes": [hosts], "zones": zones,
                                                 "tiers": {"staging": 0, "dogfood": 0}},
        "artifact": {"size": "100MB"}, "network": {"origin_egress": "1Gbps", **network},
        "faults": faults or {}, "strategies": {"p": {"kind": "pull", **strategy}}})


def plan_of(s: Scenario, hosts: int, replication: int = 0):
    return build_plan(s, "p", hosts, Streams(7, replication))[0]


SETTINGS = [
    {},
    {"zone_link": "200Mbps"},
    {"zone_link": ["100Mbps", "1Gbps", "300Mbps"]},
    {"zone_cache": "2Gbps"},
    {"zone_link": "300Mbps", "zone_cache": "500Mbps", "per_flow": "80Mbps"},
]
FAULTS = [{}, {"flaky": 0.3, "down": 0.1, "straggle": 0.2, "retries": 2}]


@pytest.mark.parametrize("network", SETTINGS)
@pytest.mark.parametrize("faults", FAULTS)
@pytest.mark.parametrize("by_zone", [False, True])
def test_the_kernel_matches_the_flow_by_flow_model(network, faults, by_zone):
    s = scenario(faults=faults, strategy={"by_zone": by_zone}, **network)
    for replication in range(3):
        plan = plan_of(s, 30, replication)
        if plan.zones is None:
            continue
        fast, slow = zoned_wave(plan, 0.25), reference_zoned(plan, 0.25)
        for name in ("signal", "transfer_start", "transfer_end", "done"):
            np.testing.assert_allclose(getattr(fast, name), getattr(slow, name), rtol=1e-9, atol=1e-9, err_msg=name)
        np.testing.assert_array_equal(fast.attempts, slow.attempts)
        assert fast.origin_bytes == slow.origin_bytes


@pytest.mark.parametrize("faults", FAULTS)
@pytest.mark.parametrize("hosts", [1, 7, 200])
def test_with_no_zone_limits_the_kernel_is_the_one_bottleneck_wave(faults, hosts):
    """Zone links with no limit and no caches: every flow crosses the origin alone, as in `run_wave`."""
    s = scenario(hosts=hosts, faults=faults)
    for replication in range(3):
        plan = plan_of(s, hosts, replication)
        zones = Zones(of_host=np.arange(hosts) % 3, link=np.full(3, np.inf), cache=0.0, fill_cap=1e12,
                      by_zone=False, key_write=0.0)
        attempt_start, start, end, done, attempts = _run(plan, 1.5)
        zoned = zoned_wave(replace(plan, zones=zones), 1.5)
        np.testing.assert_allclose(zoned.signal, attempt_start + plan.signal_offset, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(zoned.transfer_start, start, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(zoned.transfer_end, end, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(zoned.done, done, rtol=1e-12, atol=1e-9)
        np.testing.assert_array_equal(zoned.attempts, attempts)


def quiet(**strategy) -> dict:
    """A pull whose only costs are the bytes: instant key, wake-up and activation, free verification."""
    return {"key_write": 0, "wakeup": 0, "activation": 0, "verify_rate": "1000000GB/s", **strategy}


VERIFY = 100 * MB / 1e15  # seconds to verify the build at `quiet`'s rate


def test_a_zone_link_bounds_its_zone_as_n_f_over_the_link():
    # one zone of 20 hosts behind a 200 Mb/s link, origin 1 Gb/s: 20 x 100 MB / 25 MB/s = 80 s
    s = scenario(hosts=20, zones=1, strategy=quiet(), zone_link="200Mbps")
    times = zoned_wave(plan_of(s, 20), 0.0)
    assert np.nanmax(times.done) == pytest.approx(20 * 100 * MB / 25e6 + VERIFY, rel=1e-12)
    assert times.origin_bytes == 20 * 100 * MB


def test_two_zones_split_the_origin_by_max_min():
    """Zone 0's link (10 MB/s for its 5 hosts) holds it; zone 1 gets the rest of the origin (125 - 10 MB/s):
    zone 1's 5 hosts finish at 500 MB / 115 MB/s, then zone 0 keeps 10 MB/s to the end (50 s)."""
    s = scenario(hosts=10, zones=2, strategy=quiet(), zone_link=["80Mbps", "10Gbps"], host_download="10Gbps")
    times = zoned_wave(plan_of(s, 10), 0.0)
    zone = np.arange(10) % 2
    assert times.done[zone == 1] == pytest.approx(np.full(5, 500 * MB / 115e6 + VERIFY), rel=1e-12)
    assert times.done[zone == 0] == pytest.approx(np.full(5, 500 * MB / 10e6 + VERIFY), rel=1e-12)


def test_a_cache_fills_once_then_serves_its_zone():
    """Three zones of 4 hosts: three fills share the origin (125/3 MB/s each, under the 80 MB/s per-flow
    cap), then each cache (50 MB/s) serves its 4 hosts: 100 MB x 3 / 125 MB/s + 4 x 100 MB / 50 MB/s."""
    s = scenario(hosts=12, zones=3, strategy=quiet(), zone_cache="400Mbps", per_flow="640Mbps")
    times = zoned_wave(plan_of(s, 12), 0.0)
    fill = 3 * 100 * MB / 125e6
    assert times.transfer_start == pytest.approx(np.full(12, fill), rel=1e-12)
    assert times.done == pytest.approx(np.full(12, fill + 4 * 100 * MB / 50e6 + VERIFY), rel=1e-12)
    assert times.origin_bytes == 3 * 100 * MB


def test_zone_by_zone_is_each_zone_alone_in_turn():
    s = scenario(hosts=12, zones=3, strategy=quiet(by_zone=True), zone_link="400Mbps")
    times = zoned_wave(plan_of(s, 12), 0.0)
    zone = np.arange(12) % 3
    one_zone = 4 * 100 * MB / 50e6  # 4 hosts behind a 50 MB/s link (under the origin's 125 MB/s)
    for z in range(3):
        assert times.done[zone == z] == pytest.approx(np.full(4, (z + 1) * (one_zone + VERIFY)), rel=1e-12)


def test_a_wave_spreads_its_hosts_over_the_zones_round_robin():
    zones = plan_of(scenario(hosts=12, zones=3, zone_link="400Mbps"), 12).zones
    assert zones.of_host.dtype == np.int64 and zones.of_host.tolist() == [0, 1, 2] * 4


def test_zone_by_zone_writes_each_later_zone_s_key_after_the_zone_before_it_finished():
    # as above with a 2 s key write: the first zone's key is the wave's signal (before t0), each later
    # zone's is written once the zone before it has finished, so zone z ends z key writes later
    s = scenario(hosts=12, zones=3, strategy=quiet(by_zone=True, key_write="2s"), zone_link="400Mbps")
    times = zoned_wave(plan_of(s, 12), 0.0)
    zone = np.arange(12) % 3
    one_zone = 4 * 100 * MB / 50e6
    for z in range(3):
        assert times.done[zone == z] == pytest.approx(np.full(4, (z + 1) * (one_zone + VERIFY) + 2.0 * z), rel=1e-12)


def test_a_simulated_zoned_pull_reports_origin_bytes_and_its_bottleneck():
    s = scenario(hosts=300, zones=3, zone_link="1Gbps", zone_cache="2Gbps")
    record = simulate(s, Job("p", 300, 0, 7))
    assert record.origin_bytes == 3 * 100 * MB
    assert bottleneck(s, s.strategies["p"], 300).resource == "cache egress"
    s = scenario(hosts=300, zones=3, zone_link="100Mbps")
    assert bottleneck(s, s.strategies["p"], 300).resource == "zone link"
    assert np.nanmax(simulate(s, Job("p", 300, 0, 7)).done) >= bottleneck(s, s.strategies["p"], 300).seconds


@pytest.mark.parametrize("network", SETTINGS[1:])
@pytest.mark.parametrize("by_zone", [False, True])
def test_simulated_zoned_pulls_stay_above_their_bound(network, by_zone):
    s = scenario(hosts=90, faults={"flaky": 0.1}, strategy={"by_zone": by_zone}, **network)
    bound = bottleneck(s, s.strategies["p"], 90)
    for replication in range(5):
        assert np.nanmax(simulate(s, Job("p", 90, replication, 3)).done) >= bound.seconds


rates = st.sampled_from([6.25, 25, 125, 625])  # MB/s: 50 Mb/s to 5 Gb/s


@given(st.lists(rates, min_size=3, max_size=3), st.integers(0, 2), rates, st.booleans(), st.integers(0, 20))
def test_a_faster_zone_link_never_slows_a_deploy(links, which, faster, cache, seed):
    raised = list(links)
    raised[which] = max(links[which], faster)
    caches = {"zone_cache": "1Gbps"} if cache else {}
    slow = zoned_wave(plan_of(scenario(hosts=24, zone_link=[f"{r}MB/s" for r in links], **caches), 24, seed), 0.0)
    fast = zoned_wave(plan_of(scenario(hosts=24, zone_link=[f"{r}MB/s" for r in raised], **caches), 24, seed), 0.0)
    assert np.nanmax(fast.done) <= np.nanmax(slow.done) * (1 + 1e-12)


@given(st.integers(1, 60), st.integers(1, 5), st.integers(0, 20))
def test_a_cache_tier_never_raises_origin_bytes(hosts, zones, seed):
    faults = {"down": 0.2, "flaky": 0.2}
    plain = zoned_wave(plan_of(scenario(hosts=hosts, zones=zones, faults=faults, zone_link="1Gbps"), hosts, seed), 0)
    cached = zoned_wave(plan_of(scenario(hosts=hosts, zones=zones, faults=faults, zone_link="1Gbps",
                                         zone_cache="1Gbps"), hosts, seed), 0)
    assert cached.origin_bytes <= plain.origin_bytes
    assert np.array_equal(np.isnan(cached.done), np.isnan(plain.done))  # the same hosts are updated


def test_a_zone_link_list_must_have_one_link_per_zone():
    with pytest.raises(Exception, match=r"network.zone_link\n.*one link per zone: fleet.zones is 3, the list has 2"):
        scenario(zone_link=["1Gbps", "2Gbps"])


def test_a_rollout_deploys_through_zone_links_and_caches():
    """Rollout stages are waves of a few hosts (staging, dogfood, a canary share): each takes a share of
    every zone. Behind slow zone links the same good releases take longer to reach 100%; with caches the
    zones' pulls no longer queue on those links, so they are quicker than without."""
    from sim.rollout.simulate import release_setup, simulate_releases

    path = Path(__file__).resolve().parents[2] / "scenarios" / "slack_2020_pipeline.yaml"
    data = yaml.safe_load(path.read_text())
    data["build"]["bad_probability"] = 0.0

    def lead_times(zone_link=None, cache=None) -> np.ndarray:
        changed = {**data, "network": {**data["network"], **({"zone_link": zone_link} if zone_link else {})},
                   "strategies": {**data["strategies"], "consul-pull": {
                       **data["strategies"]["consul-pull"], **({"zone_cache": cache} if cache else {})}}}
        scenario = Scenario.model_validate(changed)
        results = simulate_releases([(scenario, i) for i in range(3)], 11, release_setup(scenario))
        return np.array([r.outcome.lead_time for r in results])

    plain, linked, cached = lead_times(), lead_times("2Gbps"), lead_times("2Gbps", "10Gbps")
    assert np.isfinite(plain).all() and np.isfinite(linked).all() and np.isfinite(cached).all()
    assert (linked > plain).all() and (cached < linked).all()


def test_a_plan_subset_keeps_each_chosen_host_s_own_numbers():
    plan = plan_of(scenario(hosts=12, faults=FAULTS[1], zone_link="1Gbps"), 12)
    chosen = np.array([7, 2, 11])
    sub = plan.subset(chosen)
    for name in ("pre", "signal_offset", "post", "fail_attempts"):
        np.testing.assert_array_equal(getattr(sub, name), getattr(plan, name)[chosen], err_msg=name)
    np.testing.assert_array_equal(sub.zone_links().of_host, plan.zone_links().of_host[chosen])
    assert (sub.size, sub.capacity, sub.flow_cap, sub.slots) == (plan.size, plan.capacity, plan.flow_cap, plan.slots)


def test_a_plan_without_zones_is_refused_by_the_zone_kernel():
    plan = plan_of(scenario(hosts=5), 5)
    assert plan.zones is None
    with pytest.raises(ValueError, match=r"^this plan has no zones: it is a one-bottleneck wave \(sim.deploy.wave\)$"):
        zoned_wave(plan, 0.0)


def test_a_subset_of_a_plan_keeps_each_chosen_hosts_own_numbers():
    plan = plan_of(scenario(30, 3, faults=FAULTS[1], zone_link="200Mbps"), 30)
    hosts = np.array([7, 2, 29])
    part = plan.subset(hosts)
    for field in ("pre", "signal_offset", "post", "fail_attempts"):
        np.testing.assert_array_equal(getattr(part, field), getattr(plan, field)[hosts])
    np.testing.assert_array_equal(part.zone_links().of_host, plan.zone_links().of_host[hosts])
    assert part.size == plan.size and part.capacity == plan.capacity


def test_a_one_bottleneck_plan_has_no_zones_to_give():
    plan = plan_of(scenario(10, 1), 10)
    with pytest.raises(ValueError, match="this plan has no zones: it is a one-bottleneck wave"):
        plan.zone_links()
