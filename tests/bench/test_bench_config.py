"""Bench settings come from a scenario read with the simulator's loader (no root)."""

from pathlib import Path

import pytest

from bench.config import config_from_scenario
from sim.errors import UserError
from sim.load.loader import load_scenario


def test_scenario_is_read_with_the_shared_loader(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("version: 1\nname: b\nseed: 9\nartifact: {size: 2MB, files: 10}\n"
                 "network: {host_download: 100Mbps, deploy_egress: 10Gbps}\n"
                 "strategies:\n  serial: {kind: push, parallel: 1}\n  pull: {kind: pull}\n")
    cfg = config_from_scenario(f, hosts=3, overrides=("artifact.files=20",))
    assert (cfg.size, cfg.files, cfg.seed, cfg.hosts) == (2_000_000, 20, 9, 3)
    assert (cfg.host_rate_mbit, cfg.deploy_rate_mbit) == (100.0, 0.0)  # 10 Gbit/s: left unshaped
    assert [(s.name, s.kind, s.parallel) for s in cfg.strategies] == [("serial", "push", 1), ("pull", "pull", 0)]
    loaded = load_scenario(f, ("artifact.files=20",))  # the run's manifest names what it was configured from
    assert (cfg.scenario, cfg.scenario_sha256, cfg.overrides) == (str(f), loaded.digest, ("artifact.files=20",))
    f.write_text("version: 1\nname: b\nartifact: {size: 2 parsecs}\n")
    with pytest.raises(UserError, match="artifact.size"):
        config_from_scenario(f, hosts=3)


def test_host_limits_come_from_the_scenarios_bench_section(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("version: 1\nname: b\nbench: {host_cpu: 0.5, host_memory: 256MB}\n")
    cfg = config_from_scenario(f, hosts=3)
    assert (cfg.host_cpu, cfg.host_memory) == (0.5, 256_000_000)
    assert (config_from_scenario(f, hosts=3, overrides=("bench.host_cpu=2",)).host_cpu) == 2.0
    f.write_text("version: 1\nname: b\n")
    plain = config_from_scenario(f, hosts=3)
    assert (plain.host_cpu, plain.host_memory) == (None, None)  # default: no limit
    assert plain.scenario_sha256 == load_scenario(f, ()).digest  # no bench section: the digest as before


@pytest.mark.parametrize("section, key", [("{host_cpu: 0}", "bench.host_cpu"), ("{host_cpu: lots}", "bench.host_cpu"),
                                          ("{host_memory: 1MB}", "bench.host_memory"),
                                          ("{host_memory: 2 parsecs}", "bench.host_memory"),
                                          ("{host_cpus: 1}", "host_cpus")])
def test_bad_host_limits_are_located_errors(tmp_path: Path, section: str, key: str) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(f"version: 1\nname: b\nbench: {section}\n")
    with pytest.raises(UserError, match=key) as caught:
        config_from_scenario(f, hosts=3)
    assert f"{f}:3:" in str(caught.value)  # file and line, as every scenario error


def test_overrides_without_a_scenario_are_refused_not_dropped() -> None:
    with pytest.raises(UserError, match="--set bench.host_cpu=0.5: needs a SCENARIO"):
        config_from_scenario(None, hosts=3, overrides=("bench.host_cpu=0.5",))
    assert config_from_scenario(None, hosts=3).host_cpu is None
