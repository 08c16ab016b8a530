"""The planners (push, pull) and the fault draws against per-host times worked out by hand.

Both engines run the plan a planner makes, so agreement between them cannot see a planner that forgets
to slow a straggler's scan or activation; these tests can. Fault shares of 0 or 100% force the outcome;
where a share is in between, the test reads WHICH hosts the draw picked and checks each host's times
against the closed form for its kind (the draw itself is not what is being tested).
"""

from dataclasses import replace

import numpy as np
import pytest

from sim.deploy.engine import Job, build_plan, fast_wave, simulate
from sim.deploy.faults import HostFaults, draw_faults
from sim.deploy.reference import reference_wave
from sim.distributions import sample_named
from sim.streams import Streams
from tests.conftest import make_scenario

DOWN = "unreachable: host down; gave up after {} attempts"
FLAKY = "gave up after {} failed attempts (transient failures)"


def push_scenario(hosts: int, parallel: int, straggle, factor: float = 3.0, **faults):
    # connect 1 s, scan 1,000 files x 0.5 ms = 0.5 s, activation 2 s; rsync sends delta 50% of 1,000 B = 500 B
    # at one flow's ceiling min(per_flow 250, host_download 500) = 250 B/s: 2 s (the 100 kB/s egress never binds).
    return make_scenario(
        fleet={"hosts": hosts, "tiers": {"canary": 0}},
        artifact={"size": "1000B", "files": 1000},
        network={"deploy_egress": "100kB/s", "per_flow": "250B/s", "host_download": "500B/s"},
        faults={"straggle": straggle, "straggle_factor": factor, **faults},
        strategies={"push": {"kind": "push", "parallel": parallel, "connect": "1s", "scan_per_file": "0.5ms",
                             "delta": "50%", "activation": "2s"}})


def pull_scenario(hosts: int, straggle, factor: float = 2.0, **faults):
    # publish 3 s + key write 1 s: signal at 4 s; wake-up 0.5 s; 1,000 B at min(per_flow 100, host_download
    # 200) = 100 B/s: 10 s (the origin's 1 MB/s never binds); verify 1,000 B at 50 B/s = 20 s; activation 2 s.
    return make_scenario(
        fleet={"hosts": hosts, "tiers": {"canary": 0}},
        artifact={"size": "1000B", "files": 7},
        network={"origin_egress": "1MB/s", "per_flow": "100B/s", "host_download": "200B/s"},
        faults={"straggle": straggle, "straggle_factor": factor, **faults},
        strategies={"pull": {"kind": "pull", "publish": "3s", "key_write": "1s", "wakeup": "500ms",
                             "verify_rate": "50B/s", "activation": "2s"}})


# ---- push ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("straggle, per_host, pre", [(0, 1.5 + 2 + 2, 1.5), ("100%", 3 * 1.5 + 2 + 3 * 2, 4.5)])
def test_serial_push_per_host_times_with_and_without_stragglers(straggle, per_host, pre):
    # A straggler's connect AND scan (1 + 0.5 s) and its activation (2 s) take 3x as long; the transfer
    # (2 s, network-bound) does not. Serially, host k starts when host k-1 is done.
    scenario = push_scenario(3, parallel=1, straggle=straggle)
    record = simulate(scenario, Job("push", 3, 0, entropy=5))
    k = np.arange(3)
    np.testing.assert_allclose(record.signal, per_host * k, rtol=1e-12)
    np.testing.assert_allclose(record.transfer_start, per_host * k + pre, rtol=1e-12)
    np.testing.assert_allclose(record.transfer_end, per_host * k + pre + 2, rtol=1e-12)
    np.testing.assert_allclose(record.done, per_host * (k + 1), rtol=1e-12)
    assert record.attempts.tolist() == [1, 1, 1] and record.release_signalled == 0
    # the reference engine, on the same plan, agrees (the planner is what the numbers above pin)
    plan, _ = build_plan(scenario, "push", 3, Streams(5, 0))
    np.testing.assert_allclose(reference_wave(plan).done, record.done, rtol=1e-12)


