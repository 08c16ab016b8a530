"""The p2p strategy against published systems (docs/p2p.md, "Against published systems"; sources D2, D8, D11):
the shapes of their benchmarks, simulated with signalling, verification and activation set to zero so
that only distribution is timed (as the benchmarks time it).

- Kraken (uber/kraken README): 3 GB to 2,600 hosts at a 300 MB/s limit each way, 5 origins: p50 10 s. The
  issue's bar: within 15%. Its p99 of 18 s needs hosts whose rates spread: with every host at its limit
  all end within a few tenths of a second; tests/deploy/test_p2p_spread.py holds the tail with
  `download_p99_slowdown: 1.8` (fitted to the published p99/p50).
- Dragonfly: 200 MB at 200 Mb/s, "the average downloading time is almost stable" at about 12 s from 1 to
  1,200 clients. With Kraken's 10 connections and no overhead: flat within 20% from 100 to 1,200 hosts and
  within 15% of 12 s at 1,200, while pull from one origin grows in proportion to the fleet; from 10 hosts
  it rises 43% (8.8 s to 12.6 s). With Dragonfly's own environment and defaults (D11: two 2,000 Mb/s
  supernodes, 4 MB pieces, 4 pieces at once) and its per-task overhead read off the one-client point
  (12 s less the 8 s that 200 MB takes at 200 Mb/s), the mean is flat within 20% from 10 to 1,200 hosts
  (12.1 s to 14.2 s when written): 2.1 s of the model's store-and-forward ramp that the published chart
  does not show, so the level at 1,200 is 18% above 12 s.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.deploy.engine import Job, simulate
from tests.conftest import make_scenario

ONLY_DISTRIBUTION = {"publish": 0, "key_write": 0, "wakeup": 0, "verify_rate": "1000GB/s", "activation": 0}


def done_times(scenario, strategy: str, hosts: int) -> np.ndarray:
    record = simulate(scenario, Job(strategy, hosts, 0, 1))
    return np.asarray(record.done, dtype=float)


def test_kraken_benchmark_p50_is_within_15_percent_of_10s():
    scenario = make_scenario(
        fleet={"hosts": 2600, "zones": 3, "tiers": {"canary": 0}}, artifact={"size": "3GB", "files": 1},
        network={"origin_egress": "10Gbps", "per_flow": "10Gbps", "host_download": "300MB/s"},
        strategies={"kraken": {"kind": "p2p", **ONLY_DISTRIBUTION, "seeders": 5, "upload": "300MB/s",
                               "download": "300MB/s", "connections": 10, "piece_size": "4MB"}})
    done = done_times(scenario, "kraken", 2600)
    assert np.isfinite(done).all()
    assert abs(np.median(done) - 10.0) <= 0.15 * 10.0, np.median(done)


def test_dragonfly_stays_flat_to_1200_hosts_while_pull_grows_with_the_fleet():
    scenario = make_scenario(
        fleet={"hosts": 10, "zones": 1, "tiers": {"canary": 0}}, artifact={"size": "200MB", "files": 1},
        network={"origin_egress": "1Gbps", "per_flow": "10Gbps", "host_download": "200Mbps"},
        strategies={"dragonfly": {"kind": "p2p", **ONLY_DISTRIBUTION, "upload": "200Mbps"},
                    "pull": {"kind": "pull", **ONLY_DISTRIBUTION}})
    p2p = {n: np.median(done_times(scenario, "dragonfly", n)) for n in (100, 1200)}
    assert p2p[1200] <= 1.2 * p2p[100], p2p
    assert abs(p2p[1200] - 12.0) <= 0.15 * 12.0, p2p
    pull = {n: done_times(scenario, "pull", n).max() for n in (100, 1200)}
    origin_bound = {n: n * 200e6 / 125e6 for n in pull}  # N F / u_s: 160 s and 1,920 s
    for n in pull:
        assert origin_bound[n] <= pull[n] <= 1.01 * origin_bound[n] + 0.1, (n, pull[n])


@pytest.mark.parametrize("connections, flat", [(1, 0.20), (2, 0.20)])
def test_with_one_or_two_connections_a_host_the_dragonfly_shape_is_flat_from_10_hosts(connections, flat):
    """The ramp of a swarm is about log_(k+1)(N) rounds of k pieces' time at a host's upload (k connections
    share it): fewer connections, shorter rounds, a flatter curve. With 1 or 2 (a scheduler handing each
    download one or two parents) the model stays within 20% from 10 to 1,200 hosts (8.4 -> 9.4 s and
    8.5 -> 9.9 s when written); with Kraken's 10 it rises 43%. Dragonfly's parent count per download is
    not in our sources, so the test above keeps 10 (docs/p2p.md)."""
    scenario = make_scenario(
        fleet={"hosts": 10, "zones": 1, "tiers": {"canary": 0}}, artifact={"size": "200MB", "files": 1},
        network={"origin_egress": "1Gbps", "per_flow": "10Gbps", "host_download": "200Mbps"},
        strategies={"dragonfly": {"kind": "p2p", **ONLY_DISTRIBUTION, "upload": "200Mbps",
                                  "connections": connections}})
    p2p = {n: np.median(done_times(scenario, "dragonfly", n)) for n in (10, 1200)}
    assert p2p[10] <= p2p[1200] <= (1 + flat) * p2p[10], p2p
    assert p2p[10] >= 200e6 / 25e6  # no host beats its own download: F / d = 8 s


def test_dragonfly_with_its_own_environment_and_defaults_is_flat_from_10_to_1200_hosts():
    """D11: the benchmark's two 2,000 Mb/s supernodes as seeders, 200 Mb/s clients, 4 MB pieces, a peer
    fetching 4 pieces at once (`peerDownLimit`). One client alone moves 200 MB at 200 Mb/s in 8 s and the
    published one-client time is 12 s, so 4 s of every task is not bytes moving: set as the wake-up (the
    one number fitted, on the one-client point, and checked here). Then the mean (the benchmark's
    "average downloading time") stays within 20% from 10 to 1,200 hosts, while pull from one 2,000 Mb/s
    file source grows in proportion to the fleet."""
    overhead = 12.0 - 200e6 / 25e6
    scenario = make_scenario(
        fleet={"hosts": 10, "zones": 1, "tiers": {"canary": 0}}, artifact={"size": "200MB", "files": 1},
        network={"origin_egress": "2000Mbps", "per_flow": "10Gbps", "host_download": "200Mbps"},
        strategies={"dragonfly": {"kind": "p2p", **ONLY_DISTRIBUTION, "wakeup": overhead, "seeders": 2,
                                  "upload": "200Mbps", "piece_size": "4MB", "connections": 4},
                    "wget": {"kind": "pull", **ONLY_DISTRIBUTION}})
    mean = {n: float(np.mean(done_times(scenario, "dragonfly", n))) for n in (1, 10, 100, 1200)}
    assert mean[1] == pytest.approx(12.0, abs=0.01)
    assert mean[10] <= mean[100] <= mean[1200] <= 1.2 * mean[10], mean
    wget = {n: done_times(scenario, "wget", n).max() for n in (100, 1200)}
    for n in wget:
        assert n * 200e6 / 250e6 <= wget[n] <= 1.01 * n * 200e6 / 250e6 + 0.1, (n, wget[n])
