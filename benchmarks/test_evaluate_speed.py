"""Speed of policy evaluation: releases per second of the Slack pipeline under one threshold policy.

Issue 4's target is 10,000 releases in under 30 s on this 2-core machine with the local executor,
reported with the ratio against one full SimPy model per release without batching. The engine does
not batch releases yet, so this measures the unbatched rate only (the ratio's denominator) and
projects the 10,000-release time; `DEPLOYSIM_BENCH_RELEASES` sets how many releases it times.
"""

from __future__ import annotations

import os
import time

from sim.commands.evaluate import evaluate
from sim.commands.run import prepare

POLICY = ["evaluation.policies={threshold: {errors: {semantics: threshold, metric: error_rate, max: 1%, "
          "consecutive: 2, min_requests: 1000}, canary-errors: {semantics: threshold, metric: error_rate, "
          "max_ratio: 3, consecutive: 2, min_requests: 500}}}",
          "evaluation.sweep=null", "fleet.hosts=5000"]  # the pipeline scenario's own fleet


def test_releases_per_second(benchmark):
    releases = int(os.environ.get("DEPLOYSIM_BENCH_RELEASES", "400"))
    loaded, entropy = prepare("scenarios/threshold_policies.yaml", POLICY, None, 1)

    def once():
        start = time.perf_counter()
        run = evaluate(loaded, entropy, workers=2, err=None, releases=releases)
        return len(run.rows) / (time.perf_counter() - start)

    rate = benchmark.pedantic(once, rounds=1, iterations=1)
    benchmark.extra_info.update(releases=releases, releases_per_second=rate, projected_10000_s=10_000 / rate)
    print(f"\n{releases} releases, 2 workers: {rate:.1f} releases/s; 10,000 releases would take {10_000 / rate:.0f} s "
          f"(target: under 30 s)")
