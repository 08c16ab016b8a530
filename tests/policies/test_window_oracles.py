"""The window arithmetic every policy reads (sim/policies/window.py), against hand-computed values.

Each expected number is written out with its arithmetic. "No requests" must give NaN (not 0, not inf)
and must give it quietly: a RuntimeWarning from 0/0 would be printed in the middle of a user's run.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from sim.policies.window import Window, error_rate, mean_latency, per_interval_rates, window_of

NAN = float("nan")


def quietly(fn, *args):
    """Call fn with every warning turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args)


@pytest.mark.parametrize("requests, latency, expected", [
    ([1, 3], [1.0, 2.0], (1 * 1.0 + 3 * 2.0) / 4),          # 1.75: weighted by requests, not 1.5
    ([1], [0.25], 0.25),                                   # a single request is a full measurement
    ([0, 2], [NAN, 0.3], 0.3),                             # an idle interval (NaN latency) is skipped
    ([2, 0], [0.1, 5.0], 0.1),                             # 0 requests: its latency does not count
    ([4, 6], [0.2, NAN], 0.2),                             # requests without a latency are not counted
    ([5, 5, 10], [0.1, 0.3, 0.2], (0.5 + 1.5 + 2.0) / 20),  # 0.2
])
def test_mean_latency_is_the_request_weighted_mean(requests, latency, expected):
    assert quietly(mean_latency, np.array(requests), np.array(latency)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("requests, latency", [
    ([], []), ([0, 0], [0.1, 0.2]), ([3, 4], [NAN, NAN]), ([0], [NAN]),
])
def test_mean_latency_without_requests_is_nan_without_a_warning(requests, latency):
    assert math.isnan(quietly(mean_latency, np.array(requests, dtype=np.int64), np.array(latency, dtype=float)))


def test_mean_latency_sums_float32_counts_in_double_precision():
    """2^24 + 1 is not a float32 number: summed in float32 the total would be 2^24 and the mean
    (2^24 x 0.5 + 1 x 1.5) / (2^24 + 1) = 0.5000000596... would come out as 0.5000000894..."""
    requests = np.array([2**24, 1], dtype=np.float32)
    expected = (2**24 * 0.5 + 1.5) / (2**24 + 1)
    assert mean_latency(requests, np.array([0.5, 1.5])) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("requests, errors, expected", [
    ([100], [2], 0.02),
    ([100, 300], [1, 7], (1 + 7) / 400),    # 0.02: pooled over the window, not the mean of 1% and 2.33%
    ([0, 50], [0, 5], 5 / 50),              # an idle interval adds nothing
    ([1], [1], 1.0),
])
def test_error_rate_pools_the_window(requests, errors, expected):
    assert quietly(error_rate, np.array(requests), np.array(errors)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("requests, errors", [([], []), ([0], [0]), ([0, 0], [0, 0])])
def test_error_rate_without_requests_is_nan(requests, errors):
    assert math.isnan(quietly(error_rate, np.array(requests, dtype=np.int64), np.array(errors, dtype=np.int64)))


def test_per_interval_rates_one_rate_per_interval_nan_where_idle():
    rates = quietly(per_interval_rates, np.array([100, 0, 1, 40, 0]), np.array([3, 0, 1, 0, 2]))
    # 3/100, idle, 1/1 (a single request still has a rate), 0/40, idle (errors without requests: NaN, not inf)
    np.testing.assert_array_equal(rates, [0.03, NAN, 1.0, 0.0, NAN])
    assert rates.dtype == np.float64


def test_per_interval_rates_of_an_empty_window():
    assert quietly(per_interval_rates, np.array([], dtype=np.int64), np.array([], dtype=np.int64)).shape == (0,)


def test_window_of_builds_integer_counts_and_nan_latency_by_default():
    w = window_of(120.0, new=([100, 50], [2, 1]), old=([900, 450], [9, 3]))
    assert w.time == 120.0 and w.intervals == 2
    for counts, expected in [(w.new_requests, [100, 50]), (w.new_errors, [2, 1]),
                             (w.old_requests, [900, 450]), (w.old_errors, [9, 3])]:
        assert counts.dtype == np.int64
        np.testing.assert_array_equal(counts, expected)
    for latency in (w.new_latency, w.old_latency):
        assert latency.dtype == np.float64 and latency.shape == (2,) and np.isnan(latency).all()
    assert error_rate(w.new_requests, w.new_errors) == pytest.approx(3 / 150)
    assert error_rate(w.old_requests, w.old_errors) == pytest.approx(12 / 1350)


def test_window_of_makes_counts_integers_whatever_they_were_given_as():
    """Counts read from a float column (100.0) or an int32 array are stored as int64 counts."""
    w = window_of(60.0, new=([100.0, 50.0], np.array([2, 1], dtype=np.int32)),
                  old=(np.array([900, 450], dtype=np.int32), [9.0, 3.0]))
    for counts in (w.new_requests, w.new_errors, w.old_requests, w.old_errors):
        assert counts.dtype == np.int64
    assert w.new_requests.tolist() == [100, 50] and w.old_errors.tolist() == [9, 3]


def test_window_of_makes_latency_float_seconds_with_nan_for_missing():
    """Whole seconds (ints) become floats; None (an idle interval, JSON null) becomes NaN."""
    w = window_of(120.0, new=([10, 0], [0, 0]), old=([20, 30], [0, 0]), latency=([1, None], [2, 3]))
    assert w.new_latency.dtype == np.float64 and w.old_latency.dtype == np.float64
    assert w.new_latency[0] == 1.0 and np.isnan(w.new_latency[1])
    assert w.old_latency.tolist() == [2.0, 3.0]
    assert mean_latency(w.new_requests, w.new_latency) == 1.0
    assert mean_latency(w.old_requests, w.old_latency) == pytest.approx((20 * 2 + 30 * 3) / 50)


def test_window_of_keeps_the_latency_given():
    w = window_of(60.0, new=([10], [0]), old=([20], [0]), latency=([0.25], [0.5]))
    assert w.new_latency.dtype == np.float64 and w.old_latency.dtype == np.float64
    assert w.new_latency.tolist() == [0.25] and w.old_latency.tolist() == [0.5]
    assert mean_latency(w.new_requests, w.new_latency) == 0.25


def test_window_of_rejects_ragged_arrays():
    with pytest.raises(ValueError) as error:
        window_of(60.0, new=([1, 2], [0, 0]), old=([1], [0]))
    assert str(error.value) == "window arrays must have one entry per interval each (got lengths [1, 2])"


def test_window_rejects_arrays_of_different_lengths_and_names_them():
    one, two = np.array([1]), np.array([1, 2])
    with pytest.raises(ValueError, match=r"one entry per interval each \(got lengths \[1, 2\]\)"):
        Window(0.0, one, one, one, one, one, two)
    w = Window(0.0, two, two, two, two, two, two)
    assert w.intervals == 2
    assert Window(0.0, 5, 0, 5, 0, 0.1, 0.1).intervals == 1   # scalars count as one interval
    with pytest.raises(ValueError, match=r"one entry per interval each \(got lengths \[1, 2\]\)"):
        Window(0.0, two, two, two, two, two, two, new_affected=one)  # the affected shares are held to it too