def test_push_straggler_slowdown_applies_per_host_to_connect_scan_and_activation():
    # Parallel push, a slot per host and an egress no flow waits for: each host alone is
    # connect_h + scan, then 2 s on the wire, then activation, with its own straggler factor on its own work.
    n, factor = 40, 5.0
    scenario = make_scenario(
        fleet={"hosts": n, "tiers": {"canary": 0}},
        artifact={"size": "1000B", "files": 2000},
        network={"deploy_egress": "1MB/s", "per_flow": "500B/s", "host_download": "1000B/s"},
        faults={"straggle": "50%", "straggle_factor": factor},
        strategies={"push": {"kind": "push", "parallel": n,
                             "connect": {"dist": "lognormal", "median": "1s", "p95": "2s"}, "scan_per_file": "1ms",
                             "activation": {"dist": "uniform", "low": "1s", "high": "3s"}}})
    _, faults = build_plan(scenario, "push", n, Streams(9, 0))
    straggler = faults.slowdown == factor
    assert 5 <= straggler.sum() <= n - 5, "the draw should give both kinds of host"
    assert set(faults.slowdown) == {1.0, factor}
    # the connect and activation draws, taken again from their named streams
    spec = scenario.strategies["push"]
    connect = sample_named(spec.connect, Streams(9, 0), "push.connect", n)
    activation = sample_named(spec.activation, Streams(9, 0), "push.activation", n)
    slow = np.where(straggler, factor, 1.0)
    pre = (connect + 2.0) * slow  # scan: 2,000 files x 1 ms
    record = simulate(scenario, Job("push", n, 0, entropy=9))
    np.testing.assert_allclose(record.signal, 0.0)
    np.testing.assert_allclose(record.transfer_start, pre, rtol=1e-12)
    np.testing.assert_allclose(record.transfer_end, pre + 2.0, rtol=1e-12)
    np.testing.assert_allclose(record.done, pre + 2.0 + activation * slow, rtol=1e-12)


# ---- pull ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("straggle, post", [(0, 20.0 + 2.0), ("100%", 2.0 * (20.0 + 2.0))])
def test_pull_per_host_times_with_and_without_stragglers(straggle, post):
    # Signal at 4 s, awake at 4.5 s (a wake-up is the agent's blocking query, not the host's work: a
    # straggler wakes as fast as any), 10 s transfer, then verify + activation (x2 for a straggler).
    scenario = pull_scenario(4, straggle=straggle)
    record = simulate(scenario, Job("pull", 4, 0, entropy=3))
    assert record.release_signalled == 4.0
    np.testing.assert_allclose(record.signal, 4.5, rtol=1e-12)
    np.testing.assert_allclose(record.transfer_start, 4.5, rtol=1e-12)
    np.testing.assert_allclose(record.transfer_end, 14.5, rtol=1e-12)
    np.testing.assert_allclose(record.done, 14.5 + post, rtol=1e-12)


def test_pull_stragglers_mixed_with_healthy_hosts():
    n = 30
    scenario = pull_scenario(n, straggle="30%", factor=4.0)
    _, faults = build_plan(scenario, "pull", n, Streams(4, 1))
    straggler = faults.slowdown == 4.0
    assert 3 <= straggler.sum() <= n - 3
    record = simulate(scenario, Job("pull", n, 1, entropy=4))
    np.testing.assert_allclose(record.done, np.where(straggler, 14.5 + 4 * 22.0, 14.5 + 22.0), rtol=1e-12)


def test_pull_random_inputs_per_host_and_per_release():
    # Publish and key write are drawn once per release (the signal), wake-up and activation once per host;
    # each from its own named stream (so the draws can be taken again here). A host's transfer is 10 s at
    # its flow ceiling; verify 20 s; a straggler's verify + activation take 3x as long, its wake-up does not.
    n = 30
    scenario = make_scenario(
        fleet={"hosts": n, "tiers": {"canary": 0}},
        artifact={"size": "1000B", "files": 7},
        network={"origin_egress": "1MB/s", "per_flow": "100B/s", "host_download": "200B/s"},
        faults={"straggle": "40%", "straggle_factor": 3.0},
        strategies={"pull": {"kind": "pull", "publish": {"dist": "uniform", "low": "2s", "high": "4s"},
                             "key_write": {"dist": "lognormal", "median": "20ms", "p95": "50ms"},
                             "wakeup": {"dist": "lognormal", "median": "500ms", "p95": "1s"},
                             "verify_rate": "50B/s", "activation": {"dist": "uniform", "low": "1s", "high": "3s"}}})
    spec = scenario.strategies["pull"]
    draw = lambda dist, name, k: sample_named(dist, Streams(7, 2), name, k)
    publish, key_write = draw(spec.publish, "pull.publish", 1)[0], draw(spec.key_write, "pull.key_write", 1)[0]
    wakeup, activation = draw(spec.wakeup, "pull.wakeup", n), draw(spec.activation, "pull.activation", n)
    assert 2 <= publish <= 4 and len(set(wakeup)) == n and len(set(activation)) == n
    _, faults = build_plan(scenario, "pull", n, Streams(7, 2))
    slow = faults.slowdown
    assert {1.0, 3.0} == set(slow), "the draw should give both kinds of host"

    record = simulate(scenario, Job("pull", n, 2, entropy=7))
    signalled = publish + key_write
    assert record.release_signalled == pytest.approx(signalled, rel=1e-12)
    np.testing.assert_allclose(record.signal, signalled + wakeup, rtol=1e-12)
    np.testing.assert_allclose(record.transfer_start, signalled + wakeup, rtol=1e-12)
    np.testing.assert_allclose(record.transfer_end, signalled + wakeup + 10.0, rtol=1e-12)
    np.testing.assert_allclose(record.done, signalled + wakeup + 10.0 + (20.0 + activation) * slow, rtol=1e-12)


