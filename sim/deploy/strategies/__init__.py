"""Deploy strategies by name: each turns (scenario, strategy spec, fleet, draws) into a `WavePlan`.

    >>> from sim.deploy.strategies import PLANNERS
    >>> sorted(PLANNERS)
    ['p2p', 'pull', 'push']

Adding a strategy means writing one `plan(...)` function and registering it here under the `kind`
that scenario files use. Push and pull plan a one-bottleneck wave (`WavePlan`); p2p plans a swarm
(`SwarmPlan`), which `sim.deploy.engine` runs with its own engine.
"""

from typing import Callable

from sim.deploy.plan import WavePlan
from sim.deploy.strategies import p2p, pull, push
from sim.deploy.swarm_plan import SwarmPlan

# Each planner takes the spec of its own kind (the key), which a checker cannot tie to the key: hence `...`.
PLANNERS: dict[str, Callable[..., WavePlan | SwarmPlan]] = {"push": push.plan, "pull": pull.plan, "p2p": p2p.plan}
