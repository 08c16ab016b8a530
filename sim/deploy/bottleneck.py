"""Bottleneck attribution: which resource bounds a deploy, from closed-form lower bounds.

For one strategy and fleet size N, each resource gets the least time the deploy could take if that
resource alone limited it (a lower bound: the deploy also waits for everything else). The **bottleneck**
is the resource with the largest bound (ties go to the one listed first below); that bound is `bound_s`.

With F the bytes each host moves (push: `delta` x the build), n = N x (1 - faults.down) the hosts
expected to be updated (a down host moves no bytes), cap = min(per_flow, host_download):

- push, k = `parallel` slots:
  - deploy egress: n·F / deploy_egress
  - zone link (`network.zone_link`): n_z·F / link_z for the zone z where that is largest, n_z its
    expected updated hosts (every push to a host of zone z crosses its link)
  - per-flow cap or host download (whichever is smaller): F / cap, one host's transfer
  - per-host fixed costs: connect + scan + activation, one host's
  - slots (only when N > k): (W + n·F/cap) / k. Every host holds a slot for its fixed costs and its
    transfer, so k slots need at least the total over k. W is the n hosts' fixed costs summed: their
    mean total less 3 standard deviations of the sum, n·mean - 3·sqrt(n)·sd (at least 0), which a
    run's sum undercuts about once in a thousand runs (the left tail of a sum of log-normals is
    lighter than a normal's). Labelled by the larger of its two parts: "slots: per-host fixed
    costs", "slots: per-flow cap" or "slots: host download". (ceil(N/k) hosts per slot is not a
    bound: a slot whose first hosts were quick takes more of them.)
- pull, each plus the signal s = publish + key write (nothing moves before the key's commit):
  - origin egress: s + n·F / origin_egress (Kurose-Ross N·F/u_s); with zone caches, one F per zone
  - zone link (`network.zone_link`): s + n_z·F / link_z for the zone z where that is largest, n_z its
    expected updated hosts; with caches instead, **cache egress**: s + the fill (F / min(per_flow,
    origin_egress, link_z)) + n_z·F / zone_cache
  - zone by zone (`by_zone`): s + each zone's own largest bound (less s) summed, and a key write between
    zones, named "zones in turn: " and the largest part's resource
  - per-flow cap or host download: s + F / cap
  - per-host fixed costs: s + wake-up + verify (F / verify_rate) + activation
- p2p (Kurose-Ross), each plus s; u_s = seeders x origin_egress + extra_seeders x their egress:
  - seeder egress: s + F / u_s (every piece leaves a seeder once)
  - swarm upload: s + n·F / (u_s + n·u), u a host's upload
  - zone link (`network.zone_link`): s + F / link_z for the slowest zone with a host (every piece enters
    each zone at least once)
  - per-flow cap or host download: s + F / min(host download, connections x per_flow)
  - per-host fixed costs: as pull

One host's durations drawn from distributions count at their **median** (`sim.distributions.median_of`):
a deploy waits for the slowest of its hosts, below the median only when every host's draw is (1 in 2^N
runs; the host's transfer, left out of that term, is slack besides). Sums over many hosts (slots) use
the mean less a margin, as above: a sum of n draws at n medians would be undercut by runs of a few
hosts (seen: 0.87 of it at 7 hosts with one slot). The signal's draws (publish, key write) are made once per
deploy, so half the deploys draw less than the median: they count at their **5th percentile**, which the
median over replications (summary.csv's `max_s`) stays above. Stragglers and retries only add time, so
they are left out. tests/deploy/test_bottleneck.py holds simulated runs above these bounds.

    >>> from sim.spec.scenario import Scenario
    >>> s = Scenario.model_validate({"version": 1, "name": "x", "fleet": {"sizes": [10]},
    ...     "artifact": {"size": "100MB"}, "network": {"host_download": "1Gbps"},
    ...     "strategies": {"r": {"kind": "push", "connect": "1s", "scan_per_file": 0, "activation": "1s"}}})
    >>> bottleneck(s, s.strategies["r"], 10)  # one slot: 10 x (1 s + 1 s + 100 MB at 125 MB/s)
    Bound(resource='slots: per-host fixed costs', seconds=28.0)
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.distributions import mean_of, median_of, quantile_of, variance_of
from sim.spec.scenario import PeerStrategy, PullStrategy, PushStrategy, Scenario

FIXED = "per-host fixed costs"
SIGNAL_QUANTILE = 0.05  # the once-per-deploy draws count at this quantile
SUM_MARGIN = 3.0  # standard deviations of a sum of per-host draws left out of its lower bound


@dataclass(frozen=True)
class Bound:
    """The least seconds a deploy takes if `resource` alone limited it."""

    resource: str
    seconds: float


def bottleneck(scenario: Scenario, spec: PushStrategy | PullStrategy | PeerStrategy, hosts: int) -> Bound:
    """The largest lower bound (the first listed on a tie)."""
    found = bounds(scenario, spec, hosts)
    return max(found, key=lambda b: b.seconds) if found else Bound("", 0.0)


def bounds(scenario: Scenario, spec: PushStrategy | PullStrategy | PeerStrategy, hosts: int) -> tuple[Bound, ...]:
    """Every resource's lower bound for `spec` at `hosts` hosts, in the module docstring's order."""
    if isinstance(spec, PushStrategy):
        return push_bounds(scenario, spec, hosts)
    if isinstance(spec, PullStrategy):
        return pull_bounds(scenario, spec, hosts)
    return p2p_bounds(scenario, spec, hosts)


def transfer(size: float, per_flow: float, download: float) -> Bound:
    """One host's transfer, named by the smaller of its two limits."""
    if per_flow < download:
        return Bound("per-flow cap", size / per_flow)
    return Bound("host download", size / download)


