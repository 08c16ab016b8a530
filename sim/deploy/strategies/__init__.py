"""Deploy strategies by name: each turns (scenario, strategy spec, fleet, draws) into a `WavePlan`.

    >>> from sim.deploy.strategies import PLANNERS
    >>> sorted(PLANNERS)
    ['pull', 'push']

Adding a strategy means writing one `plan(...)` function and registering it here under the `kind`
that scenario files use.
"""

from sim.deploy.strategies import pull, push

PLANNERS = {"push": push.plan, "pull": pull.plan}
