"""Push deploys: the deploy host runs real `rsync` to every host, over ssh or the daemon protocol.

ssh (as production pushes do): per host, one slot of a k-wide pool opens an ssh master connection
(timed: the connection set-up cost), rsyncs the release tree into `releases/.partial-<build>` over
it, then activates remotely (rename into `releases/<build>`, rename a fresh `current` symlink over
the old one) only after the transfer finished. Keys are made per run; host keys are not checked
(bench addresses only).

daemon (`rsync://`, no ssh): the set-up cost is one module listing; the tree goes straight into the
cold folder `releases/<build>`, then a second rsync sends the `current` symlink, which rsync puts in
place by renaming (it never points at a partial tree, since it is sent after the tree completed).
"""

from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench import netns
from bench.netns import Member
from bench.procs import Supervisor


@dataclass(frozen=True)
class SshKeys:
    client: Path
    host: Path
    authorized: Path


@dataclass(frozen=True)
class PushResult:
    host: str
    signal: float           # slot picked the host up (CLOCK_MONOTONIC)
    connect: float          # seconds to open the ssh connection
    transfer_start: float
    transfer_end: float
    done: float             # NaN when the host was not updated
    attempts: int
    reason: str


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


def ssh_opts(keys: SshKeys, control: Path) -> list[str]:
    return ["-F", "/dev/null", "-i", str(keys.client), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=10", "-o", f"ControlPath={control}"]


def activation_command(root: Path, build: str) -> str:
    r, b = str(root), build
    return (f"set -e; mkdir -p {r}; cd {r}; if [ ! -d releases/{b} ]; then mv releases/.partial-{b} releases/{b}; fi; "
            f"ln -sfn releases/{b} .current-push; mv -T .current-push current")


def _run(cmd: list[str], timeout: float) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exit {res.returncode}: {res.stderr.strip()[:160]}")


def push_one(m: Member, tree: Path, build: str, root: Path, keys: SshKeys, work: Path,
             timeout: float) -> PushResult:
    """Connect, transfer, activate one host; never raises (failures land in `reason`)."""
    nan = float("nan")
    t0 = time.monotonic()
    opts = ssh_opts(keys, work / f"cm-{m.name}")
    dest = f"root@{m.addr}"
    stage, t1, t2 = "connect", nan, nan
    try:
        _run(["ssh", *opts, "-o", "ControlMaster=yes", "-o", "ControlPersist=yes", "-f", "-N", dest], timeout)
        stage, t1 = "transfer", time.monotonic()
        rsh = " ".join(["ssh", *opts, "-o", "ControlMaster=no"])
        _run(["rsync", "-a", "--delete", "--mkpath", "-e", rsh, f"{tree}/",  # --mkpath: rsync >= 3.2.3
              f"{dest}:{root}/releases/.partial-{build}/"], timeout)
        stage, t2 = "activate", time.monotonic()
        _run(["ssh", *opts, "-o", "ControlMaster=no", dest, activation_command(root, build)], timeout)
        return PushResult(m.name, t0, t1 - t0, t1, t2, time.monotonic(), 1, "")
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return PushResult(m.name, t0, (t1 if t1 == t1 else time.monotonic()) - t0, t1, t2, nan, 1,
                          f"{stage}: {exc}"[:200])
    finally:
        subprocess.run(["ssh", *opts, "-O", "exit", dest], capture_output=True, timeout=10)


RSYNC_MODULE = "host"
RSYNC_PORT = 8873  # unprivileged, so the no-root loopback fallback can run daemons too


def rsyncd_config(m: Member, home: Path) -> str:
    owner = ["    uid = root", "    gid = root"] if os.geteuid() == 0 else []
    return "\n".join([
        f"pid file = {home / 'rsyncd' / 'rsyncd.pid'}", "use chroot = no", "numeric ids = yes",
        f"address = {m.addr}", f"port = {RSYNC_PORT}", "max connections = 0", f"[{RSYNC_MODULE}]",
        f"    path = {home}", "    read only = no", *owner, "    munge symlinks = no", "",
    ])


def start_rsyncd(sup: Supervisor, m: Member, home: Path) -> None:
    """An rsync daemon on the host's address, port 873, whose module is the host's folder."""
    (home / "rsyncd").mkdir(parents=True, exist_ok=True)
    cfg = home / "rsyncd" / "rsyncd.conf"
    cfg.write_text(rsyncd_config(m, home))
    sup.spawn(f"rsyncd-{m.name}", ["rsync", "--daemon", "--no-detach", f"--config={cfg}"], m.ns,
              home / "rsyncd" / "rsyncd.log")


def push_one_daemon(m: Member, tree: Path, build: str, root: Path, work: Path, timeout: float) -> PushResult:
    """Module listing (set-up cost), tree into releases/<build>, then the `current` symlink."""
    nan = float("nan")
    base = f"rsync://{m.addr}:{RSYNC_PORT}/{RSYNC_MODULE}/{root.name}"
    t0 = time.monotonic()
    stage, t1, t2 = "connect", nan, nan
    try:
        _run(["rsync", f"rsync://{m.addr}:{RSYNC_PORT}/"], timeout)
        stage, t1 = "transfer", time.monotonic()
        _run(["rsync", "-a", "--delete", "--mkpath", f"{tree}/", f"{base}/releases/{build}/"], timeout)
        stage, t2 = "activate", time.monotonic()
        link_dir = work / f"link-{build}"
        link_dir.mkdir(parents=True, exist_ok=True)
        if not (link_dir / "current").is_symlink():
            (link_dir / "current").symlink_to(f"releases/{build}")
        _run(["rsync", "-l", str(link_dir / "current"), f"{base}/current"], timeout)
        return PushResult(m.name, t0, t1 - t0, t1, t2, time.monotonic(), 1, "")
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return PushResult(m.name, t0, (t1 if t1 == t1 else time.monotonic()) - t0, t1, t2, nan, 1,
                          f"{stage}: {exc}"[:200])


def push_all(hosts: list[Member], deploy_ns: str | None, tree: Path, build: str, roots: dict[str, Path],
             keys: SshKeys, work: Path, parallel: int = 1, timeout: float = 300.0,
             transport: str = "ssh") -> list[PushResult]:
    """Push to every host, `parallel` at a time, from inside the deploy namespace; host order kept."""
    work.mkdir(parents=True, exist_ok=True)

    def one(m: Member) -> PushResult:
        with netns.inside(deploy_ns):
            if transport == "daemon":
                return push_one_daemon(m, tree, build, roots[m.name], work, timeout)
            return push_one(m, tree, build, roots[m.name], keys, work, timeout)

    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="push") as pool:
        return list(pool.map(one, hosts))
