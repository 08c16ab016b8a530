"""Tables derived from records: per-host rows, per-replication rows, the fleet-growth summary.

Everything here is a pure function of records, so the simulator's and the bench's results are
summarised the same way.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from sim.results.records import HOST_COLUMNS, DeployRecord, DeploySummary


def host_table(records: list[DeployRecord]) -> pd.DataFrame:
    frames = []
    for record in records:
        frames.append(pd.DataFrame({
            "strategy": record.strategy,
            "kind": record.kind,
            "fleet_size": record.fleet_size,
            "replication": record.replication,
            "host": record.host,
            "tier": record.tier,
            "zone": record.zone,
            "attempts": record.attempts,
            "signal": record.signal,
            "transfer_start": record.transfer_start,
            "transfer_end": record.transfer_end,
            "done": record.done,
            "updated": record.updated,
            "reason": record.reason,
        }))
    if not frames:
        return pd.DataFrame(columns=["strategy", "kind", "fleet_size", "replication", *HOST_COLUMNS])
    return pd.concat(frames, ignore_index=True)


COUNTED_BYTES = ("origin_bytes", "cross_zone_bytes")
"""Bytes only some strategies count (p2p; pull through zones): a table has the column when a deploy did."""


def replication_table(summaries: list[DeploySummary]) -> pd.DataFrame:
    """One row per deploy; `origin_bytes` and `cross_zone_bytes` only when some deploy counted them."""
    table = pd.DataFrame([asdict(s) for s in summaries])
    for counted in COUNTED_BYTES:
        if counted in table and table[counted].isna().all():
            table = table.drop(columns=counted)
    return table


def fleet_summary(replications: pd.DataFrame) -> pd.DataFrame:
    """Per strategy and fleet size: medians over replications, the p5-p95 band of the makespan, and
    the seconds each added server costs (slope from the previous fleet size), and the median bytes the
    origin served when the replications count them (p2p).

    A replication whose p50 (p95) is NaN never had half (95%) of its hosts live: it counts as the
    slowest in the median, which is NaN when that holds for half the replications or more. `max` is the
    median time the last updated host went live (`not_updated` says how many never were)."""
    grouped = replications.groupby(["strategy", "kind", "fleet_size"], sort=False)
    table = grouped.agg(
        replications=("replication", "count"),
        p50=("p50", median_never_last),
        p95=("p95", median_never_last),
        max=("makespan", "median"),
        max_p5=("makespan", lambda x: float(np.nanpercentile(x, 5))),
        max_p95=("makespan", lambda x: float(np.nanpercentile(x, 95))),
        not_updated=("not_updated", "mean"),
        **{counted: (counted, "median") for counted in COUNTED_BYTES if counted in replications},
    ).reset_index()
    table = table.sort_values(["strategy", "fleet_size"], kind="stable")
    table["s_per_host"] = _marginal(table)
    order = {name: i for i, name in enumerate(replications["strategy"].unique())}
    return table.sort_values(["strategy", "fleet_size"], key=lambda c: c.map(order) if c.name == "strategy" else c,
                             kind="stable").reset_index(drop=True)


def median_never_last(values: pd.Series) -> float:
    """The median of times where NaN means "never": NaN sorts after every time, and a median that
    falls on (or between) never is NaN."""
    times = np.where(np.isnan(values.to_numpy(dtype=float)), np.inf, values.to_numpy(dtype=float))
    if not len(times):
        return float("nan")
    middle = float(np.median(times))
    return middle if math.isfinite(middle) else float("nan")


def _marginal(table: pd.DataFrame) -> pd.Series:
    """Per strategy (rows sorted by fleet size within it): the change in median makespan over the change
    in fleet size from the previous row; NaN on each strategy's first row. Differences are taken within
    each strategy by a grouped diff, which keeps the table's index whatever the number of strategies (a
    grouped apply turns a single group into a wide frame)."""
    by_strategy = table.groupby("strategy", sort=False)
    return by_strategy["max"].diff() / by_strategy["fleet_size"].diff()


@dataclass(frozen=True)
class Crossover:
    """Where `pull` starts to beat `push`: the fleet size at which their deploy times cross. The fields
    name the roles, not only the kinds: a p2p strategy takes the `pull` role against push and against
    pull strategies (the one that should overtake as the fleet grows)."""

    pull: str
    push: str
    hosts: float | None  # None: no crossing between the fleet sizes run
    note: str

    def describe(self) -> str:
        if self.hosts is None:
            return f"{self.pull} vs {self.push}: {self.note}"
        return f"{self.pull} beats {self.push} from about {self.hosts:,.0f} hosts ({self.note})"


OVERTAKES = (("pull", "push"), ("p2p", "push"), ("p2p", "pull"))
"""Pairs of kinds (newer, older) whose crossing `crossovers` looks for, in this order."""


def crossovers(summary: pd.DataFrame) -> list[Crossover]:
    """For every (pull, push) pair, then (p2p, push) and (p2p, pull): the fleet size where the first's
    median deploy time drops below the second's, interpolated linearly in log(size) between the two
    sweep points that bracket it."""
    result = []
    kinds = summary.drop_duplicates("strategy").set_index("strategy")["kind"]
    for newer, older in OVERTAKES:
        for pull in kinds[kinds == newer].index:
            for push in kinds[kinds == older].index:
                result.append(_crossover(summary, pull, push))
    return result


def _crossover(summary: pd.DataFrame, pull: str, push: str) -> Crossover:
    a = summary[summary.strategy == pull].set_index("fleet_size")["max"]
    b = summary[summary.strategy == push].set_index("fleet_size")["max"]
    sizes = sorted(set(a.index) & set(b.index))
    gap = [(n, a[n] - b[n]) for n in sizes if not (math.isnan(a[n]) or math.isnan(b[n]))]
    if not gap:
        return Crossover(pull, push, None, "no fleet size with both results")
    if gap[0][1] < 0:
        return Crossover(pull, push, None, f"{pull} is already faster at the smallest fleet ({gap[0][0]:,} hosts)")
    for (n0, d0), (n1, d1) in zip(gap, gap[1:]):
        if d0 >= 0 > d1:
            x0, x1 = math.log(n0), math.log(n1)
            at = math.exp(x0 + (x1 - x0) * d0 / (d0 - d1))
            return Crossover(pull, push, at, f"between {n0:,} and {n1:,} of the fleet sizes run")
    return Crossover(pull, push, None, f"{push} stays faster up to {gap[-1][0]:,} hosts")


def marginal_at_scale(summary: pd.DataFrame) -> dict[str, float]:
    """Seconds each added server costs at the top of the sweep (slope between the two largest sizes)."""
    out = {}
    for name, group in summary.groupby("strategy", sort=False):
        slopes = group["s_per_host"].dropna()
        out[name] = float(slopes.iloc[-1]) if len(slopes) else float("nan")
    return out
