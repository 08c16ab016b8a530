"""FleetExposure's bookkeeping against histories small enough to work out by hand: which hosts serve which
build when (go-live, cancel, roll-back), how many are live at an instant, the weighted host-seconds of each
metric interval, and the peak share of the fleet's request weight.

The release tests (test_exposure_oracles.py) see these numbers through whole releases, where one wave moves
hosts of one tier at one time; here the histories mix weights, builds, boundaries and hosts that never go
live, so each rule of the bookkeeping has a case of its own.

Conventions checked throughout: a host serves from its start (inclusive) to its end (exclusive); weight 1
for production, 0.5 for dogfood, 0 for staging (no public traffic).
"""

import numpy as np
import pytest

from sim.rollout.exposure import FleetExposure, served_between

INF = np.inf
PROD, DOGFOOD, STAGING = 1.0, 0.5, 0.0


def ints(*values) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def floats(*values) -> np.ndarray:
    return np.array(values, dtype=float)


# ---- go-live, cancel, end: the record itself ------------------------------------------------------------

def test_go_live_keeps_hosts_that_went_live_with_their_own_weight_and_onset():
    fleet = FleetExposure(floats(PROD, PROD, DOGFOOD, STAGING))
    # host 1 never went live (NaN: it was down): it is not recorded at all
    fleet.go_live(7, ints(0, 1, 2), floats(10.0, np.nan, 30.0), floats(5.0, 6.0, 7.0))
    [seg] = fleet.segments
    assert seg.build == 7
    assert seg.hosts.tolist() == [0, 2]
    assert seg.start.tolist() == [10.0, 30.0]
    assert seg.end.tolist() == [INF, INF]  # still serving
    assert seg.onset.tolist() == [5.0, 7.0]
    assert seg.weight.tolist() == [PROD, DOGFOOD]  # the fleet's weight of each host, not its position


def test_go_live_copies_the_wave_times_it_is_given():
    # the caller's arrays (a wave's done times) must not change when a later cancel or end edits the record
    fleet = FleetExposure(floats(PROD, PROD))
    hosts, start, onset = ints(0, 1), floats(10.0, 20.0), floats(0.0, 0.0)
    fleet.go_live(1, hosts, start, onset)
    fleet.cancel_pending(15.0)
    assert start.tolist() == [10.0, 20.0] and fleet.segments[0].start.tolist() == [10.0, INF]
    hosts[0] = 1
    assert fleet.live_hosts(1, 12.0).tolist() == [0]


def test_a_wave_where_no_host_went_live_records_nobody():
    fleet = FleetExposure(floats(PROD, PROD))
    fleet.go_live(1, ints(0, 1), floats(np.nan, np.nan), floats(0.0, 0.0))
    assert fleet.live_hosts(1, 100.0).tolist() == []
    assert fleet.live_count(1, 100.0, np.ones(2, bool)) == 0
    assert fleet.host_seconds_many(floats(0.0), floats(100.0)).tolist() == [0.0]
    assert fleet.peak_share({1}, 100.0) == 0.0


def test_every_change_bumps_the_version():
    # `version` tells computations done ahead of time (metric intervals) that the record changed: it
    # grows with every change, an empty roll-back included
    fleet = FleetExposure(floats(PROD, PROD))
    seen = [fleet.version]
    fleet.go_live(1, ints(0), floats(10.0), floats(0.0))
    seen.append(fleet.version)
    fleet.go_live(1, ints(1), floats(20.0), floats(0.0))
    seen.append(fleet.version)
    fleet.cancel_pending(15.0)
    seen.append(fleet.version)
    fleet.end(1, ints(0), floats(30.0))
    seen.append(fleet.version)
    fleet.end(1, ints(), floats())  # nothing to end: still counted as a change
    seen.append(fleet.version)
    assert all(later > earlier for earlier, later in zip(seen, seen[1:])), seen


