"""Speed of `check`'s prediction for an imported controller object (issue 12: under 2 s per object).

The prediction simulates 60 good and 60 bad releases of the imported policy (`sim.commands.predict`).
Reported: seconds per object for the test Argo Rollout and the test Flagger Canary
(tests/controllers/data), and as a ratio against loading and validating the same scenario (the part
of `check` that every scenario pays), in the same run.
"""

from __future__ import annotations

import time
from pathlib import Path

from sim.commands.predict import predict
from sim.load.loader import load_scenario

DATA = Path(__file__).resolve().parent.parent / "tests" / "controllers" / "data"
OBJECTS = {"argo": DATA / "scenario.yaml", "flagger": DATA / "flagger_scenario.yaml"}


def test_prediction_seconds_per_object(benchmark):
    def loads(path: Path) -> float:
        start = time.perf_counter()
        load_scenario(path)
        return time.perf_counter() - start

    def predictions() -> dict[str, float]:
        seconds = {}
        for name, path in OBJECTS.items():
            scenario = load_scenario(path).scenario
            start = time.perf_counter()
            predict(scenario, scenario.seed or 0)
            seconds[name] = time.perf_counter() - start
        return seconds

    predictions()  # warm: imports, numba caches
    seconds = benchmark.pedantic(predictions, rounds=1, iterations=1)
    load = {name: min(loads(path) for _ in range(3)) for name, path in OBJECTS.items()}
    benchmark.extra_info.update(seconds=seconds, load_seconds=load)
    for name in OBJECTS:
        print(f"\n{name}: prediction {seconds[name]:.2f} s (target: under 2 s per object); "
              f"loading the scenario {load[name]:.2f} s; ratio {seconds[name] / load[name]:.1f}x")
