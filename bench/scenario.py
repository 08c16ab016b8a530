"""Reading the parts of a scenario file the bench uses: seed, artifact, network rates, push fan-out.

The simulator owns scenario validation; the bench reads only `seed`, `artifact.size`,
`artifact.files`, `network.host_download`, `network.origin_egress` and `strategy.parallel`, with
their units written out (`1.5MB`, `100Mbps`). Until the shared loader is wired in, other keys are
left to it and ignored here.
"""

from __future__ import annotations

import re
from pathlib import Path

from ruamel.yaml import YAML

from bench.fleet import BenchConfig

_SIZE = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}
_RATE = {"bps": 1e-6, "kbps": 1e-3, "mbps": 1.0, "gbps": 1e3}


class ScenarioError(ValueError):
    """A scenario value the bench cannot use; the message names the file and key."""


def parse_unit(text, table: dict, where: str) -> float:
    m = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]+)\s*", str(text))
    if not m or m.group(2).lower() not in table:
        raise ScenarioError(f"{where}: cannot read {text!r} (units: {', '.join(table)})")
    return float(m.group(1)) * table[m.group(2).lower()]


def load(path: Path) -> dict:
    data = YAML(typ="safe").load(path.read_text())
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping at the top")
    return data


def config_from_scenario(path: Path | None, hosts: int, servers: int = 1, seed: int | None = None,
                         parallel: int = 0) -> BenchConfig:
    """Bench settings from a scenario (or defaults when None); CLI options win over the file."""
    data = load(path) if path else {}
    art, net, strat = data.get("artifact", {}), data.get("network", {}), data.get("strategy", {})
    size = int(parse_unit(art["size"], _SIZE, f"{path}: artifact.size")) if "size" in art else 1 << 20
    host_rate = parse_unit(net["host_download"], _RATE, f"{path}: network.host_download") \
        if "host_download" in net else 0.0
    origin_rate = parse_unit(net["origin_egress"], _RATE, f"{path}: network.origin_egress") \
        if "origin_egress" in net else 0.0
    return BenchConfig(hosts=hosts, servers=servers, size=size, files=int(art.get("files", 50)),
                       seed=seed if seed is not None else int(data.get("seed", 1)),
                       parallel=parallel or int(strat.get("parallel", 4)),
                       host_rate_mbit=host_rate, deploy_rate_mbit=origin_rate)
