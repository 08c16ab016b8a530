"""P2P: signalled like pull (a release key), distributed like Kraken, Murder or BitTorrent.

The build is published to the origin seeders (and any extra seed boxes), the key write is one Raft
commit, each agent wakes after its own latency and joins the swarm: it downloads pieces from the seeders
and from other hosts, uploads the pieces it holds, verifies and activates once it has them all, and
keeps seeding for `seed_time`. The origin's egress no longer bounds the fleet: every host adds upload
(Kurose-Ross: at least max(F/u_s, F/d_min, N*F/(u_s + sum u_i)); docs/p2p.md).

    strategies:
      kraken: {kind: p2p, piece_size: 4MB, connections: 10, seed_time: 5m}
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import numpy as np

from sim.deploy.faults import HostFaults
from sim.deploy.strategies.pull import key_signal
from sim.deploy.swarm_plan import SwarmPlan, pieces_of
from sim.spec.scenario import PeerStrategy, Scenario
from sim.streams import Streams


def plan(scenario: Scenario, spec: PeerStrategy, hosts: int, faults: HostFaults, streams: Streams) -> SwarmPlan:
    """The key, wake-up and activation draws are pull's (`pull.key_signal`): a p2p and a pull strategy with
    the same settings face the same draws (common random numbers), and differ only in distribution."""
    signal = key_signal(scenario, spec, hosts, streams)
    net = scenario.network
    download = spec.download or net.host_download
    backoff = scenario.faults.backoff_delays()
    attempts, waited = join_delays(faults.fail_attempts, scenario.faults.attempt_timeout, backoff)
    size, piece_size = scenario.artifact.size, min(spec.piece_size, scenario.artifact.size)
    drops = drop_outs(spec.drop_out, pieces_of(size, piece_size), attempts, ~np.isnan(waited),
                      scenario.faults.attempt_timeout, backoff, streams)
    return SwarmPlan(
        signal_delay=signal.delay,
        join=waited + signal.wakeup,
        wakeup=signal.wakeup,
        attempts=attempts if drops is None else drops.attempts,
        post=signal.settle * faults.slowdown,
        size=size,
        piece_size=piece_size,
        seeders=spec.seeders,
        seeder_rate=net.origin_egress,
        extra_seeders=spec.extra_seeders,
        extra_rate=spec.extra_seeder_egress or net.deploy_egress,
        upload=spec.upload or download,
        download=download,
        flow_cap=net.per_flow,
        connections=spec.connections,
        piece_selection=spec.piece_selection,
        seed_time=spec.seed_time,
        seed=int(streams("p2p.swarm").integers(2**63)),
        zone=np.arange(hosts, dtype=np.int64) % scenario.fleet.zones,
        peers=spec.peers,
        download_share=download_share(spec.download_p99_slowdown, hosts, streams),
        zone_link=None if net.zone_link is None else np.asarray(net.zone_links(scenario.fleet.zones), dtype=float),
        drop_at=None if drops is None else drops.at,
        rejoin=None if drops is None else drops.rejoin,
    )


@dataclass(frozen=True)
class DropOuts:
    """Hosts whose agent fails part-way through the download: at how many pieces (-1: never), the
    seconds until it joins again (NaN: given up on), and every host's attempts counting the drop."""

    at: np.ndarray
    rejoin: np.ndarray
    attempts: np.ndarray


def drop_outs(share: float, pieces: int, attempts: np.ndarray, joins: np.ndarray, fail_cost: float,
              backoff: np.ndarray, streams: Streams) -> DropOuts | None:
    """Which joining hosts drop out (each with probability `share`), at a piece count drawn uniformly
    from 0 to pieces - 1; the drop is a failed attempt (it costs `fail_cost` to notice, then the back-off
    of the attempts so far), and a host that has used its last attempt is given up on. None when
    `share` is 0: no draw, so scenarios without drop-outs keep their numbers."""
    if share <= 0:
        return None
    stream = streams("p2p.drop")
    hosts = len(attempts)
    drops = (stream.random(hosts) < share) & joins
    at = np.where(drops, stream.integers(0, pieces, size=hosts), -1)
    retry = np.minimum(attempts, len(backoff)) - 1  # back-off index after `attempts` attempts have failed
    can_retry = attempts < 1 + len(backoff)
    wait = fail_cost + (np.asarray(backoff, dtype=float)[retry.clip(0)] if len(backoff) else 0.0)
    rejoin = np.where(drops & can_retry, wait, np.nan)
    return DropOuts(at=at.astype(np.int64), rejoin=rejoin, attempts=attempts + drops)


P99_Z = statistics.NormalDist().inv_cdf(0.99)


def download_share(p99_slowdown: float, hosts: int, streams: Streams) -> np.ndarray | None:
    """Each host's download rate as a share of its limit: 1 / max(1, X), X lognormal with median 1 and
    99th percentile `p99_slowdown` (None when that is 1: no draw, so scenarios without a spread keep
    their numbers)."""
    if p99_slowdown <= 1.0:
        return None
    sigma = np.log(p99_slowdown) / P99_Z
    slowdown = np.exp(sigma * streams("p2p.download").standard_normal(hosts))
    return 1.0 / np.maximum(1.0, slowdown)


def join_delays(fail_attempts: np.ndarray, fail_cost: float, backoff: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Attempts per host, and the seconds its failed attempts cost before the one that joins (NaN: the
    host failed every attempt and was given up on), as the wave kernel counts them for pull."""
    max_attempts = 1 + len(backoff)
    waits = np.concatenate(([0.0], np.cumsum(fail_cost + np.asarray(backoff, dtype=float))))
    gave_up = fail_attempts >= max_attempts
    failed = np.minimum(fail_attempts, max_attempts - 1)
    waited = np.where(gave_up, np.nan, waits[failed])
    attempts = np.where(gave_up, max_attempts, fail_attempts + 1).astype(np.int64)
    return attempts, waited
