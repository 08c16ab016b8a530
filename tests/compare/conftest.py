"""Real results folders for compare's tests: a tiny fleet-growth scenario run with two seeds and once with
the deploy host's egress cut to 20 Mbps (a change made on purpose), and a tiny evaluation run with two
seeds; each made once per session by the real commands.

Six replications: the fewest for which the median over replications has a 95% interval (order statistics),
so the times carry intervals to compare. Pull's times here do not depend on the seed (constant publish,
key write, wake-up and activation), so a row of equal values shows too.
"""

from __future__ import annotations

import pytest

from tests.report.conftest import EVALUATION, invoke

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
