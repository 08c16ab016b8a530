"""The fleet summary's marginal cost per added host, for any number of strategies (regression: one strategy
at two or more fleet sizes crashed in pandas with "Cannot set a DataFrame with multiple columns to the
single column s_per_host"). Expected slopes are worked out by hand from the rows."""

import math

import pandas as pd
import pytest

from sim.commands.run import run
from sim.results.tables import fleet_summary, marginal_at_scale


def rows(strategy: str, kind: str, makespans: dict[int, list[float]]) -> list[dict]:
    return [{"strategy": strategy, "kind": kind, "fleet_size": size, "replication": r, "p50": m / 2, "p95": m,
             "makespan": m, "updated": size, "not_updated": 0, "mean_attempts": 1.0}
            for size, values in makespans.items() for r, m in enumerate(values)]


def test_one_strategy_at_several_sizes():
    table = pd.DataFrame(rows("pull", "pull", {10: [20.0, 22.0], 100: [30.0, 32.0], 1000: [120.0, 122.0]}))
    summary = fleet_summary(table)
    assert list(summary.fleet_size) == [10, 100, 1000]
    assert math.isnan(summary.s_per_host[0])
    assert summary.s_per_host[1:].tolist() == pytest.approx([(31 - 21) / 90, (121 - 31) / 900])
    assert marginal_at_scale(summary) == {"pull": pytest.approx(0.1)}


def test_slopes_stay_within_each_strategy():
    table = pd.DataFrame(rows("push", "push", {10: [10.0], 100: [100.0]})
                         + rows("pull", "pull", {10: [5.0], 100: [6.0]}))
    summary = fleet_summary(table)
    assert list(summary.strategy) == ["push", "push", "pull", "pull"]  # the order the strategies came in
    assert math.isnan(summary.s_per_host[0]) and math.isnan(summary.s_per_host[2])
    assert summary.s_per_host[[1, 3]].tolist() == pytest.approx([90 / 90, 1 / 90])


def test_one_strategy_at_one_size_has_no_slope():
    summary = fleet_summary(pd.DataFrame(rows("pull", "pull", {10: [5.0, 7.0]})))
    assert len(summary) == 1 and math.isnan(summary.s_per_host[0])


def test_run_with_one_strategy_and_two_fleet_sizes(root):
    result = run(str(root / "scenarios/push_vs_pull.yaml"), overrides=[
        "strategies={consul-pull: {kind: pull}}", "fleet.sizes=[10, 100]"], replications=2, seed=1, workers=1,
        progress=False)
    assert list(result.summary.fleet_size) == [10, 100] and result.crossovers == []
    row = result.summary.iloc[1]
    assert row.s_per_host == pytest.approx((row["max"] - result.summary["max"][0]) / 90)