def test_cancel_pending_stops_hosts_not_yet_live_and_counts_them():
    # Build 1: hosts 0-3 due at 0, 5, 10 and never (inf); build 2: host 4 due at 8, host 5 at 12.
    # Cancelled at 5: host 1 (due exactly now) is live already; hosts 2 (10), 5 (12) and 4 (8) are not;
    # host 3 was never due, so it is not counted. 3 cancelled, over two segments.
    fleet = FleetExposure(np.ones(6))
    fleet.go_live(1, ints(0, 1, 2, 3), floats(0.0, 5.0, 10.0, INF), np.zeros(4))
    fleet.go_live(2, ints(4, 5), floats(8.0, 12.0), np.zeros(2))
    assert fleet.cancel_pending(5.0) == 3
    first, second = fleet.segments
    assert first.start.tolist() == [0.0, 5.0, INF, INF] and first.end.tolist() == [INF] * 4
    assert second.start.tolist() == [INF, INF] and second.end.tolist() == [INF, INF]
    assert fleet.live_hosts(1, 100.0).tolist() == [0, 1]
    assert fleet.live_hosts(2, 100.0).tolist() == []
    assert fleet.cancel_pending(5.0) == 0  # nothing left to cancel
    # the cancelled hosts serve nothing, and add nothing (not NaN) to the host-seconds
    np.testing.assert_array_equal(fleet.host_seconds_many(floats(0.0, 20.0), floats(20.0, 40.0)),
                                  [20.0 + 15.0, 40.0])


def test_end_stops_only_the_given_hosts_of_that_build_once():
    # Hosts 0-2 on build 1 from 0 s, hosts 3-4 on build 2 from 0 s. Roll back build 1 on hosts 0 and 1
    # (host 1 could not be rolled back: NaN) at 10 s; then again on hosts 0 and 2 at 20 s: host 0 keeps
    # its first end (10), host 2 ends at 20. Build 2's hosts are untouched even when named.
    fleet = FleetExposure(np.ones(5))
    fleet.go_live(2, ints(3, 4), floats(0.0, 0.0), np.zeros(2))  # another build's segment comes first
    fleet.go_live(1, ints(0, 1, 2), floats(0.0, 0.0, 0.0), np.zeros(3))
    fleet.end(1, ints(0, 1), floats(10.0, np.nan))
    fleet.end(1, ints(0, 2), floats(20.0, 20.0))
    fleet.end(1, ints(3), floats(5.0))  # host 3 does not serve build 1: nothing ends
    assert fleet.segments[1].end.tolist() == [10.0, INF, 20.0]
    assert fleet.segments[0].end.tolist() == [INF, INF]
    assert fleet.live_hosts(1, 15.0).tolist() == [1, 2]
    assert fleet.live_hosts(1, 25.0).tolist() == [1]
    assert fleet.live_hosts(2, 25.0).tolist() == [3, 4]


def test_a_host_rolled_back_and_redeployed_ends_in_each_of_its_segments():
    # Host 0 on build 1 from 0 to 10 s (rolled back), again from 20 s; ending it at 30 s ends only the
    # open segment (the closed one keeps its end at 10 s).
    fleet = FleetExposure(floats(PROD))
    fleet.go_live(1, ints(0), floats(0.0), floats(0.0))
    fleet.end(1, ints(0), floats(10.0))
    fleet.go_live(1, ints(0), floats(20.0), floats(0.0))
    fleet.end(1, ints(0), floats(30.0))
    assert [s.end.tolist() for s in fleet.segments] == [[10.0], [30.0]]
    np.testing.assert_array_equal(fleet.host_seconds_many(floats(0.0), floats(40.0)), [10.0 + 10.0])


# ---- who is live at an instant --------------------------------------------------------------------------

def boundary_fleet() -> FleetExposure:
    """Build 1 on hosts 0-3 (0 staging): host 0 from 10 to 20, host 1 from 10, host 2 from 15 to 30,
    host 3 (staging) from 10; build 2 on host 4 from 0."""
    fleet = FleetExposure(floats(STAGING, PROD, PROD, PROD, PROD))
    fleet.go_live(2, ints(4), floats(0.0), floats(0.0))
    fleet.go_live(1, ints(0, 1, 2, 3), floats(10.0, 10.0, 15.0, 10.0), np.zeros(4))
    fleet.end(1, ints(0, 2), floats(20.0, 30.0))
    return fleet


