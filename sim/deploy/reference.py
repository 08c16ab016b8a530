"""The straightforward model: stock SimPy, one process per host, a Resource for rsync slots.

This is what a competent user would write, and the yardstick for the fast engine: the tests hold both
to the same per-host times on the same plan, and the benchmark measures the speed-up. It is not a
strawman: the shared bottleneck keeps a processor-sharing virtual clock, so each arrival or finish
costs O(log N) (a heap of finish tags and one pending wake-up), not a recomputation of every flow.

Behind zone links (a push plan with `zones`) the transfers share the deploy host's egress and their zones'
links, and with unequal shares (`share_weight`) flows get weighted shares; `FlowByFlowLinks` then sets
every flow's rate by (weighted) max-min fairness over the whole topology (`sim.deploy.maxmin`, flow by
flow) at every arrival and finish: O(flows^2) per event, for small fleets.
"""

from __future__ import annotations

import heapq

import numpy as np
import simpy

from sim.deploy.maxmin import max_min_rates
from sim.deploy.plan import WavePlan, WaveTimes


class SharedLink:
    """A bottleneck shared fairly: n flows each get min(flow_cap, capacity / n)."""

    def __init__(self, env: simpy.Environment, capacity: float, flow_cap: float):
        self.env, self.capacity, self.flow_cap = env, capacity, flow_cap
        self.vtime, self.clock = 0.0, 0.0
        self.flows: list[tuple[float, int, simpy.Event]] = []  # (virtual finish tag, order, event)
        self.order = 0
        self.generation = 0

    def _rate(self) -> float:
        return min(self.flow_cap, self.capacity / len(self.flows)) if self.flows else 0.0

    def _advance(self) -> None:
        now = self.env.now
        self.vtime += (now - self.clock) * self._rate()
        self.clock = now

    def transfer(self, size: float, host: int) -> simpy.Event:
        """An event that fires when `size` bytes have gone through (to any host: one link for all)."""
        self._advance()
        done = self.env.event()
        heapq.heappush(self.flows, (self.vtime + size, self.order, done))
        self.order += 1
        self._schedule()
        return done

    def _schedule(self) -> None:
        self.generation += 1
        if self.flows:
            delay = max(self.flows[0][0] - self.vtime, 0.0) / self._rate()
            self.env.process(self._wake(delay, self.generation))

    def _wake(self, delay: float, generation: int):
        yield self.env.timeout(delay)
        if generation != self.generation:
            return  # an arrival or finish since then rescheduled the next finish
        self._advance()
        tag, _, done = heapq.heappop(self.flows)
        self.vtime = tag
        done.succeed()
        self._schedule()


class FlowByFlowLinks:
    """Links whose every flow is its own entry: a transfer of host h crosses `links_of[h]` (indices into
    `capacity`), capped by `flow_cap`, at the (weighted, `weight[h]`) max-min fair rate of the moment,
    set anew over all flows in flight at every arrival and finish (`sim.deploy.maxmin`)."""

    def __init__(self, env: simpy.Environment, capacity: list[float], flow_cap: float, links_of: list[list[int]],
                 weight: np.ndarray):
        self.env, self.capacity, self.flow_cap, self.links_of, self.weight = env, capacity, flow_cap, links_of, weight
        self.flows: list[list] = []  # [bytes left, host, event], in arrival order
        self.clock = env.now
        self.rates = np.zeros(0)
        self.generation = 0

    def _advance(self) -> None:
        now = self.env.now
        for flow, rate in zip(self.flows, self.rates):
            flow[0] -= (now - self.clock) * rate
        self.clock = now

    def transfer(self, size: float, host: int) -> simpy.Event:
        self._advance()
        done = self.env.event()
        self.flows.append([size, host, done])
        self._schedule()
        return done

    def _schedule(self) -> None:
        self.generation += 1
        hosts = [host for _, host, _ in self.flows]
        self.rates = max_min_rates([self.links_of[h] for h in hosts], self.capacity, [self.flow_cap] * len(hosts),
                                   list(self.weight[hosts])) if hosts else np.zeros(0)
        if self.flows:
            delay = min(max(left, 0.0) / rate for (left, _, _), rate in zip(self.flows, self.rates))
            self.env.process(self._wake(delay, self.generation))

    def _wake(self, delay: float, generation: int):
        yield self.env.timeout(delay)
        if generation != self.generation:
            return
        self._advance()
        size = max(left for left, _, _ in self.flows) if self.flows else 0.0
        finished = [f for f in self.flows if f[0] <= 1e-9 * max(size, 1.0)]
        if not finished:  # rounding left the first finisher a hair short: it is the one
            finished = [min(self.flows, key=lambda f: f[0])]
        for flow in finished:
            self.flows.remove(flow)
            flow[2].succeed()
        self._schedule()