def updated_hosts(scenario: Scenario, hosts: int) -> float:
    return hosts * (1.0 - scenario.faults.down)


def push_bounds(scenario: Scenario, spec: PushStrategy, hosts: int) -> tuple[Bound, ...]:
    net, size = scenario.network, spec.delta * scenario.artifact.size
    n = updated_hosts(scenario, hosts)
    scan = spec.scan_per_file * scenario.artifact.files
    fixed = median_of(spec.connect) + scan + median_of(spec.activation)
    one = transfer(size, net.per_flow, net.host_download)
    found = [Bound("deploy egress", n * size / net.deploy_egress), *zone_link(scenario, hosts, size, 0.0), one,
             Bound(FIXED, fixed)]
    if hosts > spec.parallel:
        mean = mean_of(spec.connect) + scan + mean_of(spec.activation)
        spread = (variance_of(spec.connect) + variance_of(spec.activation)) ** 0.5
        total = max(0.0, n * mean - SUM_MARGIN * n**0.5 * spread)
        moved = n * one.seconds
        part = FIXED if total >= moved else one.resource
        found.append(Bound(f"slots: {part}", (total + moved) / spec.parallel))
    return tuple(found)


def signal(spec: PullStrategy | PeerStrategy) -> float:
    """Seconds before any host may start: the publish step and the key's Raft commit (5th percentiles:
    one draw per deploy)."""
    return quantile_of(spec.publish, SIGNAL_QUANTILE) + quantile_of(spec.key_write, SIGNAL_QUANTILE)


def agent_costs(scenario: Scenario, spec: PullStrategy | PeerStrategy) -> float:
    """One host's fixed costs after the key: wake-up, verify, activation."""
    return median_of(spec.wakeup) + scenario.artifact.size / spec.verify_rate + median_of(spec.activation)


def pull_bounds(scenario: Scenario, spec: PullStrategy, hosts: int) -> tuple[Bound, ...]:
    net, size, s = scenario.network, scenario.artifact.size, signal(spec)
    if spec.by_zone:
        return (zones_in_turn(scenario, spec, hosts),)
    n = updated_hosts(scenario, hosts)
    one = transfer(size, net.per_flow, net.host_download)
    from_origin = n if spec.zone_cache is None else caches_filled(scenario, hosts)
    return (Bound("origin egress", s + from_origin * size / net.origin_egress), *zone_bounds(scenario, spec, hosts, s),
            Bound(one.resource, s + one.seconds), Bound(FIXED, s + agent_costs(scenario, spec)))


