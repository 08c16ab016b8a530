"""Deploy strategies by name: each turns (scenario, strategy spec, fleet, draws) into a `WavePlan`.

    >>> from sim.deploy.strategies import PLANNERS
    >>> sorted(PLANNERS)
    ['pull', 'push']

Adding a strategy means writing one `plan(...)` function and registering it here under the `kind`
that scenario files use.
"""

from typing import Callable

from sim.deploy.plan import WavePlan
from sim.deploy.strategies import pull, push

# Each planner takes the spec of its own kind (the key), which a checker cannot tie to the key: hence `...`.
PLANNERS: dict[str, Callable[..., WavePlan]] = {"push": push.plan, "pull": pull.plan}
