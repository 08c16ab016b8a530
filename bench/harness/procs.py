"""Child processes of a bench run: started in a member's namespace, each in its own process group.

Every child carries `DSIM_RUN=<run id>` in its environment so that `cleanup.clean` can find it even
after the orchestrator died. `Supervisor.stop_all` signals each group, waits, then kills and reaps:
a namespace only goes away once no process is left inside it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import netns


@dataclass
class Supervisor:
    """The processes of one run, in start order (a small mutable registry)."""

    run_id: str
    procs: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    def spawn(self, name: str, cmd: list[str], ns: str | None, log: Path,
              env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start `cmd` inside namespace `ns`, stdout+stderr to `log`."""
        full_env = {**os.environ, **(env or {}), "DSIM_RUN": self.run_id}
        with open(log, "ab") as out, netns.inside(ns):
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=full_env, start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def find(self, name: str) -> subprocess.Popen:
        for n, p in self.procs:
            if n == name:
                return p
        raise KeyError(name)

    def stop(self, name: str, sig: int = signal.SIGTERM, grace: float = 3.0) -> None:
        stop_procs([p for n, p in self.procs if n == name], sig, grace)

    def stop_all(self, grace: float = 3.0) -> None:
        stop_procs([p for _, p in reversed(self.procs)], signal.SIGTERM, grace)
        self.procs.clear()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_procs(procs: list[subprocess.Popen], sig: int = signal.SIGTERM, grace: float = 3.0) -> None:
    """Signal each process group, wait up to `grace` seconds in all, then SIGKILL and reap."""
    for p in procs:
        if p.poll() is None:
            _signal_group(p, sig)
    deadline = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for p in procs:
        _signal_group(p, signal.SIGKILL)  # the group may hold grandchildren even if p exited
        if p.poll() is None:
            p.wait()
