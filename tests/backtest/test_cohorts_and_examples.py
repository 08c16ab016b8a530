"""Cohort shares of a fleet-wide history, and the shipped example files."""

from __future__ import annotations

import numpy as np
import pytest

from sim.backtest import History, scale_to_fleet
from sim.backtest.example import write_examples
from tests.backtest.helpers import DATA


def fleet() -> History:
    return History("f.csv", 0.0, 60.0, np.array([1000, 0, 50_000]), np.array([10, 0, 4_000]),
                   np.array([0.1, np.nan, 0.2]))


def test_deterministic_share_rounds_counts_and_keeps_latency():
    part = scale_to_fleet(fleet(), 0.1)
    assert part.requests.tolist() == [100, 0, 5000] and part.errors.tolist() == [1, 0, 400]
    np.testing.assert_array_equal(part.latency, [0.1, np.nan, 0.2])


def test_thinning_is_binomial_per_request_and_never_breaks_counts():
    rng = np.random.default_rng(7)
    parts = [scale_to_fleet(fleet(), 0.25, rng) for _ in range(2000)]
    requests = np.array([p.requests for p in parts])
    errors = np.array([p.errors for p in parts])
    assert np.all(errors <= requests) and np.all(errors >= 0)
    # mean of a Binomial(50000, 0.25) over 2000 draws: 12500, standard error sqrt(9375/2000) ~ 2.2
    assert abs(requests[:, 2].mean() - 12_500) < 5 * 2.2
    assert abs(errors[:, 2].mean() - 1_000) < 5 * np.sqrt(750 / 2000)


def test_share_out_of_range_is_refused():
    with pytest.raises(ValueError, match="fleet_share"):
        scale_to_fleet(fleet(), 1.5)


def test_example_files_are_regenerated_byte_for_byte(tmp_path):
    write_examples(tmp_path)
    for name in ("history_example.csv", "prometheus_example.json"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name
