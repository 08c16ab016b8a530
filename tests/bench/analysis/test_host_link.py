"""The host link's rate, identified from bench runs that shaped each host's link (`network.host_download`).

Unshaped runs fit the per-flow ceiling and the origin; a run whose host links the bench shaped below
that ceiling shows the host link alone. Checked against what the bench set (its tbf rate), on synthetic
records (the simulator with a known host link) and on the recorded runs of 2026-12-03.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.analysis import calibrate, validate
from sim.errors import UserError
from tests.bench.analysis.test_calibrate import synthetic_scenario, write_bench_folder

ROOT = Path(__file__).resolve().parents[3]
RECORDED = ROOT / "bench" / "recorded"


def shaped_copy(scenario, folder: Path, hosts: int, seed: int, mbit: float) -> Path:
    """A synthetic bench run whose hosts' links were shaped to `mbit` (the simulator's host_download), as
    the bench records it (`config.host_rate_mbit`)."""
    link = scenario.network.model_copy(update={"host_download": mbit * 1e6 / 8})
    write_bench_folder(folder, scenario.model_copy(update={"network": link}), hosts, seed)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["config"]["host_rate_mbit"] = mbit
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Unshaped pushes and pulls at 10 and 40 hosts (per-flow ceiling 400 Mbit/s, origin 600 Mbit/s), and
    10 hosts whose links were shaped to 40 Mbit/s: 10 x 40 stays under the origin, so the host link binds."""
    root = tmp_path_factory.mktemp("links") / "2026-01-03"
    sc = synthetic_scenario()
    write_bench_folder(root / "n10", sc, 10, 1)
    write_bench_folder(root / "n40", sc, 40, 2)
    shaped_copy(sc, root / "h40-n10", 10, 3, 40.0)
    return root


def test_a_shaped_host_link_is_recovered_and_leaves_the_other_fits_alone(runs):
    unshaped = calibrate.calibrate([runs / "n10", runs / "n40"])
    cal = calibrate.calibrate([runs])
    link = cal.network["host_link"]
    assert link.identified and abs(link.rate * 8 / 1e6 - 40.0) <= 0.05 * 40.0, link
    assert link.efficiency == pytest.approx(link.rate / (40e6 / 8))
    assert link.rmse < 0.5 * link.rmse_unbound
    # the shaped run feeds the host link only: every other fitted value is what the unshaped runs give
    assert cal.network["origin_egress"] == unshaped.network["origin_egress"]
    assert cal.network["per_flow"] == unshaped.network["per_flow"]
    assert cal.pull["activation"] == unshaped.pull["activation"]
    assert cal.push["ssh"]["connect"] == unshaped.push["ssh"]["connect"]


def test_a_link_shaped_above_what_one_flow_reaches_is_not_identified(tmp_path, runs):
    # 4 Gbit/s host links over a 400 Mbit/s per-flow ceiling: the links never bind, so no rate shows
    shaped_copy(synthetic_scenario(), tmp_path / "2026-01-03" / "h4000", 10, 4, 4000.0)
    link = calibrate.calibrate([runs / "n10", runs / "n40", tmp_path]).network["host_link"]
    assert not link.identified


def test_runs_that_all_shaped_their_links_or_shaped_them_differently_are_refused(tmp_path, runs):
    with pytest.raises(UserError, match="every run had its hosts' links shaped"):
        calibrate.calibrate([runs / "h40-n10"])
    other = shaped_copy(synthetic_scenario(), tmp_path / "2026-01-03" / "h20-n10", 10, 5, 20.0)
    with pytest.raises(UserError, match=r"different rates \(20 Mbit/s, 40 Mbit/s\).*one host link rate at a time"):
        calibrate.calibrate([runs, other])


def test_the_recorded_shaped_runs_identify_the_host_link_and_predict_another_rate():
    """bench/recorded/2026-12-03: fitted on 10 hosts shaped to 16 Mbit/s (with the unshaped 10 and 100 host
    runs of 2026-12-02), a link delivers 86% of its tbf rate (TCP/IP headers and slow start on a 2 MB
    build); the pulls of 10 hosts shaped to 8 Mbit/s (held out) are then predicted within 15% at the p50,
    p95 and max. The 50-host shaped run does not identify the link (the 200 Mbit/s origin binds first)."""
    params = RECORDED / "2026-12-03" / "params.yaml"
    link = json.loads(params.with_name("calibration.json").read_text())["network"]["host_link"]
    assert link["identified"] and 0.80 <= link["efficiency"] <= 0.95, link
    shaped = RECORDED / "2026-12-03" / "host-links"
    v = validate.validate([shaped / "h8-n10"], params, replications=5, contention=True).table
    pull = v[v.strategy == "consul-pull"].iloc[0]
    assert pull.role == "held-out"
    for metric in ("p50", "p95", "max"):
        assert abs(pull[f"{metric}_err_pct"]) <= 15, pull
    fifty = calibrate.calibrate([RECORDED / "2026-12-02" / "n10", RECORDED / "2026-12-02" / "n100", shaped / "h16-n50"])
    assert not fifty.network["host_link"].identified


@pytest.mark.parametrize("link, key", [("fast", "network.host_link"),
                                        ({"identified": True, "efficiency": 0}, "network.host_link.efficiency"),
                                        ({"identified": "yes", "efficiency": 0.9}, "network.host_link.identified")])
def test_a_bad_host_link_in_the_calibration_is_refused_by_name(tmp_path, link, key):
    params = tmp_path / "params.yaml"
    params.write_text((RECORDED / "2026-12-03" / "params.yaml").read_text())
    info = json.loads((RECORDED / "2026-12-03" / "calibration.json").read_text())
    info["network"]["host_link"] = link
    (tmp_path / "calibration.json").write_text(json.dumps(info))
    with pytest.raises(UserError, match=key.replace(".", r"\.")):
        validate.validate([RECORDED / "2026-12-03" / "host-links" / "h8-n10"], params, replications=1)
