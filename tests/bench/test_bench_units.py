"""Bench parts that need no root: artifact determinism, rollout buckets, scenario units, preflight shape."""

from pathlib import Path

import pytest

from bench import agent, preflight
from bench.artifact import make_build, tree_digest
from bench.scenario import config_from_scenario
from sim.errors import UserError


def test_same_seed_same_artifact(tmp_path: Path) -> None:
    a = make_build(tmp_path / "a", "b1", 10_000, 7, seed=3)
    b = make_build(tmp_path / "b", "b1", 10_000, 7, seed=3)
    c = make_build(tmp_path / "c", "b1", 10_000, 7, seed=4)
    assert a.sha256 == b.sha256 != c.sha256
    assert tree_digest(a.tree) == tree_digest(b.tree)
    assert sum(p.stat().st_size for p in a.tree.rglob("*") if p.is_file()) == 10_000


def test_bucket_is_stable_and_rollout_is_monotone() -> None:
    hosts = [f"h{i}" for i in range(1, 201)]
    assert [agent.bucket(h) for h in hosts] == [agent.bucket(h) for h in hosts]
    chosen = [sum(agent.selected(h, p) for h in hosts) for p in (0, 10, 25, 50, 75, 100)]
    assert chosen[0] == 0 and chosen[-1] == 200 and chosen == sorted(chosen)


def test_scenario_is_read_with_the_shared_loader(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("version: 1\nname: b\nseed: 9\nartifact: {size: 2MB, files: 10}\n"
                 "network: {host_download: 100Mbps, deploy_egress: 10Gbps}\n"
                 "strategies:\n  serial: {kind: push, parallel: 1}\n  pull: {kind: pull}\n")
    cfg = config_from_scenario(f, hosts=3, overrides=("artifact.files=20",))
    assert (cfg.size, cfg.files, cfg.seed, cfg.hosts) == (2_000_000, 20, 9, 3)
    assert (cfg.host_rate_mbit, cfg.deploy_rate_mbit) == (100.0, 0.0)  # 10 Gbit/s: left unshaped
    assert [(s.name, s.kind, s.parallel) for s in cfg.strategies] == [("serial", "push", 1), ("pull", "pull", 0)]
    f.write_text("version: 1\nname: b\nartifact: {size: 2 parsecs}\n")
    with pytest.raises(UserError, match="artifact.size"):
        config_from_scenario(f, hosts=3)


def test_preflight_findings_give_advice() -> None:
    for f in preflight.run_checks():
        assert f.ok or f.advice, f"{f.name} failed without advice"
