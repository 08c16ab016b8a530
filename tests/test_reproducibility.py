"""Seeds: one root per run, named streams, identical tables whatever the number of workers."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.commands.run import run
from sim.distributions import LogNormal, sample
from sim.streams import Streams, name_key

SCENARIO = "scenarios/push_vs_pull.yaml"
SMALL = ["fleet.sizes=[10, 200, 3000]", "replications=4"]


def test_same_seed_same_tables_and_serial_equals_parallel(root):
    one = run(str(root / SCENARIO), overrides=SMALL, seed=7, workers=1, progress=False)
    two = run(str(root / SCENARIO), overrides=SMALL, seed=7, workers=2, progress=False)
    pd.testing.assert_frame_equal(one.replications, two.replications)
    pd.testing.assert_frame_equal(one.hosts, two.hosts)
    pd.testing.assert_frame_equal(one.summary, two.summary)


def test_another_seed_gives_other_numbers(root):
    a = run(str(root / SCENARIO), overrides=SMALL, seed=7, workers=1, progress=False)
    b = run(str(root / SCENARIO), overrides=SMALL, seed=8, workers=1, progress=False)
    assert not a.replications.makespan.equals(b.replications.makespan)


def test_replications_are_independent_streams():
    a, b = Streams(5, 0)("push.connect").random(1000), Streams(5, 1)("push.connect").random(1000)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.1


def test_a_stream_is_found_by_name_not_by_creation_order():
    first = Streams(5, 0)
    x = first("pull.wakeup").random(3)
    second = Streams(5, 0)
    second("some.new.source").random(10)
    assert np.array_equal(second("pull.wakeup").random(3), x)


def test_a_larger_fleet_extends_the_draws_of_a_smaller_one():
    # Common random numbers across fleet sizes: host i draws the same value at every size.
    spec = LogNormal(dist="lognormal", median=0.05, p95=0.2)
    small = sample(spec, Streams(5, 0)("pull.wakeup"), 100)
    large = sample(spec, Streams(5, 0)("pull.wakeup"), 10_000)
    assert np.array_equal(large[:100], small)


def test_lognormal_draws_hit_their_median_and_p95():
    spec = LogNormal(dist="lognormal", median=0.05, p95=0.2)
    draws = sample(spec, Streams(1, 0)("x"), 200_000)
    assert np.quantile(draws, 0.5) == __import__("pytest").approx(0.05, rel=0.01)
    assert np.quantile(draws, 0.95) == __import__("pytest").approx(0.2, rel=0.02)


@settings(max_examples=200, deadline=None)
@given(entropy=st.integers(0, 2**200), replication=st.integers(0, 2**40), name=st.text(max_size=30))
def test_a_stream_is_numpys_seed_sequence_generator(entropy, replication, name):
    """Streams mixes the run's entropy once and the spawn key per stream; the draws are numpy's own."""
    numpy_way = np.random.SeedSequence(entropy, spawn_key=(replication, name_key(name)))
    expected = np.random.Generator(np.random.PCG64(numpy_way)).random(4)
    assert np.array_equal(Streams(entropy, replication)(name).random(4), expected)
