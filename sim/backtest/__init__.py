"""Backtests on real traffic: metric history import and resampling.

This package owns reading a user's metric history (`--metrics`: a CSV file or a Prometheus
range-query JSON export) into a validated, regular `History` of per-interval request and error
counts and mean latency, and resampling it (a time-of-day aligned moving block bootstrap) into
as many release-length histories as an evaluation needs. Injecting bad-build spikes into that
traffic belongs to the evaluation engine, not here.

    from sim.backtest import load_history, resample
    history = load_history("scenarios/data/history_example.csv")
    day = resample(history, rng, intervals=1440)

Every input mistake raises `MetricsError` (a `sim.errors.UserError`) listing all problems in the
file, each located by line (CSV) or line/column or JSON path (Prometheus).
"""

from sim.backtest.bootstrap import default_block, resample, resample_indices
from sim.backtest.cohorts import scale_to_fleet
from sim.backtest.history import History
from sim.backtest.load import load_history, read_history
from sim.backtest.problems import MetricsError

__all__ = ["History", "MetricsError", "default_block", "load_history", "read_history", "resample", "resample_indices",
           "scale_to_fleet"]
