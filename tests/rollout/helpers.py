"""Small release scenarios built in code for the rollout tests."""

from __future__ import annotations

from sim.spec.scenario import Scenario

PULL = {"kind": "pull", "publish": 0, "key_write": "10ms", "wakeup": "50ms", "verify_rate": "1000MB/s",
        "activation": "1s"}


def release_scenario(steps, gates=None, background=(), strategy="pull", **sections) -> Scenario:
    data = {
        "version": 1, "name": "release-test", "seed": 1,
        "fleet": {"hosts": 200, "tiers": {"canary": "5%"}},
        "artifact": {"size": "100MB", "files": 100},
        "network": {"origin_egress": "100Gbps", "deploy_egress": "10Gbps", "host_download": "10Gbps"},
        "strategies": {"pull": PULL, "push": {"kind": "push", "parallel": 8, "connect": "1s", "scan_per_file": 0,
                                              "activation": "1s"}},
        "rollout": {"strategy": strategy, "steps": steps, "background_gates": list(background)},
        "gates": gates or {},
        "build": {"bad_probability": 0, "build_time": "10m"},
        "schedule": {"start": "Tue 10:00"},
        "traffic": {"dispersion": 0},
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value}
    return Scenario.model_validate(data)
