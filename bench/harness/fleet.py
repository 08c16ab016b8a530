"""Bringing a bench fleet up and down: namespaces, host containers, Consul, sshd, deploy agents, artifact server.

`fleet(config)` is a context manager: whatever happens inside (success, error, SIGINT, SIGTERM),
every process, container, cgroup, namespace and temp folder of the run is removed on the way out.
`new_build` makes a build for the fleet and publishes it on the artifact server.

With root and runc (`containers.unavailable()` empty) each fleet host is a runc container in its own
namespace, and its daemons run inside it; otherwise hosts are namespaces (or loopback) as before, and
`Fleet.fallback` says why. Consul servers and the deploy host stay plain namespaces.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from bench.config import BenchConfig
from bench.harness import cleanup, consul_cluster, containers, daemons, netns
from bench.harness.artifact import ArtifactServer, Build, make_build
from bench.harness.consul_cluster import Cluster
from bench.harness.containers import Container, Limits
from bench.harness.netns import Member, Net, Role
from bench.harness.procs import Supervisor

ARTIFACT_PORT = 8080


@dataclass(frozen=True)
class Fleet:
    config: BenchConfig
    run_id: str
    folder: Path
    net: Net
    sup: Supervisor
    cluster: Cluster
    keys: daemons.SshKeys
    server: ArtifactServer
    containers: tuple[Container, ...] = ()
    fallback: str = ""  # why hosts are not containers ("" when they are)

    @property
    def host_limits(self) -> dict:
        """What each host had: a container or not, CPU cores and memory bytes (None: no limit)."""
        on = bool(self.containers)
        return {"container": on, "cpu": self.config.host_cpu if on else None,
                "memory": self.config.host_memory if on else None}

    @property
    def hosts(self) -> list[Member]:
        return list(self.cluster.clients)

    @property
    def deploy(self) -> Member:
        """The deploy host: release writer, pusher and artifact origin."""
        return self.net.deploy

    def pull_root(self, host: str) -> Path:
        return self.folder / host / "pull"

    def p2p_root(self, host: str) -> Path:
        return self.folder / host / "p2p"

    def push_root(self, host: str, strategy: str = "push") -> Path:
        return self.folder / host / strategy

    def remote_root(self, host: str, strategy: str = "push") -> Path:
        """`push_root` as the host's own processes name it: `/srv/app/<strategy>` on a container host
        (the same folder, at the same path on every host), else the same path."""
        return app_dir(self.sup, self.folder, self.net.get(host)) / strategy


def app_dir(sup: Supervisor, folder: Path, m: Member) -> Path:
    """Host `m`'s app folder as its own processes see it: `/srv/app` in its container, else its folder."""
    return Path(containers.APP_DIR) if m.ns is not None and m.ns in sup.containers else folder / m.name


def start_agent(sup: Supervisor, folder: Path, cluster: Cluster, m: Member) -> None:
    """Host `m`'s deploy agent, with its own token, at home in `folder / m.name`."""
    daemons.start_agent(sup, m, folder / m.name, cluster.tokens.hosts[m.name], app_dir(sup, folder, m))


def start_p2p_agent(sup: Supervisor, folder: Path, cluster: Cluster, m: Member) -> None:
    """Host `m`'s deploy agent in p2p mode (a second process, under the system python3), same token."""
    daemons.start_p2p_agent(sup, m, folder / m.name, cluster.tokens.hosts[m.name], app_dir(sup, folder, m))


def wait_agents_ready(folder: Path, cluster: Cluster, timeout: float, mode: str = "pull") -> None:
    """Wait until every deploy agent (of `mode`) has its blocking query on its release key open."""
    marks = [folder / m.name / mode / "ready" for m in cluster.clients]
    consul_cluster.wait_for("every deploy agent to watch the release key",
                            lambda: all(p.exists() for p in marks), timeout, every=0.1)