# ---- the fault draws ----------------------------------------------------------------------------------

def test_fault_draws_follow_their_distributions():
    # 20,000 hosts: 10% down, each attempt of a healthy host fails with probability 50%, 25% stragglers
    # (x6), 2 retries (3 attempts). A healthy host's failures before its first success are geometric:
    # P(k) = 0.5 x 0.5^k for k = 0, 1, 2, and "3 or more" (gives up) 0.5^3 = 0.125. Tolerance: 5 binomial
    # standard deviations of each share.
    n = 20_000
    scenario = make_scenario(faults={"down": "10%", "flaky": "50%", "straggle": "25%", "straggle_factor": 6,
                                     "retries": 2})
    faults = draw_faults(scenario.faults, n, Streams(3, 1))
    tolerance = lambda p, m: 5 * np.sqrt(p * (1 - p) / m)

    assert faults.max_attempts == 3
    assert faults.down.dtype == bool and abs(faults.down.mean() - 0.10) < tolerance(0.10, n)
    assert (faults.fail_attempts[faults.down] == 3).all()  # a down host fails every attempt
    healthy = faults.fail_attempts[~faults.down]
    assert set(np.unique(healthy)) == {0, 1, 2, 3}
    for k, p in enumerate([0.5, 0.25, 0.125, 0.125]):
        assert abs((healthy == k).mean() - p) < tolerance(p, len(healthy)), k
    assert set(np.unique(faults.slowdown)) == {1.0, 6.0}
    assert abs((faults.slowdown == 6.0).mean() - 0.25) < tolerance(0.25, n)


@pytest.mark.parametrize("retries", [0, 3])
@pytest.mark.parametrize("section, down, gave_up, slow", [
    ({}, 0, 0, 1.0),  # nothing fails: every host succeeds at its first attempt
    ({"down": "100%"}, 1, 1, 1.0),
    ({"flaky": "100%"}, 0, 1, 1.0),
    ({"straggle": "100%", "straggle_factor": 5}, 0, 0, 5.0),
    ({"down": "100%", "straggle": "100%", "straggle_factor": 5}, 1, 1, 5.0),
])
def test_fault_draws_at_certain_shares(retries, section, down, gave_up, slow):
    faults = draw_faults(make_scenario(faults={**section, "retries": retries}).faults, 7, Streams(1, 0))
    assert faults.max_attempts == 1 + retries
    assert faults.down.tolist() == [bool(down)] * 7
    assert faults.fail_attempts.tolist() == [gave_up * (1 + retries)] * 7 and faults.fail_attempts.dtype == np.int64
    assert faults.slowdown.tolist() == [slow] * 7


def test_which_hosts_are_down_does_not_depend_on_the_other_fault_settings():
    # one stream per kind of fault: turning flaky attempts or stragglers on (common random numbers across
    # scenarios) leaves the same hosts down, and the same hosts straggling
    n = 200
    base = draw_faults(make_scenario(faults={"down": "30%"}).faults, n, Streams(5, 0))
    more = draw_faults(make_scenario(faults={"down": "30%", "flaky": "20%", "straggle": "50%"}).faults, n,
                       Streams(5, 0))
    np.testing.assert_array_equal(base.down, more.down)
    straggle = draw_faults(make_scenario(faults={"straggle": "50%"}).faults, n, Streams(5, 0))
    np.testing.assert_array_equal(straggle.slowdown, more.slowdown)
    assert 0 < base.down.sum() < n and 0 < (straggle.slowdown > 1).sum() < n


