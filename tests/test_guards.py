"""Resource guards: too large is refused before any work, with the estimate and the override; everything
shipped (and the documented 1,000,000-host replication) fits with room to spare.

The guard logic is tested with small fake budgets, never with a truly huge run. Expected estimates are
the measured constants of `sim.commands.guards` added up by hand.
"""

import math

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.commands import guards
from sim.commands.evaluate import evaluate
from sim.commands.guards import Budget, evaluation_costs, fleet_costs, release_costs
from sim.commands.run import run
from sim.commands.sweep import sweep
from sim.errors import UserError
from sim.load.loader import load_scenario

runner = CliRunner()
PVP = "scenarios/push_vs_pull.yaml"
SMALL = ["fleet.sizes=[10, 100]", "replications=2"]
REFERENCE_MACHINE = Budget(memory=23.9e9, time=guards.TIME_BUDGET, disk=50e9)


def total(costs: dict, resource: str) -> float:
    return sum(c.amount for c in costs[resource])


def test_available_memory_is_read_from_meminfo(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       32000000 kB\nMemFree:         1000000 kB\nMemAvailable:   23887224 kB\n")
    assert guards.available_memory(str(meminfo)) == 23887224 * 1024
    assert guards.available_memory(str(tmp_path / "none")) == math.inf  # unreadable: no memory guard


def test_fleet_estimate_adds_the_measured_costs(root):
    scenario = load_scenario(root / PVP, SMALL).scenario  # 3 strategies x [10, 100] x 2 replications
    costs = fleet_costs(scenario, workers=1, writes=True)
    kept = 3 * (10 + 100)  # host rows of the first replication
    assert total(costs, "memory") == pytest.approx(300e6 + 140 * 100 + 12 * 1100 + kept * 400)
    assert total(costs, "time") == pytest.approx(12 * 0.5e-3 + 3 * 2 * 110 * 1.1e-6 + kept * 18e-6)
    assert total(costs, "disk") == pytest.approx(kept * 135)
    two = fleet_costs(scenario, workers=2, writes=False)
    assert total(two, "memory") == pytest.approx(300e6 + 2 * (300e6 + 140 * 100) + 12 * 1100 + kept * 400)
    assert two["disk"] == []


def test_a_fake_small_memory_refuses_with_the_estimate_at_the_key_that_drives_it(root):
    loaded = load_scenario(root / PVP, ["fleet.sizes=[10, 100]"])
    costs = fleet_costs(loaded.scenario, workers=1, writes=False)
    costs["memory"].append(guards.Cost(5e9, "results of many deploys", ("replications",)))
    with pytest.raises(UserError) as caught:
        guards.check(loaded, costs, Budget(memory=2e9), environ={})
    [problem] = caught.value.problems
    assert problem.render() == (
        f"{root / PVP}:10:15: replications: too large for this machine: about 5.3 GB of memory (1 process at 100 "
        "hosts: 300 MB; results of many deploys: 5.0 GB); this machine has 2.0 GB available. Lower replications, "
        "or set DEPLOYSIM_ALLOW_LARGE=1 to run it anyway")
    guards.check(loaded, costs, Budget(memory=2e9), environ={"DEPLOYSIM_ALLOW_LARGE": "1"})  # the override
    guards.check(loaded, costs, Budget(memory=6e9), environ={})  # enough memory


def test_every_resource_over_budget_is_named_at_once(root):
    loaded = load_scenario(root / PVP, ["replications=100000", "output.host_rows=all"])
    with pytest.raises(UserError) as caught:
        guards.check(loaded, fleet_costs(loaded.scenario, 2, True), REFERENCE_MACHINE, environ={})
    lines = [p.render() for p in caught.value.problems]
    assert [line.split(": too large")[0] for line in lines] == ["--set output.host_rows"] * 3
    assert "GB of memory" in lines[0] and " h of time" in lines[1] and "more than the 24 h a run may take" in lines[1]
    assert "GB of disk" in lines[2] and "free there" in lines[2]
    assert all("Keep fewer host rows (output.host_rows: first or none)" in line for line in lines)


def test_the_cli_refuses_before_any_work_and_the_override_lets_a_small_run_through(root, tmp_path, monkeypatch):
    monkeypatch.setattr(guards, "available_memory", lambda: 100e6)  # a fake machine with 100 MB to spare
    monkeypatch.delenv(guards.ALLOW_ENV, raising=False)
    out = tmp_path / "r"
    args = ["run", str(root / PVP), "--seed", "1", "--workers", "1", "--out", str(out)] + [
        a for s in SMALL for a in ("--set", s)]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and not out.exists()
    assert "--set fleet.sizes: too large for this machine: about 300 MB of memory" in refused.output
    assert "this machine has 100 MB available" in refused.output and "DEPLOYSIM_ALLOW_LARGE=1" in refused.output
    monkeypatch.setenv(guards.ALLOW_ENV, "1")
    allowed = runner.invoke(app, args)
    assert allowed.exit_code == 0, allowed.output
    assert (out / "manifest.json").exists()


def test_release_runs_evaluations_and_sweeps_are_guarded(root, monkeypatch):
    monkeypatch.setattr(guards, "available_memory", lambda: 1e9)
    monkeypatch.delenv(guards.ALLOW_ENV, raising=False)
    # 1e6 releases x (14 B x 2,882 intervals + 1.5 B x 5,000 hosts) = 47.8 GB
    with pytest.raises(UserError, match="1,000,000 releases of 2,882 metric intervals each: 47.8 GB"):
        run(str(root / "scenarios/slack_2020_pipeline.yaml"), replications=1_000_000, progress=False, workers=1)
    loaded = load_scenario(root / "scenarios/threshold_policies.yaml")
    with pytest.raises(UserError) as caught:
        evaluate(loaded, 1, 1, None, releases=200_000)  # 600,000 rows of 2 KB
    [problem] = caught.value.problems
    assert problem.source == "--releases" and "200,000 releases x 3 policies: 1.2 GB" in problem.message
    many = load_scenario(root / "scenarios/threshold_policies.yaml", ["evaluation.releases=100000"])
    with pytest.raises(UserError) as caught:
        sweep(many, 1, 1, None)  # 18 points in 2 groups of 9: 900,000 rows at once
    [problem] = caught.value.problems
    assert problem.source == "--set evaluation.releases" and "100,000 releases x 9 policies: 1.8 GB" in problem.message


def test_release_and_evaluation_estimates_by_hand(root):
    scenario = load_scenario(root / "scenarios/slack_2020_pipeline.yaml", ["replications=100"]).scenario
    intervals = 48 * 60 + 2  # horizon 48h of 1m intervals, and the two at its ends
    costs = release_costs(scenario, workers=1, writes=False)
    assert total(costs, "memory") == pytest.approx(
        300e6 + 50 * (100 * 5000 + 12 * intervals) + 100 * (14 * intervals + 1.5 * 5000))
    assert total(costs, "time") == pytest.approx(100 * (12e-3 + 0.25e-6 * 5000 + 0.4e-6 * intervals))
    policies = load_scenario(root / "scenarios/threshold_policies.yaml").scenario  # 2,000 hosts, 400 releases
    costs = evaluation_costs(policies, None, 3, workers=1)
    assert total(costs, "memory") == pytest.approx(400 * 3 * 2000 + 300e6 + 50 * (100 * 2000 + 12 * intervals))
    assert total(costs, "time") == pytest.approx(400 * (4e-3 + 0.6e-6 * 2000 + 0.2e-6 * intervals + 3 * 2e-3))
    assert evaluation_costs(policies, None, 3, workers=1, remote=True)["time"] == []


@pytest.mark.parametrize("name", ["push_vs_pull.yaml", "slack_2020_pipeline.yaml", "threshold_policies.yaml",
                                  "bench_small.yaml"])
def test_the_shipped_scenarios_use_a_small_part_of_the_reference_machine(root, name):
    scenario = load_scenario(root / "scenarios" / name).scenario
    if scenario.evaluation is not None:
        costs = evaluation_costs(scenario, None, 9, workers=2, rounds=2)  # the shipped sweep: 18 points in 2 groups
    elif scenario.rollout is not None:
        costs = release_costs(scenario, 2, True)
    else:
        costs = fleet_costs(scenario, 2, True)
    for resource in ("memory", "time", "disk"):
        assert total(costs, resource) < 0.25 * getattr(REFERENCE_MACHINE, resource)


def test_the_documented_million_host_replication_fits(root):
    loaded = load_scenario(root / PVP, ["fleet.sizes=[1000000]"])  # 3 strategies x 5 replications
    costs = fleet_costs(loaded.scenario, 2, True)
    assert total(costs, "memory") < 4e9  # measured: 1.5 GB in the parent, 0.4 GB per worker (2 replications)
    guards.check(loaded, costs, REFERENCE_MACHINE, environ={})
