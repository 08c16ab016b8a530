"""The straightforward p2p model: stock SimPy, one process per host, explicit pieces and connections.

This is the yardstick the fast engine (`sim.deploy.swarm`) is held to on small swarms (up to a few
hundred hosts). Every host, once its agent wakes, asks a tracker for peers (a random set of
`PEER_SET` other hosts that ever join, plus every seeder; with `peers: zone_first`, hosts of its own zone
first, topped up at random from the other zones), and keeps up to `connections` downloads
open, at most one per peer: each asks a peer with a free upload connection for a piece the host lacks
and has not requested (the rarest in the swarm, or one at random), from the least busy peer holding it
(with `zone_first`, a piece a free peer of its own zone holds, from that peer, before any other; from
outside the zone only a piece no host of the zone holds or is fetching).
A peer uploads on at most `connections` connections. Each flow moves at
min(per_flow, sender's upload / its open uploads, receiver's download / its open downloads), recomputed
whenever a flow starts or ends at either end (not max-min fairness: a later slice brings that).
With zone links (`zone_link`), a flow entering its receiver's zone (from a seeder or from a host of another
zone) is also held to the zone's link shared by every flow entering that zone.
A host holding every piece verifies and activates, and keeps seeding for `seed_time`. A host whose
agent drops out (`drop_at` pieces held) loses its flows in flight, serves no one, and joins again after
its `rejoin` delay with the pieces it held.
"""

from __future__ import annotations

import numpy as np
import simpy

from sim.deploy.swarm_plan import PEER_SET, SwarmPlan, SwarmTimes


class Flow:
    """One piece moving from `src` to `dst`."""

    __slots__ = ("src", "dst", "piece", "remaining", "rate", "since", "version")

    def __init__(self, src: int, dst: int, piece: int, size: float, now: float):
        self.src, self.dst, self.piece = src, dst, piece
        self.remaining, self.rate, self.since, self.version = size, 0.0, now, 0


