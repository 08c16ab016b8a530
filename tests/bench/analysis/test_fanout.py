"""The deploy-host CPU term (`connection_cpu`) against the bench: one 50-host fleet pushed over ssh 1, 2,
4, 8 and 16 at a time (bench/recorded/2026-12-02/w50), fitted on some fan-outs and judged on the others
through the simulator (no root, no Consul)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.analysis.calibrate import lognormal_fit
from bench.analysis.fanout_fit import fit_fanout, per_host_times
from bench.analysis.runs import find_runs, phases
from sim.deploy.engine import Job, simulate
from tests.conftest import make_scenario

ROOT = Path(__file__).resolve().parents[3]
W50 = ROOT / "bench" / "recorded" / "2026-12-02" / "w50"
CORES = 2  # the bench machine's (bench/recorded/2026-12-02/README.md)


@pytest.mark.parametrize("ratio", [0.0, 0.25, 0.4, 0.9])  # at 1 or more even one connection is slowed:
# then only s_1 * ratio shows
def test_the_fit_recovers_a_known_ratio_from_exact_times(ratio):
    times = {k: 0.7 * max(1.0, k * ratio) for k in (1, 2, 4, 8, 16)}
    fit = fit_fanout(times)
    assert fit.serial == pytest.approx(0.7, rel=1e-3) and fit.rms_log < 1e-3
    if ratio > 1 / 16:  # below that no fan-out here slows: any ratio up to 1/16 fits
        assert fit.ratio == pytest.approx(ratio, abs=2e-4)


def test_one_fan_out_cannot_tell_the_cost():
    with pytest.raises(ValueError, match="two fan-outs or more"):
        fit_fanout({4: 1.2})


def simulated_max(run, fit, widths) -> dict[int, float]:
    """The 50-host deploy at each fan-out, simulated with the serial push's measured phases and the fitted
    connection cost on the machine's 2 cores (mean of 5 replications)."""
    serial = next(s["name"] for s in run.strategies() if s["parallel"] == 1)
    p = phases(run, serial)
    size, files, rate = run.size, run.files, 200e6 / 8  # the bench's shaped deploy link
    overhead = max(float(np.median(p.transfer)) - size / rate, 0.0)
    spec = lambda d: {"dist": "lognormal", "median": d["median"], "p95": d["p95"]}  # noqa: E731
    strategies = {f"k{k}": {"kind": "push", "parallel": k, "connect": spec(lognormal_fit(p.lead.to_numpy())),
                            "activation": spec(lognormal_fit(p.activation.to_numpy())),
                            "scan_per_file": overhead / files, "connection_cpu": fit.ratio * CORES,
                            "deploy_cores": CORES} for k in widths}
    sc = make_scenario(fleet={"hosts": run.fleet_size}, artifact={"size": size, "files": files},
                       network={"deploy_egress": "200Mbps", "per_flow": "10Gbps", "host_download": "10Gbps"},
                       strategies=strategies)
    return {k: float(np.mean([np.nanmax(simulate(sc, Job(f"k{k}", run.fleet_size, r, 7)).done) for r in range(5)]))
            for k in widths}


def test_fan_outs_held_out_are_predicted_within_15_percent():
    """Fitted on fan-outs 1, 4 and 16 (ratio 0.42: 0.85 core per connection on 2 cores, both ends of each
    connection included), the simulator predicts the held-out 2 and 8 and the fitted ones: the 50-host
    deploy's max within 15% at every fan-out (observed when written: -3%, -7%, +1%, +14% and +7% at 1, 2,
    4, 8 and 16: the 8-wide push is close to the bound). Without the term the
    16-wide push is predicted 3x too fast, which shows the term is what carries the prediction."""
    run = find_runs([W50])[0]
    times = per_host_times(run)
    assert sorted(times) == [1, 2, 4, 8, 16]
    fit = fit_fanout({k: times[k] for k in (1, 4, 16)})
    assert 0.35 <= fit.ratio <= 0.5, fit
    measured = {int(s["parallel"]): float(run.hosts[run.hosts.strategy == s["name"]].done.max())
                for s in run.strategies()}
    predicted = simulated_max(run, fit, sorted(times))
    errors = {k: predicted[k] / measured[k] - 1 for k in predicted}
    assert all(abs(e) <= 0.15 for e in errors.values()), errors
    without = simulated_max(run, fit_fanout({1: 1.0, 2: 0.5}), [16])  # ratio 0: no CPU term
    assert without[16] < measured[16] / 2.5, (without, measured)
    print({k: f"{100 * e:+.0f}%" for k, e in errors.items()})


