"""Synthetic but realistic traffic, and writers for both input formats (the shipped example files).

`python -m sim.backtest.example scenarios/data` regenerates `history_example.csv` (3 days at one
minute) and `prometheus_example.json` (6 hours at one minute) byte for byte from fixed seeds.
The traffic: a diurnal curve (trough near 04:00 UTC, peak near 16:00), slow AR(1) load drift,
negative binomial noise on requests (over-dispersed), a small baseline error rate with its own
drift, one unrelated incident (an error spike for 12 minutes) and a latency that rises with load.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from sim.backtest.history import DAY, History
from sim.backtest.timeline import iso

START = 1709510400.0  # 2024-03-04T00:00:00Z, a Monday


def synthetic_history(rng: np.random.Generator, intervals: int, interval: float = 60.0,
                      mean_requests: float = 3000.0, start: float = START, source: str = "synthetic") -> History:
    """A history with diurnal load, drift, over-dispersed counts and one incident."""
    hours = ((start + interval * np.arange(intervals)) % DAY) / 3600.0
    diurnal = 1.0 + 0.6 * np.sin(2 * np.pi * (hours - 10.0) / 24.0)
    drift = np.exp(0.08 * _ar1(rng, intervals, 0.995))
    mean = mean_requests * diurnal * drift
    requests = rng.negative_binomial(50, 50 / (50 + mean))
    rate = 0.002 * np.exp(0.3 * _ar1(rng, intervals, 0.98))
    onset = int(rng.integers(intervals // 3, 2 * intervals // 3))
    rate[onset : onset + 12] += 0.03
    errors = rng.binomial(requests, np.minimum(rate, 1.0))
    latency = 0.08 + 0.04 * diurnal + rng.gamma(20, 0.0005, size=intervals)
    latency[onset : onset + 12] += 0.05
    return History(source, start, interval, requests, errors, np.round(latency, 4))


def _ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """A stationary AR(1) series with unit variance."""
    noise = rng.normal(scale=np.sqrt(1 - phi**2), size=n)
    out = np.empty(n)
    out[0] = rng.normal()
    for i in range(1, n):
        out[i] = phi * out[i - 1] + noise[i]
    return out


def csv_text(history: History) -> str:
    """The history as CSV (ISO-8601 UTC interval starts, latency in seconds when present)."""
    header = "timestamp,requests,errors" + (",latency" if history.latency is not None else "")
    lines = [header]
    for i, stamp in enumerate(history.timestamps()):
        row = f"{iso(stamp)},{history.requests[i]},{history.errors[i]}"
        if history.latency is not None:
            row += f",{history.latency[i]:.4f}"
        lines.append(row)
    return "\n".join(lines) + "\n"


def prometheus_text(history: History, labels: dict[str, str] | None = None) -> str:
    """The history as a query_range response: one series per role, labelled `series=<role>`,
    timestamps at the END of each interval (as Prometheus range vectors report them)."""
    ends = history.timestamps() + history.interval
    columns = {"requests": history.requests, "errors": history.errors, "latency": history.latency}
    result = [{"metric": {**(labels or {}), "series": role},
               "values": [[_stamp(t), _value(v)] for t, v in zip(ends, values)]}
              for role, values in columns.items() if values is not None]
    doc = {"status": "success", "data": {"resultType": "matrix", "result": result}}
    return json.dumps(doc, separators=(",", ":")) + "\n"


def _stamp(t: float) -> int | float:
    return int(t) if float(t).is_integer() else float(t)


def _value(v: float) -> str:
    return "NaN" if np.isnan(v) else f"{v:g}" if isinstance(v, float) else str(int(v))


def write_examples(folder: Path) -> None:
    """Write the two shipped example files into `folder`."""
    days = synthetic_history(np.random.default_rng(20240304), 3 * 1440, source="history_example.csv")
    (folder / "history_example.csv").write_text(csv_text(days))
    hours = synthetic_history(np.random.default_rng(20240305), 6 * 60, start=START + 12 * 3600)
    labels = {"job": "api", "env": "production"}
    (folder / "prometheus_example.json").write_text(prometheus_text(hours, labels))


if __name__ == "__main__":
    write_examples(Path(sys.argv[1] if len(sys.argv) > 1 else "scenarios/data"))