def links_for(env: simpy.Environment, plan: WavePlan) -> "SharedLink | FlowByFlowLinks":
    """The plan's network: one fairly shared bottleneck, or flow by flow behind zone links (the deploy
    host's egress, link 0, and zone z's link, 1 + z) or with unequal shares."""
    if plan.zones is None and plan.share_weight is None:
        link = SharedLink(env, plan.capacity, plan.flow_cap)
        link.clock = env.now
        return link
    weight = np.ones(plan.hosts) if plan.share_weight is None else plan.share_weight
    if plan.zones is None:
        return FlowByFlowLinks(env, [plan.capacity], plan.flow_cap, [[0]] * plan.hosts, weight)
    if plan.zones.cache > 0 or plan.zones.by_zone:
        raise ValueError("caches and zone-by-zone pulls are sim.deploy.zoned_reference's to model")
    links_of = [[0, 1 + int(z)] for z in plan.zones.of_host]
    return FlowByFlowLinks(env, [plan.capacity, *plan.zones.link], plan.flow_cap, links_of, weight)


class Unlimited:
    """Slots when every host may work at once (pull): a Resource would only add bookkeeping (and
    SimPy's Resource removes users from a list, O(N) per release)."""

    def __init__(self, env: simpy.Environment):
        self.env = env

    def request(self):
        return _Granted(self.env)


class _Granted:
    def __init__(self, env):
        self.event = env.event().succeed()

    def __enter__(self):
        return self.event

    def __exit__(self, *exc):
        return False


def host(env, h, plan: WavePlan, slots, link: "SharedLink | FlowByFlowLinks", times: dict):
    """One host: take a slot, fail or do the work, retry after back-off until it succeeds or gives up."""
    for attempt in range(1, 2 + len(plan.backoff)):
        with slots.request() as slot:
            yield slot
            times["attempts"][h] = attempt
            if attempt <= plan.fail_attempts[h]:
                yield env.timeout(plan.fail_cost)
            else:
                times["signal"][h] = env.now + plan.signal_offset[h]
                yield env.timeout(plan.pre[h])
                times["transfer_start"][h] = env.now
                yield link.transfer(plan.size, h)
                times["transfer_end"][h] = env.now
                yield env.timeout(plan.post[h])
                times["done"][h] = env.now
                return
        if attempt <= len(plan.backoff):
            yield env.timeout(plan.backoff[attempt - 1])


def deploy(env, plan: WavePlan, times: dict):
    """Signal, then start every host's process in deploy order."""
    if plan.signal_delay > 0:
        yield env.timeout(plan.signal_delay)
    slots = Unlimited(env) if plan.slots >= plan.hosts else simpy.Resource(env, capacity=plan.slots)
    link = links_for(env, plan)
    for h in range(plan.hosts):
        env.process(host(env, h, plan, slots, link, times))


def reference_wave(plan: WavePlan) -> WaveTimes:
    """Run the plan with one SimPy process per host and return the same times as the fast engine."""
    env = simpy.Environment()
    n = plan.hosts
    times = {k: np.full(n, np.nan) for k in ("signal", "transfer_start", "transfer_end", "done")}
    times["attempts"] = np.zeros(n, dtype=np.int64)
    env.process(deploy(env, plan, times))
    env.run()
    return WaveTimes(times["signal"], times["transfer_start"], times["transfer_end"], times["done"], times["attempts"])