@pytest.mark.parametrize("now, live", [
    (9.999, []),  # before any start
    (10.0, [0, 1, 3]),  # live from its start (start <= now)
    (15.0, [0, 1, 2, 3]),
    (20.0, [1, 2, 3]),  # host 0 ended at 20: not live at 20 (now < end)
    (30.0, [1, 3]),
    (1e9, [1, 3]),
])
def test_live_hosts_are_those_with_start_le_now_lt_end(now, live):
    fleet = boundary_fleet()
    assert sorted(fleet.live_hosts(1, now).tolist()) == live
    assert fleet.live_hosts(2, now).tolist() == ([4] if now >= 0 else [])
    # the counts agree, over any mask of hosts
    everyone, serving = np.ones(5, bool), np.array([False, True, True, True, True])
    assert fleet.live_count(1, now, everyone) == len(live)
    assert fleet.live_count(1, now, serving) == len([h for h in live if h != 0])


def test_live_counts_read_many_instants_at_once():
    fleet = boundary_fleet()
    times = floats(0.0, 10.0, 14.0, 15.0, 20.0, 29.0, 30.0, 100.0)
    serving = np.array([False, True, True, True, True])
    assert fleet.live_counts(1, times, np.ones(5, bool)).tolist() == [0, 3, 3, 4, 3, 3, 2, 2]
    assert fleet.live_counts(1, times, serving).tolist() == [0, 2, 2, 3, 3, 3, 2, 2]
    only_2 = np.array([False, False, True, False, False])
    assert fleet.live_counts(1, times, only_2).tolist() == [0, 0, 0, 1, 1, 1, 0, 0]
    assert fleet.live_counts(2, times, np.ones(5, bool)).tolist() == [1] * 8


def test_a_build_nobody_serves_has_no_live_hosts():
    fleet = boundary_fleet()
    empty = fleet.live_hosts(9, 50.0)
    assert empty.tolist() == [] and empty.dtype == np.int64  # usable as host indices
    assert np.ones(5)[empty].tolist() == []
    counts = fleet.live_counts(9, floats(0.0, 50.0), np.ones(5, bool))
    assert counts.tolist() == [0, 0] and counts.dtype.kind == "i"  # host counts, as when someone serves
    assert fleet.live_count(9, 50.0, np.ones(5, bool)) == 0
    assert FleetExposure(np.ones(3)).live_hosts(1, 0.0).tolist() == []


# ---- host-seconds per interval ----------------------------------------------------------------------------

def history() -> FleetExposure:
    """Weights: hosts 0 and 1 production (1), host 2 dogfood (0.5), host 3 staging (0). In order:
    build 1 on staging host 3 from 0 s; build 1 on hosts 0-2 from 0 s; build 2 on hosts 0, 1 at 10, 20 s
    (effect onset 5 s and never); build 2 on hosts 2, 3 at 20, 5 s (onset 0); build 1 ends where build 2
    starts; then build 2 is rolled back on host 1 at 30 s, which serves build 1 again from 30 s."""
    fleet = FleetExposure(floats(PROD, PROD, DOGFOOD, STAGING))
    fleet.go_live(1, ints(3), floats(0.0), floats(INF))
    fleet.go_live(1, ints(0, 1, 2), floats(0.0, 0.0, 0.0), floats(INF, INF, INF))
    fleet.go_live(2, ints(0, 1), floats(10.0, 20.0), floats(5.0, INF))
    fleet.go_live(2, ints(2, 3), floats(20.0, 5.0), floats(0.0, 0.0))
    fleet.end(1, ints(0, 1, 2, 3), floats(10.0, 20.0, 20.0, 5.0))
    fleet.end(2, ints(1), floats(30.0))
    fleet.go_live(1, ints(1), floats(30.0), floats(INF))
    return fleet


A, B = floats(0.0, 10.0, 20.0, 40.0), floats(10.0, 20.0, 40.0, 60.0)


