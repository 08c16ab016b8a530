"""Child processes of a bench run: started in a member's namespace, each in its own process group.

Every child carries `DSIM_RUN=<run id>` in its environment so that `cleanup.clean` can find it even
after the orchestrator died. `Supervisor.stop_all` signals each group, waits, then kills and reaps:
a namespace only goes away once no process is left inside it.

A member whose namespace has a host container (`Supervisor.containers`) runs its children inside it
through `runc exec` in the foreground: runc forwards catchable signals to the process inside, and the
pid file it writes lets SIGKILL (which cannot be forwarded) reach that process too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import containers, netns


@dataclass
class Supervisor:
    """The processes of one run, in start order (a small mutable registry)."""

    run_id: str
    procs: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    containers: dict[str, str] = field(default_factory=dict)  # namespace -> id of the host container in it
    inner: dict[int, Path] = field(default_factory=dict)  # runc exec's pid -> pid file of the process inside

    def spawn(self, name: str, cmd: list[str], ns: str | None, log: Path,
              env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start `cmd` inside namespace `ns` (inside its host container if it has one), output to `log`."""
        mark = {**(env or {}), "DSIM_RUN": self.run_id}
        cid = self.containers.get(ns) if ns is not None else None
        pid_file = log.parent / f"{name}.runc-pid"
        if cid is not None:
            pid_file.unlink(missing_ok=True)
            cmd = containers.exec_argv(cid, cmd, mark, pid_file)
        with open(log, "ab") as out, netns.inside(ns):
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env={**os.environ, **mark}, start_new_session=True)
        self.procs.append((name, proc))
        if cid is not None:
            self.inner[proc.pid] = pid_file
        return proc

    def find(self, name: str) -> subprocess.Popen:
        for n, p in self.procs:
            if n == name:
                return p
        raise KeyError(name)

    def stop(self, name: str, sig: int = signal.SIGTERM, grace: float = 3.0) -> None:
        stop_procs([p for n, p in self.procs if n == name], sig, grace, self.inner)

    def stop_all(self, grace: float = 3.0) -> None:
        stop_procs([p for _, p in reversed(self.procs)], signal.SIGTERM, grace, self.inner)
        self.procs.clear()
        self.inner.clear()


def _signal_group(proc: subprocess.Popen, sig: int, pid_file: Path | None = None) -> None:
    """Signal the child's group; SIGKILL also goes to the process runc exec runs in a container."""
    targets = [(os.killpg, proc.pid)]
    if pid_file is not None and sig == signal.SIGKILL:
        try:
            targets.append((os.kill, int(pid_file.read_text().strip())))
        except (OSError, ValueError):
            pass
    for send, pid in targets:
        try:
            send(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def stop_procs(procs: list[subprocess.Popen], sig: int = signal.SIGTERM, grace: float = 3.0,
               inner: dict[int, Path] | None = None) -> None:
    """Signal each process group, wait up to `grace` seconds in all, then SIGKILL and reap."""
    inner = inner or {}
    for p in procs:
        if p.poll() is None:
            _signal_group(p, sig, inner.get(p.pid))
    deadline = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for p in procs:
        _signal_group(p, signal.SIGKILL, inner.get(p.pid))  # the group may hold grandchildren even if p exited
        if p.poll() is None:
            p.wait()
