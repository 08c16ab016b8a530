"""A deploy record's hosts one flat record at a time (`DeployRecord.rows`), and its summary (`summary`,
`fleet_quantile`), against values written out by hand and against the column tables (`host_table`), which
read the same record another way.

test_summary_oracles.py holds more quantile cases and checks a real run's files; here: the record API
itself (rows, summary, the empty and the never-updated deploy)."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest

from sim.deploy.engine import Job, simulate
from sim.results.records import HOST_COLUMNS, DeployRecord, HostDeploy, fleet_quantile
from sim.results.tables import host_table
from tests.conftest import make_scenario

NAN = math.nan


def three_hosts(reason) -> DeployRecord:
    """Host 10 live at 5 s after one attempt; host 11 never updated (down, 2 attempts); host 12 live at 7.5 s
    after a retry."""
    return DeployRecord(
        strategy="rsync-4", kind="push", fleet_size=3, replication=2, release_signalled=0.0,
        host=np.array([10, 11, 12]), tier=np.array(["canary", "production", "production"], dtype=object),
        zone=np.array([0, 1, 1]), attempts=np.array([1, 2, 2]), signal=np.array([0.5, NAN, 3.0]),
        transfer_start=np.array([1.0, NAN, 3.25]), transfer_end=np.array([3.0, NAN, 6.0]),
        done=np.array([5.0, NAN, 7.5]), reason=np.array(reason, dtype=object))


@pytest.mark.parametrize("reason", [
    [None, "down: gave up after 2 attempts", None],  # the simulator: None for hosts that were updated
    ["", "down: gave up after 2 attempts", ""],  # the bench: empty text
])
def test_rows_are_one_flat_record_per_host(reason):
    rows = list(three_hosts(reason).rows())
    want = [HostDeploy(10, "canary", 0, 1, 0.5, 1.0, 3.0, 5.0, True, ""),
            HostDeploy(11, "production", 1, 2, NAN, NAN, NAN, NAN, False, "down: gave up after 2 attempts"),
            HostDeploy(12, "production", 1, 2, 3.0, 3.25, 6.0, 7.5, True, "")]
    pd.testing.assert_frame_equal(pd.DataFrame([asdict(r) for r in rows]), pd.DataFrame([asdict(w) for w in want]))
    # plain Python values, as the record types say: a row goes to JSON as it is (numpy integers would not)
    for row in rows:
        assert [type(getattr(row, c)) for c in HOST_COLUMNS] == [int, str, int, int, float, float, float, float,
                                                                  bool, str]
        json.dumps(asdict(row))


def test_rows_agree_with_the_host_table_of_a_simulated_deploy():
    # 12 hosts, 40% down with one retry: some hosts never updated. The rows, read one host at a time, must
    # give the host table's columns (built from the arrays directly), a never-updated host's reason
    # included, and "" where the table has None.
    scenario = make_scenario(
        fleet={"hosts": 12, "zones": 2, "tiers": {"canary": 0}},
        artifact={"size": "1000B", "files": 10},
        network={"deploy_egress": "100kB/s", "per_flow": "250B/s", "host_download": "500B/s"},
        faults={"down": "40%", "retries": 1, "attempt_timeout": "1s", "backoff": "1s"},
        strategies={"push": {"kind": "push", "parallel": 3, "connect": "1s", "scan_per_file": 0,
                             "activation": "2s"}})
    record = simulate(scenario, Job("push", 12, 0, entropy=5))
    assert 0 < np.isnan(record.done).sum() < 12, "the seed should leave some hosts down and some up"
    rows = pd.DataFrame([asdict(r) for r in record.rows()])
    table = host_table([record])[list(HOST_COLUMNS)].astype({"host": int, "zone": int, "attempts": int})
    table["reason"] = table.reason.fillna("")
    pd.testing.assert_frame_equal(rows, table, check_dtype=False)
    assert (rows.reason != "").tolist() == (~rows.updated).tolist()


def hosts(done, attempts) -> DeployRecord:
    n = len(done)
    nan = np.full(n, NAN)
    return DeployRecord(strategy="pull", kind="pull", fleet_size=n, replication=0, release_signalled=0.25,
                        host=np.arange(n), tier=np.full(n, "production", dtype=object), zone=np.zeros(n, int),
                        attempts=np.array(attempts, dtype=np.int64), signal=nan, transfer_start=nan,
                        transfer_end=nan, done=np.array(done, dtype=float), reason=np.full(n, None, dtype=object))


def test_summary_of_a_record_reads_all_its_hosts():
    # 3 hosts, one never live: p50 = ceil(1.5) = 2nd host live = 7.5; p95 needs all 3 -> NaN; makespan 7.5;
    # mean attempts (1 + 2 + 2) / 3.
    record = three_hosts([None, "down", None])
    s = record.summary()
    assert (s.strategy, s.kind, s.fleet_size, s.replication) == ("rsync-4", "push", 3, 2)
    assert (s.p50, s.makespan, s.updated, s.not_updated) == (7.5, 7.5, 2, 1) and math.isnan(s.p95)
    assert s.mean_attempts == pytest.approx(5 / 3)
    assert record.updated.tolist() == [True, False, True]


@pytest.mark.parametrize("done, attempts, want", [
    # all 4 live: p50 = 2nd = 2.0, p95 = ceil(3.8) = 4th = 9.0 = makespan; attempts (1+1+3+1)/4
    ([9.0, 2.0, 1.0, 4.0], [1, 1, 3, 1], (2.0, 9.0, 9.0, 4, 0, 1.5)),
    # nobody live (every host down after 3 attempts): no quantile, no makespan
    ([NAN, NAN], [3, 3], (NAN, NAN, NAN, 0, 2, 3.0)),
    # an empty deploy: nobody to wait for (0 s), no host went live (no makespan), no attempts
    ([], [], (0.0, 0.0, NAN, 0, 0, 0.0)),
])
def test_summary_edge_cases_need_no_warning(done, attempts, want):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. numpy's "All-NaN slice" / "Mean of empty slice" on the user's screen
        s = hosts(done, attempts).summary()
    got = (s.p50, s.p95, s.makespan, s.updated, s.not_updated, s.mean_attempts)
    np.testing.assert_equal(got, want)


@pytest.mark.parametrize("done, q, want", [
    # need = ceil(q * n) hosts live; the answer is the need-th earliest time, NaN if fewer ever went live
    ([30.0, 10.0, 20.0, 40.0], 0.5, 20.0),  # need 2 of 4
    ([30.0, 10.0, 20.0, 40.0], 0.51, 30.0),  # need ceil(2.04) = 3
    ([30.0, 10.0, 20.0, 40.0], 0.25, 10.0),  # need 1: the first host live
    ([30.0, 10.0, 20.0, 40.0], 0.01, 10.0),  # need ceil(0.04) = 1
    ([30.0, NAN, 20.0, 40.0], 0.75, 40.0),  # need 3: exactly the 3 live
    ([30.0, NAN, 20.0, NAN], 0.75, NAN),  # need 3, 2 live
    ([NAN, NAN], 0.5, NAN),  # need 1, none live
    ([NAN, NAN], 0.0, 0.0),  # need nobody: at once
])
def test_fleet_quantile_counts_hosts(done, q, want):
    got = fleet_quantile(np.array(done), q)
    assert (math.isnan(got) and math.isnan(want)) or got == want
