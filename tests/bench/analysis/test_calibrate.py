"""Calibration and model validation (no root, no Consul: synthetic records and recorded bench runs).

Synthetic: the simulator itself deploys with KNOWN parameters, its records are written as bench
results folders, and `bench.analysis.calibrate` must recover the parameters. The simulator and the bench
put rsync's scan on different sides of `transfer_start` (the simulator before the bytes, the bench
inside the rsync), so the writer moves it to where the bench records it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from bench.analysis import calibrate, validate
from sim.deploy.engine import Job, simulate
from sim.errors import UserError
from sim.results.records import HOST_COLUMNS
from tests.conftest import make_scenario

SIZE, FILES = 20e6, 200
TRUE = {"connect": 0.8, "scan_per_file": 1e-3, "per_flow": 400e6 / 8, "deploy_egress": 1e9 / 8,
        "origin_egress": 600e6 / 8, "wake_median": 0.040, "wake_p95": 0.120, "key_write": 0.010,
        "push_activation": 0.10, "pull_activation": 0.30}


def synthetic_scenario():
    lognormal = lambda m, p: {"dist": "lognormal", "median": m, "p95": p}  # noqa: E731
    push = {"kind": "push", "connect": lognormal(0.8, 1.0), "scan_per_file": TRUE["scan_per_file"],
            "activation": lognormal(0.1, 0.15)}
    return make_scenario(
        fleet={"hosts": 10, "zones": 1, "tiers": {"canary": 0}},
        artifact={"size": SIZE, "files": FILES},
        network={"deploy_egress": "1Gbps", "origin_egress": "600Mbps",
                 "per_flow": "400Mbps", "host_download": "10Gbps"},
        strategies={"rsync-serial": {**push, "parallel": 1}, "rsync-4": {**push, "parallel": 4},
                    "pull": {"kind": "pull", "key_write": TRUE["key_write"],
                             "wakeup": lognormal(TRUE["wake_median"], TRUE["wake_p95"]),
                             "verify_rate": "1000GB/s", "activation": lognormal(0.3, 0.5)}})


def write_bench_folder(folder: Path, scenario, hosts: int, seed: int) -> None:
    """Simulate every strategy and write the records as a bench results folder would be written."""
    folder.mkdir(parents=True)
    strategies, deploys = [], []
    with open(folder / "hosts.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["strategy", "kind", "fleet_size", *HOST_COLUMNS])
        for name, spec in scenario.strategies.items():
            rec = simulate(scenario, Job(name, hosts, 0, seed))
            start = rec.transfer_start.copy()
            if spec.kind == "push":  # the bench's clock: the scan runs inside rsync, after transfer_start
                start = start - spec.scan_per_file * scenario.artifact.files
            strategies.append({"name": name, "kind": spec.kind, "parallel": getattr(spec, "parallel", 0),
                               "transport": "daemon" if name == "rsync-4" else "ssh",
                               **({"piece_size": 4e6, "connections": spec.connections, "seed_time": spec.seed_time}
                                  if spec.kind == "p2p" else {})})
            deploys.append({"strategy": name, "release_signalled": rec.release_signalled,
                            **({"extra": {"piece_size": spec.piece_size}} if spec.kind == "p2p" else {})})
            for i, row in enumerate(rec.rows()):
                values = {c: getattr(row, c) for c in HOST_COLUMNS}
                values["transfer_start"] = start[i]
                w.writerow([name, spec.kind, hosts, *[values[c] for c in HOST_COLUMNS]])
    manifest = {"format_version": 1, "source": "bench", "run_id": f"syn{hosts}", "isolated": True,
                "config": {"hosts": hosts, "size": int(scenario.artifact.size), "files": scenario.artifact.files,
                           "seed": seed, "strategies": strategies}, "deploys": deploys}
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "2026-01-02"
    sc = synthetic_scenario()
    for n, seed in ((10, 1), (40, 2), (80, 3)):
        write_bench_folder(root / f"n{n}", sc, n, seed)
    return root


def close(got: float, want: float, rel: float) -> bool:
    return abs(got - want) <= rel * want


def test_recovers_known_parameters(synthetic):
    """Tolerances: 10% for medians and fitted rates, 25% for p95s (a few hundred draws), 15% scan.

    The 4-wide push (labelled "daemon", which the calibration fits the link on) identifies both the
    1 Gbps egress (4 flows of at most 400 Mbps exceed it) and the 400 Mbps per-flow ceiling (1 or 2
    flows in flight run at the ceiling); the serial push ("ssh") then gives its own overhead with
    both held. The origin shows where every pulling host shares it."""
    cal = calibrate.calibrate([synthetic])
    serial, wide, pull = cal.push["ssh"], cal.push["daemon"], cal.pull
    for push in (serial, wide):
        assert close(push["connect"]["median"], 0.8, 0.10) and close(push["connect"]["p95"], 1.0, 0.25)
        assert close(push["activation"]["median"], 0.1, 0.10)
        assert close(push["scan_per_file"], TRUE["scan_per_file"], 0.15)
    fit = wide["transfer"]
    assert fit.ceiling_identified and close(fit.fastest_rate, TRUE["per_flow"], 0.10)
    assert close(fit.capacity, TRUE["deploy_egress"], 0.10)
    assert close(pull["transfer"].capacity, TRUE["origin_egress"], 0.10)
    assert pull["key_write_recorded"] and close(pull["key_write"]["median"], TRUE["key_write"], 0.01)
    assert close(pull["wakeup"]["median"], TRUE["wake_median"], 0.10)
    assert close(pull["wakeup"]["p95"], TRUE["wake_p95"], 0.25)
    assert close(pull["activation"]["median"], 0.3, 0.10)
    assert cal.network["per_flow_identified"]
    assert not pull["share"].identified and pull["share"].p95 == 1.0  # equal shares in, equal shares out


@pytest.mark.parametrize("p95", [2.5, 6.0])
def test_the_spread_of_shares_is_recovered_from_flows_that_had_it(p95):
    """Pulls replayed with weighted shares whose 95th percentile is `p95` (other draws than the fit's own),
    three deploys of 80 hosts whose requests spread over 0.2 s: the fit finds p95 within 25%."""
    from bench.analysis.transfer_fit import fit_share_spread, replay_ends
    from sim.deploy.unfair import P95_Z

    rng = np.random.default_rng(7)
    groups = []
    for _ in range(3):
        starts = rng.uniform(0.0, 0.2, 80)
        weight = np.exp(np.log(p95) / P95_Z * rng.standard_normal(80))
        groups.append((starts, replay_ends(starts, 2e6, 0.05, 25e6, weight=weight), 2e6, "pull"))
    share = fit_share_spread(groups, 0.05, 25e6)
    assert share.identified and close(share.p95, p95, 0.25), share
    assert share.rmse < 0.5 * share.rmse_equal


def test_key_write_falls_back_to_earliest_wakeup(synthetic, tmp_path):
    """Without `release_signalled` in the manifest, the key write is bounded by the first wake-up."""
    folder = tmp_path / "n10"
    folder.mkdir()
    (folder / "hosts.csv").write_text((synthetic / "n10" / "hosts.csv").read_text())
    m = json.loads((synthetic / "n10" / "manifest.json").read_text())
    m["deploys"] = []
    (folder / "manifest.json").write_text(json.dumps(m))
    pull = calibrate.calibrate([folder]).pull
    assert not pull["key_write_recorded"]
    assert TRUE["key_write"] <= pull["key_write"]["median"] <= TRUE["key_write"] + TRUE["wake_median"]


def test_parameter_file_round_trip(synthetic, tmp_path):
    """The written file loads under a scenario (include:) and the simulator reproduces the runs."""
    out = tmp_path / "cal" / "params.yaml"
    calibrate.write([synthetic], out, "test", wakeup="empirical")
    text = out.read_text()
    assert "# median and p95 of transfer_start - signal" in text and "run syn10" in text
    assert (out.parent / "wakeup.csv").is_file() and (out.parent / "calibration.json").is_file()
    v = validate.validate([synthetic], out, replications=3)
    assert set(v.table.role) == {"fit"}
    assert v.worst(metric="max") < 10.0, v.table


def test_validate_resolves_relative_empirical_file(synthetic, tmp_path):
    """A parameter file naming its CSV relatively still works from any scenario folder."""
    out = tmp_path / "cal" / "params.yaml"
    calibrate.write([synthetic], out, "test")
    text = out.read_text().replace(
        "    wakeup: {dist: lognormal", "    wakeup: {dist: empirical, file: wakeup.csv, column: to_first_byte}\n    #x: {dist: lognormal")
    out.write_text(text)
    v = validate.validate([synthetic / "n10"], out, replications=1)
    assert len(v.table) == 3


def test_refuses_a_folder_without_bench_runs(tmp_path):
    from sim.errors import UserError

    with pytest.raises(UserError, match="no bench results folder"):
        calibrate.calibrate([tmp_path])


ROOT = Path(__file__).resolve().parents[3]
RECORDED = ROOT / "bench" / "recorded" / "2026-11-26"


def test_validate_model_on_recorded_runs(tmp_path):
    """validate-model on the shipped bench runs (2026-11-26: 10, 50, 100 and twice 200 hosts; the
    parameters fitted on the 10- and 100-host runs only) gives the table, the plot and a results
    folder, and its errors stay where we measured them.

    Observed when recorded (5 replications, deterministic seeds): worst |error| of the max deploy
    time 23.5% (ssh push at 200 hosts, held out: ssh connect and rsync slow down with 200 hosts on
    2 cores, which no parameter fitted at 10-100 hosts knows); of p50 33.4% (the same); pull and
    daemon push max within 5% at 50-200 hosts. Since the pulls' unequal shares are fitted
    (`network.flow_share_p95` 5.98, 2026-12-02), the held-out pulls' p50, p95 and max are within 12%
    (the p50 was 15-20% high with equal shares). Pinned with a small margin: 27%, 37%, 10% and 15%. A
    change that moves them is a change in the model or the fit: look before re-pinning.
    """
    v = validate.validate([RECORDED], RECORDED / "params.yaml", replications=5)
    t = v.table
    assert len(t) == 15 and set(t.hosts) == {10, 50, 100, 200}
    assert set(t[t.role == "fit"].hosts) == {10, 100}
    assert v.worst(metric="max") <= 27.0
    assert v.worst(metric="p50") <= 37.0
    big = t[(t.hosts >= 50) & (t.strategy != "rsync-parallel-4")]
    assert big.max_err_pct.abs().max() <= 10.0, big
    pulls = t[(t.role == "held-out") & (t.strategy == "consul-pull")]
    assert len(pulls) == 3
    for metric in ("p50", "p95", "max"):
        assert pulls[f"{metric}_err_pct"].abs().max() <= 15.0, pulls
    out = validate.write(v, tmp_path / "validation")
    assert {p.name for p in out.iterdir()} == {"manifest.json", "validation.csv", "validation.json",
                                              "predicted_vs_measured.png"}
    assert json.loads((out / "manifest.json").read_text())["command"] == "validate-model"


CONTAINERS = RECORDED.parent / "2026-12-02"


def test_validate_model_on_the_container_runs():
    """The container runs of 2026-12-02 (10, 50, 100, 200 hosts; fitted on 10 and 100) and their p2p runs
    (10, 50, 100; fitted on 10 and 100), with the contention terms, against what their README reports
    (5 replications, deterministic seeds): daemon push max within 6% at every size; pull max within 11%
    at 200 hosts and 34% at 50; ssh push 30% low at 200 hosts; the p2p swarm within 9% at 100 hosts and
    40% high at 50, and without the terms 18x too slow at 10 hosts (a pooled rate). Pinned with a small
    margin; a change that moves them is a change in the model or the fit: look before re-pinning."""
    v = validate.validate([CONTAINERS / f"n{n}" for n in (10, 50, 100, 200)], CONTAINERS / "params.yaml",
                          replications=5, contention=True).table
    err = lambda t, name, n: float(t[(t.strategy == name) & (t.hosts == n)].max_err_pct.iloc[0])  # noqa: E731
    assert set(v[v.role == "fit"].hosts) == {10, 100}
    assert all(abs(err(v, "rsync-parallel-4-daemon", n)) <= 7 for n in (10, 50, 100, 200))
    assert abs(err(v, "consul-pull", 200)) <= 13 and 25 <= err(v, "consul-pull", 50) <= 40
    assert -35 <= err(v, "rsync-parallel-4", 200) <= -25
    p2p = CONTAINERS / "p2p"
    shared = validate.validate([p2p], p2p / "params.yaml", scenario=ROOT / "scenarios" / "bench_p2p.yaml",
                               replications=5, contention=True).table
    assert abs(err(shared, "swarm-p2p", 100)) <= 11 and 30 <= err(shared, "swarm-p2p", 50) <= 50
    pooled = validate.validate([p2p / "n10"], p2p / "params.yaml", scenario=ROOT / "scenarios" / "bench_p2p.yaml",
                               replications=5).table
    assert err(pooled, "swarm-p2p", 10) > 1000


def test_recorded_params_load_under_a_scenario(tmp_path):
    """The shipped parameter file is a valid `include:` for a scenario and its values take effect."""
    from sim.load.loader import load_scenario

    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"version: 1\nname: cal\ninclude: {RECORDED / 'params.yaml'}\n"
                        "strategies: {consul-pull: {kind: pull}}\n")
    sc = load_scenario(scenario).scenario
    assert 15e6 < sc.network.origin_egress < 30e6   # the bench's 200 Mbit/s (25 MB/s) tbf, fitted from pulls
    assert 15e6 < sc.network.deploy_egress < 50e6   # the same link, weakly identified from 4-wide pushes
    assert sc.strategies["rsync-parallel-4"].connect.median > 0.3


def with_host_limits(source: Path, folder: Path, limits: dict | None) -> Path:
    """A copy of a synthetic run whose manifest says what each host had (`limits`; None: not recorded)."""
    folder.mkdir(parents=True)
    (folder / "hosts.csv").write_text((source / "hosts.csv").read_text())
    m = json.loads((source / "manifest.json").read_text())
    if limits is not None:
        m["host_limits"] = limits
    (folder / "manifest.json").write_text(json.dumps(m))
    return folder


def test_calibration_says_what_hosts_had_and_never_mixes_settings(synthetic, tmp_path):
    boxed = {"container": True, "cpu": 0.5, "memory": 256_000_000}
    a = with_host_limits(synthetic / "n10", tmp_path / "a" / "n10", boxed)
    b = with_host_limits(synthetic / "n40", tmp_path / "a" / "n40", boxed)
    cal = calibrate.calibrate([a, b])
    assert "hosts were runc containers, each with 0.5 cores and 256 MB memory" in cal.notes
    plain = with_host_limits(synthetic / "n40", tmp_path / "b" / "n40", None)  # recorded before containers
    assert not any("containers" in n for n in calibrate.calibrate([plain]).notes)
    with pytest.raises(UserError, match="runs differ in what each host had .*0.5 cores and 256 MB memory.*"
                                        "no container.*calibrate one host setting at a time"):
        calibrate.calibrate([a, plain])


def with_p2p_copy(src: Path, dest: Path) -> Path:
    """The run at `src` with its pull deploy recorded a second time as a p2p strategy named `swarm`."""
    import shutil

    shutil.copytree(src, dest)
    m = json.loads((dest / "manifest.json").read_text())
    m["config"]["strategies"].append({"name": "swarm", "kind": "p2p", "parallel": 0, "transport": "ssh"})
    m["deploys"].append({**next(d for d in m["deploys"] if d["strategy"] == "pull"), "strategy": "swarm"})
    (dest / "manifest.json").write_text(json.dumps(m))
    rows = list(csv.reader(open(dest / "hosts.csv")))
    extra = [["swarm", "p2p", *r[2:]] for r in rows[1:] if r[0] == "pull"]
    with open(dest / "hosts.csv", "a", newline="") as fh:
        csv.writer(fh).writerows(extra)
    return dest


def test_runs_with_a_p2p_strategy_fit_its_signalling_and_activation_and_load_under_a_scenario(synthetic, tmp_path):
    """The p2p copy of the pull rows (same hosts, same times) must give the pull's key write and activation;
    push and pull are fitted as without it; the file declares the p2p strategy and the simulator loads it."""
    from sim.load.loader import load_scenario

    plain = calibrate.calibrate([synthetic / "n10", synthetic / "n40"])
    runs = [with_p2p_copy(synthetic / "n10", tmp_path / "r" / "n10"),
            with_p2p_copy(synthetic / "n40", tmp_path / "r" / "n40")]
    mixed = calibrate.calibrate(runs)
    assert any(n.startswith("p2p: key write, key-to-swarm and activation fitted") for n in mixed.notes)
    assert mixed.pull["wakeup"] == plain.pull["wakeup"] and len(mixed.pull["runs"]) == len(plain.pull["runs"])
    assert mixed.p2p["key_write"] == mixed.pull["key_write"] and mixed.p2p["activation"] == mixed.pull["activation"]
    assert calibrate.strategy_names(runs)[1] == "pull"
    out = tmp_path / "cal" / "params.yaml"
    calibrate.write(runs, out, "test")
    assert "  swarm:\n    kind: p2p" in out.read_text()
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"version: 1\nname: cal\ninclude: {out}\n")
    sc = load_scenario(scenario).scenario
    assert sc.strategies["swarm"].activation.median == pytest.approx(mixed.p2p["activation"]["median"], rel=1e-3)


def test_validate_model_compares_p2p_deploys_too(synthetic, tmp_path):
    """p2p rows sit beside push and pull, simulated with the bench's pieces and connections and the fitted
    signalling and activation (their swarm rates are the scenario's: not calibrated)."""
    runs = [with_p2p_copy(synthetic / "n10", tmp_path / "r" / "n10"),
            with_p2p_copy(synthetic / "n40", tmp_path / "r" / "n40")]
    out = tmp_path / "cal" / "params.yaml"
    calibrate.write(runs, out, "test")
    table = validate.validate(runs, out, replications=1).table
    swarm = table[table.strategy == "swarm"]
    assert list(swarm.kind) == ["p2p", "p2p"] and sorted(swarm.hosts) == [10, 40]
    assert swarm[["p50_err_pct", "p95_err_pct", "max_err_pct"]].notna().all().all()
    assert {"pull", "rsync-4", "rsync-serial"} <= set(table.strategy)


def p2p_scenario(rate: str):
    lognormal = lambda m, p: {"dist": "lognormal", "median": m, "p95": p}  # noqa: E731
    return make_scenario(
        fleet={"hosts": 10, "zones": 1, "tiers": {"canary": 0}}, artifact={"size": SIZE, "files": FILES},
        network={"origin_egress": "200Mbps", "per_flow": "10Gbps", "host_download": "10Gbps"},
        strategies={"pull": {"kind": "pull", "wakeup": lognormal(0.05, 0.2), "activation": lognormal(0.3, 0.5)},
                    "swarm": {"kind": "p2p", "piece_size": "1MB", "connections": 4, "seed_time": 30,
                              "upload": rate, "download": rate, "wakeup": lognormal(0.05, 0.2),
                              "verify_rate": "1000GB/s", "activation": lognormal(0.3, 0.5)}})


def test_a_swarm_host_rate_is_recovered_and_validated(tmp_path):
    """The simulator deploys by pull (the seeder's link) and by p2p with hosts at a KNOWN 40 Mbit/s, the p2p
    deploy recording 1 MB pieces as the bench records the pieces it used (its strategy says 4 MB); the
    calibration must find the rate within 10%, write it as the strategy's upload and download, and the
    model then predicts the runs it was fitted on within 10% (at 4 MB pieces the build would be 5 pieces,
    and the prediction off)."""
    sc = p2p_scenario("40Mbps")
    runs = []
    for n, seed in ((10, 1), (60, 2)):
        write_bench_folder(tmp_path / "runs" / f"n{n}", sc, n, seed)
        runs.append(tmp_path / "runs" / f"n{n}")
    out = tmp_path / "cal" / "params.yaml"
    cal = calibrate.write(runs, out, "test")
    swarm = cal.p2p["swarm"]
    assert swarm.identified and close(swarm.rate, 40e6 / 8, 0.10), swarm
    assert close(cal.network["origin_egress"], 200e6 / 8, 0.10)
    text = out.read_text()
    assert f"    upload: {swarm.rate * 8 / 1e6:.4g}Mbps\n    download: {swarm.rate * 8 / 1e6:.4g}Mbps\n" in text
    table = validate.validate(runs, out, replications=2).table
    p2p = table[table.strategy == "swarm"]
    assert len(p2p) == 2 and (p2p["max_err_pct"].abs() <= 10).all(), p2p[["hosts", "max_measured", "max_predicted"]]


def test_hosts_sharing_one_machine_share_its_swarm_rate_under_contention(tmp_path):
    """Fleets of 10 and 60 whose hosts each get 240 Mbit/s over the fleet (24 and 4 Mbit/s), as hosts sharing
    one machine's CPU do on the bench: the per-run fits times the fleet give the 240 within 10%, the
    calibration.json term is read back, and `--contention` predicts both runs within 10% where the pooled
    single rate cannot (it is the one run's or the other's, or between)."""
    runs = []
    for n, seed in ((10, 1), (60, 2)):
        write_bench_folder(tmp_path / "runs" / f"n{n}", p2p_scenario(f"{240 / n:g}Mbps"), n, seed)
        runs.append(tmp_path / "runs" / f"n{n}")
    out = tmp_path / "cal" / "params.yaml"
    cal = calibrate.write(runs, out, "test")
    term = cal.contention["p2p.host_rate"]
    assert term["sizes"] == [10, 60] and close(term["aggregate"], 240e6 / 8, 0.10), term
    assert "#   p2p.host_rate: " in out.read_text()
    shared = validate.validate(runs, out, replications=2, contention=True).table
    pooled = validate.validate(runs, out, replications=2).table
    err = lambda t: t[t.strategy == "swarm"]["max_err_pct"].abs()  # noqa: E731
    assert (err(shared) <= 10).all(), shared[shared.strategy == "swarm"]
    assert err(pooled).max() > 20, pooled[pooled.strategy == "swarm"]


@pytest.mark.parametrize("aggregate", [0, -1e6, None, "fast"])
def test_a_shared_rate_term_must_be_a_positive_number(tmp_path, aggregate):
    from bench.analysis.recording import calibration_info

    (tmp_path / "params.yaml").write_text("network: {}\n")
    (tmp_path / "calibration.json").write_text(json.dumps({"runs": [], "contention": {
        "p2p.host_rate": {"aggregate": aggregate, "sizes": [10, 100], "rates": [1, 2]}}}))
    with pytest.raises(UserError, match=r"contention\.p2p\.host_rate\.aggregate: must be a positive finite number"):
        calibration_info(tmp_path / "params.yaml")