def test_host_seconds_per_interval_by_hand():
    fleet = history()
    # build 2: host 0 (w 1) from 10: 0, 10, 20, 20; host 1 (w 1) 20-30: 0, 0, 10, 0;
    # host 2 (w 0.5) from 20: 0, 0, 10, 10; host 3 staging: nothing.
    np.testing.assert_allclose(fleet.host_seconds_many(A, B, builds={2}), [0, 10, 40, 30], rtol=1e-12)
    # build 1: host 0 0-10: 10, 0, 0, 0; host 1 0-20 and from 30: 10, 10, 10, 20; host 2 (w 0.5) 0-20: 5, 5, 0, 0
    np.testing.assert_allclose(fleet.host_seconds_many(A, B, builds={1}), [25, 15, 10, 20], rtol=1e-12)
    # every build: the serving weight (2.5) times the interval's length, as every serving host serves one build
    everything = fleet.host_seconds_many(A, B)
    np.testing.assert_allclose(everything, 2.5 * (B - A), rtol=1e-12)
    np.testing.assert_allclose(fleet.host_seconds_many(A, B, builds={1, 2}), everything, rtol=1e-12)
    assert fleet.host_seconds_many(A, B, builds={3}).tolist() == [0.0] * 4  # nobody serves build 3
    assert fleet.host_seconds_many(A, B, builds=set()).tolist() == [0.0] * 4


def test_host_seconds_past_the_effect_onset():
    fleet = history()
    # build 2 past onset: host 0 from 10 + 5 = 15: 0, 5, 20, 20; host 1 never (onset inf);
    # host 2 from 20 + 0: 0, 0, 10, 10. Build 1's onset is inf: nothing.
    np.testing.assert_allclose(fleet.host_seconds_many(A, B, builds={2}, after_onset=True), [0, 5, 30, 30], rtol=1e-12)
    np.testing.assert_allclose(fleet.host_seconds_many(A, B, after_onset=True), [0, 5, 30, 30], rtol=1e-12)
    assert fleet.host_seconds_many(A, B, builds={1}, after_onset=True).tolist() == [0.0] * 4


def test_host_seconds_of_hosts_cancelled_or_ended_at_their_start():
    # Mixed weights in each wave: host 0 (production) ends the instant it starts (10 to 10: 0 s); host 1
    # (staging) and host 2 (production) are cancelled before their start (start = end = inf); host 3
    # (dogfood) serves from 10 s. Only host 3 counts: 0.5 x the overlap with [10, +inf).
    fleet = FleetExposure(floats(PROD, STAGING, PROD, DOGFOOD))
    fleet.go_live(1, ints(0, 1, 2, 3), floats(10.0, 50.0, 50.0, 10.0), floats(0.0, 0.0, 0.0, 0.0))
    fleet.end(1, ints(0), floats(10.0))
    assert fleet.cancel_pending(20.0) == 2
    got = fleet.host_seconds_many(floats(0.0, 5.0, 10.0, 60.0), floats(5.0, 15.0, 60.0, 70.0))
    np.testing.assert_array_equal(got, [0.0, 2.5, 25.0, 5.0])
    assert fleet.peak_share({1}, 100.0) == pytest.approx(0.5 / 2.5)  # host 0 never serves a request


def test_an_interval_served_by_no_public_host_is_exactly_zero():
    # Prefix sums leave a rounding residue (here 2.8e-14) where the hosts that served earlier cancel out;
    # an interval in which no host serves requests must read exactly 0, not that residue.
    # (a) one wave of mixed weights: production host 0 served 22.7-27.0 s, dogfood host 1 62.3-103.9 s;
    #     staging host 2 still serves the build in [115.9, 168.5], but it has no public traffic.
    fleet = FleetExposure(floats(PROD, 0.3, STAGING))
    fleet.go_live(1, ints(0, 1, 2), floats(22.7, 62.3, 0.0), np.zeros(3))
    fleet.end(1, ints(0, 1), floats(27.0, 103.9))
    assert fleet.host_seconds_many(floats(115.9), floats(168.5)).tolist() == [0.0]
    # (b) production hosts served 28.0-77.0 and 48.5-96.6 s; a third went live at 141.9 s and was rolled
    #     back at that same instant: it served for no time at all in [132.9, 165.4].
    fleet = FleetExposure(np.ones(3))
    fleet.go_live(1, ints(0, 1, 2), floats(28.0, 48.5, 141.9), np.zeros(3))
    fleet.end(1, ints(0, 1, 2), floats(77.0, 96.6, 141.9))
    assert fleet.host_seconds_many(floats(132.9), floats(165.4)).tolist() == [0.0]
    # (c) two canary hosts went live at 555.82 and 545.36 s and were rolled back at 600.0 and 586.36 s:
    #     the metric interval [600, 660) begins the instant the last of them stopped serving.
    fleet = FleetExposure(np.ones(2))
    fleet.go_live(1, ints(0, 1), floats(555.82, 545.36), np.zeros(2))
    fleet.end(1, ints(0, 1), floats(600.0, 586.36))
    assert fleet.host_seconds_many(floats(540.0, 600.0), floats(600.0, 660.0))[1] == 0.0


