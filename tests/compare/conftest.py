"""Real results folders for compare's tests: a tiny fleet-growth scenario run with two seeds and once with
the deploy host's egress cut to 20 Mbps (a change made on purpose), and a tiny evaluation run with two
seeds; each made once per session by the real commands.

Six replications: the fewest for which the median over replications has a 95% interval (order statistics),
so the times carry intervals to compare. Pull's times here do not depend on the seed (constant publish,
key write, wake-up and activation), so a row of equal values shows too.
"""

from __future__ import annotations

import pytest

from tests.report.conftest import EVALUATION, RELEASE, SWEEP, invoke

FLEET = """\
version: 1
name: tiny-fleet
replications: 6
fleet:
  sizes: [4, 30]
  zones: 2
artifact: {size: 20MB, files: 100}
network: {deploy_egress: 1Gbps, origin_egress: 10Gbps, per_flow: 1Gbps, host_download: 1Gbps}
strategies:
  rsync-2:
    kind: push
    parallel: 2
    connect: {dist: lognormal, median: 1s, p95: 2s}
    activation: 1s
  pull:
    kind: pull
    publish: 5s
    key_write: 10ms
    wakeup: 50ms
    verify_rate: 500MB/s
    activation: 1s
"""

SLOW_EGRESS = "network.deploy_egress=20Mbps"  # 50x less: rsync's transfers take 8 s a host instead of 0.16 s


@pytest.fixture(scope="session")
def fleet_runs(tmp_path_factory):
    """{'seed 1', 'seed 2', 'slow egress'}: results folders of `deploysim run` on FLEET."""
    base = tmp_path_factory.mktemp("compare-fleet")
    (base / "fleet.yaml").write_text(FLEET)
    runs = {"seed 1": ["--seed", 1], "seed 2": ["--seed", 2], "slow egress": ["--seed", 1, "--set", SLOW_EGRESS]}
    for name, flags in runs.items():
        out = base / name.replace(" ", "-")
        result = invoke("run", base / "fleet.yaml", "--out", out, "--workers", "1", *flags)
        assert result.exit_code == 0, result.output
    return {name: base / name.replace(" ", "-") for name in runs}


@pytest.fixture(scope="session")
def evaluation_runs(tmp_path_factory):
    """{'seed 5', 'seed 6'}: results folders of `deploysim evaluate` on the report's tiny evaluation."""
    base = tmp_path_factory.mktemp("compare-evaluation")
    (base / "evaluation.yaml").write_text(EVALUATION)
    for seed in (5, 6):
        result = invoke("evaluate", base / "evaluation.yaml", "--out", base / f"seed-{seed}", "--workers", "1",
                        "--seed", seed)
        assert result.exit_code in (0, 1, 3), result.output  # a verdict, whichever: the folder is written
    return {f"seed {seed}": base / f"seed-{seed}" for seed in (5, 6)}


@pytest.fixture(scope="session")
def release_runs(tmp_path_factory):
    """{'seed 8', 'seed 9'}: results folders of `deploysim run` on the report's tiny release, 8 releases each
    (with 8 values the 95% order-statistics interval of the median is [min, max]: P(1 <= B(8, 1/2) <= 7) =
    254/256, while P(2 <= B <= 6) = 238/256 < 0.95)."""
    base = tmp_path_factory.mktemp("compare-releases")
    (base / "release.yaml").write_text(RELEASE)
    for seed in (8, 9):
        result = invoke("run", base / "release.yaml", "--out", base / f"seed-{seed}", "--workers", "1",
                        "--seed", seed, "--set", "replications=8")
        assert result.exit_code == 0, result.output
    return {f"seed {seed}": base / f"seed-{seed}" for seed in (8, 9)}


@pytest.fixture(scope="session")
def sweep_runs(tmp_path_factory):
    """{'seed 5', 'seed 6', 'one count'}: results folders of `deploysim sweep` on the report's tiny sweep, the
    last with only `count: 1` in its grid."""
    base = tmp_path_factory.mktemp("compare-sweep")
    (base / "sweep.yaml").write_text(SWEEP)
    assert "gates.g.count: [1, 2]" in SWEEP
    (base / "one-count.yaml").write_text(SWEEP.replace("gates.g.count: [1, 2]", "gates.g.count: [1]"))
    runs = {"seed 5": ["sweep.yaml", "--seed", 5], "seed 6": ["sweep.yaml", "--seed", 6],
            "one count": ["one-count.yaml", "--seed", 5]}
    for name, (scenario, *flags) in runs.items():
        result = invoke("sweep", base / scenario, "--out", base / name.replace(" ", "-"), "--workers", "1",
                        "--set", "evaluation.releases=40", *flags)
        assert result.exit_code in (0, 1, 3), result.output
    return {name: base / name.replace(" ", "-") for name in runs}


@pytest.fixture(scope="session")
def bench_runs(tmp_path_factory):
    """(A, B): bench results folders as `deploysim bench` writes them (bench.results.write; the deploys
    simulated, since a real bench needs root and Consul), B's pull slowed by a 50x slower publish."""
    from dataclasses import replace

    from bench import results
    from bench.config import BenchConfig
    from bench.run import BenchResult
    from sim.deploy.engine import Job, simulate
    from tests.conftest import make_scenario

    base = tmp_path_factory.mktemp("compare-bench")
    folders = []
    for name, publish in (("a", "1s"), ("b", "50s")):
        scenario = make_scenario(fleet={"hosts": 6, "tiers": {"canary": 0}},
                                 strategies={"rsync-parallel-4": {"kind": "push", "parallel": 4},
                                             "consul-pull": {"kind": "pull", "publish": publish}})
        records = [replace(simulate(scenario, Job(s, 6, 0, 1)), source="bench") for s in scenario.strategies]
        config = BenchConfig(hosts=6, scenario="s.yaml", scenario_sha256="ab" * 32, overrides=("fleet.hosts=6",))
        result = BenchResult(run_id=f"t-{name}", config=config, isolated=True, records=records,
                             not_reproduced=["latency", "loss", "jitter"])
        folders.append(results.write(base / name, result))
    return tuple(folders)
