"""Small builders for policy tests: one-interval windows with a chosen new-cohort error rate."""

from __future__ import annotations

from sim.policies import check, parse_policy, start
from sim.policies.window import Window, window_of

GOOD = 0.001   # 0.1% errors: under a 1% ceiling
BAD = 0.05     # 5% errors: over it


def win(rate: float | None, requests: int = 10_000, old_rate: float = GOOD, t: float = 60.0) -> Window:
    """One interval; rate None means the new build served no requests (no data)."""
    if rate is None:
        return window_of(t, new=([0], [0]), old=([requests], [round(requests * old_rate)]))
    return window_of(t, new=([requests], [round(requests * rate)]),
                     old=([requests], [round(requests * old_rate)]))


def run(spec_data: dict, windows: list[Window]):
    """Feed windows until the verdict is final; returns the list of verdicts given."""
    spec = parse_policy(spec_data)
    state = start(spec)
    verdicts = []
    for w in windows:
        state, v = check(spec, state, w)
        verdicts.append(v)
        if v.final:
            break
    return verdicts