def test_short_and_light_overlaps_count_in_full():
    # less than one host-second in an interval is still counted as it is: a dogfood host (0.1) live for
    # the last 2 s of [0, 60], a production host live for 0.25 s of it
    fleet = FleetExposure(floats(0.1, PROD))
    fleet.go_live(1, ints(0), floats(58.0), floats(0.0))
    fleet.go_live(2, ints(1), floats(30.0), floats(0.0))
    fleet.end(2, ints(1), floats(30.25))
    np.testing.assert_allclose(fleet.host_seconds_many(floats(0.0, 60.0), floats(60.0, 61.0), builds={1}),
                               [0.1 * 2, 0.1 * 1], rtol=1e-12)
    np.testing.assert_allclose(fleet.host_seconds_many(floats(0.0), floats(60.0), builds={2}), [0.25], rtol=1e-12)


def test_staging_only_waves_count_nothing_and_do_not_hide_the_others():
    # a whole wave of staging hosts (weight 0) comes first; production waves after it still count
    fleet = FleetExposure(floats(STAGING, STAGING, PROD, PROD))
    fleet.go_live(1, ints(0, 1), floats(0.0, 0.0), np.zeros(2))
    fleet.go_live(1, ints(2, 3), floats(0.0, 10.0), np.zeros(2))
    np.testing.assert_array_equal(fleet.host_seconds_many(floats(0.0, 10.0), floats(10.0, 20.0)), [10.0, 20.0])
    assert fleet.peak_share({1}, 5.0) == 0.5 and fleet.peak_share({1}, 10.0) == 1.0


def test_host_seconds_with_no_record_are_zero_per_interval():
    fleet = FleetExposure(floats(PROD, PROD))
    assert fleet.host_seconds_many(floats(0.0, 60.0, 120.0), floats(60.0, 120.0, 180.0)).tolist() == [0.0] * 3
    assert fleet.host_seconds_many(np.array([0, 60]), np.array([60, 120])).tolist() == [0.0, 0.0]


def test_host_seconds_read_intervals_given_as_integers():
    # interval bounds may arrive as integer arrays (whole seconds): the same as floats
    fleet = history()
    np.testing.assert_allclose(fleet.host_seconds_many(A.astype(int), B.astype(int), builds={2}), [0, 10, 40, 30])


# ---- served_between directly ---------------------------------------------------------------------------

@pytest.mark.parametrize("weight", [2.0, floats(2.0, 2.0, 2.0)], ids=["one-weight", "per-host"])
def test_served_between_by_hand(weight):
    # Three hosts of weight 2: [0, 10), [5, inf), [20, 30). Intervals and overlaps:
    #   [0, 5]: 5 + 0 + 0 = 5      [5, 10]: 5 + 5 = 10        [10, 20]: 0 + 10 + 0 = 10
    #   [20, 30]: 10 + 10 = 20     [30, 40]: 10               [-10, 0]: nobody yet
    start, end = floats(0.0, 5.0, 20.0), floats(10.0, INF, 30.0)
    a, b = floats(0, 5, 10, 20, 30, -10), floats(5, 10, 20, 30, 40, 0)
    got = served_between([(start, end, weight)], a, b)
    np.testing.assert_allclose(got, 2.0 * floats(5, 10, 10, 20, 10, 0), rtol=1e-12)
    assert got[-1] == 0.0


