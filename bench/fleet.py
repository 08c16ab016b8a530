"""Bringing a bench fleet up and down: namespaces, Consul, sshd, deploy agents, artifact server.

`fleet(config)` is a context manager: whatever happens inside (success, error, SIGINT, SIGTERM),
every process, namespace and temp folder of the run is removed on the way out.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from bench import cleanup, consul_cluster, netns, push
from bench.artifact import ArtifactServer
from bench.consul_cluster import Cluster
from bench.netns import Member, Net
from bench.procs import Supervisor

ARTIFACT_PORT = 8080


@dataclass(frozen=True)
class StrategySpec:
    """A strategy to run on the bench: name (as in the scenario), kind, push fan-out."""

    name: str
    kind: str       # "pull" | "push"
    parallel: int = 0
    transport: str = "ssh"  # push only: "ssh" or "daemon" (rsync://)


DEFAULT_STRATEGIES = (StrategySpec("consul-pull", "pull"), StrategySpec("rsync-parallel-4", "push", 4))


@dataclass(frozen=True)
class BenchConfig:
    hosts: int = 5
    servers: int = 1
    size: int = 1 << 20            # artifact bytes
    files: int = 50
    seed: int = 1
    parallel: int = 4              # push: rsyncs at a time
    host_rate_mbit: float = 0.0    # tbf on each host's link; 0 = unshaped
    deploy_rate_mbit: float = 0.0  # tbf on the deploy host's (origin's) link; 0 = unshaped
    isolated: bool | None = None   # None: namespaces when root, loopback otherwise
    timeout: float = 120.0
    strategies: tuple[StrategySpec, ...] = DEFAULT_STRATEGIES


@dataclass(frozen=True)
class Fleet:
    config: BenchConfig
    run_id: str
    folder: Path
    net: Net
    sup: Supervisor
    cluster: Cluster
    keys: push.SshKeys
    server: ArtifactServer

    @property
    def hosts(self) -> list[Member]:
        return list(self.cluster.clients)

    @property
    def deploy(self) -> Member:
        return self.net.get("d")

    def pull_root(self, host: str) -> Path:
        return self.folder / host / "pull"

    def push_root(self, host: str, strategy: str = "push") -> Path:
        return self.folder / host / strategy


def start_agent(f_sup: Supervisor, folder: Path, cluster: Cluster, m: Member) -> None:
    home = folder / m.name
    (home / "pull").mkdir(parents=True, exist_ok=True)
    token_file = home / "token"
    token_file.write_text(cluster.tokens.hosts[m.name])
    os.chmod(token_file, 0o600)
    repo = str(Path(__file__).resolve().parent.parent)
    cmd = [sys.executable, "-m", "bench.agent", "--host", m.name, "--consul", f"http://{m.addr}:8500",
           "--token-file", str(token_file), "--root", str(home / "pull")]
    f_sup.spawn(f"agent-{m.name}", cmd, m.ns, home / "agent.log", env={"PYTHONPATH": repo})


def wait_agents_ready(folder: Path, cluster: Cluster, timeout: float) -> None:
    """Wait until every deploy agent has its blocking query on the release key open."""
    marks = [folder / m.name / "pull" / "ready" for m in cluster.clients]
    consul_cluster.wait_for("every deploy agent to watch the release key",
                            lambda: all(p.exists() for p in marks), timeout, every=0.1)


def shape_links(net: Net, cfg: BenchConfig) -> None:
    """The deploy host's upload (its egress: push and the artifact origin) and each host's download."""
    for m in net.members:
        if m.name == "d" and cfg.deploy_rate_mbit > 0:
            netns.shape(m, cfg.deploy_rate_mbit)
        elif m.name.startswith("h") and cfg.host_rate_mbit > 0:
            netns.shape_download(net, m, cfg.host_rate_mbit)


def bring_up(cfg: BenchConfig, run_id: str, folder: Path, sup: Supervisor, net: Net) -> Fleet:
    shape_links(net, cfg)
    cluster = consul_cluster.start(sup, net, folder, cfg.servers, timeout=cfg.timeout)
    keys = push.make_keys(folder / "ssh")
    for m in cluster.clients:
        if os.geteuid() == 0:  # sshd needs root; without it pushes go over the rsync daemon
            push.start_sshd(sup, m, keys, folder / m.name / "sshd")
        push.start_rsyncd(sup, m, folder / m.name)
        start_agent(sup, folder, cluster, m)
    wait_agents_ready(folder, cluster, cfg.timeout)
    (folder / "artifacts").mkdir(exist_ok=True)
    server = ArtifactServer(folder / "artifacts", net.get("d").addr, ARTIFACT_PORT, net.get("d").ns)
    return Fleet(cfg, run_id, folder, net, sup, cluster, keys, server)


@contextmanager
def fleet(cfg: BenchConfig) -> Iterator[Fleet]:
    """A running fleet; torn down completely on exit, including on SIGINT/SIGTERM."""
    run_id = secrets.token_hex(3)
    isolated = cfg.isolated if cfg.isolated is not None else os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix=f"{netns.PREFIX}{run_id}-"))
    sup, net, server = Supervisor(run_id), None, None
    try:
        with cleanup.signals_raise():
            net = netns.build(run_id, cfg.servers, cfg.hosts, isolated=isolated)
            f = bring_up(cfg, run_id, folder, sup, net)
            server = f.server
            yield f
    finally:
        if server is not None:
            server.close()
        cleanup.teardown(sup, run_id, folder)
