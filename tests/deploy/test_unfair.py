"""Unequal shares of one bottleneck (`network.flow_share_p95`, `sim.deploy.unfair`): hand traces, the closed
form for flows that start together, the SimPy model with weighted max-min links, the equal-shares wave
where they coincide, the weights' distribution, and the scenario's checks."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.commands.guards import fleet_costs, unequal_share_steps
from sim.deploy.engine import Job, build_plan, fast_wave, simulate
from sim.deploy.maxmin import max_min_rates
from sim.deploy.plan import WavePlan
from sim.deploy.reference import reference_wave
from sim.deploy.unfair import P95_Z, run_unfair_wave, share_weights, weighted_rates
from sim.deploy.wave import run_wave
from sim.errors import UserError
from sim.load.loader import load_scenario
from sim.spec.scenario import Scenario
from sim.streams import Streams

MB = 1e6
NO_ORDER = np.empty(0, np.int64)


def together(weight, size: float, capacity: float, flow_cap: float = np.inf, post: float = 0.0):
    """Every host's flow starts at 0 (no slot waits, no other cost): the kernel's per-host times."""
    n = len(weight)
    return run_unfair_wave(0.0, n, np.zeros(n), np.full(n, post), np.zeros(n, np.int64), 0.0, np.zeros(0), size,
                           capacity, flow_cap, np.arange(n, dtype=np.int64), np.asarray(weight, dtype=float))


def test_two_flows_by_hand():
    """12 MB each through 4 MB/s, weights 1 and 3: rates 1 and 3; the heavy flow ends at 4 s, when the light
    one has 4 MB, and its last 8 MB take 2 s alone: 6 s. With a 2.5 MB/s cap the heavy flow is held to
    2.5 and the light one gets 1.5: 4.8 s, then 7.2 MB left at 2.5: 4.8 + 1.92 = 6.72 s."""
    np.testing.assert_allclose(together([1, 3], 12 * MB, 4 * MB)[2], [6.0, 4.0], rtol=1e-12)
    np.testing.assert_allclose(together([1, 3], 12 * MB, 4 * MB, flow_cap=2.5 * MB)[2], [6.72, 4.8], rtol=1e-12)


@given(st.lists(st.floats(0.05, 20.0), min_size=1, max_size=40))
def test_flows_that_start_together_end_as_the_closed_form_says(weights):
    """Flow i ends after (F / C) x sum over j of min(w_j / w_i, 1): by then each lighter flow j has moved
    w_j / w_i of what flow i has, and each heavier one has ended (Bertsekas-Gallager weighted sharing)."""
    w = np.asarray(weights)
    end = together(w, 100 * MB, 50 * MB)[2]
    closed = 2.0 * np.array([np.minimum(w / wi, 1.0).sum() for wi in w])
    np.testing.assert_allclose(end, closed, rtol=1e-9)
    assert end.max() == pytest.approx(2.0 * len(w), rel=1e-9)  # the link never idles: N F / C


@given(st.lists(st.floats(0.05, 20.0), min_size=1, max_size=30), st.floats(0.1, 5.0))
def test_weighted_rates_are_the_weighted_max_min_definition(weights, cap_share):
    w = np.sort(np.asarray(weights))[::-1].copy()
    capacity, ceiling = 10.0, 10.0 / len(w) * cap_share
    rate = np.empty(len(w))
    weighted_rates(w, capacity, ceiling, rate)
    expected = max_min_rates([[0]] * len(w), [capacity], [ceiling] * len(w), list(w))
    np.testing.assert_allclose(rate, expected, rtol=1e-9, atol=1e-12)


def plan(hosts: int, slots: int, rng: np.random.Generator, weight: np.ndarray | None) -> WavePlan:
    return WavePlan(signal_delay=0.0, slots=slots, pre=rng.uniform(0.1, 2, hosts), signal_offset=np.zeros(hosts),
                    post=rng.uniform(0.1, 1, hosts), size=100 * MB, capacity=float(rng.choice([50 * MB, 1e9])),
                    flow_cap=float(rng.choice([20 * MB, 80 * MB, np.inf])), fail_attempts=rng.integers(0, 3, hosts),
                    fail_cost=2.0, backoff=np.array([1.0, 3.0]), share_weight=weight)


@given(st.integers(1, 40), st.integers(1, 50), st.floats(1.0, 10.0), st.integers(0, 2**32 - 1))
def test_the_kernel_is_the_simpy_model_with_weighted_links(hosts, slots, p95, seed):
    rng = np.random.default_rng(seed)
    weight = np.exp(np.log(p95) / P95_Z * rng.standard_normal(hosts))
    p = plan(hosts, slots, rng, weight)
    fast, slow = fast_wave(p, 0.0), reference_wave(p)
    for name in ("transfer_start", "transfer_end", "done"):
        np.testing.assert_allclose(getattr(fast, name), getattr(slow, name), rtol=1e-9, atol=1e-9, err_msg=name)
    np.testing.assert_array_equal(fast.attempts, slow.attempts)


@pytest.mark.parametrize("slots", [1, 8, 500])
def test_equal_weights_are_the_equal_shares_wave(slots):
    rng = np.random.default_rng(slots)
    p = plan(500, slots, rng, None)
    order = np.argsort(p.pre).astype(np.int64) if slots >= 500 else NO_ORDER
    args = (0.0, slots, p.pre, p.post, p.fail_attempts, p.fail_cost, p.backoff, p.size, p.capacity, p.flow_cap, order)
    for equal, weighted in zip(run_wave(*args), run_unfair_wave(*args, np.ones(500))):
        np.testing.assert_allclose(weighted, equal, rtol=1e-12, atol=1e-9)


def test_weights_are_lognormal_with_the_median_and_95th_percentile_asked_for():
    weight = share_weights(4.0, 200_000, Streams(3, 0))
    assert np.median(weight) == pytest.approx(1.0, rel=0.01)
    assert np.quantile(weight, 0.95) == pytest.approx(4.0, rel=0.02)
    assert share_weights(1.0, 10, Streams(3, 0)) is None  # equal shares draw nothing


def scenario(**network) -> Scenario:
    return Scenario.model_validate({
        "version": 1, "name": "shares", "fleet": {"sizes": [60], "zones": 1},
        "artifact": {"size": "20MB", "files": 10}, "network": {"origin_egress": "200Mbps", **network},
        "strategies": {"pull": {"kind": "pull"}, "push": {"kind": "push", "parallel": 8}}})


def test_unequal_shares_spread_a_pull_out_but_not_its_end():
    """The bench's shape: an earlier median, and the last transfer ends when it did with equal shares (the
    link carries every byte either way, and never idles once the first pull starts)."""
    equal, unequal = (simulate(scenario(flow_share_p95=p95), Job("pull", 60, 0, 2)) for p95 in (1.0, 6.0))
    assert np.median(unequal.done) < 0.85 * np.median(equal.done)
    assert np.nanmax(unequal.transfer_end) == pytest.approx(np.nanmax(equal.transfer_end), rel=1e-9)


def test_a_rollout_stage_keeps_each_chosen_host_s_weight():
    p = build_plan(scenario(flow_share_p95=3.0), "push", 60, Streams(1, 0))[0]
    chosen = np.array([5, 2, 40])
    assert p.share_weight is not None
    np.testing.assert_array_equal(p.subset(chosen).share_weight, p.share_weight[chosen])
    assert replace(p, share_weight=None).subset(chosen).share_weight is None


def test_unequal_shares_with_zone_links_are_refused_where_they_are_written(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("version: 1\nname: x\nfleet: {hosts: 10, zones: 2}\nnetwork:\n  flow_share_p95: 3\n"
                    "  zone_link: 1Gbps\nstrategies:\n  p: {kind: pull}\n")
    with pytest.raises(UserError) as error:
        load_scenario(path)
    text = str(error.value)
    assert f"{path}:5:" in text and "network.flow_share_p95" in text and "network.zone_link" in text
    assert "got 3" in text


def test_the_guard_counts_every_flow_in_flight_at_every_event():
    s = scenario(flow_share_p95=2.0)
    assert unequal_share_steps(s, 60) == 2 * 60 * 60 + 2 * 60 * 8  # pull: all 60 in flight; push: its 8 slots
    assert unequal_share_steps(scenario(), 60) == 0
    [cost] = [c for c in fleet_costs(s, 1, writes=False)["time"] if c.path == ("network", "flow_share_p95")]
    assert cost.amount > 0 and "flow steps" in cost.what
