"""The per-host daemons a push or a pull talks to: sshd, the rsync daemon and the deploy agent.

Each runs in its host's namespace under the run's `Supervisor`, listening only on the host's bench
address. sshd takes keys made per run (no passwords, no host-key checks: bench addresses only); the
rsync daemon serves the host's folder as module `host` on an unprivileged port, so the no-root
loopback fallback can run it too. The deploy agent is a program of the pull protocol
(`bench.deploy.agent`), run by its module name and never imported here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.harness.netns import Member
from bench.harness.procs import Supervisor

RSYNC_MODULE = "host"
RSYNC_PORT = 8873  # unprivileged, so the no-root loopback fallback can run daemons too
AGENT_MODULE = "bench.deploy.agent"
P2P_AGENT_MODULE = "bench.deploy.p2p_agent"
SEEDER_MODULE = "bench.deploy.seeder"
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's python3-libtorrent exists for it alone (the p2p agent, the seeder)
P2P_PORT = 6881
REPOSITORY = Path(__file__).resolve().parents[2]  # on the agents' PYTHONPATH, so `python -m` finds the bench


@dataclass(frozen=True)
class SshKeys:
    client: Path
    host: Path
    authorized: Path


def make_keys(folder: Path) -> SshKeys:
    folder.mkdir(parents=True, exist_ok=True)
    client, host = folder / "id_ed25519", folder / "host_ed25519"
    for key in (client, host):
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "deploysim-bench", "-f", str(key)],
                           check=True)
    authorized = folder / "authorized_keys"
    authorized.write_text(Path(f"{client}.pub").read_text())
    return SshKeys(client, host, authorized)


def sshd_config(m: Member, keys: SshKeys, home: Path) -> str:
    return "\n".join([
        f"ListenAddress {m.addr}:22", f"HostKey {keys.host}", f"PidFile {home / 'sshd.pid'}",
        f"AuthorizedKeysFile {keys.authorized}", "PermitRootLogin prohibit-password",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no",
        "PrintMotd no", "UseDNS no", "MaxStartups 200:30:400", "MaxSessions 50", "",
    ])


def start_sshd(sup: Supervisor, m: Member, keys: SshKeys, home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory
    cfg = home / "sshd_config"
    cfg.write_text(sshd_config(m, keys, home))
    sup.spawn(f"sshd-{m.name}", ["/usr/sbin/sshd", "-D", "-e", "-f", str(cfg)], m.ns, home / "sshd.log")


def rsyncd_config(m: Member, home: Path, app: Path | None = None) -> str:
    """The daemon's config: its files in `home`, module `host` = the host's app folder (`app`, as the
    daemon sees it: `/srv/app` in a host container; default `home`)."""
    owner = ["    uid = root", "    gid = root"] if os.geteuid() == 0 else []
    return "\n".join([
        f"pid file = {home / 'rsyncd' / 'rsyncd.pid'}", "use chroot = no", "numeric ids = yes",
        f"address = {m.addr}", f"port = {RSYNC_PORT}", "max connections = 0", f"[{RSYNC_MODULE}]",
        f"    path = {app or home}", "    read only = no", *owner, "    munge symlinks = no", "",
    ])


def start_rsyncd(sup: Supervisor, m: Member, home: Path, app: Path | None = None) -> None:
    """An rsync daemon on the host's address, port `RSYNC_PORT`, whose module is the host's folder."""
    (home / "rsyncd").mkdir(parents=True, exist_ok=True)
    cfg = home / "rsyncd" / "rsyncd.conf"
    cfg.write_text(rsyncd_config(m, home, app))
    sup.spawn(f"rsyncd-{m.name}", ["rsync", "--daemon", "--no-detach", f"--config={cfg}"], m.ns,
              home / "rsyncd" / "rsyncd.log")


def start_agent(sup: Supervisor, m: Member, home: Path, token: str, app: Path | None = None) -> None:
    """The host's deploy agent, talking to the host's own Consul agent with the host's token; it deploys
    into `app / "pull"` (the host's app folder as the agent sees it; default `home`)."""
    (home / "pull").mkdir(parents=True, exist_ok=True)
    token_file = home / "token"
    token_file.write_text(token)
    os.chmod(token_file, 0o600)
    cmd = [sys.executable, "-m", AGENT_MODULE, "--host", m.name, "--consul", f"http://{m.addr}:8500",
           "--token-file", str(token_file), "--root", str((app or home) / "pull")]
    sup.spawn(f"agent-{m.name}", cmd, m.ns, home / "agent.log", env={"PYTHONPATH": str(REPOSITORY)})


def start_p2p_agent(sup: Supervisor, m: Member, home: Path, token: str, app: Path | None = None) -> None:
    """The host's deploy agent in p2p mode (`bench.deploy.p2p_agent`), under the system python3 (libtorrent): it
    registers `m.addr:P2P_PORT` as its peer entry and deploys into `app / "p2p"`."""
    (home / "p2p").mkdir(parents=True, exist_ok=True)
    token_file = home / "token"
    token_file.write_text(token)
    os.chmod(token_file, 0o600)
    cmd = [SYSTEM_PYTHON, "-m", P2P_AGENT_MODULE, "--addr", m.addr, "--host", m.name,
           "--consul", f"http://{m.addr}:8500", "--token-file", str(token_file), "--root", str((app or home) / "p2p")]
    sup.spawn(f"p2p-agent-{m.name}", cmd, m.ns, home / "p2p-agent.log", env={"PYTHONPATH": str(REPOSITORY)})


def start_seeder(sup: Supervisor, m: Member, name: str, tarball: Path, torrent_out: Path, piece: int,
                 log: Path, connections: int = 10) -> None:
    """A BitTorrent seeder of `tarball` on `m` (the deploy host), listening on `m.addr:P2P_PORT` only; it
    writes the metainfo to `torrent_out` once it seeds (`bench.deploy.seeder`)."""
    cmd = [SYSTEM_PYTHON, "-m", SEEDER_MODULE, "--addr", m.addr, "--port", str(P2P_PORT),
           "--tarball", str(tarball), "--torrent", str(torrent_out), "--piece", str(piece),
           "--connections", str(connections)]
    sup.spawn(name, cmd, m.ns, log, env={"PYTHONPATH": str(REPOSITORY)})
