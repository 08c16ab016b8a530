"""The straightforward model: stock SimPy, one process per host, a Resource for rsync slots.

This is what a competent user would write, and the yardstick for the fast engine: the tests hold both
to the same per-host times on the same plan, and the benchmark measures the speed-up. It is not a
strawman: the shared bottleneck keeps a processor-sharing virtual clock, so each arrival or finish
costs O(log N) (a heap of finish tags and one pending wake-up), not a recomputation of every flow.
"""

from __future__ import annotations

import heapq

import numpy as np
import simpy

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

    def transfer(self, size: float) -> simpy.Event:
        """An event that fires when `size` bytes have gone through."""
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


def host(env, h, plan: WavePlan, slots, link: SharedLink, times: dict):
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
                yield link.transfer(plan.size)
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
    link = SharedLink(env, plan.capacity, plan.flow_cap)
    link.clock = env.now
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