class Swarm:
    """Who holds which piece, who sends what to whom, and at what rate. Nodes 0..N-1 are the fleet,
    then the origin seeders, then the extra seed boxes."""

    def __init__(self, env: simpy.Environment, plan: SwarmPlan, start: float):
        self.env, self.plan = env, plan
        n, seeds = plan.hosts, plan.seeders + plan.extra_seeders
        self.n, self.k, self.piece = n, plan.connections, plan.piece
        self.rng = np.random.default_rng(plan.seed)
        self.have = np.zeros((n + seeds, plan.pieces), dtype=bool)
        self.have[n:] = True
        self.asked = np.zeros((n, plan.pieces), dtype=bool)
        self.count = np.zeros(plan.pieces, dtype=np.int64)  # fleet hosts holding each piece
        # plain lists: these are read one element at a time, where numpy's scalars are slow
        self.present = [False] * n + [True] * seeds
        self.upload = [plan.upload] * n + [plan.seeder_rate] * plan.seeders + [plan.extra_rate] * plan.extra_seeders
        self.download = plan.host_download().tolist()
        self.uploads = [0] * (n + seeds)
        self.downloads = [0] * n
        self.flows: list[set[Flow]] = [set() for _ in range(n + seeds)]
        self.linked: set[tuple[int, int]] = set()
        self.zone = np.zeros(n, np.int64) if plan.zone is None else np.asarray(plan.zone)
        self.members = [np.flatnonzero(self.zone == z) for z in range(int(self.zone.max(initial=0)) + 1)]
        self.link = None if plan.zone_link is None else [float(x) for x in plan.zone_link]
        self.entering: list[set[Flow]] = [set() for _ in range(len(self.link or ()))]
        self.sources, self.listeners = self._peer_sets(n, seeds)
        self.waiting: list[simpy.Event | None] = [None] * n
        self.origin_bytes = 0.0
        self.cross_zone_bytes = 0.0
        self.times = {key: np.full(n, np.nan) for key in ("transfer_start", "transfer_end")}
        self.held = [0] * n
        self.drop_at = [-1] * n if plan.drop_at is None else plan.drop_at.tolist()
        self.rejoin = [np.nan] * n if plan.rejoin is None else plan.rejoin.tolist()
        self.start = start

    def _peer_sets(self, n: int, seeds: int) -> tuple[list[np.ndarray], list[list[int]]]:
        """Each host's sources (a tracker's random peer set, then the seeders) and, for each node, the
        hosts that may ask it for pieces."""
        joining = np.flatnonzero(~np.isnan(self.plan.join))
        seeders = np.arange(n, n + seeds)
        sources: list[np.ndarray] = []
        listeners: list[list[int]] = [[] for _ in range(n + seeds)]
        for host in range(n):
            others = joining[joining != host]
            peers = self._peers(host, others)
            mine = np.concatenate((np.sort(peers), seeders)).astype(np.int64)
            sources.append(mine)
            for node in mine:
                listeners[int(node)].append(host)
        return sources, listeners

    def _peers(self, host: int, others: np.ndarray) -> np.ndarray:
        """A tracker's peer set for `host` out of `others` (the other hosts that ever join)."""
        want = min(PEER_SET, len(others))
        if self.plan.peers != "zone_first":
            return self.rng.choice(others, size=want, replace=False) if len(others) else others
        own = others[self.zone[others] == self.zone[host]]
        rest = others[self.zone[others] != self.zone[host]]
        mine = self.rng.choice(own, size=min(want, len(own)), replace=False) if len(own) else own
        more = want - len(mine)
        return np.concatenate((mine, self.rng.choice(rest, size=more, replace=False) if more else rest[:0]))

    # ---- flows -----------------------------------------------------------------------------------
    def _rate(self, flow: Flow) -> float:
        rate = min(self.plan.flow_cap, self.upload[flow.src] / self.uploads[flow.src],
                   self.download[flow.dst] / self.downloads[flow.dst])
        if self.link is not None and self._crosses(flow):
            zone = int(self.zone[flow.dst])
            rate = min(rate, self.link[zone] / len(self.entering[zone]))
        return rate

    def _crosses(self, flow: Flow) -> bool:
        """Whether the flow enters its receiver's zone (from a seeder, or from a host of another zone)."""
        return flow.src >= self.n or self.zone[flow.src] != self.zone[flow.dst]

    def _enter(self, flow: Flow, opening: bool) -> set[Flow]:
        """Count a flow into (or out of) its receiver's zone link; the flows whose share that changes."""
        if self.link is None or not self._crosses(flow):
            return set()
        entering = self.entering[int(self.zone[flow.dst])]
        if opening:
            entering.add(flow)
        else:
            entering.discard(flow)
        return set(entering)

    def _retime(self, flows: set[Flow]) -> None:
        now = self.env.now
        for flow in sorted(flows, key=lambda f: (f.src, f.dst)):  # a set's order must not decide event order
            rate = self._rate(flow)
            if rate == flow.rate:
                continue  # its finish stays where it was
            flow.remaining = max(0.0, flow.remaining - flow.rate * (now - flow.since))
            flow.since, flow.rate = now, rate
            flow.version += 1
            event = self.env.timeout(flow.remaining / flow.rate)
            event.callbacks.append(self._finisher(flow, flow.version))

    def _finisher(self, flow: Flow, version: int):
        """The callback ending `flow` when its timer fires, unless a later rate change moved its finish."""
        def finish(_event) -> None:
            if flow.version == version:
                self._finish(flow)
        return finish

    def _open(self, src: int, dst: int, piece: int) -> None:
        flow = Flow(src, dst, piece, self.piece, self.env.now)
        self.uploads[src] += 1
        self.downloads[dst] += 1
        self.asked[dst, piece] = True
        self.linked.add((src, dst))
        self.flows[src].add(flow)
        self.flows[dst].add(flow)
        self._retime(self.flows[src] | self.flows[dst] | self._enter(flow, True))

    def _finish(self, flow: Flow) -> None:
        src, dst = flow.src, flow.dst
        self.uploads[src] -= 1
        self.downloads[dst] -= 1
        self.linked.discard((src, dst))
        self.flows[src].discard(flow)
        self.flows[dst].discard(flow)
        shared = self._enter(flow, False)
        self.have[dst, flow.piece] = True
        self.count[flow.piece] += 1
        self.held[dst] += 1
        if self.n <= src < self.n + self.plan.seeders:
            self.origin_bytes += self.piece
        elif src < self.n and self.zone[src] != self.zone[dst]:
            self.cross_zone_bytes += self.piece
        self._retime(self.flows[src] | self.flows[dst] | shared)
        if self.have[dst].all():
            self.times["transfer_end"][dst] = self.env.now
            self.env.process(self._leave(dst))
        elif self.held[dst] == self.drop_at[dst]:
            self._drop_out(dst)
        self._wake(dst)
        for host in self.listeners[src]:
            self._wake(host)
        for host in self.listeners[dst]:
            self._wake(host)

    def _drop_out(self, host: int) -> None:
        """The host's agent fails: every flow to or from it stops (a piece part-way is lost), it serves
        no one until it joins again (if it has an attempt left), holding the pieces it had."""
        self.drop_at[host] = -1
        self.present[host] = False
        ends: set[Flow] = set()
        woken: set[int] = set()
        for flow in sorted(self.flows[host], key=lambda f: (f.src, f.dst)):
            flow.version += 1  # its timer no longer ends it
            self.uploads[flow.src] -= 1
            self.downloads[flow.dst] -= 1
            self.asked[flow.dst, flow.piece] = False
            self.linked.discard((flow.src, flow.dst))
            for node in (flow.src, flow.dst):
                self.flows[node].discard(flow)
            ends |= self._enter(flow, False)
            other = flow.dst if flow.src == host else flow.src
            ends |= self.flows[other]
            # a host that lost its download asks again; a sender that lost its upload can serve another
            woken.update([flow.dst] if flow.src == host else self.listeners[flow.src])
        self._retime({flow for flow in ends if host not in (flow.src, flow.dst)})
        for node in sorted(woken):
            self._wake(node)
        if not np.isnan(self.rejoin[host]):
            self.env.process(self._come_back(host))

    def _come_back(self, host: int):
        yield self.env.timeout(self.rejoin[host])
        self.present[host] = True
        self._wake(host)
        for listener in self.listeners[host]:
            self._wake(listener)

    def _leave(self, host: int):
        yield self.env.timeout(self.plan.seed_time)
        self.present[host] = False

    # ---- hosts -----------------------------------------------------------------------------------
    def _wake(self, host: int) -> None:
        event = self.waiting[host]
        if event is not None and not event.triggered and self.present[host] and self.downloads[host] < self.k:
            event.succeed()

    def request(self, host: int) -> None:
        """Open downloads until the host has `connections` of them or no peer can send it a piece."""
        if not self.present[host]:
            return  # dropped out: it asks again when it is back
        while self.downloads[host] < self.k:
            need = ~self.have[host] & ~self.asked[host]
            free = [s for s in self.sources[host]
                    if self.present[s] and self.uploads[s] < self.k and (s, host) not in self.linked]
            if not free or not need.any():
                return
            offers = self.have[free] & need
            available = np.flatnonzero(offers.any(axis=0))
            if not len(available):
                return
            if self.plan.peers == "zone_first":
                available = self._zone_first(host, free, offers, available)
                if not len(available):
                    return
            if self.plan.piece_selection == "rarest_first":
                available = available[self.count[available] == self.count[available].min()]
            piece = int(available[self.rng.integers(len(available))])
            holders = [free[i] for i in np.flatnonzero(offers[:, piece])]
            self._open(min(holders, key=lambda s: (self._away(s, host), self.uploads[s], s)), host, piece)

    def _zone_first(self, host: int, free: list[int], offers: np.ndarray, available: np.ndarray) -> np.ndarray:
        """A zone-preferring scheduler's choice of pieces: those a free peer of the host's zone holds; else
        those no host of its zone holds or is fetching (one copy crosses into a zone, then spreads inside)."""
        near = [i for i, s in enumerate(free) if not self._away(s, host)]
        close = np.flatnonzero(offers[near].any(axis=0)) if near else available[:0]
        if len(close):
            return close
        members = self.members[int(self.zone[host])]
        live = members[[self.present[m] for m in members]]
        inside = (self.have[live] | self.asked[live]).sum(axis=0) > 0  # held or on its way, per piece
        return available[~inside[available]]

    def _away(self, src: int, host: int) -> bool:
        """With `zone_first`, a holder outside the host's zone (a seeder, or a host of another zone) is asked
        only when no holder inside it is free; a tracker's random set has no such preference."""
        return self.plan.peers == "zone_first" and (src >= self.n or self.zone[src] != self.zone[host])

    def host(self, host: int):
        """One host: wait for its agent to join, then download until it holds every piece."""
        if np.isnan(self.plan.join[host]):
            return
        yield self.env.timeout(self.plan.join[host])
        self.present[host] = True
        self.times["transfer_start"][host] = self.env.now
        if self.drop_at[host] == 0:
            self._drop_out(host)  # fails before its first piece
        for listener in self.listeners[host]:
            self._wake(listener)
        while not self.have[host].all():
            self.request(host)
            self.waiting[host] = self.env.event()
            yield self.waiting[host]


def reference_swarm(plan: SwarmPlan, start: float = 0.0) -> SwarmTimes:
    """Run the plan with one SimPy process per host from the key's commit at `start`; absolute times."""
    env = simpy.Environment(initial_time=start)
    swarm = Swarm(env, plan, start)
    for host in range(plan.hosts):
        env.process(swarm.host(host))
    env.run()
    end = swarm.times["transfer_end"]
    return SwarmTimes(signal=start + plan.join, transfer_start=swarm.times["transfer_start"], transfer_end=end,
                      done=end + plan.post, attempts=plan.attempts, origin_bytes=swarm.origin_bytes,
                      cross_zone_bytes=swarm.cross_zone_bytes)