def test_calibrate_fits_the_connection_cost_from_a_fan_out_run_and_the_params_carry_it(tmp_path):
    """`deploysim calibrate n10 n100 w50`: the fan-out run gives ssh's `connection_cpu` (on deploy_cores 1) and
    nothing else; the 4-wide phases are divided by the 1.55x the term slows them at 4 wide, so the
    simulator gives back at 4 wide what it did without the term. From those parameters alone (fitted on
    other runs), a 50-host push at each fan-out of w50 is predicted relative to its 4-wide push within 15%
    (observed when written: +13, +5, +8, -4% at 1, 2, 8, 16 wide; without the term 1.9x, 1.5x, -15%, -61%).
    The absolute level is off by the run-to-run spread: the same 4-wide 50-host push took 19.1 s in
    2026-12-02/n50 and 15.2 s in w50."""
    from bench.analysis import calibrate
    from sim.load.loader import load_scenario

    recorded = W50.parent
    plain = calibrate.calibrate([recorded / "n10", recorded / "n100"])
    cal = calibrate.calibrate([recorded / "n10", recorded / "n100", W50])
    ssh = cal.push["ssh"]
    assert 0.35 <= ssh["connection_cpu"] <= 0.45 and ssh["derated_by"] == pytest.approx(4 * ssh["connection_cpu"])
    assert ssh["connect"]["median"] == pytest.approx(plain.push["ssh"]["connect"]["median"] / ssh["derated_by"])
    assert cal.push["daemon"] == plain.push["daemon"] and "fanout" not in cal.push["daemon"]  # w50 pushed over ssh only
    assert cal.pull["activation"] == plain.pull["activation"]
    params = tmp_path / "params.yaml"
    calibrate.write([recorded / "n10", recorded / "n100", W50], params, "test")

    def predicted(k: int) -> float:
        scenario = tmp_path / f"k{k}.yaml"
        scenario.write_text(f"version: 1\nname: k{k}\ninclude: [{params}, {ROOT / 'scenarios' / 'bench_small.yaml'}]\n"
                            "fleet: {hosts: 50, zones: 1, tiers: {canary: 0}}\n"
                            f"strategies: {{rsync-parallel-4: {{kind: push, parallel: {k}}}}}\n")
        sc = load_scenario(scenario).scenario
        assert sc.strategies["rsync-parallel-4"].connection_cpu == pytest.approx(ssh["connection_cpu"], rel=1e-3)
        return float(np.mean([np.nanmax(simulate(sc, Job("rsync-parallel-4", 50, r, 7)).done) for r in range(5)]))

    run = find_runs([W50])[0]
    measured = {int(s["parallel"]): float(run.hosts[run.hosts.strategy == s["name"]].done.max())
                for s in run.strategies()}
    pred = {k: predicted(k) for k in sorted(measured)}
    errors = {k: (pred[k] / pred[4]) / (measured[k] / measured[4]) - 1 for k in measured if k != 4}
    assert all(abs(e) <= 0.15 for e in errors.values()), errors


def test_fan_out_runs_alone_or_two_for_one_transport_are_refused(tmp_path):
    import shutil

    from bench.analysis import calibrate
    from sim.errors import UserError

    with pytest.raises(UserError, match="several fan-outs.*together with runs of one fan-out"):
        calibrate.calibrate([W50])
    again = shutil.copytree(W50, tmp_path / "2026-12-02" / "w50")
    with pytest.raises(UserError, match="2 runs pushed over ssh at several fan-outs.*one fan-out run per transport"):
        calibrate.calibrate([W50.parent / "n10", W50, again])
