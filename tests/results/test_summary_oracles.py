"""The reported numbers against independent oracles: hand-made frames and records with answers worked out
by hand (crossover on a log scale, medians and percentiles by numpy, fleet quantiles by counting hosts),
and a real `run` whose printed and written numbers are recomputed from its own CSV files.

Each expected value says where it comes from; none is a number copied from a previous run."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.results import columns
from sim.results.records import HOST_COLUMNS, DeployRecord, DeploySummary, fleet_quantile, summarize
from sim.results.tables import (
    Crossover,
    crossovers,
    fleet_summary,
    host_table,
    marginal_at_scale,
    median_never_last,
    replication_table,
)

SUMMARY_COLUMNS = ["strategy", "kind", "fleet_size", "replications", "p50", "p95", "max", "max_p5", "max_p95",
                   "not_updated", "s_per_host"]


# ---- crossover -----------------------------------------------------------------------------------------

def summary_rows(strategy: str, kind: str, maxima: dict[int, float]) -> list[dict]:
    """Rows of a fleet summary with only the columns `crossovers` reads."""
    return [{"strategy": strategy, "kind": kind, "fleet_size": n, "max": m} for n, m in maxima.items()]


def crossing(pull: dict[int, float], push: dict[int, float]) -> Crossover:
    frame = pd.DataFrame(summary_rows("pull", "pull", pull) + summary_rows("push", "push", push))
    [result] = crossovers(frame)
    return result


def test_crossover_is_interpolated_on_a_log_scale():
    # gap pull - push: +30 at 10 hosts, -10 at 1,000 hosts: zero 3/4 of the way from log(10) to log(1000),
    # so at 10 ** (1 + 2 * 0.75) = 10 ** 2.5 = 316.2 hosts (linearly in size it would be 752.5).
    result = crossing({10: 40.0, 1000: 60.0}, {10: 10.0, 1000: 70.0})
    assert result.hosts == pytest.approx(10 ** 2.5, rel=1e-12)
    assert result.note == "between 10 and 1,000 of the fleet sizes run"
    assert result.describe() == "pull beats push from about 316 hosts (between 10 and 1,000 of the fleet sizes run)"


def test_crossover_takes_the_first_bracket_where_the_gap_changes_sign():
    # gaps +100, +40, -20, +5: the first sign change is between 100 and 1,000; the zero is 2/3 of the way
    # in log size: 10 ** (2 + 2/3).
    result = crossing({10: 200.0, 100: 140.0, 1000: 80.0, 10000: 105.0},
                      {10: 100.0, 100: 100.0, 1000: 100.0, 10000: 100.0})
    assert result.hosts == pytest.approx(10 ** (2 + 2 / 3), rel=1e-12)
    assert result.note == "between 100 and 1,000 of the fleet sizes run"


def test_a_tie_at_a_sweep_point_is_the_crossover():
    # gap 0 at 100 then negative: the zero is at 100 itself (and 0 at the smallest fleet is not "faster").
    assert crossing({10: 20.0, 100: 50.0, 1000: 60.0}, {10: 10.0, 100: 50.0, 1000: 90.0}).hosts == pytest.approx(100)
    assert crossing({10: 10.0, 100: 20.0}, {10: 10.0, 100: 30.0}).hosts == pytest.approx(10)


def test_a_tie_is_a_crossover_only_where_pull_then_gets_faster():
    # gaps +20, 0, -10: the tie at 100 starts pull's lead, so the bracket is 100 .. 1,000 (zero at 100)
    result = crossing({10: 30.0, 100: 50.0, 1000: 80.0}, {10: 10.0, 100: 50.0, 1000: 90.0})
    assert result.hosts == pytest.approx(100.0, rel=1e-12)
    assert result.note == "between 100 and 1,000 of the fleet sizes run"
    # gaps +20, 0, +5: pull only draws level at 100, then falls behind again: it never beats push
    result = crossing({10: 30.0, 100: 50.0, 1000: 95.0}, {10: 10.0, 100: 50.0, 1000: 90.0})
    assert result == Crossover("pull", "push", None, "push stays faster up to 1,000 hosts")


def test_pull_already_faster_at_the_smallest_fleet():
    result = crossing({10: 5.0, 100: 6.0}, {10: 10.0, 100: 100.0})
    assert result == Crossover("pull", "push", None, "pull is already faster at the smallest fleet (10 hosts)")
    assert result.describe() == "pull vs push: pull is already faster at the smallest fleet (10 hosts)"


def test_push_stays_faster():
    result = crossing({10: 50.0, 100: 60.0, 10000: 70.0}, {10: 10.0, 100: 20.0, 10000: 69.0})
    assert result == Crossover("pull", "push", None, "push stays faster up to 10,000 hosts")


def test_no_fleet_size_with_both_results():
    assert crossing({10: 50.0}, {100: 10.0}) == Crossover("pull", "push", None, "no fleet size with both results")
    # a size where either side is NaN does not count as a size with both results
    assert crossing({10: math.nan, 100: 1.0}, {10: 1.0, 100: math.nan}).note == "no fleet size with both results"


def test_sizes_with_a_nan_are_skipped_and_only_common_sizes_bracket():
    # pull has no result at 100 (NaN) and push none at 300: the bracket is 10 .. 1,000 with gaps +10, -10,
    # so the zero is halfway in log size: sqrt(10 * 1000) = 100.
    result = crossing({10: 30.0, 100: math.nan, 1000: 40.0, 5000: 1.0},
                      {10: 20.0, 100: 1.0, 300: 1.0, 1000: 50.0})
    assert result.hosts == pytest.approx(100.0, rel=1e-12)
    assert result.note == "between 10 and 1,000 of the fleet sizes run"
    # NaN at the smallest size: the smallest size with both results decides "already faster"
    assert crossing({10: math.nan, 100: 1.0}, {10: 5.0, 100: 2.0}).note == \
        "pull is already faster at the smallest fleet (100 hosts)"


def test_every_pull_is_paired_with_every_push_in_the_order_they_appear():
    frame = pd.DataFrame(summary_rows("p1", "pull", {10: 40.0, 1000: 60.0})
                         + summary_rows("rsync", "push", {10: 10.0, 1000: 70.0})
                         + summary_rows("p2", "pull", {10: 5.0, 1000: 6.0})
                         + summary_rows("serial", "push", {10: 20.0, 1000: 2000.0}))
    result = crossovers(frame)
    assert [(c.pull, c.push) for c in result] == [("p1", "rsync"), ("p1", "serial"), ("p2", "rsync"), ("p2", "serial")]
    assert result[0].hosts == pytest.approx(10 ** 2.5)
    # p1 vs serial: gaps +20 at 10 and -1940 at 1000: zero at 10 ** (1 + 2 * 20 / 1960)
    assert result[1].hosts == pytest.approx(10 ** (1 + 2 * 20 / 1960), rel=1e-12)
    assert result[2].hosts is None and result[3].hosts is None


# ---- fleet summary ---------------------------------------------------------------------------------------

def replication_rows(strategy, kind, size, p50, p95, makespan, not_updated):
    return [{"strategy": strategy, "kind": kind, "fleet_size": size, "replication": r, "p50": a, "p95": b,
             "makespan": m, "updated": size - u, "not_updated": u, "mean_attempts": 1.0}
            for r, (a, b, m, u) in enumerate(zip(p50, p95, makespan, not_updated))]


# Strategies arrive "zeta" before "alpha" and sizes out of order; p50, p95 and makespan all differ, so a
# slope or a column taken from the wrong statistic cannot match.
REPLICATIONS = (
    replication_rows("zeta", "pull", 100, [3, 1, 2, 9], [7, 5, 6, 20], [50, 70, 60, 200], [0, 1, 0, 3])
    + replication_rows("alpha", "push", 10, [1, 2, 3], [4, 5, 6], [10, 11, 30], [0, 0, 0])
    + replication_rows("zeta", "pull", 10, [2, 4, 3, 1], [5, 8, 7, 6], [12, 20, 14, 13], [1, 0, 0, 0])
    + replication_rows("alpha", "push", 1000, [100, 300, 200], [400, 420, 410], [500, 900, 520], [2, 0, 1])
    + replication_rows("alpha", "push", 100, [20, 40, 30], [50, 55, 60], [60, 64, 90], [0, 0, 0])
)


def median(x: np.ndarray) -> float:
    """Median over the replications that have the number (the makespan of those with an updated host)."""
    x = x[~np.isnan(x)]
    return float(np.median(x)) if len(x) else math.nan


def median_of_times(x: np.ndarray) -> float:
    """Median of fleet quantiles over all replications: one where 50% (95%) of the fleet never ran the
    new build (NaN) is the slowest; the median is NaN ("never") when it falls on such a replication."""
    ranked = sorted(x, key=lambda v: (math.isnan(v), v))
    n = len(ranked)
    middle = ranked[(n - 1) // 2: n // 2 + 1]
    return math.nan if not n or any(math.isnan(v) for v in middle) else sum(middle) / len(middle)


def percentile(x: np.ndarray, q: float) -> float:
    x = x[~np.isnan(x)]
    return float(np.percentile(x, q)) if len(x) else math.nan


def expected_summary(rows: list[dict]) -> list[dict]:
    """The fleet summary worked out with plain numpy: medians, linear-interpolated percentiles, means, and
    the slope of the median makespan between consecutive sizes of the same strategy."""
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    out = []
    for name in strategies:
        previous = None
        for size in sorted({r["fleet_size"] for r in rows if r["strategy"] == name}):
            group = [r for r in rows if r["strategy"] == name and r["fleet_size"] == size]
            col = lambda key: np.array([r[key] for r in group], dtype=float)
            row = {"strategy": name, "kind": group[0]["kind"], "fleet_size": size, "replications": len(group),
                   "p50": median_of_times(col("p50")), "p95": median_of_times(col("p95")), "max": median(col("makespan")),
                   "max_p5": percentile(col("makespan"), 5), "max_p95": percentile(col("makespan"), 95),
                   "not_updated": col("not_updated").mean()}
            row["s_per_host"] = (math.nan if previous is None
                                 else (row["max"] - previous["max"]) / (size - previous["fleet_size"]))
            out.append(row)
            previous = row
    return out


def test_fleet_summary_every_column_by_hand():
    summary = fleet_summary(pd.DataFrame(REPLICATIONS))
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert list(zip(summary.strategy, summary.fleet_size)) == [
        ("zeta", 10), ("zeta", 100), ("alpha", 10), ("alpha", 100), ("alpha", 1000)]
    got = summary.to_dict("records")
    for row, want in zip(got, expected_summary(REPLICATIONS)):
        assert row.keys() == want.keys()
        for key, value in want.items():
            if isinstance(value, str):
                assert row[key] == value, key
            else:
                np.testing.assert_allclose(row[key], value, rtol=1e-12, err_msg=f"{want['strategy']} {key}")


def test_fleet_summary_takes_the_median_origin_bytes_of_p2p_replications():
    """A p2p run counts the bytes its origin served: the summary's origin_bytes is their median per strategy
    and size (by hand below); push and pull rows carry none (NaN), and a run without p2p has no column."""
    rows = [dict(r, origin_bytes=b) for r, b in zip(REPLICATIONS, [4e9, 1e9, 3e9, 2e9] + [np.nan] * 3
                                                    + [5e9, 7e9, 6e9, 9e9] + [np.nan] * 6)]
    table = fleet_summary(pd.DataFrame(rows))
    assert list(table.columns) == [*SUMMARY_COLUMNS[:10], "origin_bytes", *SUMMARY_COLUMNS[10:]]
    summary = table.set_index(["strategy", "fleet_size"])
    assert summary.loc[("zeta", 100), "origin_bytes"] == 2.5e9  # median of 4, 1, 3, 2 GB
    assert summary.loc[("zeta", 10), "origin_bytes"] == 6.5e9  # median of 5, 7, 6, 9 GB
    assert summary.loc["alpha", "origin_bytes"].isna().all()
    assert "origin_bytes" not in fleet_summary(pd.DataFrame(REPLICATIONS))


def test_fleet_summary_spot_values():
    # A few values by hand, so the numpy oracle above is itself checked.
    summary = fleet_summary(pd.DataFrame(REPLICATIONS)).set_index(["strategy", "fleet_size"])
    zeta10, zeta100 = summary.loc[("zeta", 10)], summary.loc[("zeta", 100)]
    assert (zeta10.p50, zeta10.p95, zeta10["max"]) == (2.5, 6.5, 13.5)
    assert (zeta100.p50, zeta100.p95, zeta100["max"]) == (2.5, 6.5, 65.0)
    # makespans 50, 60, 70, 200: p5 at rank 0.15 -> 51.5; p95 at rank 2.85 -> 70 + 0.85 * 130 = 180.5
    assert zeta100.max_p5 == pytest.approx(51.5) and zeta100.max_p95 == pytest.approx(180.5)
    assert zeta100.not_updated == 1.0 and zeta100.replications == 4
    # slope from the median makespan (65 - 13.5) / 90, not from p50 (which does not move at all)
    assert zeta100.s_per_host == pytest.approx(51.5 / 90)
    assert summary.loc[("alpha", 1000)].s_per_host == pytest.approx((520 - 64) / 900)


def test_marginal_at_scale_is_the_slope_between_the_two_largest_sizes():
    summary = fleet_summary(pd.DataFrame(REPLICATIONS))
    result = marginal_at_scale(summary)
    assert list(result) == ["zeta", "alpha"]
    assert result["zeta"] == pytest.approx((65.0 - 13.5) / 90)
    assert result["alpha"] == pytest.approx((520.0 - 64.0) / 900)
    single = marginal_at_scale(fleet_summary(pd.DataFrame(replication_rows("one", "pull", 10, [1], [2], [3], [0]))))
    assert list(single) == ["one"] and math.isnan(single["one"])


def test_a_replication_that_never_reached_the_quantile_counts_as_the_slowest():
    # p95 over 5 replications, one never reached 95% (NaN): sorted 40, 50, 60, 70, never -> 60 (leaving
    # it out would give 55). With two of four never: the middle pair holds a never -> NaN.
    rows = replication_rows("z", "pull", 10, [1, 2, 3, 4, 5], [40, 50, math.nan, 60, 70], [80] * 5, [0, 0, 1, 0, 0])
    assert fleet_summary(pd.DataFrame(rows)).iloc[0].p95 == 60.0
    rows = replication_rows("z", "pull", 10, [1, 2, 3, 4], [40, math.nan, math.nan, 60], [80] * 4, [0, 1, 1, 0])
    assert math.isnan(fleet_summary(pd.DataFrame(rows)).iloc[0].p95)
    rows = replication_rows("z", "pull", 10, [1, 2, math.nan, 4], [40, 50, 60, 70], [80] * 4, [0, 0, 6, 0])
    assert fleet_summary(pd.DataFrame(rows)).iloc[0].p50 == 3.0  # 1, 2, 4, never: (2 + 4) / 2


def test_percentile_band_ignores_replications_with_no_updated_host():
    # a replication where no host was updated has a NaN makespan; the band is over the others
    rows = replication_rows("z", "pull", 10, [1, 1, 1, 1], [2, 2, 2, 2], [10, 20, 30, math.nan], [0, 0, 0, 10])
    row = fleet_summary(pd.DataFrame(rows)).iloc[0]
    assert row.max_p5 == pytest.approx(np.percentile([10, 20, 30], 5))
    assert row.max_p95 == pytest.approx(np.percentile([10, 20, 30], 95))
    assert row.not_updated == 2.5 and row.replications == 4


# ---- one deploy's summary: quantiles over ALL hosts -------------------------------------------------------

def record(done, attempts=None, strategy="s", kind="push") -> DeployRecord:
    done = np.asarray(done, dtype=float)
    n = len(done)
    attempts = np.ones(n, dtype=np.int64) if attempts is None else np.asarray(attempts)
    nan = np.full(n, np.nan)
    return DeployRecord(strategy=strategy, kind=kind, fleet_size=n, replication=3, release_signalled=0.0,
                        host=np.arange(n), tier=np.full(n, "production", dtype=object), zone=np.zeros(n, int),
                        attempts=attempts, signal=nan, transfer_start=nan, transfer_end=nan, done=done,
                        reason=np.full(n, None, dtype=object))


def test_quantiles_count_hosts_never_updated_as_never_live():
    # 10 hosts, 2 never updated, done times out of order. 50% of ALL hosts = 5 hosts: the 5th earliest
    # time, 5.0 (over the 8 updated hosts only it would be the 4th, 4.0). 95% = 10 hosts: never -> NaN
    # (over updated hosts only it would be 8.0). makespan: the last UPDATED host, 8.0.
    s = summarize(record([8, 1, np.nan, 3, 2, 7, np.nan, 5, 4, 6], attempts=[1, 1, 4, 1, 2, 1, 4, 1, 1, 1]))
    assert (s.p50, s.makespan, s.updated, s.not_updated) == (5.0, 8.0, 8, 2)
    assert math.isnan(s.p95)
    assert s.mean_attempts == pytest.approx(17 / 10)
    assert (s.strategy, s.kind, s.fleet_size, s.replication) == ("s", "push", 10, 3)


def test_quantiles_at_the_exact_count():
    # 20 hosts, one never updated: 95% = 19 hosts: the 19th earliest, i.e. the last updated (19.0);
    # 50% = 10 hosts: 10.0. Over updated hosts only, p95 would be ceil(0.95 * 19) = 19th too, but p50 the
    # ceil(9.5) = 10th -- so also check 21 hosts with two missing: 50% = ceil(10.5) = 11 hosts -> 11.0.
    done = np.arange(1.0, 21.0)
    done[5] = np.nan  # host 5 never updated: the updated times are 1..5, 7..20
    s = summarize(record(done))
    assert (s.p50, s.p95, s.makespan, s.not_updated) == (11.0, 20.0, 20.0, 1)
    done = np.arange(1.0, 22.0)
    done[[0, 1]] = np.nan  # updated times 3..21
    s = summarize(record(done))
    # all hosts: 11th earliest of 3..21 = 13.0; 95%: ceil(19.95) = 20 hosts > 19 updated -> NaN
    assert s.p50 == 13.0 and math.isnan(s.p95) and s.makespan == 21.0


def test_exactly_half_updated_and_none_updated():
    s = summarize(record([3.0, np.nan, 1.0, np.nan]))
    assert (s.p50, s.makespan, s.updated, s.not_updated) == (3.0, 3.0, 2, 2) and math.isnan(s.p95)
    s = summarize(record([np.nan, np.nan, np.nan]))
    assert math.isnan(s.p50) and math.isnan(s.p95) and math.isnan(s.makespan)
    assert (s.updated, s.not_updated) == (0, 3)


def test_fleet_quantile_edge_cases():
    assert fleet_quantile(np.array([]), 0.5) == 0.0  # nobody to wait for
    assert fleet_quantile(np.array([4.0, 2.0]), 0.0) == 0.0
    assert fleet_quantile(np.array([4.0, 2.0]), 1.0) == 4.0
    assert fleet_quantile(np.array([4.0, 2.0, 9.0]), 1 / 3) == 2.0
    assert math.isnan(fleet_quantile(np.array([4.0, np.nan]), 1.0))


# ---- host and replication tables: the records, column by column ----------------------------------------

HOST_TABLE_COLUMNS = ["strategy", "kind", "fleet_size", "replication", *HOST_COLUMNS]


def distinct_record(strategy, kind, replication, done, first_host=0) -> DeployRecord:
    """A record whose every column holds values no other column has, so a column read from the wrong
    field (or under the wrong name) shows."""
    n = len(done)
    done = np.asarray(done, dtype=float)
    hosts = np.arange(first_host, first_host + n)
    return DeployRecord(strategy=strategy, kind=kind, fleet_size=n, replication=replication, release_signalled=0.0,
                        host=hosts, tier=np.array(["canary"] + ["production"] * (n - 1), dtype=object),
                        zone=hosts % 3 + 100, attempts=hosts % 2 + 1, signal=done - 0.75,
                        transfer_start=done - 0.5, transfer_end=done - 0.25, done=done,
                        reason=np.array([None if np.isfinite(d) else "gave up" for d in done], dtype=object))


def test_host_table_has_one_row_per_host_of_every_record_in_order():
    a = distinct_record("rsync", "push", 4, [5.0, np.nan])
    b = distinct_record("consul", "pull", 7, [1.5, 2.5, 3.5], first_host=10)
    table = host_table([a, b])
    assert list(table.columns) == HOST_TABLE_COLUMNS
    assert table.index.tolist() == [0, 1, 2, 3, 4]  # one running index, not each record's own
    assert table.strategy.tolist() == ["rsync"] * 2 + ["consul"] * 3
    assert table.kind.tolist() == ["push"] * 2 + ["pull"] * 3
    assert table.fleet_size.tolist() == [2, 2, 3, 3, 3]
    assert table.replication.tolist() == [4, 4, 7, 7, 7]
    assert table.host.tolist() == [0, 1, 10, 11, 12]
    assert table.tier.tolist() == ["canary", "production", "canary", "production", "production"]
    assert table.zone.tolist() == [100, 101, 101, 102, 100]
    assert table.attempts.tolist() == [1, 2, 1, 2, 1]
    done = [5.0, math.nan, 1.5, 2.5, 3.5]
    for column, offset in (("signal", 0.75), ("transfer_start", 0.5), ("transfer_end", 0.25), ("done", 0.0)):
        np.testing.assert_array_equal(table[column], np.array(done) - offset, err_msg=column)
    assert table.updated.tolist() == [True, False, True, True, True]
    assert table.reason.isna().tolist() == [True, False, True, True, True] and table.reason[1] == "gave up"


def test_host_table_of_no_records_is_empty_with_the_same_columns():
    table = host_table([])
    assert list(table.columns) == HOST_TABLE_COLUMNS and len(table) == 0


def test_replication_table_has_one_row_per_deploy_with_its_summary():
    summaries = [summarize(distinct_record("rsync", "push", 4, [5.0, np.nan, 1.0, 2.0])),
                 summarize(distinct_record("consul", "pull", 7, [1.5, 2.5]))]
    table = replication_table(summaries)
    # origin_bytes and cross_zone_bytes are counts of p2p (and pull through zones): a table of push and plain
    # pull deploys leaves them out (their tables keep their columns)
    assert list(table.columns) == [f for f in DeploySummary.__dataclass_fields__
                                   if f not in ("origin_bytes", "cross_zone_bytes")]
    # rsync: done 1, 2, 5 and one never: p50 = 2nd earliest = 2.0, p95 = 4 hosts > 3 updated -> never
    assert table.to_dict("records")[0] == pytest.approx(
        {"strategy": "rsync", "kind": "push", "fleet_size": 4, "replication": 4, "p50": 2.0, "p95": math.nan,
         "makespan": 5.0, "updated": 3, "not_updated": 1, "mean_attempts": (1 + 2 + 1 + 2) / 4}, nan_ok=True)
    # consul: 2 hosts, p50 = 1st earliest = 1.5, p95 = 2nd = 2.5 (attempts 1 and 2)
    assert table.to_dict("records")[1] == pytest.approx(
        {"strategy": "consul", "kind": "pull", "fleet_size": 2, "replication": 7, "p50": 1.5, "p95": 2.5,
         "makespan": 2.5, "updated": 2, "not_updated": 0, "mean_attempts": 1.5})


@pytest.mark.parametrize("times, want", [
    ([3.0, 1.0, 2.0], 2.0),
    ([4, 1, 3, 2], 2.5),  # whole seconds (integers) are times too
    ([5.0, math.nan, 1.0], 5.0),  # 1, 5, never: the middle is 5
    ([5.0, math.nan, 1.0, 2.0], 3.5),  # 1, 2, 5, never: (2 + 5) / 2
    ([1.0, math.nan, math.nan, 2.0], math.nan),  # 1, 2, never, never: the middle pair holds a never
    ([math.nan], math.nan),
    ([], math.nan),  # no replication: no median
])
def test_median_where_nan_means_never(times, want):
    got = median_never_last(pd.Series(times, dtype=float if not times or isinstance(times[0], float) else int))
    assert (math.isnan(got) and math.isnan(want)) or got == want
    assert isinstance(got, float)


def test_median_where_never_is_none():
    # times held as Python objects, "never" as None (as JSON null reads back): the same medians
    assert median_never_last(pd.Series([5.0, None, 1.0], dtype=object)) == 5.0
    assert math.isnan(median_never_last(pd.Series([1.0, None, None, 2.0], dtype=object)))


# ---- `run` end to end: printed and written numbers recomputed from its own CSV files ----------------------

SCENARIO = """\
version: 1
name: tiny-oracle
seed: 11
replications: 5
fleet: {zones: 2, tiers: {canary: 0}, sizes: [2, 6, 18, 54]}
artifact: {size: 10MB, files: 1000}
network: {deploy_egress: 100MB/s, origin_egress: 100MB/s, per_flow: 50MB/s, host_download: 50MB/s}
faults: {down: 5%, straggle: 20%, straggle_factor: 3, attempt_timeout: 1s, retries: 1, backoff: 1s}
strategies:
  serial: {kind: push, parallel: 1, connect: {dist: lognormal, median: 1s, p95: 2s}, activation: 1s}
  pull: {kind: pull, publish: 20s, key_write: 10ms, wakeup: {dist: lognormal, median: 50ms, p95: 200ms},
         verify_rate: 100MB/s, activation: 1s}
