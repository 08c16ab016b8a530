"""Rolling back (`run --rollback`, sim/deploy/rollback.py): the previous build is kept on every host, so
no bytes move. Held to closed forms with constant durations: push takes ceil(N / k) rounds of connect +
switch (no scan, no transfer); pull takes key write + wake-up + switch on every host, whatever N (plus
the origin serving the scenario's 1-byte stand-in for "nothing" N times). On the
same seeds a rollback is never slower than the deploy it undoes. Through the CLI: rollback.csv and the
JSON's `rollback` hold the same rows, and the lines compare rollback with deploy."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from sim.deploy.engine import Job, simulate
from sim.deploy.rollback import rollback_scenario
from sim.results import columns
from tests.conftest import make_scenario
from tests.report.conftest import FLEET, RELEASE, invoke

CONNECT, SCAN_PER_FILE, ACTIVATION, KEY_WRITE, WAKEUP = 1.5, 0.001, 2.0, 0.25, 0.5


def scenario(parallel: int = 4, faults=None):
    return make_scenario(
        fleet={"hosts": 10, "tiers": {"canary": 0}}, artifact={"size": "1GB", "files": 5000},
        network={"deploy_egress": "1Gbps", "origin_egress": "1Gbps", "host_download": "1Gbps"},
        faults=faults or {},
        strategies={
            "push": {"kind": "push", "parallel": parallel, "connect": {"dist": "constant", "value": CONNECT},
                     "scan_per_file": SCAN_PER_FILE, "activation": {"dist": "constant", "value": ACTIVATION}},
            "pull": {"kind": "pull", "publish": "30s", "key_write": {"dist": "constant", "value": KEY_WRITE},
                     "wakeup": {"dist": "constant", "value": WAKEUP},
                     "activation": {"dist": "constant", "value": ACTIVATION}},
        })


@pytest.mark.parametrize("hosts, parallel", [(1, 1), (10, 1), (10, 4), (100, 32), (1000, 32)])
def test_push_rolls_back_in_rounds_of_connect_and_switch(hosts, parallel):
    record = simulate(rollback_scenario(scenario(parallel)), Job("push", hosts, 0, 1))
    done = np.sort(np.asarray(record.done))
    per_host = CONNECT + ACTIVATION
    assert done[-1] == pytest.approx(math.ceil(hosts / parallel) * per_host, rel=1e-9)
    assert done[0] == pytest.approx(per_host, rel=1e-9)
    deploy = simulate(scenario(parallel), Job("push", hosts, 0, 1))
    assert np.nanmax(deploy.done) > done[-1] + math.ceil(hosts / parallel) * 5000 * SCAN_PER_FILE * 0.999


@pytest.mark.parametrize("hosts", [1, 10, 1000, 100_000])
def test_pull_rolls_back_every_host_at_once(hosts):
    record = simulate(rollback_scenario(scenario()), Job("pull", hosts, 0, 1))
    done = np.asarray(record.done)
    one_byte_each = hosts * 1.0 / 1.25e8  # the origin serves the 1-byte stand-in N times: 0.8 ms at 100,000
    assert np.allclose(done, KEY_WRITE + WAKEUP + ACTIVATION + one_byte_each, rtol=0, atol=1e-7)


def test_a_rollback_is_never_slower_than_its_deploy_on_the_same_seeds():
    base = make_scenario(fleet={"hosts": 10}, strategies={"rsync-8": {"kind": "push", "parallel": 8},
                                                          "pull": {"kind": "pull"}, "p2p": {"kind": "p2p"}})
    for name in base.strategies:
        for hosts in (5, 300):
            deploy = np.asarray(simulate(base, Job(name, hosts, 0, 7)).done)
            back = np.asarray(simulate(rollback_scenario(base), Job(name, hosts, 0, 7)).done)
            assert np.nanmax(back) <= np.nanmax(deploy), (name, hosts)
            assert np.nanmedian(back) <= np.nanmedian(deploy), (name, hosts)


def test_run_rollback_writes_and_prints_the_comparison(tmp_path):
    (tmp_path / "fleet.yaml").write_text(FLEET)
    out = tmp_path / "out"
    result = invoke("run", tmp_path / "fleet.yaml", "--out", out, "-j", "1", "--rollback")
    assert result.exit_code == 0, result.output
    rolled = pd.read_csv(out / "rollback.csv")
    summary = pd.read_csv(out / "summary.csv")
    assert list(rolled.columns) == list(summary.columns) == [c.name for c in columns.ROLLBACK.columns
                                                             if not c.only_when]
    assert (rolled[["strategy", "fleet_hosts"]].values == summary[["strategy", "fleet_hosts"]].values).all()
    assert (rolled.max_s <= summary.max_s).all()
    data = json.loads((out / "summary.json").read_text())["results"]
    assert [r["max_s"] for r in data["rollback"]] == pytest.approx(list(rolled.max_s), rel=1e-9)
    for row in rolled[rolled.fleet_hosts == rolled.fleet_hosts.max()].itertuples():
        assert f"rollback at {row.fleet_hosts:,} hosts (previous build kept on every host): {row.strategy} takes" \
            in result.stdout
    assert invoke("report", out).exit_code == 0
    page = (out / "report.html").read_text()
    fastest = rolled[rolled.fleet_hosts == 120].sort_values("max_s").iloc[0]
    assert "Rolling back at 120 hosts (the previous build kept on every host) takes" in page
    assert f'data-strategy="{fastest.strategy}" data-value="{float(fastest.max_s)!r}"' in page
    plain = invoke("run", tmp_path / "fleet.yaml", "--out", tmp_path / "plain", "-j", "1")
    assert plain.exit_code == 0 and not (tmp_path / "plain" / "rollback.csv").exists()
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "plain" / "summary.csv"), summary)  # deploys unchanged


def test_rollback_is_refused_for_a_rollout_scenario(tmp_path):
    """(With --sweep it is accepted: tests/commands/test_run_sweep.py.)"""
    (tmp_path / "release.yaml").write_text(RELEASE)
    result = invoke("run", tmp_path / "release.yaml", "--rollback")
    assert result.exit_code == 2 and "--rollback" in result.stderr and "rollout.rollback" in result.stderr
