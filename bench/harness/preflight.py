"""Preflight checks before a bench run, each a small object that says what is wrong and how to fix it.

In the spirit of pyperf's `_system.py`: `run_checks()` returns one `Finding` per check; a finding
that is not ok carries advice. `netem` is expected to be missing on this kernel: the finding records
the network effects a run cannot reproduce (latency, loss, jitter) instead of failing the run.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field

from bench.harness import containers, netns
from bench.harness.consul_cluster import consul_bin
from bench.harness.daemons import SYSTEM_PYTHON

CONSUL_VERSION = "1.8.7"
INSTALL = "run scripts/install-system-deps.sh as root"


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str
    advice: str = ""
    fatal: bool = True                  # a failed fatal check stops a namespace run
    not_reproduced: tuple[str, ...] = field(default=())


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True)


def check_root() -> Finding:
    ok = os.geteuid() == 0
    return Finding("root", ok, "running as root" if ok else f"uid {os.geteuid()}",
                   "run as root for namespaces and shaping; otherwise hosts fall back to loopback, unshaped",
                   fatal=False)


def check_consul() -> Finding:
    binary = consul_bin()
    if binary is None:
        return Finding("consul", False, "no consul binary on PATH or in CONSUL_BIN", INSTALL)
    out = _run([binary, "version"]).stdout
    m = re.search(r"Consul v(\S+)", out)
    version = m.group(1) if m else "unknown"
    ok = version == CONSUL_VERSION
    return Finding("consul", ok, f"{binary} is v{version}", "" if ok else f"need v{CONSUL_VERSION}: {INSTALL}")


def check_tool(name: str, path: str | None = None) -> Finding:
    found = path if path and os.access(path, os.X_OK) else shutil.which(name)
    return Finding(name, found is not None, found or "not found", "" if found else INSTALL)


def check_containers() -> Finding:
    """runc for host containers; without it (or root) hosts fall back to namespaces, which still runs."""
    why = containers.unavailable()
    if not why:
        return Finding("runc", True, "hosts run in runc containers", fatal=False)
    fallback = "network namespaces" if os.geteuid() == 0 else "loopback processes"
    return Finding("runc", False, why, f"hosts fall back to {fallback} sharing the machine's files, process table "
                   f"and CPU; {INSTALL} for per-host containers", fatal=False)


def check_libtorrent() -> Finding:
    """Debian's python3-libtorrent under the system python3: only p2p strategies need it."""
    why = libtorrent_missing()
    return Finding("libtorrent", not why, why or "python3-libtorrent importable by /usr/bin/python3",
                   f"p2p strategies cannot run: {INSTALL}" if why else "", fatal=False)


def libtorrent_missing() -> str:
    """Why the system python3 cannot run the p2p seeder and agents ('' when it can)."""
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} missing"
    res = _run([SYSTEM_PYTHON, "-c", "import libtorrent"])
    return "" if res.returncode == 0 else f"python3-libtorrent not importable by {SYSTEM_PYTHON}"


def check_netns() -> Finding:
    res = _run(["ip", "netns", "list"])
    ok = res.returncode == 0
    return Finding("iproute2", ok, "ip netns works" if ok else res.stderr.strip(), "" if ok else INSTALL)


def check_addresses() -> Finding:
    """198.18.0.0/15 must not be in use in the root namespace (no address, no route)."""
    addrs = _run(["ip", "-4", "-o", "addr"]).stdout + _run(["ip", "-4", "route"]).stdout
    used = [line.strip() for line in addrs.splitlines() if re.search(r"\b198\.1[89]\.", line)]
    return Finding("addresses", not used,
                   "198.18.0.0/15 free in the root namespace" if not used else "in use: " + "; ".join(used)[:200],
                   "" if not used else "remove the 198.18.0.0/15 address or route, or run `deploysim bench clean`")


def try_qdiscs() -> dict[str, bool]:
    """Add each qdisc on a veth link in a throwaway namespace; True where the kernel has it."""
    ns = f"{netns.PREFIX}pf{secrets.token_hex(2)}-probe"
    out = {}
    if _run(["ip", "netns", "add", ns]).returncode != 0:
        return {"tbf": False, "htb": False, "netem": False}
    try:
        _run(["ip", "-n", ns, "link", "add", "d0", "type", "veth", "peer", "name", "d1"])
        for kind, args in (("tbf", ["rate", "10mbit", "burst", "32kb", "latency", "50ms"]),
                           ("htb", ["default", "1"]), ("netem", ["delay", "10ms"])):
            res = _run(["ip", "netns", "exec", ns, "tc", "qdisc", "replace", "dev", "d0", "root", kind, *args])
            out[kind] = res.returncode == 0
    finally:
        _run(["ip", "netns", "del", ns])
    return out


def check_qdiscs() -> list[Finding]:
    if os.geteuid() != 0:
        return [Finding("qdiscs", False, "not checked without root", "run as root", fatal=False)]
    have = try_qdiscs()
    found = [Finding(k, have[k], "available" if have[k] else "missing", "" if have[k] else
                     "install the kernel module for shaping (sch_" + k + ")", fatal=False) for k in ("tbf", "htb")]
    lost = () if have["netem"] else ("latency", "loss", "jitter")
    found.append(Finding("netem", have["netem"], "available" if have["netem"] else
                         "missing: runs cannot reproduce latency, loss or jitter",
                         "" if have["netem"] else "results model bandwidth only; say so when comparing",
                         fatal=False, not_reproduced=lost))
    return found


def run_checks() -> list[Finding]:
    return [check_root(), check_consul(), check_tool("rsync"), check_tool("sshd", "/usr/sbin/sshd"),
            check_tool("ssh"), check_netns(), check_containers(), check_libtorrent(), check_addresses(), *check_qdiscs()]


def not_reproduced(findings: list[Finding]) -> list[str]:
    return sorted({effect for f in findings for effect in f.not_reproduced})


def blocking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if not f.ok and f.fatal]


def real_bench_missing() -> str:
    """Why a namespace bench cannot run here ('' when it can): used by tests to skip with a reason."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if consul_bin() is None:
        return "consul binary missing: run scripts/install-system-deps.sh"
    return ""
