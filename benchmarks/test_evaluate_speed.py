"""Speed of policy evaluation: releases per second of the Slack pipeline under one threshold policy.

Issue 4's target: 10,000 releases of the shipped Slack pipeline scenario with a threshold policy in
under 30 s on this 2-core machine with the local executor, reported as releases per second and as a
ratio against one full SimPy model per release without batching (the per-check model:
`simulate_per_check`), in the same run.

`DEPLOYSIM_BENCH_RELEASES` sets how many releases the batched engine runs (default 10,000, the
target's own count); the per-check model runs a tenth as many (it is the slow side of the ratio),
on 2 workers too.
"""

from __future__ import annotations

import os
import time

from sim.commands.evaluate import evaluate
from sim.commands.run import prepare
from sim.deploy.experiment import map_ordered
from sim.evaluation.engine import draw_mix, variant
from sim.rollout.release import simulate_per_check

POLICY = ["evaluation.policies={threshold: {errors: {semantics: threshold, metric: error_rate, max: 1%, "
          "consecutive: 2, min_requests: 1000}, canary-errors: {semantics: threshold, metric: error_rate, "
          "max_ratio: 3, consecutive: 2, min_requests: 500}}}",
          "evaluation.sweep=null", "fleet.hosts=5000"]  # the pipeline scenario's own fleet
WORKERS = 2


def per_check_release(scenario, replication_and_entropy):
    replication, entropy = replication_and_entropy
    release = variant(scenario, "threshold", draw_mix(scenario, entropy, replication))
    return simulate_per_check(release, replication, entropy)


def test_releases_per_second(benchmark):
    releases = int(os.environ.get("DEPLOYSIM_BENCH_RELEASES", "10000"))
    loaded, entropy = prepare("scenarios/threshold_policies.yaml", POLICY, None, 1)

    def batched():
        start = time.perf_counter()
        run = evaluate(loaded, entropy, workers=WORKERS, err=None, releases=releases)
        return len(run.rows) / (time.perf_counter() - start)

    rate = benchmark.pedantic(batched, rounds=1, iterations=1)

    baseline = max(releases // 10, 20)
    items = [(r, entropy) for r in range(baseline)]
    start = time.perf_counter()
    done = sum(1 for _ in map_ordered(per_check_release, loaded.scenario, items, WORKERS))
    per_check_rate = done / (time.perf_counter() - start)

    benchmark.extra_info.update(releases=releases, releases_per_second=rate, seconds=releases / rate,
                                per_check_releases=baseline, per_check_releases_per_second=per_check_rate,
                                speedup=rate / per_check_rate)
    print(f"\nbatched engine: {releases} releases on {WORKERS} workers in {releases / rate:.1f} s, "
          f"{rate:.0f} releases/s (target: 10,000 in under 30 s)"
          f"\nper-check model (one full SimPy model per release, no batching): {baseline} releases, "
          f"{per_check_rate:.0f} releases/s\nratio: batched / per-check = {rate / per_check_rate:.1f}x")