def zone_hosts(scenario: Scenario, hosts: int) -> list[int]:
    """Hosts in each zone (round-robin, `sim.deploy.fleet`)."""
    zones = scenario.fleet.zones
    return [hosts // zones + (z < hosts % zones) for z in range(zones)]


def caches_filled(scenario: Scenario, hosts: int) -> int:
    """Zone caches certain to fill: every zone with a host, or one when hosts may be down."""
    return min(scenario.fleet.zones, hosts) if scenario.faults.down == 0 else 1


def zone_bounds(scenario: Scenario, spec: PullStrategy, hosts: int, s: float) -> tuple[Bound, ...]:
    """The busiest zone's link (each of its pulls crosses it) or, with caches, its cache: the fill (one
    flow across the origin's uplink and the zone's link), then the zone's pulls through the cache."""
    net, size = scenario.network, scenario.artifact.size
    keep = 1.0 - scenario.faults.down
    per_zone = list(zip(zone_hosts(scenario, hosts), net.zone_links(scenario.fleet.zones)))
    if spec.zone_cache is not None:
        fill = max(size / min(net.per_flow, net.origin_egress, link) for _, link in per_zone)
        busiest = max(count for count, _ in per_zone) * keep
        return (Bound("cache egress", s + fill + busiest * size / spec.zone_cache),)
    return zone_link(scenario, hosts, size, s)


def zone_link(scenario: Scenario, hosts: int, size: float, s: float) -> tuple[Bound, ...]:
    """The busiest zone's link when each of its hosts' `size` bytes cross it, after `s` (none without links)."""
    if scenario.network.zone_link is None:
        return ()
    keep = 1.0 - scenario.faults.down
    per_zone = zip(zone_hosts(scenario, hosts), scenario.network.zone_links(scenario.fleet.zones))
    return (Bound("zone link", s + max(count * keep * size / link for count, link in per_zone)),)


def zones_in_turn(scenario: Scenario, spec: PullStrategy, hosts: int) -> Bound:
    """Zone by zone: each zone's own largest bound, one zone after another (with a key write between)."""
    one_zone = scenario.model_copy(update={"fleet": scenario.fleet.model_copy(update={"zones": 1})})
    parts = []
    for z, count in enumerate(zone_hosts(scenario, hosts)):
        if count == 0:
            continue
        link = scenario.network.zone_links(scenario.fleet.zones)[z]
        network = scenario.network.model_copy(update={"zone_link": None if link == float("inf") else [link]})
        alone = one_zone.model_copy(update={"network": network})
        parts.append(bottleneck(alone, spec.model_copy(update={"by_zone": False}), count))
    s = signal(spec)
    writes = (len(parts) - 1) * quantile_of(spec.key_write, SIGNAL_QUANTILE)
    largest = max(parts, key=lambda b: b.seconds)
    return Bound(f"zones in turn: {largest.resource}", s + writes + sum(b.seconds - s for b in parts))


def p2p_bounds(scenario: Scenario, spec: PeerStrategy, hosts: int) -> tuple[Bound, ...]:
    net, size, s = scenario.network, scenario.artifact.size, signal(spec)
    n = updated_hosts(scenario, hosts)
    download = spec.download or net.host_download
    upload = spec.upload or download
    seeders = spec.seeders * net.origin_egress + spec.extra_seeders * (spec.extra_seeder_egress or net.deploy_egress)
    one = transfer(size, spec.connections * net.per_flow, download)
    return (Bound("seeder egress", s + size / seeders), Bound("swarm upload", s + n * size / (seeders + n * upload)),
            *p2p_zone_link(scenario, hosts, s), Bound(one.resource, s + one.seconds),
            Bound(FIXED, s + agent_costs(scenario, spec)))


def p2p_zone_link(scenario: Scenario, hosts: int, s: float) -> tuple[Bound, ...]:
    """Every piece enters each zone across its link at least once: F / link of the slowest zone with a host
    (of the fastest when hosts may be down: a zone whose hosts are all down needs nothing)."""
    if scenario.network.zone_link is None:
        return ()
    links = [link for count, link in zip(zone_hosts(scenario, hosts), scenario.network.zone_links(scenario.fleet.zones))
             if count > 0]
    link = min(links) if scenario.faults.down == 0 else max(links)
    return (Bound("zone link", s + scenario.artifact.size / link),)
