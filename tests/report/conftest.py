"""Real results folders for the report's tests: tiny scenarios run by the real commands, once per module.

A policy's name is hostile (HTML that would run a script if a page let it through: policy names are
free text, scenario and strategy names are not), so every test of an evaluation page also shows that
names from a scenario are escaped wherever they land; `test_escaping` edits results files for the rest.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app

POLICY = '<script>alert("p")</script>'

FLEET = """\
version: 1
name: tiny-fleet
seed: 11
replications: 2
fleet:
  sizes: [4, 12, 40, 120]    # source: four sizes, small enough for a test
  zones: 2
artifact: {size: 20MB, files: 100}   # source: a small artifact
network: {deploy_egress: 1Gbps, origin_egress: 10Gbps, per_flow: 1Gbps, host_download: 1Gbps}
strategies:
  rsync-2:
    kind: push
    parallel: 2
    connect: {dist: lognormal, median: 1s, p95: 2s}
    activation: 1s
  pull:
    kind: pull
    publish: 5s                # source: a guess for the test
    key_write: 10ms
    wakeup: 50ms
    verify_rate: 500MB/s
    activation: 1s
"""

EVALUATION = f"""\
version: 1
name: tiny-evaluation
seed: 5
fleet: {{hosts: 50, tiers: {{canary: 0}}}}
artifact: {{size: 10MB, files: 10}}
strategies:
  pull: {{kind: pull, publish: 0, key_write: 10ms, wakeup: 50ms, verify_rate: 1000MB/s, activation: 1s}}
rollout:
  strategy: pull
  steps:
    - set_weight: 100
    - pause: 5m
    - analysis: {{gates: [g]}}
traffic: {{dispersion: 0, diurnal: {{amplitude: 0}}, requests_per_host: 0.5, error_rate: 1.2%}}
build: {{build_time: 0, bad: {{onset: 0}}}}
schedule: {{start: "Tue 10:00"}}
evaluation:
  releases: 40
  bad_share: 50%
  policies:
    tight:
      g: {{semantics: threshold, metric: error_rate, max: 1.5%, count: 1}}
    '{POLICY}':
      g: {{semantics: threshold, metric: error_rate, max: 5%, count: 1}}
  acceptance:
    max_false_rollback_rate: 1%    # source: a bar for the test
    caught_before_exposure: 50%
"""

GATE = "<b>x</b>"
RELEASE = f"""\
version: 1
name: tiny-release
seed: 7
replications: 1
fleet: {{hosts: 50, tiers: {{dogfood: 5, canary: 0}}}}
artifact: {{size: 10MB, files: 10}}
strategies:
  pull: {{kind: pull, publish: 0, key_write: 10ms, wakeup: 50ms, verify_rate: 1000MB/s, activation: 1s}}
rollout:
  strategy: pull
  steps:
    - stage: dogfood
    - pause: 5m
    - set_weight: 20
    - pause: 5m
    - analysis: {{gates: ['{GATE}']}}
    - set_weight: 100
    - pause: 5m
traffic: {{dispersion: 0, diurnal: {{amplitude: 0}}, requests_per_host: 0.5, error_rate: 1%}}
build: {{build_time: 0, bad_probability: 100%, bad: {{onset: 0, added_error_rate: 5%}}}}
schedule: {{start: "Tue 10:00"}}
gates:
  '{GATE}': {{semantics: threshold, metric: error_rate, max: 3%, count: 3}}   # source: a bar for the test
"""

# A tiny sweep whose points pass, are uncertain and fail (measured: 1 passes, 2 uncertain, 7 fail).
SWEEP = """\
version: 1
name: tiny-sweep
seed: 5
fleet: {hosts: 50, tiers: {canary: 0}}
artifact: {size: 10MB, files: 10}
strategies:
  pull: {kind: pull, publish: 0, key_write: 10ms, wakeup: 50ms, verify_rate: 1000MB/s, activation: 1s}
rollout:
  strategy: pull
  steps:
    - set_weight: 100
    - pause: 5m
    - analysis: {gates: [g]}
traffic: {dispersion: 0, diurnal: {amplitude: 0}, requests_per_host: 0.5, error_rate: 1.2%}
build: {build_time: 0, bad: {onset: 0}}
schedule: {start: "Tue 10:00"}
evaluation:
  releases: 80
  bad_share: 50%
  policies:
    base:
      g: {semantics: threshold, metric: error_rate, max: 1.5%, count: 1}
  acceptance:
    max_false_rollback_rate: 30%   # source: a bar for the test
    max_miss_rate: 50%
    max_blocked_rate: 20%
  sweep:
    base: base
    grid:
      gates.g.max: [1.3%, 1.5%, 2%, 3%, 5%]
      gates.g.count: [1, 2]