def shape_links(net: Net, cfg: BenchConfig) -> None:
    """The deploy host's upload (its egress: push and the artifact origin) and each host's download."""
    if cfg.deploy_rate_mbit > 0:
        netns.shape(net.deploy, cfg.deploy_rate_mbit)
    if cfg.host_rate_mbit > 0:
        for m in net.having(Role.HOST):
            netns.shape_download(net, m, cfg.host_rate_mbit)


def container_plan(cfg: BenchConfig, net: Net) -> str:
    """Why hosts will NOT be containers ('' when they will); raises when they were asked for and cannot."""
    if cfg.containers is False:
        return "not asked for (containers: false)"
    why = containers.unavailable() if net.isolated else "no network namespaces (loopback fallback)"
    if why and cfg.containers:
        raise RuntimeError(f"host containers asked for, but {why}")
    return why


def fallback_note(why: str, cfg: BenchConfig) -> str:
    unused = [k for k, v in (("bench.host_cpu", cfg.host_cpu), ("bench.host_memory", cfg.host_memory)) if v]
    return (f"no host containers ({why}): hosts share the machine's files, process table and CPU"
            + (f"; {' and '.join(unused)} not applied" if unused else ""))


def start_containers(cfg: BenchConfig, run_id: str, folder: Path, sup: Supervisor, net: Net) -> tuple[Container, ...]:
    """One runc container per fleet host, in the host's namespace; its children then run inside it."""
    (folder / "ssh").mkdir(exist_ok=True)  # bound read-only into every host: the run's keys
    limits = Limits(cfg.host_cpu, cfg.host_memory)
    started = []
    for m in net.having(Role.HOST):
        assert m.ns is not None
        c = containers.start(run_id, m.name, m.ns, folder / m.name, folder / "bundles", limits,
                             shared_ro=(folder / "ssh",))
        sup.containers[m.ns] = c.id
        started.append(c)
    return tuple(started)


def bring_up(cfg: BenchConfig, run_id: str, folder: Path, sup: Supervisor, net: Net) -> Fleet:
    why = container_plan(cfg, net)
    boxes = () if why else start_containers(cfg, run_id, folder, sup, net)
    shape_links(net, cfg)
    cluster = consul_cluster.start(sup, net, folder, cfg.servers, timeout=cfg.timeout)
    keys = daemons.make_keys(folder / "ssh")
    p2p = any(s.kind == "p2p" for s in cfg.strategies)  # p2p agents only when a p2p strategy will run
    for m in cluster.clients:
        if os.geteuid() == 0:  # sshd needs root; without it pushes go over the rsync daemon
            daemons.start_sshd(sup, m, keys, folder / m.name / "sshd")
        daemons.start_rsyncd(sup, m, folder / m.name, app_dir(sup, folder, m))
        start_agent(sup, folder, cluster, m)
        if p2p:
            start_p2p_agent(sup, folder, cluster, m)
    wait_agents_ready(folder, cluster, cfg.timeout)
    if p2p:
        wait_agents_ready(folder, cluster, cfg.timeout, "p2p")
    (folder / "artifacts").mkdir(exist_ok=True)
    server = ArtifactServer(folder / "artifacts", net.deploy.addr, ARTIFACT_PORT, net.deploy.ns)
    return Fleet(cfg, run_id, folder, net, sup, cluster, keys, server, boxes, fallback_note(why, cfg) if why else "")


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


def publish(f: Fleet, build: Build) -> None:
    """Put the build's tarball where the artifact server serves it."""
    (f.folder / "artifacts" / build.tarball.name).write_bytes(build.tarball.read_bytes())


def new_build(f: Fleet, build_id: str, seed: int | None = None) -> Build:
    """A build of the configured size and file count (content from `seed`, default the config's), published."""
    cfg = f.config
    build = make_build(f.folder / "builds", build_id, cfg.size, cfg.files, cfg.seed if seed is None else seed)
    publish(f, build)
    return build
