"""Speed of a threshold sweep against one evaluation of a single policy, on the same releases.

Issue 9's target: a 20-point threshold sweep of the shipped policy scenario costs at most 3x one
evaluation of a single policy (the sweep's base setting) on the same releases, measured side by side in
this run. The grid changes only how the gates judge (5 ratios x 4 streak lengths), so its points share
each release's first round.

`DEPLOYSIM_BENCH_SWEEP_RELEASES` sets the releases per point (default 400, the scenario's own count).
"""

from __future__ import annotations

import os
import time

from sim.commands.common import prepare
from sim.commands.evaluate import evaluate
from sim.commands.sweep import sweep

SCENARIO = "scenarios/threshold_policies.yaml"
GRID = ["evaluation.sweep={base: ratio-to-baseline, grid: {gates.errors.max_ratio: [1.5, 2, 2.5, 3, 4], "
        "gates.errors.consecutive: [1, 2, 3, 4]}}"]
SINGLE = ["evaluation.policies={ratio-to-baseline: {errors: {semantics: threshold, metric: error_rate, "
          "max_ratio: 2, consecutive: 2, min_requests: 1000}, canary-errors: {semantics: threshold, "
          "metric: error_rate, max_ratio: 2, consecutive: 2, min_requests: 500}}}", "evaluation.sweep=null"]
WORKERS = 2


def test_sweep_costs_at_most_three_single_evaluations(benchmark):
    releases = int(os.environ.get("DEPLOYSIM_BENCH_SWEEP_RELEASES", "400"))
    grid, entropy = prepare(SCENARIO, GRID, None, 1)
    single, _ = prepare(SCENARIO, SINGLE, None, 1)

    start = time.perf_counter()
    evaluate(single, entropy, workers=WORKERS, err=None, releases=releases)
    one = time.perf_counter() - start

    def run_sweep():
        begin = time.perf_counter()
        result = sweep(grid, entropy, workers=WORKERS, releases=releases)
        return time.perf_counter() - begin, len(result.table)

    seconds, points = benchmark.pedantic(run_sweep, rounds=1, iterations=1)
    ratio = seconds / one
    benchmark.extra_info.update(releases=releases, points=points, single_seconds=one, sweep_seconds=seconds,
                                ratio=ratio)
    print(f"\nsingle policy: {releases} releases in {one:.1f} s; sweep of {points} points on the same releases: "
          f"{seconds:.1f} s; sweep / single = {ratio:.2f}x (target: at most 3x)")
