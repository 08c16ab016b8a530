"""Removing what a bench run made: processes, host containers and their cgroups, namespaces (and with
them every link), temp folders.

`teardown` ends one run in order: its supervised processes, then its runc containers (every process
inside dies with them) and their cgroups, then any process still inside its namespaces (sshd
sessions, ssh masters), then the namespaces, then its folder. `clean` does the same for leftovers of
killed runs, found only by the `dsim-` prefix (containers, cgroups, mounts, namespaces, /tmp folders)
and the `DSIM_RUN` environment mark of processes; nothing without the mark is touched. Containers
make no mount in the machine's namespace (`bench.harness.containers`); `clean` still unmounts any
`dsim-` mount point it finds. `signals_raise` turns SIGTERM/SIGINT into an exception so `finally`
blocks run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from bench.harness import containers, netns
from bench.harness.procs import Supervisor


class Interrupted(KeyboardInterrupt):
    """A signal (SIGINT or SIGTERM) asked the run to stop; cleanup happens on the way out.

    A KeyboardInterrupt, so the CLI ends it as it ends Ctrl-C (exit 130) without a traceback.
    """


@dataclass(frozen=True)
class Cleaned:
    processes: int
    namespaces: list[str]
    folders: list[str]
    failed: list[str]
    containers: list[str] = field(default_factory=list)
    cgroups: list[str] = field(default_factory=list)
    mounts: list[str] = field(default_factory=list)


def has_mark(environ: bytes, run_id: str | None) -> bool:
    for part in environ.split(b"\0"):
        if part.startswith(b"DSIM_RUN=") and (run_id is None or part == f"DSIM_RUN={run_id}".encode()):
            return True
    return False


def marked_pids(run_id: str | None = None) -> list[int]:
    """Pids whose environment has DSIM_RUN (= run_id when given), other than this process."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if has_mark(environ, run_id):
            found.append(int(entry))
    return found


def kill_pids(pids: list[int], grace: float = 2.0) -> int:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in pids):
            time.sleep(0.05)
    return len(pids)


def kill_in_namespaces(names: list[str]) -> int:
    pids = sorted({p for n in names for p in netns.pids_in(n) if p != os.getpid()})
    return kill_pids(pids) if pids else 0


def remove_namespaces(names: list[str]) -> list[str]:
    """Kill what is inside, delete; retried once since a dying process may hold a namespace briefly."""
    kill_in_namespaces(names)
    failed = netns.delete(names)
    if failed:
        time.sleep(0.5)
        kill_in_namespaces(failed)
        failed = netns.delete(failed)
    return failed


def remove_containers(prefix: str) -> tuple[list[str], list[str]]:
    """Delete the runc containers named `prefix...` (their processes die with them), then their cgroups;
    returns (containers found, names of what could not be removed)."""
    ids = containers.list_ids(prefix)
    failed = containers.delete(ids)
    left = containers.remove_cgroups(containers.cgroup_dirs(prefix))
    return ids, failed + [str(p) for p in left]


def unmount(points: list[str]) -> list[str]:
    """Lazily unmount mount points, deepest first; returns those still mounted."""
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)
    left = set(containers.mounts_named())
    return [p for p in points if p in left]


def teardown(sup: Supervisor | None, run_id: str, folder: Path | None) -> list[str]:
    """End one run; returns names of anything that could not be removed."""
    if sup is not None:
        sup.stop_all()
    failed: list[str] = []
    if os.geteuid() == 0:
        failed = remove_containers(f"{netns.PREFIX}{run_id}-")[1]
        failed += remove_namespaces(netns.list_namespaces(f"{netns.PREFIX}{run_id}-"))
    kill_pids(marked_pids(run_id))
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
    return failed


def leftover_folders(prefix: str = netns.PREFIX) -> list[Path]:
    tmp = Path(tempfile.gettempdir())
    return sorted(p for p in tmp.glob(f"{prefix}*") if p.is_dir())


def clean(prefix: str = netns.PREFIX) -> Cleaned:
    """Remove leftovers of any bench run: containers, marked processes, cgroups, mounts, prefixed
    namespaces and temp folders."""
    root = os.geteuid() == 0
    groups = [str(p) for p in containers.cgroup_dirs(prefix)] if root else []  # as found, before removal
    boxes, _ = remove_containers(prefix) if root else ([], [])
    killed = kill_pids(marked_pids())
    failed = containers.delete(containers.list_ids(prefix)) if root else []  # anything still there
    failed += [str(p) for p in containers.remove_cgroups(containers.cgroup_dirs(prefix))] if root else []
    points = containers.mounts_named(prefix) if root else []
    failed += unmount(points)
    names = netns.list_namespaces(prefix) if root else []
    failed += remove_namespaces(names) if names else []
    folders = leftover_folders(prefix)
    for f in folders:
        shutil.rmtree(f, ignore_errors=True)
    return Cleaned(killed, names, [str(f) for f in folders], failed, boxes, groups, points)


@contextmanager
def signals_raise() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT raise `Interrupted` (main thread only)."""
    def handler(signum, frame):
        raise Interrupted(f"stopped by {signal.Signals(signum).name}")

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
