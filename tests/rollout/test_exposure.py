"""Exposure integrals: the prefix-sum form equals the direct sum of overlaps, host by host."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.rollout.exposure import served_between


def direct(start, end, weight, a, b):
    overlap = np.minimum(end[:, None], b[None, :]) - np.maximum(start[:, None], a[None, :])
    return (weight[:, None] * np.maximum(overlap, 0.0)).sum(axis=0)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), hosts=st.integers(1, 60), uniform=st.booleans())
def test_host_seconds_equal_the_sum_of_overlaps(seed, hosts, uniform):
    rng = np.random.default_rng(seed)
    start = rng.choice([0.0, 60.0, 90.5], hosts) if rng.random() < 0.3 else rng.uniform(0, 600, hosts)
    end = start + rng.exponential(120, hosts)
    end[rng.random(hosts) < 0.5] = np.inf  # still serving
    weight = np.full(hosts, 1.0) if uniform else rng.choice([0.1, 1.0], hosts)
    a = np.arange(0.0, 900.0, 60.0)
    b = a + 60.0
    split = hosts // 2  # two parts: one with a weight per host, one with a single weight
    parts = [(start[:split], end[:split], weight[:split]), (start[split:], end[split:], 1.0)]
    expected = direct(start, end, np.r_[weight[:split], np.ones(hosts - split)], a, b)
    got = served_between(parts, a, b)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-9)
    assert ((got == 0) == (expected == 0)).all()  # no host in an interval: exactly nothing served