"""


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args],
                              env={"GITHUB_ACTIONS": None, "GITHUB_STEP_SUMMARY": None, "COLUMNS": "200"})


def results(factory, name: str, scenario: str, command: str, exit_codes=(0,)):
    """`deploysim COMMAND --report` on `scenario` (written to NAME.yaml): its results folder, with report.html."""
    base = factory.mktemp(name)
    (base / f"{name}.yaml").write_text(scenario)
    result = invoke(command, base / f"{name}.yaml", "--out", base / "out", "--workers", "1", "--report")
    assert result.exit_code in exit_codes, result.output
    return base / "out"


@pytest.fixture(scope="session")
def fleet_folder(tmp_path_factory):
    """`deploysim run --report` on a tiny fleet-growth scenario."""
    return results(tmp_path_factory, "fleet", FLEET, "run")


@pytest.fixture(scope="session")
def evaluation_folder(tmp_path_factory):
    """`deploysim evaluate --report` on a tiny two-policy scenario (a policy fails or is uncertain: the
    report is written anyway)."""
    return results(tmp_path_factory, "evaluation", EVALUATION, "evaluate", exit_codes=(1, 3))


@pytest.fixture(scope="session")
def fleet_sweep_folder(tmp_path_factory):
    """`deploysim run --sweep --report` on the tiny fleet: the deploy host's egress at 1 Gbps and 50 Mbps
    (rsync slows, pull does not), times two shares of hosts down."""
    base = tmp_path_factory.mktemp("fleet-sweep")
    (base / "fleet.yaml").write_text(FLEET)
    result = invoke("run", base / "fleet.yaml", "--out", base / "out", "--workers", "1", "--report",
                    "--sweep", "network.deploy_egress=1Gbps,50Mbps", "--sweep", "faults.down=0,10%")
    assert result.exit_code == 0, result.output
    return base / "out"


@pytest.fixture(scope="session")
def releases_folder(tmp_path_factory):
    """`deploysim run --report` on a tiny release (a bad build that the gate named GATE catches at 20% and
    rolls back); the scenario is release.yaml beside the folder."""
    return results(tmp_path_factory, "release", RELEASE, "run")


@pytest.fixture(scope="session")
def sweep_folder(tmp_path_factory):
    """`deploysim sweep --report` on the tiny sweep (a point passes)."""
    return results(tmp_path_factory, "sweep", SWEEP, "sweep")


@pytest.fixture(scope="session")
def validation_folder(tmp_path_factory):
    """`deploysim validate-model` on two recorded bench runs (10 and 50 hosts; no root or Consul needed),
    then `deploysim report`: its results folder, with report.html."""
    recorded = Path(__file__).resolve().parents[2] / "bench" / "recorded" / "2026-11-26"
    out = tmp_path_factory.mktemp("validation") / "out"
    result = invoke("validate-model", recorded / "n10", recorded / "n50", "--params", recorded / "params.yaml",
                    "-r", "2", "--out", out)
    assert result.exit_code == 0, result.output
    assert invoke("report", out).exit_code == 0
    return out


@pytest.fixture(scope="session")
def bench_folder(tmp_path_factory):
    """A bench results folder as `deploysim bench` writes it (bench.results.write; its deploys simulated, since
    a real bench needs root and Consul: tests/bench runs those), with a fifth of the hosts down, so some
    hosts are never updated; then `deploysim report`."""
    from bench import results
    from tests.bench.test_bench_results import bench_like_result

    out = results.write(tmp_path_factory.mktemp("bench") / "out", bench_like_result())
    assert invoke("report", out).exit_code == 0
    return out


SHIPPED = Path(__file__).resolve().parents[2] / "scenarios"


def shipped(factory, name: str, command: str, *flags, exit_codes=(0,)):
    """`deploysim COMMAND scenarios/NAME.yaml --report` with FLAGS (fewer replications or releases, to keep
    the suite quick; the scenario, its names, strategies, stages and sizes are the shipped ones)."""
    out = factory.mktemp(f"shipped-{name}") / "out"
    result = invoke(command, SHIPPED / f"{name}.yaml", "--out", out, "--workers", "1", "--report", *flags)
    assert result.exit_code in exit_codes, result.output
    return out


@pytest.fixture(scope="session")
def shipped_fleet_folder(tmp_path_factory):
    """The README's main job, scenarios/push_vs_pull.yaml (2 replications instead of 5)."""
    return shipped(tmp_path_factory, "push_vs_pull", "run", "-r", "2")


@pytest.fixture(scope="session")
def shipped_p2p_folder(tmp_path_factory):
    """scenarios/p2p_vs_pull.yaml, fleets up to a million hosts (1 replication instead of 3)."""
    return shipped(tmp_path_factory, "p2p_vs_pull", "run", "-r", "1")


@pytest.fixture(scope="session")
def shipped_releases_folder(tmp_path_factory):
    """scenarios/slack_2020_pipeline.yaml as shipped."""
    return shipped(tmp_path_factory, "slack_2020_pipeline", "run")


@pytest.fixture(scope="session")
def shipped_evaluation_folder(tmp_path_factory):
    """scenarios/threshold_policies.yaml evaluated on 40 releases per policy (not 400)."""
    return shipped(tmp_path_factory, "threshold_policies", "evaluate", "-n", "40", exit_codes=(0, 1, 3))


@pytest.fixture(scope="session")
def shipped_controllers_folder(tmp_path_factory):
    """scenarios/controller_policies.yaml (an Argo Rollout and a Flagger Canary) on 40 releases per policy."""
    return shipped(tmp_path_factory, "controller_policies", "evaluate", "-n", "40", exit_codes=(0, 1, 3))


@pytest.fixture(scope="session")
def shipped_sweep_folder(tmp_path_factory):
    """scenarios/threshold_policies.yaml's sweep on 20 releases per point (not 400)."""
    return shipped(tmp_path_factory, "threshold_policies", "sweep", "-n", "20", exit_codes=(0, 1, 3))