def test_fault_draws_come_from_their_own_named_streams():
    # Reproducibility: a replication's down hosts, failure counts and stragglers are read from its streams
    # "faults.down", "faults.flaky" and "faults.straggle" (uniform draws below the share; failures before
    # the first success of a geometric draw), so the same seed gives the same broken hosts in every
    # version that keeps these names, and a new source of randomness shifts none of them.
    n, streams = 500, Streams(12, 3)
    faults = draw_faults(make_scenario(faults={"down": "20%", "flaky": "40%", "straggle": "30%",
                                               "straggle_factor": 2, "retries": 5}).faults, n, streams)
    down = streams("faults.down").random(n) < 0.2
    failures = np.minimum(streams("faults.flaky").geometric(0.6, size=n) - 1, 6)
    np.testing.assert_array_equal(faults.down, down)
    np.testing.assert_array_equal(faults.fail_attempts, np.where(down, 6, failures))
    np.testing.assert_array_equal(faults.slowdown, np.where(streams("faults.straggle").random(n) < 0.3, 2.0, 1.0))


def test_reasons_name_why_each_host_is_not_running_the_new_build():
    # None wherever the host went live (whatever its draw said); for the others: down, or out of attempts
    faults = HostFaults(down=np.array([True, False, False, True]), fail_attempts=np.array([3, 3, 0, 3]),
                        slowdown=np.ones(4), max_attempts=3)
    reasons = faults.reasons(np.array([np.nan, np.nan, 2.0, 5.0]))
    assert reasons.tolist() == [DOWN.format(3), FLAKY.format(3), None, None]
    assert faults.reasons(np.array([1.0, 2.0, 3.0, 4.0])).tolist() == [None] * 4


def test_push_and_pull_face_the_same_broken_hosts():
    # common random numbers: the fault draws depend on the replication, not on the strategy
    n = 50
    faults_kw = {"down": "20%", "flaky": "30%"}
    _, push = build_plan(push_scenario(n, 1, "40%", factor=3.0, **faults_kw), "push", n, Streams(8, 2))
    _, pull = build_plan(pull_scenario(n, "40%", factor=3.0, **faults_kw), "pull", n, Streams(8, 2))
    for name in ("down", "fail_attempts", "slowdown"):
        np.testing.assert_array_equal(getattr(push, name), getattr(pull, name))
    assert push.down.any() and (push.slowdown > 1).any() and (push.fail_attempts[~push.down] > 0).any()


# ---- failures and down hosts ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["push", "pull"])
@pytest.mark.parametrize("faults, reason", [({"down": "100%"}, DOWN), ({"flaky": "100%"}, FLAKY),
                                            ({"down": "100%", "flaky": "100%"}, DOWN)])
def test_every_host_failing_gives_up_after_one_plus_retries_attempts(kind, faults, reason):
    scenario = (push_scenario(3, 1, 0, retries=2, **faults) if kind == "push"
                else pull_scenario(3, 0, retries=2, **faults))
    record = simulate(scenario, Job(kind, 3, 0, entropy=1))
    assert np.isnan(record.done).all() and np.isnan(record.signal).all() and np.isnan(record.transfer_end).all()
    assert record.attempts.tolist() == [3, 3, 3]
    assert record.reason.tolist() == [reason.format(3)] * 3
    summary = record.summary()
    assert (summary.updated, summary.not_updated) == (0, 3)
    assert np.isnan(summary.p50) and np.isnan(summary.makespan)


def test_no_retries_means_one_attempt():
    record = simulate(push_scenario(2, 1, 0, down="100%", retries=0), Job("push", 2, 0, entropy=1))
    assert record.attempts.tolist() == [1, 1] and record.reason.tolist() == [DOWN.format(1)] * 2


