"""Faults to inject into a running fleet, and their ends.

Each is a plain function on a `Fleet`: kill a host's deploy agent (and start it again), cut a host's
link (and restore it), slow or stop the artifact server, make it serve corrupt bytes. The expected
outcome, checked by the tests: the deploy completes, names every host that is behind and why, no host
runs a partial or corrupt build, and the fleet converges once the fault ends.
"""

from __future__ import annotations

import signal

from bench.harness import netns
from bench.harness.fleet import Fleet, start_agent


def kill_agent(f: Fleet, host: str) -> None:
    """SIGKILL a host's deploy agent, as a crash would."""
    f.sup.stop(f"agent-{host}", sig=signal.SIGKILL, grace=2.0)


def restart_agent(f: Fleet, host: str) -> None:
    f.sup.procs[:] = [(n, p) for n, p in f.sup.procs if n != f"agent-{host}"]
    start_agent(f.sup, f.folder, f.cluster, f.net.get(host))


def cut_link(f: Fleet, host: str) -> None:
    netns.cut(f.net.get(host), down=True)


def restore_link(f: Fleet, host: str) -> None:
    netns.cut(f.net.get(host), down=False)


def slow_server(f: Fleet, bytes_per_s: float) -> None:
    """Throttle every artifact download to `bytes_per_s` (0 lifts the throttle)."""
    f.server.faults.rate_bytes_per_s = bytes_per_s


def stop_server(f: Fleet, stopped: bool = True) -> None:
    """The artifact server answers 503 while stopped."""
    f.server.faults.stopped = stopped


def corrupt_server(f: Fleet, corrupt: bool = True) -> None:
    f.server.faults.corrupt = corrupt
