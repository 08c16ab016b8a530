"""`deploysim run --sweep`: fleet growth at every point of a grid over scenario keys. Each point's numbers
are those of a plain `run --set KEY=VALUE` with the same seed (every point draws from the same entropy),
whatever the number of workers; the folder holds run's tables with a point column and a `set KEY` column
per swept key, and a plot per key; bad sweeps are located at `--sweep KEY` and write nothing."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from sim.commands import run as run_module
from sim.commands.run_sweep import grid, parse_axes, run_sweep, split_values
from sim.errors import UserError
from sim.load.loader import load_mapping, vary
from sim.results import columns
from tests.report.conftest import FLEET, RELEASE, invoke

SWEEPS = ["network.deploy_egress=1Gbps,50Mbps", "faults.down=0,20%"]


@pytest.fixture
def base(tmp_path):
    (tmp_path / "fleet.yaml").write_text(FLEET)
    return load_mapping(yaml.safe_load(FLEET), tmp_path / "fleet.yaml", tmp_path)


@pytest.mark.parametrize("text, values", [
    ("10Gbps,40Gbps", ["10Gbps", "40Gbps"]),
    (" 10Gbps , 40Gbps ", ["10Gbps", "40Gbps"]),
    ("[10Gbps, 40Gbps]", ["10Gbps", "40Gbps"]),  # a YAML list of the values
    ("[10, 100],[1000]", ["[10, 100]", "[1000]"]),  # values that are lists
    ("[[10, 100], [1000]]", ["[10, 100]", "[1000]"]),  # the same, as one list of values
    ("{dist: constant, value: 1s},{dist: constant, value: 5s}", ["{dist: constant, value: 1s}",
                                                                 "{dist: constant, value: 5s}"]),
    ("'a,b',c", ["'a,b'", "c"]),
    ("5%", ["5%"]),
])
def test_values_split_at_commas_outside_brackets_and_quotes(text, values):
    assert split_values(text) == values


def test_the_grid_is_every_combination_first_key_slowest():
    points = grid(parse_axes(["a=1,2", "b=x,y,z"]))
    assert [p.label for p in points] == ["a=1, b=x", "a=1, b=y", "a=1, b=z", "a=2, b=x", "a=2, b=y", "a=2, b=z"]


def test_each_point_is_the_plain_run_with_that_setting(base):
    swept = run_sweep(base, 11, SWEEPS, workers=1)
    assert len(swept.points) == 4
    for point in swept.points:
        alone = run_module.run_loaded(vary(base, point.overrides), 11, workers=1, progress=False)
        mine = swept.summary[swept.summary.point == point.label]
        for key, value in point.settings:
            assert (mine[f"set {key}"] == value).all()
        pd.testing.assert_frame_equal(mine[alone.summary.columns].reset_index(drop=True), alone.summary)
        reps = swept.replications[swept.replications.point == point.label]
        pd.testing.assert_frame_equal(reps[alone.replications.columns].reset_index(drop=True), alone.replications)
    # the settings matter: 50 Mbps slows rsync (through the deploy host), not pull
    at = swept.summary[swept.summary.fleet_size == 120].set_index(["point", "strategy"])["max"]
    fast, slow = "network.deploy_egress=1Gbps, faults.down=0", "network.deploy_egress=50Mbps, faults.down=0"
    assert at[(slow, "rsync-2")] > 2 * at[(fast, "rsync-2")] and at[(slow, "pull")] == at[(fast, "pull")]


def test_the_same_seed_gives_the_same_numbers_on_one_or_two_workers(base):
    one, two = (run_sweep(base, 3, SWEEPS[:1], workers=w) for w in (1, 2))
    pd.testing.assert_frame_equal(one.summary, two.summary)
    pd.testing.assert_frame_equal(one.crossovers, two.crossovers)


def test_the_folder_holds_runs_tables_with_their_points(tmp_path):
    (tmp_path / "fleet.yaml").write_text(FLEET)
    out = tmp_path / "out"
    result = invoke("run", tmp_path / "fleet.yaml", "--out", out, "-j", "1", *(f"--sweep={s}" for s in SWEEPS))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["crossover.csv", "manifest.json", "replications.csv",
                                                     "summary.csv", "summary.json", "sweep_faults.down.png",
                                                     "sweep_network.deploy_egress.png"]
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["point", *[c.name for c in columns.SUMMARY.columns if not c.only_when],
                                     "set network.deploy_egress", "set faults.down"]
    assert len(summary) == 4 * 2 * 4  # points x strategies x fleet sizes
    crossings = pd.read_csv(out / "crossover.csv")
    assert list(crossings.columns)[:2] == ["point", "pull"] and crossings.point.nunique() == 4
    data = json.loads((out / "summary.json").read_text())
    assert data["command"] == "run (sweep)" and data["results"]["points"][0] == "network.deploy_egress=1Gbps, faults.down=0"
    assert json.loads((out / "manifest.json").read_text())["sweep"] == {
        "network.deploy_egress": ["1Gbps", "50Mbps"], "faults.down": ["0", "20%"]}
    again = invoke("run", tmp_path / "fleet.yaml", "--out", out, "-j", "1", "--overwrite", f"--sweep={SWEEPS[0]}")
    assert again.exit_code == 0, again.output  # a folder it wrote may be replaced


@pytest.mark.parametrize("sweeps, words", [
    (["network.deploy_egress=1Gbps,fast"], ["--sweep network.deploy_egress:", "fast"]),
    (["faults.down"], ["--sweep faults.down:", "key.path=value1,value2"]),
    (["faults.down=0,,1%"], ["--sweep faults.down:", "none may be empty"]),
    (["faults.down=0,1%", "faults.down=2%"], ["--sweep faults.down:", "swept twice"]),
    (["a=" + ",".join(map(str, range(40))), "b=" + ",".join(map(str, range(40)))], ["1,600 points", "at most 1,000"]),
])
def test_bad_sweeps_are_located_and_write_nothing(tmp_path, sweeps, words):
    (tmp_path / "fleet.yaml").write_text(FLEET)
    result = invoke("run", tmp_path / "fleet.yaml", "--out", tmp_path / "out", *(f"--sweep={s}" for s in sweeps))
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_a_rollout_scenario_is_refused_with_where_to_go(tmp_path):
    (tmp_path / "release.yaml").write_text(RELEASE)
    result = invoke("run", tmp_path / "release.yaml", "--sweep", "fleet.hosts=10,20")
    assert result.exit_code == 2 and "deploysim sweep" in result.stderr


def test_bad_values_of_every_point_come_at_once(base):
    with pytest.raises(UserError) as error:
        run_sweep(base, 1, ["faults.down=lots,200%"])
    sources = [p.source for p in error.value.problems]
    assert sources == ["--sweep faults.down", "--sweep faults.down"], error.value.problems


def test_with_rollback_each_point_rolls_back_as_the_plain_run_does(base):
    """`run --sweep ... --rollback`: a point's rollbacks are `run --set KEY=V --rollback`'s, frame for frame,
    and the deploys are unchanged by asking for them."""
    swept = run_sweep(base, 5, SWEEPS, workers=1, rollback=True)
    plain = run_sweep(base, 5, SWEEPS, workers=1)
    pd.testing.assert_frame_equal(swept.summary, plain.summary)
    assert plain.rollback is None and set(swept.rollback.point) == {p.label for p in swept.points}
    for point in swept.points:
        alone = run_module.run_loaded(vary(base, point.overrides), 5, workers=1, progress=False, rollback=True)
        mine = swept.rollback[swept.rollback.point == point.label]
        for key, value in point.settings:
            assert (mine[f"set {key}"] == value).all()
        pd.testing.assert_frame_equal(mine[alone.rollback.columns].reset_index(drop=True), alone.rollback)


def test_with_rollback_the_folder_holds_rollback_csv_and_says_it(tmp_path):
    (tmp_path / "fleet.yaml").write_text(FLEET)
    out = tmp_path / "out"
    result = invoke("run", tmp_path / "fleet.yaml", "--out", out, "-j", "2", "--rollback", "--report",
                    f"--sweep={SWEEPS[0]}")
    assert result.exit_code == 0, result.output
    rolled = pd.read_csv(out / "rollback.csv")
    assert list(rolled.columns) == ["point", *[c.name for c in columns.SUMMARY.columns if not c.only_when],
                                    "set network.deploy_egress"]
    assert len(rolled) == 2 * 2 * 4  # points x strategies x fleet sizes
    assert json.loads((out / "manifest.json").read_text())["rollback"] is True
    rows = json.loads((out / "summary.json").read_text())["results"]["rollback"]
    assert len(rows) == len(rolled)
    assert "rollback at 120 hosts" in result.stdout
    page = (out / "report.html").read_text()
    assert page.count('class="rollback"') == 2  # one sentence per point