output: {host_rows: all}
"""


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("oracle")
    scenario = folder / "tiny.yaml"
    scenario.write_text(SCENARIO)
    out = folder / "out"
    result = CliRunner().invoke(app, ["run", str(scenario), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_run_writes_replications_that_match_its_host_rows(tiny_run):
    # Every replication's p50/p95/makespan recomputed from hosts.csv by counting hosts (NaN done: never
    # updated, and counted in the fleet the quantile is of).
    out, _ = tiny_run
    hosts = columns.to_memory(pd.read_csv(out / "hosts.csv"), columns.HOSTS)  # (the files' names: test_columns)
    reps = columns.to_memory(pd.read_csv(out / "replications.csv"), columns.REPLICATIONS)
    assert len(reps) == 2 * 4 * 5
    assert (~hosts.updated).sum() > 0, "the scenario should leave some host down"
    for rep in reps.itertuples():
        done = hosts[(hosts.strategy == rep.strategy) & (hosts.fleet_size == rep.fleet_size)
                     & (hosts.replication == rep.replication)].done.to_numpy()
        assert len(done) == rep.fleet_size
        live = np.sort(done[~np.isnan(done)])
        for q, got in ((0.5, rep.p50), (0.95, rep.p95)):
            need = math.ceil(q * len(done))
            want = live[need - 1] if len(live) >= need else math.nan
            np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"{rep} q={q}")
        np.testing.assert_allclose(rep.makespan, live[-1] if len(live) else math.nan, rtol=1e-12)
        assert rep.not_updated == np.isnan(done).sum()


def test_run_summary_json_matches_numbers_recomputed_from_replications_csv(tiny_run):
    out, printed = tiny_run
    reps = columns.to_memory(pd.read_csv(out / "replications.csv"), columns.REPLICATIONS)
    data = json.loads((out / "summary.json").read_text())["results"]
    data["summary"] = [columns.from_file(row, columns.SUMMARY) for row in data["summary"]]
    data["crossovers"] = [columns.from_file(row, columns.CROSSOVER) for row in data["crossovers"]]
    want = expected_summary(reps.to_dict("records"))
    assert [(r["strategy"], r["fleet_size"]) for r in data["summary"]] == \
        [(r["strategy"], r["fleet_size"]) for r in want]
    for row, expected in zip(data["summary"], want):
        for key, value in expected.items():
            got = row[key]
            if isinstance(value, str):
                assert got == value
            else:
                np.testing.assert_allclose(math.nan if got is None else got, value, rtol=1e-9,
                                           err_msg=f"{expected['strategy']} {expected['fleet_size']} {key}")
    # summary.csv says the same
    csv = columns.to_memory(pd.read_csv(out / "summary.csv"), columns.SUMMARY)
    assert list(csv.columns) == [*SUMMARY_COLUMNS, "bottleneck", "bound"]  # closed forms: test_bottleneck.py
    assert [r["bottleneck"] for r in data["summary"]] == list(csv["bottleneck"])
    np.testing.assert_allclose(csv["max"], [r["max"] for r in want], rtol=1e-9)

    # seconds per added host at scale: slope of the median makespan between the two largest sizes
    by = {name: [r for r in want if r["strategy"] == name] for name in ("serial", "pull")}
    slopes = {name: (rows[-1]["max"] - rows[-2]["max"]) / (rows[-1]["fleet_size"] - rows[-2]["fleet_size"])
              for name, rows in by.items()}
    assert data["per_added_host_s_at_scale"] == pytest.approx(slopes, rel=1e-9)
    for name, slope in slopes.items():
        assert f"at scale, each added server adds {slope:.3f} s to a {name} deploy" in printed

    # crossover: first sign change of median pull - serial makespan, interpolated in log size
    gaps = [(p["fleet_size"], p["max"] - s["max"]) for p, s in zip(by["pull"], by["serial"])]
    assert gaps[0][1] > 0 > gaps[-1][1], "the scenario should cross inside the sweep"
    (n0, d0), (n1, d1) = next((a, b) for a, b in zip(gaps, gaps[1:]) if a[1] >= 0 > b[1])
    hosts = math.exp(math.log(n0) + (math.log(n1) - math.log(n0)) * d0 / (d0 - d1))
    [crossing_json] = data["crossovers"]
    assert crossing_json["pull"] == "pull" and crossing_json["push"] == "serial"
    assert crossing_json["hosts"] == pytest.approx(hosts, rel=1e-9)
    assert crossing_json["week"] is None  # a sweep, not growth: weeks mean nothing
    assert f"crossover: pull beats serial from about {hosts:,.0f} hosts (between {n0:,} and {n1:,} of the fleet sizes run)" \
        in printed
    crossover_csv = pd.read_csv(out / "crossover.csv")
    assert crossover_csv.fleet_hosts.tolist() == pytest.approx([hosts], rel=1e-9)
