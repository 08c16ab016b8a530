"""Speed of distribution at internet scale: p2p, and pull through zone links, next to push and pull.

Run with `scripts/bench` (outside the default test run). Every engine does one whole replication from
the same scenario (1.5 GB in 4 MB pieces). Targets (issue 14), read as ratios in the same run: p2p at
100,000 hosts under 60 s and at 10,000 under 5 s on this machine; a 1,000,000-host p2p replication
completes (time and peak memory printed); the multi-link pull (zone links) within 3x of the
one-bottleneck pull at 100,000 hosts. p2p behind zone links (zone-first) is measured beside them. The session summary fits how p2p's cost grows with the fleet and
with the number of pieces (the exponent of a log-log fit).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from sim.deploy.engine import Job, simulate
from sim.spec.scenario import Scenario

STRATEGIES = {
    "push": {"kind": "push", "parallel": 32},
    "pull": {"kind": "pull", "publish": "20s"},
    "p2p": {"kind": "p2p", "publish": "20s"},
    "cached-pull": {"kind": "pull", "publish": "20s", "zone_cache": "40Gbps"},
    "zone-first-p2p": {"kind": "p2p", "publish": "20s", "peers": "zone_first"},
}
ZONE_LINKS = ["100Gbps", "100Gbps", "40Gbps"]


def scenario(piece_size: str = "4MB", zone_link: list[str] | None = None) -> Scenario:
    """The benchmark's scenario; with `zone_link`, every pull crosses its zone's link too."""
    strategies = {**STRATEGIES, "p2p": {**STRATEGIES["p2p"], "piece_size": piece_size}}
    return Scenario.model_validate({
        "version": 1, "name": "bench", "seed": 1, "artifact": {"size": "1.5GB"},
        "faults": {"flaky": "0.5%", "down": "0.05%", "straggle": "1%"},
        "network": {"origin_egress": "400Gbps", **({"zone_link": zone_link} if zone_link else {})},
        "strategies": strategies})


SCENARIOS = {piece: scenario(piece) for piece in ("4MB", "16MB", "64MB")}
ZONED = scenario(zone_link=ZONE_LINKS)
ENGINES = {  # name: (scenario, strategy)
    "push": (SCENARIOS["4MB"], "push"),
    "pull": (SCENARIOS["4MB"], "pull"),  # the one-bottleneck wave
    "zoned-pull": (ZONED, "pull"),  # every flow max-min fair across the origin and its zone's link
    "cached-pull": (ZONED, "cached-pull"),
    "p2p": (SCENARIOS["4MB"], "p2p"),
    # p2p behind the zone links, a zone-aware scheduler (with random peer sets the rounds grow with the
    # cross-zone volume: 49-80 s at 10,000 hosts behind 10-40 Gbps links; docs/p2p.md)
    "zoned-p2p": (ZONED, "zone-first-p2p"),
}


def shipped(engine: str, hosts: int, piece: str | None = None):
    chosen, strategy = (SCENARIOS[piece], "p2p") if piece else ENGINES[engine]
    return simulate(chosen, Job(strategy, hosts, 0, 1))


@pytest.mark.parametrize("hosts", [1_000, 10_000, 100_000])
@pytest.mark.parametrize("engine", list(ENGINES))
def test_replication(benchmark, engine, hosts):
    benchmark.group = f"distribution {hosts:>7,} hosts"
    benchmark.extra_info.update(engine=engine, hosts=hosts)
    shipped(engine, 10)  # compile outside the timing
    benchmark.pedantic(shipped, args=(engine, hosts), rounds=3, iterations=1)


@pytest.mark.parametrize("piece", ["64MB", "16MB", "4MB"])
def test_p2p_pieces(benchmark, piece):
    benchmark.group = "p2p 10,000 hosts by piece size"
    shipped("p2p", 10, piece)
    benchmark.pedantic(shipped, args=("p2p", 10_000, piece), rounds=3, iterations=1)
    benchmark.extra_info["engine"] = "p2p"
    benchmark.extra_info["pieces"] = math.ceil(1.5e9 / SCENARIOS[piece].strategies["p2p"].piece_size)


MILLION = """
import json, resource, time
from benchmarks.test_distribution_speed import shipped
shipped("p2p", 10)
start = time.perf_counter()
record = shipped("p2p", 1_000_000)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_rss_mb": peak / 1024, "updated": int(record.updated.sum())}))
"""


def test_a_million_host_p2p_completes(benchmark):
    benchmark.group = "p2p 1,000,000 hosts (fresh process)"

    def once():
        out = subprocess.run([sys.executable, "-c", MILLION], capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    result = benchmark.pedantic(once, rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    print(f"\n1,000,000-host p2p: {result['seconds']:.1f} s, peak RSS {result['peak_rss_mb']:.0f} MB, "
          f"{result['updated']:,} hosts updated")


def exponent(xs, ys) -> float:
    """The slope of log(y) against log(x): the power of x that the cost grows like."""
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def summary_lines(benchmarks) -> list[str]:
    """The issue's targets read off one run: p2p's time at 10,000 and 100,000 hosts, the multi-link
    pull against the one-bottleneck pull, and the exponents of p2p's cost in hosts and in pieces."""
    by_size: dict[int, dict[str, float]] = {}
    by_pieces: dict[int, float] = {}
    for bench in benchmarks:
        info = bench.extra_info
        if "hosts" in info:
            by_size.setdefault(info["hosts"], {})[info["engine"]] = bench.stats.median
        elif "pieces" in info:
            by_pieces[info["pieces"]] = bench.stats.median
    lines = []
    for hosts, times in sorted(by_size.items()):
        parts = [f"{name} {seconds:.3f} s" for name, seconds in times.items()]
        if "pull" in times and "zoned-pull" in times:
            parts.append(f"zoned-pull/pull = {times['zoned-pull'] / times['pull']:.2f}x (target <= 3x)")
        lines.append(f"{hosts:,} hosts: " + "; ".join(parts))
    for hosts, target in ((10_000, 5.0), (100_000, 60.0)):
        if "p2p" in by_size.get(hosts, {}):
            seconds = by_size[hosts]["p2p"]
            lines.append(f"p2p at {hosts:,} hosts: {seconds:.2f} s, {'under' if seconds < target else 'OVER'} "
                         f"the {target:g} s target")
    sizes = sorted(h for h, t in by_size.items() if "p2p" in t)
    if len(sizes) >= 2:
        lines.append(f"p2p cost grows like hosts^{exponent(sizes, [by_size[h]['p2p'] for h in sizes]):.2f} "
                     f"({sizes[0]:,} to {sizes[-1]:,} hosts)")
    if len(by_pieces) >= 2:
        pieces = sorted(by_pieces)
        lines.append(f"p2p cost at 10,000 hosts grows like pieces^{exponent(pieces, [by_pieces[p] for p in pieces]):.2f} "
                     f"({pieces[0]} to {pieces[-1]} pieces)")
    return lines
