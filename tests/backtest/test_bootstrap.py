"""Block bootstrap: shape, contiguity, time-of-day alignment, autocorrelation kept, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.backtest import History, MetricsError, default_block, resample, resample_indices
from sim.backtest.history import DAY


def counting(n: int, interval: float = 60.0) -> History:
    """requests[i] = 1000 + i: each output value names its source row."""
    requests = 1000 + np.arange(n)
    return History("count.csv", 1709510400.0, interval, requests, requests // 100, None)


def ar1_history(rng: np.random.Generator, n: int, phi: float) -> History:
    x = np.zeros(n)
    noise = rng.normal(size=n)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + noise[i]
    requests = np.round(1000 + 50 * x).astype(int)
    return History("ar1.csv", 1709510400.0, 60.0, requests, requests // 50, None)


def lag1(x: np.ndarray) -> float:
    return float(np.corrcoef(x[:-1], x[1:])[0, 1])


@pytest.mark.parametrize("intervals, block", [(1, 30), (29, 30), (30, 30), (1000, 30), (4321, 7), (500, None)])
def test_output_has_the_requested_length_and_blocks_are_contiguous_runs(intervals, block):
    history = counting(3 * 1440)
    out = resample(history, np.random.default_rng(1), intervals, block=block)
    block = block or default_block(history)
    assert len(out) == intervals and (out.start, out.interval) == (history.start, history.interval)
    source = out.requests - 1000
    np.testing.assert_array_equal(source, resample_indices(history, np.random.default_rng(1), intervals, block))
    for first in range(0, intervals, block):
        run = source[first : first + block]
        np.testing.assert_array_equal(np.diff(run), 1)  # consecutive input rows, no wrap-around
    np.testing.assert_array_equal(out.errors, history.errors[source])


@pytest.mark.parametrize("block", [1, 10, 30, 121])
def test_aligned_blocks_come_from_the_same_time_of_day(block):
    history = counting(3 * 1440)
    out = resample(history, np.random.default_rng(2), 2 * 1440 + 77, block=block)
    source_time = history.timestamps()[out.requests - 1000] % DAY
    output_time = out.timestamps() % DAY
    gap = np.abs(source_time - output_time)
    gap = np.minimum(gap, DAY - gap)
    assert gap.max() <= (block // 2) * history.interval  # the tolerance: half a block
    assert gap.max() > 0 or block // 2 == 0  # blocks do move within the tolerance


def test_random_phase_ignores_the_time_of_day():
    history = counting(3 * 1440)
    out = resample(history, np.random.default_rng(2), 1440, block=10, start_phase="random")
    gap = np.abs(history.timestamps()[out.requests - 1000] % DAY - out.timestamps() % DAY)
    assert np.minimum(gap, DAY - gap).max() > 3600


@pytest.mark.parametrize("seed", range(5))
def test_lag1_autocorrelation_is_kept_far_better_than_by_iid_resampling(seed):
    rng = np.random.default_rng(seed)
    history = ar1_history(rng, 3 * 1440, phi=0.9)
    target = lag1(history.requests)
    assert target > 0.85
    for block in (None, 30):
        blocked = lag1(resample(history, rng, 3 * 1440, block=block).requests)
        iid = lag1(history.requests[rng.integers(0, len(history), len(history))])
        # a block of b keeps b-1 of every b neighbour pairs: about 0.9 * 29/30 = 0.87 at b = 30
        assert abs(blocked - target) < 0.08, (block, blocked, target)
        assert abs(iid) < 0.08 and abs(iid - target) > 0.75  # i.i.d. draws lose it all


def test_same_seed_same_output_and_another_seed_differs():
    history = ar1_history(np.random.default_rng(9), 2 * 1440, phi=0.5)
    first = resample(history, np.random.default_rng(42), 3000)
    again = resample(history, np.random.default_rng(42), 3000)
    other = resample(history, np.random.default_rng(43), 3000)
    np.testing.assert_array_equal(first.requests, again.requests)
    assert not np.array_equal(first.requests, other.requests)


def test_default_block_follows_the_autocorrelation_not_the_diurnal_swing():
    rng = np.random.default_rng(5)
    noise = History("n", 0.0, 60.0, rng.poisson(1000, 4320), np.zeros(4320, dtype=int), None)
    assert default_block(noise) <= 3
    assert default_block(ar1_history(rng, 4320, 0.9)) >= 20
    hours = np.arange(4320) / 60.0
    diurnal = np.round(1000 + 500 * np.sin(2 * np.pi * hours / 24) + rng.normal(0, 20, 4320)).astype(int)
    daily = History("d", 0.0, 60.0, diurnal, np.zeros(4320, dtype=int), None)
    assert default_block(daily, "aligned") <= 3  # the swing is kept by alignment, not by long blocks
    assert default_block(daily, "random") > 50


def test_mistakes_in_the_request():
    history = counting(1000)
    with pytest.raises(MetricsError, match="too short to resample with the time of day aligned"):
        resample(history, np.random.default_rng(0), 10, block=10)
    with pytest.raises(MetricsError, match=r"count.csv: block: block length out of range .*got 1001; allowed 1..1000"):
        resample(history, np.random.default_rng(0), 10, block=1001, start_phase="random")
    with pytest.raises(ValueError, match="start_phase"):
        resample(history, np.random.default_rng(0), 10, start_phase="noon")
    with pytest.raises(ValueError, match="intervals"):
        resample(history, np.random.default_rng(0), 0)


@st.composite
def histories(draw):
    n = draw(st.one_of(st.integers(2, 40), st.integers(2, 120)))  # short ones often: where refusals start
    interval = draw(st.sampled_from([60.0, 3600.0, DAY]))
    requests = np.array(draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n)), dtype=np.int64)
    shares = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    errors = np.floor(requests * shares).astype(np.int64)
    return History("h.csv", 0.0, interval, requests, errors, None)


def expected_refusal(history: History, block: int | None, phase: str) -> str | None:
    """The message `resample` must refuse with (a regex), or None if it must not refuse.

    A block longer than the history does not fit. Aligned, every time of day must be reachable: the
    block starts 0..n-block, each widened by block // 2 intervals either way, must cover a whole day of
    phases (enumerated here, not the module's inequality)."""
    n, per_day = len(history), history.per_day
    size = default_block(history, phase) if block is None else block
    if size > n:
        return rf"^h\.csv: block: block length out of range for this history \(got {size}; allowed 1\.\.{n} intervals\)"
    half = size // 2
    covered = {(start + d) % per_day for start in range(n - size + 1) for d in range(-half, half + 1)}
    if phase == "aligned" and len(covered) < per_day:
        least = per_day - 2 * half + size - 1  # the first n whose widened starts cover the day
        return (rf"^h\.csv: start_phase: too short to resample with the time of day aligned \(got {n} intervals "
                rf"of {history.interval:g}s with blocks of {size}; allowed at least {least} intervals \(about a day\), "
                rf"or start_phase='random'\)")
    return None


def hourly(n: int) -> History:
    return History("h.csv", 0.0, 3600.0, np.full(n, 1000), np.zeros(n, dtype=int), None)


@settings(max_examples=200, deadline=None)
@given(history=histories(), intervals=st.integers(1, 400), seed=st.integers(0, 2**32),
       block=st.one_of(st.none(), st.integers(1, 10)), phase=st.sampled_from(["aligned", "random"]))
# The edges: a block as long as the history and one longer; aligned hourly blocks of 5 (tolerance 2)
# need 24 - 2 x 2 + 5 - 1 = 24 hours of history, blocks of 4 (tolerance 2) need 23.
@example(history=hourly(7), intervals=9, seed=1, block=7, phase="random")
@example(history=hourly(7), intervals=9, seed=1, block=8, phase="random")
@example(history=hourly(24), intervals=50, seed=2, block=5, phase="aligned")
@example(history=hourly(23), intervals=50, seed=2, block=5, phase="aligned")
@example(history=hourly(23), intervals=50, seed=2, block=4, phase="aligned")
@example(history=hourly(22), intervals=50, seed=2, block=4, phase="aligned")
def test_resampled_counts_stay_valid(history, intervals, seed, block, phase):
    refusal = expected_refusal(history, block, phase)
    if refusal is not None:
        with pytest.raises(MetricsError, match=refusal):
            resample(history, np.random.default_rng(seed), intervals, block=block, start_phase=phase)
        return
    out = resample(history, np.random.default_rng(seed), intervals, block=block, start_phase=phase)
    assert len(out) == intervals
    assert np.all(out.errors >= 0) and np.all(out.requests >= 0) and np.all(out.errors <= out.requests)


def test_aligned_starts_are_uniform_over_every_candidate():
    history = counting(3 * 1440)
    # one block of 10 at output position 0: tolerance 5, so starts 0..5, 1435..1445 and 2875..2885
    expected = set(range(0, 6)) | set(range(1435, 1446)) | set(range(2875, 2886))
    rng = np.random.default_rng(11)
    starts = [int(resample_indices(history, rng, 10, block=10)[0]) for _ in range(5600)]
    values, counts = np.unique(starts, return_counts=True)
    assert set(values.tolist()) == expected
    assert stats.chisquare(counts).pvalue > 0.001  # 28 equally likely starts, 200 draws each expected


@pytest.mark.parametrize("phase", [0, 3, 700, 1436, 1439])
def test_aligned_draws_cover_exactly_the_starts_within_tolerance_across_midnight(phase):
    from sim.backtest.bootstrap import _aligned_starts
    period, last, tolerance = 1440, 3000, 6
    starts = np.arange(last + 1)
    distance = (starts - phase) % period
    expected = set(starts[np.minimum(distance, period - distance) <= tolerance].tolist())  # the definition
    rng = np.random.default_rng(phase)
    drawn = _aligned_starts(np.full(4000, phase), np.full(4000, last), tolerance, period, rng)
    assert set(drawn.tolist()) == expected
