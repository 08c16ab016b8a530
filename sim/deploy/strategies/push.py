"""Push: a deploy host runs rsync to every server, serially or `parallel` at a time.

Per host: ssh connection set-up, rsync's file-list scan (grows with file count), the transfer through
the deploy host's shared egress, then activation (drain, switch the symlink, undrain); with
`connection_cpu`, a fan-out wider than the deploy host's cores slows each connection's own work. The
slot is held for all of it, as a fan-out tool such as pdsh holds it. Each added server adds its own
work to the queue, which is why push deploy time grows with the fleet. Behind zone links
(`network.zone_link`) each transfer also crosses its host's zone link, max-min fair with the other
transfers in flight (`sim.deploy.wave.run_zoned_wave`); hosts are walked in deploy order, so the zones
take turns.

    strategies:
      rsync-32: {kind: push, parallel: 32, connect: {dist: lognormal, median: 1.1s, p95: 1.7s}}
"""

from __future__ import annotations

import numpy as np

from sim.deploy.faults import HostFaults
from sim.deploy.plan import WavePlan, Zones
from sim.deploy.unfair import share_weights
from sim.distributions import sample_named
from sim.spec.scenario import PushStrategy, Scenario
from sim.streams import Streams


def plan(scenario: Scenario, spec: PushStrategy, hosts: int, faults: HostFaults, streams: Streams) -> WavePlan:
    connect = sample_named(spec.connect, streams, "push.connect", hosts)
    scan = spec.scan_per_file * scenario.artifact.files
    activation = sample_named(spec.activation, streams, "push.activation", hosts)
    net = scenario.network
    busy = cpu_slowdown(spec, hosts)
    return WavePlan(
        signal_delay=0.0,
        slots=spec.parallel,
        pre=(connect + scan) * faults.slowdown * busy,
        signal_offset=np.zeros(hosts),
        post=activation * faults.slowdown * busy,
        size=spec.delta * scenario.artifact.size,
        capacity=net.deploy_egress,
        flow_cap=min(net.per_flow, net.host_download),
        fail_attempts=faults.fail_attempts,
        fail_cost=scenario.faults.attempt_timeout,
        backoff=scenario.faults.backoff_delays(),
        zones=zones(scenario, hosts),
        share_weight=share_weights(net.flow_share_p95, hosts, streams),
    )


def cpu_slowdown(spec: PushStrategy, hosts: int) -> float:
    """How much longer each connection's own work takes when the deploy host's cores are short: the
    connections open at once (the fan-out, or the fleet when smaller) times what each keeps busy, over
    the cores, and never faster than alone."""
    return max(1.0, min(spec.parallel, hosts) * spec.connection_cpu / spec.deploy_cores)


def zones(scenario: Scenario, hosts: int) -> Zones | None:
    """The zone links the transfers cross (None: the deploy host's egress is the only shared link); hosts
    are in zones round-robin, as the fleet's are (`sim.deploy.fleet`)."""
    links = scenario.network.zone_link and scenario.network.zone_links(scenario.fleet.zones)
    if not links:
        return None
    return Zones(of_host=np.arange(hosts, dtype=np.int64) % len(links), link=np.asarray(links, dtype=float),
                 cache=0.0, fill_cap=scenario.network.per_flow, by_zone=False, key_write=0.0)
