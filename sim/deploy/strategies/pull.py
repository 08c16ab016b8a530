"""Pull: the deploy host writes a release key; every host's agent wakes and pulls the build itself.

The build is first published to the origin (`publish`), then the key write is one Raft commit; each agent's blocking query returns after its own wake-up latency;
then every host downloads concurrently from the artifact origin (whose egress they share), verifies
the SHA-256, and activates. No slots: the fleet works in parallel, and only the origin's egress makes
deploy time grow with the fleet (Kurose-Ross: at least N*F/u_s).

    strategies:
      consul: {kind: pull, wakeup: {dist: lognormal, median: 50ms, p95: 200ms}}
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.deploy.faults import HostFaults
from sim.deploy.plan import WavePlan, Zones
from sim.deploy.unfair import share_weights
from sim.distributions import sample_named
from sim.spec.scenario import PullStrategy, Scenario
from sim.streams import Streams


@dataclass(frozen=True)
class KeySignal:
    """What a release key costs before and after a host's download: the publish and the key write (once),
    each agent's wake-up, and each host's verify + activation (before a straggler's slowdown)."""

    delay: float
    wakeup: np.ndarray
    settle: np.ndarray
    key_write: float = 0.0


def key_signal(scenario: Scenario, spec, hosts: int, streams: Streams) -> KeySignal:
    """The draws of a key-signalled strategy (pull, and p2p, which shares these streams so both face the
    same draws: common random numbers). `spec` has publish, key_write, wakeup, activation, verify_rate."""
    publish = float(sample_named(spec.publish, streams, "pull.publish", 1)[0])
    key_write = float(sample_named(spec.key_write, streams, "pull.key_write", 1)[0])
    wakeup = sample_named(spec.wakeup, streams, "pull.wakeup", hosts)
    activation = sample_named(spec.activation, streams, "pull.activation", hosts)
    return KeySignal(publish + key_write, wakeup, scenario.artifact.size / spec.verify_rate + activation, key_write)


def plan(scenario: Scenario, spec: PullStrategy, hosts: int, faults: HostFaults, streams: Streams) -> WavePlan:
    signal = key_signal(scenario, spec, hosts, streams)
    net = scenario.network
    return WavePlan(
        signal_delay=signal.delay,
        slots=hosts,
        pre=signal.wakeup,
        signal_offset=signal.wakeup,
        post=signal.settle * faults.slowdown,
        size=scenario.artifact.size,
        capacity=net.origin_egress,
        flow_cap=min(net.per_flow, net.host_download),
        fail_attempts=faults.fail_attempts,
        fail_cost=scenario.faults.attempt_timeout,
        backoff=scenario.faults.backoff_delays(),
        zones=zones(scenario, spec, hosts, signal.key_write),
        share_weight=share_weights(net.flow_share_p95, hosts, streams),
    )


def zones(scenario: Scenario, spec: PullStrategy, hosts: int, key_write: float) -> Zones | None:
    """The zone links and caches a pull crosses (`sim.deploy.zoned`); None when the origin's uplink is the
    only shared link and the zones deploy together (the one-bottleneck wave). A wave's hosts are spread
    over the zones round-robin, as the fleet's are (`sim.deploy.fleet`): a whole-fleet deploy puts each
    host in its own zone, and a rollout stage takes a share of every zone."""
    net = scenario.network
    if net.zone_link is None and spec.zone_cache is None and not spec.by_zone:
        return None
    zone_count = scenario.fleet.zones
    return Zones(of_host=np.arange(hosts, dtype=np.int64) % zone_count,
                 link=np.asarray(net.zone_links(zone_count), dtype=float), cache=spec.zone_cache or 0.0,
                 fill_cap=net.per_flow, by_zone=spec.by_zone, key_write=key_write)
