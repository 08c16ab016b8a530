"""Speed of one replication: the shipped engine vs the straightforward SimPy model vs numpy.

Run with `scripts/bench` (outside the default test run). Every engine does the whole replication
from the same scenario: draw the plan from the named streams, compute per-host times. Targets (issue
2): shipped >= 10x faster than the SimPy model at 10,000 and 100,000 hosts; within 3x of numpy; a
100,000-host replication of push and of pull under 1 s; 1,000,000 hosts completes.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmarks.yardstick import numpy_wave
from sim.deploy.engine import Job, build_plan, simulate
from sim.deploy.reference import reference_wave
from sim.spec.scenario import Scenario
from sim.streams import Streams

SCENARIO = Scenario.model_validate({
    "version": 1, "name": "bench", "seed": 1,
    "faults": {"flaky": "0.5%", "down": "0.05%", "straggle": "1%"},
    "network": {"origin_egress": "400Gbps"},
    "strategies": {"push": {"kind": "push", "parallel": 32}, "pull": {"kind": "pull", "publish": "20s"}},
})


def shipped(strategy, hosts):
    return simulate(SCENARIO, Job(strategy, hosts, 0, 1))


def reference(strategy, hosts):
    plan, _ = build_plan(SCENARIO, strategy, hosts, Streams(1, 0))
    return reference_wave(plan)


def numpy(strategy, hosts):
    plan, _ = build_plan(SCENARIO, strategy, hosts, Streams(1, 0))
    return numpy_wave(plan, plan.signal_delay)


ENGINES = {"shipped": shipped, "reference": reference, "numpy": numpy}


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize("hosts", [10_000, 100_000])
@pytest.mark.parametrize("strategy", ["push", "pull"])
def test_replication(benchmark, strategy, hosts, engine):
    benchmark.group = f"{strategy} {hosts:>7,} hosts"
    shipped(strategy, 10)  # compile outside the timing
    if engine == "reference" and hosts >= 100_000:
        benchmark.pedantic(ENGINES[engine], args=(strategy, hosts), rounds=2, iterations=1)
    else:
        benchmark.pedantic(ENGINES[engine], args=(strategy, hosts), rounds=5, iterations=1, warmup_rounds=1)


MILLION = """
import json, resource, time
from benchmarks.test_engine_speed import shipped
shipped("{strategy}", 10)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
record = shipped("{strategy}", 1_000_000)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "peak_rss_mb": peak / 1024, "growth_mb": (peak - before) / 1024,
                  "updated": int(record.updated.sum())}}))
"""


@pytest.mark.parametrize("strategy", ["push", "pull"])
def test_a_million_hosts_completes(benchmark, strategy):
    benchmark.group = "1,000,000 hosts (fresh process)"

    def once():
        out = subprocess.run([sys.executable, "-c", MILLION.format(strategy=strategy)], capture_output=True,
                             text=True, check=True)
        return json.loads(out.stdout)

    result = benchmark.pedantic(once, rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    print(f"\n1,000,000-host {strategy}: {result['seconds']:.2f} s, peak RSS {result['peak_rss_mb']:.0f} MB "
          f"(+{result['growth_mb']:.0f} MB during the replication), {result['updated']:,} hosts updated")