def test_served_between_with_a_weight_per_host_ends_the_right_hosts():
    # weights 1, 3, 2: host 0 [0, inf), host 1 [0, 10), host 2 [5, 15). Over [0, 20]:
    # 1 x 20 + 3 x 10 + 2 x 10 = 70; over [12, 20]: 1 x 8 + 2 x 3 = 14
    parts = [(floats(0.0, 0.0, 5.0), floats(INF, 10.0, 15.0), floats(1.0, 3.0, 2.0))]
    np.testing.assert_allclose(served_between(parts, floats(0.0, 12.0), floats(20.0, 20.0)), [70.0, 14.0],
                               rtol=1e-12)


def test_served_between_sums_its_parts():
    part1 = (floats(0.0, 5.0), floats(10.0, INF), 1.0)
    part2 = (floats(2.0), floats(4.0), floats(3.0))
    a, b = floats(0.0, 3.0, 10.0), floats(3.0, 6.0, 12.0)
    # part 1: [0,3]: 3; [3,6]: 3 + 1 = 4; [10,12]: 2.  part 2 (w 3): [0,3]: 1 x 3; [3,6]: 1 x 3; [10,12]: 0
    np.testing.assert_allclose(served_between([part1, part2], a, b), [6.0, 7.0, 2.0], rtol=1e-12)
    assert served_between([], a, b).tolist() == [0.0, 0.0, 0.0]


def test_an_interval_no_host_overlaps_is_exactly_zero():
    # hosts end exactly where an interval starts, or start exactly where it ends: no overlap, and the
    # prefix sums, large and inexact in binary (0.1 steps), must not leave a rounding residue behind
    start = np.arange(0.0, 100.0, 0.1) + 1000.3
    end = start + 0.7
    weight = np.full(len(start), 0.1)
    last_end, first_start = float(end.max()), float(start.min())
    a, b = floats(last_end, first_start - 5.0, last_end + 1.0), floats(last_end + 3.3, first_start, last_end + 2.0)
    for parts in ([(start, end, 0.1)], [(start, end, weight)]):
        assert served_between(parts, a, b).tolist() == [0.0, 0.0, 0.0]


# ---- peak share --------------------------------------------------------------------------------------------

def test_peak_share_of_a_single_host_fleet_and_of_a_fleet_with_no_public_traffic():
    one = FleetExposure(floats(PROD))
    one.go_live(1, ints(0), floats(10.0), floats(0.0))
    assert one.peak_share({1}, 9.0) == 0.0 and one.peak_share({1}, 10.0) == 1.0
    half = FleetExposure(floats(DOGFOOD))  # total weight 0.5: the share is of that
    half.go_live(1, ints(0), floats(10.0), floats(0.0))
    assert half.peak_share({1}, 10.0) == 1.0
    staging = FleetExposure(floats(STAGING, STAGING))
    staging.go_live(1, ints(0, 1), floats(0.0, 0.0), np.zeros(2))
    assert staging.peak_share({1}, 100.0) == 0.0


def test_peak_share_sums_the_chosen_builds_and_ignores_what_starts_after_until():
    # 8 hosts of weight 1. Build 1 on hosts 0, 1 from 0 to 20; build 2 on hosts 2, 3 from 10 (host 3 rolled
    # back at 15); build 3 on hosts 4-7 from 40.
    fleet = FleetExposure(np.ones(8))
    fleet.go_live(1, ints(0, 1), floats(0.0, 0.0), np.zeros(2))
    fleet.go_live(2, ints(2, 3), floats(10.0, 10.0), np.zeros(2))
    fleet.go_live(3, ints(4, 5, 6, 7), floats(40.0, 40.0, 40.0, 40.0), np.zeros(4))
    fleet.end(1, ints(0, 1), floats(20.0, 20.0))
    fleet.end(2, ints(3), floats(15.0))
    assert fleet.peak_share({1, 2}, 12.0) == 4 / 8  # all four at 10..15
    assert fleet.peak_share({1, 2}, 100.0) == 4 / 8
    assert fleet.peak_share({1, 3}, 30.0) == 2 / 8  # build 3's four hosts start after `until`
    assert fleet.peak_share({1, 3}, 50.0) == 4 / 8  # build 1 had ended when build 3 started
    assert fleet.peak_share({2, 3}, 50.0) == 5 / 8  # host 2 with hosts 4-7 (host 3 ended at 15)
    assert fleet.peak_share({3}, 39.0) == 0.0
