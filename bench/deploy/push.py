"""Push deploys: the deploy host runs real `rsync` to every host, over ssh or the daemon protocol.

ssh (as production pushes do): per host, one slot of a k-wide pool opens an ssh master connection
(timed: the connection set-up cost), rsyncs the release tree into `releases/.partial-<build>` over
it, then activates remotely (rename into `releases/<build>`, rename a fresh `current` symlink over
the old one) only after the transfer finished. Keys are made per run; host keys are not checked
(bench addresses only; the keys and both daemons are the harness's: `bench.harness.daemons`).

daemon (`rsync://`, no ssh): the set-up cost is one module listing; the tree goes straight into the
cold folder `releases/<build>`, then a second rsync sends the `current` symlink, which rsync puts in
place by renaming (it never points at a partial tree, since it is sent after the tree completed).

`deploy_push` pushes a build to a fleet and returns its `DeployRecord`: times are seconds from the
first slot picking up a host, `extra` holds the connection set-up cost.
"""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.deploy.records import HostRow, to_record
from bench.harness import netns
from bench.harness.artifact import Build
from bench.harness.daemons import RSYNC_MODULE, RSYNC_PORT, SshKeys
from bench.harness.fleet import Fleet
from bench.harness.netns import Member
from sim.api import DeployRecord


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


def current_link(work: Path, build: str) -> Path:
    """The local `current -> releases/<build>` symlink that daemon pushes copy to every host.

    Made once, before the pushes start: threads that each checked and made it raced
    (two saw no link, the second `symlink` failed with EEXIST).
    """
    link = work / f"link-{build}" / "current"
    if not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(f"releases/{build}")
    return link


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
        _run(["rsync", "-l", str(current_link(work, build)), f"{base}/current"], timeout)
        return PushResult(m.name, t0, t1 - t0, t1, t2, time.monotonic(), 1, "")
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return PushResult(m.name, t0, (t1 if t1 == t1 else time.monotonic()) - t0, t1, t2, nan, 1,
                          f"{stage}: {exc}"[:200])


def push_all(hosts: list[Member], deploy_ns: str | None, tree: Path, build: str, roots: dict[str, Path],
             keys: SshKeys, work: Path, parallel: int = 1, timeout: float = 300.0,
             transport: str = "ssh") -> list[PushResult]:
    """Push to every host, `parallel` at a time, from inside the deploy namespace; host order kept."""
    work.mkdir(parents=True, exist_ok=True)
    if transport == "daemon":
        current_link(work, build)

    def one(m: Member) -> PushResult:
        with netns.inside(deploy_ns):
            if transport == "daemon":
                return push_one_daemon(m, tree, build, roots[m.name], work, timeout)
            return push_one(m, tree, build, roots[m.name], keys, work, timeout)

    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="push") as pool:
        return list(pool.map(one, hosts))


def deploy_push(f: Fleet, build: Build, parallel: int | None = None, name: str | None = None,
                transport: str = "ssh") -> DeployRecord:
    """rsync the build to every host, `parallel` at a time, into the strategy's own app folder."""
    k = parallel or f.config.parallel
    name = name or f"push-{transport}-k{k}"
    roots = {m.name: f.remote_root(m.name, name) for m in f.hosts}  # /srv/app/<name> on container hosts
    results = push_all(f.hosts, f.deploy.ns, build.tree, build.build_id, roots, f.keys,
                       f.folder / "push-work" / name, parallel=k, timeout=f.config.timeout, transport=transport)
    t0 = min(r.signal for r in results)
    rows = [HostRow(m.number, r.attempts, r.signal - t0, r.transfer_start - t0, r.transfer_end - t0, r.done - t0,
                    r.reason) for m, r in zip(f.hosts, results, strict=True)]
    connect = np.array([r.connect for r in results])
    extra = {"parallel": k, "transport": transport, "build": build.build_id,
             "connect_mean": float(connect.mean()), "connect_max": float(connect.max())}
    return to_record(name, "push", rows, 0.0, extra)