def test_down_hosts_do_not_delay_the_others_when_nothing_is_shared():
    # Parallel push with a slot per host and an egress no flow waits for: a down host's failed attempts
    # hold only its own slot, so every healthy host finishes at 1.5 + 2 + 2 = 5.5 s.
    n = 20
    scenario = push_scenario(n, parallel=n, straggle=0, down="40%", retries=1)
    _, faults = build_plan(scenario, "push", n, Streams(2, 0))
    assert 2 <= faults.down.sum() <= n - 2
    record = simulate(scenario, Job("push", n, 0, entropy=2))
    np.testing.assert_array_equal(np.isnan(record.done), faults.down)
    np.testing.assert_allclose(record.done[~faults.down], 5.5, rtol=1e-12)
    assert record.attempts.tolist() == np.where(faults.down, 2, 1).tolist()
    assert record.reason[faults.down].tolist() == [DOWN.format(2)] * int(faults.down.sum())
    assert all(r is None for r in record.reason[~faults.down])
    # the summary counts the down hosts in the fleet: 50% of 20 hosts = 10 hosts; 95% = 19 > healthy -> NaN
    summary = record.summary()
    assert summary.not_updated == faults.down.sum()
    assert n - faults.down.sum() >= 10 and summary.p50 == 5.5 and np.isnan(summary.p95)


def test_flaky_pull_hosts_retry_after_the_timeout_and_backoff():
    # A host whose first k attempts fail starts its good attempt at
    # 4 s + sum_{i<k} (timeout 3 s + backoff_i), backoff 1 s, 4 s, 16 s (factor 4); with 3 retries a host
    # with 4 or more failures gives up after 4 attempts. Each good attempt then wakes (0.5 s), transfers
    # alone at its flow ceiling (10 s) and verifies and activates (22 s).
    n = 40
    scenario = pull_scenario(n, 0, flaky="45%", attempt_timeout="3s", retries=3, backoff="1s", backoff_factor=4)
    _, faults = build_plan(scenario, "pull", n, Streams(6, 0))
    k = faults.fail_attempts
    assert {0, 1, 2}.issubset(set(k.tolist())), "the draw should give hosts failing 0, 1 and 2 times"
    record = simulate(scenario, Job("pull", n, 0, entropy=6))
    waits = np.concatenate([[0.0], np.cumsum(3.0 + np.array([1.0, 4.0, 16.0]))])  # before attempt k+1
    gave_up = k >= 4
    start = 4.0 + waits[np.minimum(k, 3)]
    np.testing.assert_allclose(record.signal, np.where(gave_up, np.nan, start + 0.5), rtol=1e-12)
    np.testing.assert_allclose(record.done, np.where(gave_up, np.nan, start + 0.5 + 10 + 22), rtol=1e-12)
    assert record.attempts.tolist() == np.minimum(k + 1, 4).tolist()
    assert record.reason[gave_up].tolist() == [FLAKY.format(4)] * int(gave_up.sum())


def test_serial_push_failed_attempts_hold_the_slot_and_queue_retries_behind_waiting_hosts():
    # One slot; hosts 0 and 1 fail every attempt (timeout 3 s, 1 retry after 1 s), host 2 is healthy.
    # Host 0 fails 0-3 s; host 1 (next in deploy order) gets the slot 3-6 s; host 0's retry (ready at 4 s)
    # fails 6-9 s; host 1's retry (ready at 7 s) fails 9-12 s... but host 2 was waiting since 0 s and new
    # hosts go before retries: it takes the slot at 6 s and is done at 6 + 5.5 = 11.5 s; then host 0's
    # retry fails 11.5-14.5 s and host 1's 14.5-17.5 s.
    scenario = push_scenario(3, parallel=1, straggle=0, attempt_timeout="3s", retries=1, backoff="1s")
    plan, _ = build_plan(scenario, "push", 3, Streams(1, 0))
    plan = replace(plan, fail_attempts=np.array([2, 2, 0]))
    for times in (reference_wave(plan), fast_wave(plan, 0.0)):
        np.testing.assert_array_equal(times.done, [np.nan, np.nan, 11.5])
        np.testing.assert_array_equal(times.signal, [np.nan, np.nan, 6.0])
        assert times.attempts.tolist() == [2, 2, 1]


# ---- fleet layout --------------------------------------------------------------------------------------

def test_tiers_are_contiguous_blocks_in_deploy_order_and_zones_round_robin():
    # 10 hosts: 1 staging, 2 dogfood, production 7 with a 10% canary = ceil(0.7) = 1 host, then 6.
    scenario = make_scenario(fleet={"hosts": 10, "zones": 3, "tiers": {"staging": 1, "dogfood": 2, "canary": "10%"}},
                             strategies={"p": {"kind": "pull", "key_write": 0, "wakeup": 0, "activation": 0}})
    record = simulate(scenario, Job("p", 10, 0, entropy=1))
    assert record.tier.tolist() == ["staging", "dogfood", "dogfood", "canary"] + ["production"] * 6
    assert record.zone.tolist() == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]
    assert record.host.tolist() == list(range(10))
