"""The populations of releases that each measure is a share or a time of: good builds, bad builds,
detected bad builds that served traffic, releases and good builds that shipped."""

from __future__ import annotations

import pandas as pd

SHIPPED = ("promoted", "hotfixed")
DETECTED = "detected bad builds that served traffic"


def populations(g: pd.DataFrame) -> dict[str, pd.Series]:
    """The releases each measure is taken over (masks over one policy's rows)."""
    good, bad = ~g.bad_build, g.bad_build
    return {
        "all releases": pd.Series(True, index=g.index),
        "good builds": good,
        "bad builds": bad,
        "good builds that shipped": good & g.outcome.isin(SHIPPED),
        "releases that shipped": g.outcome.isin(SHIPPED),
        DETECTED: bad & g.detected & g.served_traffic,
    }
