"""Hosts as Linux network namespaces on one bench-made bridge.

Layout of one run with id `rid` (every name starts with `dsim-<rid>-`):

    dsim-<rid>-br   namespace holding bridge `br0`; one veth `v<i>` per member plugged in.
    dsim-<rid>-d    the deploy host (release writer, rsync pusher, artifact origin): `Role.DEPLOY`.
    dsim-<rid>-s1.. Consul server(s): `Role.SERVER`.
    dsim-<rid>-h<i> fleet hosts; each sees its link as `eth0`: `Role.HOST`.

Each member carries its role and its number within the role; its name (`d`, `s<k>`, `h<i>`) is made
from them and only ever used as a name, never parsed back.

Addresses come only from 198.18.0.0/15 (RFC 2544), on links that exist only inside these namespaces:
the root namespace gets no link, no address and no route. Without root the fleet falls back to
plain processes on loopback addresses 127.x (no shaping), see `Member.ns is None`.

The orchestrator reaches a namespace by switching ONE thread into it (`inside`): sockets and child
processes made in that block belong to the namespace.
"""

from __future__ import annotations

import ctypes
import ipaddress
import os
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Iterator

PREFIX = "dsim-"
BENCH_NET = ipaddress.ip_network("198.18.0.0/15")
LOOPBACK_NET = ipaddress.ip_network("127.0.0.0/8")
_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class Role(StrEnum):
    """What a member does in a run."""

    DEPLOY = "deploy"  # writes the release key, runs the rsync pushes, serves the artifact (the origin)
    SERVER = "server"  # a Consul server agent
    HOST = "host"      # a fleet host: Consul client agent, sshd, rsync daemon, deploy agent


NAME_PREFIX = {Role.DEPLOY: "d", Role.SERVER: "s", Role.HOST: "h"}


@dataclass(frozen=True)
class Member:
    """One bench machine: its name (`d`, `s1`, `h3`), role, number within the role (1-based; 0 for the one
    deploy host), namespace (None on loopback) and address."""

    name: str
    role: Role
    number: int
    ns: str | None
    addr: str


@dataclass(frozen=True)
class Net:
    """The members of one run and whether they are real namespaces."""

    run_id: str
    members: tuple[Member, ...]
    isolated: bool
    bridge_ns: str | None

    def get(self, name: str) -> Member:
        for m in self.members:
            if m.name == name:
                return m
        raise KeyError(name)

    def having(self, role: Role) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.role == role)

    @property
    def deploy(self) -> Member:
        return self.having(Role.DEPLOY)[0]


def ns_name(run_id: str, name: str) -> str:
    return f"{PREFIX}{run_id}-{name}"


def name_of(role: Role, number: int) -> str:
    return NAME_PREFIX[role] if role == Role.DEPLOY else f"{NAME_PREFIX[role]}{number}"


def address_of(role: Role, number: int, base: ipaddress.IPv4Address) -> str:
    """Stable address per member: deploy .0.2, server k .0.(2+k), host i .1.0 + i (up to 65,000 hosts)."""
    offset = {Role.DEPLOY: 2, Role.SERVER: 2 + number, Role.HOST: 256 + number}[role]
    return str(base + offset)


def roles(servers: int, hosts: int) -> list[tuple[Role, int]]:
    """(role, number) of every member of a run, in member order: the deploy host, servers, hosts."""
    return ([(Role.DEPLOY, 0)] + [(Role.SERVER, k) for k in range(1, servers + 1)]
            + [(Role.HOST, i) for i in range(1, hosts + 1)])


def member(role: Role, number: int, run_id: str, base: ipaddress.IPv4Address, isolated: bool) -> Member:
    name = name_of(role, number)
    return Member(name, role, number, ns_name(run_id, name) if isolated else None, address_of(role, number, base))


def _ip(args: list[str], stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], input=stdin, text=True, capture_output=True, check=check)


def _batch(lines: list[str], ns: str | None = None) -> None:
    args = (["-n", ns] if ns else []) + ["-batch", "-"]
    res = _ip(args, stdin="\n".join(lines) + "\n", check=False)
    if res.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {res.stderr.strip()}")


NEIGH_SYSCTL = "/proc/sys/net/ipv4/neigh/default/gc_thresh{}"


def ensure_neigh_capacity(members: int) -> None:
    """Raise the kernel's ARP table limits, which are shared by ALL namespaces, for a full mesh.

    Gossip makes every member talk to every other, so the machine holds about members² neighbour
    entries; past gc_thresh3 (1024 by default) the kernel logs "neighbor table overflow" and drops
    packets (seen at 50 hosts). Only ever raised, never lowered.
    """
    need = {1: members * members, 2: 2 * members * members + 1024, 3: 4 * members * members + 2048}
    for k in (3, 2, 1):  # keep thresh1 <= thresh2 <= thresh3 while raising
        path = Path(NEIGH_SYSCTL.format(k))
        if int(path.read_text()) < need[k]:
            path.write_text(str(need[k]))


def build(run_id: str, servers: int, hosts: int, isolated: bool = True) -> Net:
    """Create the namespaces, bridge and links (or, when not isolated, loopback members)."""
    plan = roles(servers, hosts)
    if not isolated:
        base = ipaddress.IPv4Address("127.77.0.0")
        return Net(run_id, tuple(member(r, k, run_id, base, False) for r, k in plan), False, None)
    ensure_neigh_capacity(len(plan) + 1)
    members = tuple(member(r, k, run_id, BENCH_NET.network_address, True) for r, k in plan)
    net = Net(run_id, members, True, ns_name(run_id, "br"))
    _batch([f"netns add {net.bridge_ns}"] + [f"netns add {m.ns}" for m in members])
    bridge = ["link add br0 type bridge", "link set br0 up", "link set lo up"]
    for i, m in enumerate(members):
        bridge += [f"link add v{i} type veth peer name eth0 netns {m.ns}", f"link set v{i} master br0 up"]
    _batch(bridge, net.bridge_ns)
    for m in members:
        _batch([f"addr add {m.addr}/15 dev eth0", "link set eth0 up", "link set lo up"], m.ns)
    return net


def shape(member: Member, rate_mbit: float) -> None:
    """Cap what a member SENDS (its upload: the deploy host's egress) with tbf on its own eth0."""
    if member.ns is not None:
        _tbf(member.ns, "eth0", rate_mbit)


def shape_download(net: Net, member: Member, rate_mbit: float) -> None:
    """Cap what a member RECEIVES (a host's download rate) with tbf on the bridge-side end of its link,
    `v<i>` in the bridge namespace, whose egress is everything the member downloads."""
    if member.ns is not None and net.bridge_ns is not None:
        _tbf(net.bridge_ns, f"v{net.members.index(member)}", rate_mbit)


def _tbf(ns: str, dev: str, rate_mbit: float) -> None:
    """A token bucket on one device's egress; the burst covers 4 ms at the rate."""
    burst_kb = max(64, int(rate_mbit * 1e6 / 8 / 250 / 1024))
    _ip(["-n", ns, "link", "set", dev, "txqueuelen", "1000"], check=False)
    subprocess.run(["ip", "netns", "exec", ns, "tc", "qdisc", "replace", "dev", dev, "root",
                    "tbf", "rate", f"{rate_mbit}mbit", "burst", f"{burst_kb}kb", "latency", "100ms"],
                   check=True, capture_output=True)


def cut(member: Member, down: bool = True) -> None:
    """Cut (or restore) a member's link: its eth0 goes down (or up)."""
    if member.ns is not None:
        _ip(["-n", member.ns, "link", "set", "eth0", "down" if down else "up"])


def list_namespaces(prefix: str = PREFIX) -> list[str]:
    res = _ip(["netns", "list"], check=False)
    names = [line.split()[0] for line in res.stdout.splitlines() if line.strip()]
    return sorted(n for n in names if n.startswith(prefix))


def pids_in(ns: str) -> list[int]:
    res = _ip(["netns", "pids", ns], check=False)
    return [int(p) for p in res.stdout.split()]


def delete(names: list[str]) -> list[str]:
    """Delete namespaces by name (their processes must be gone); returns those that failed."""
    if not names:
        return []
    res = _ip(["-force", "-batch", "-"], stdin="".join(f"netns del {n}\n" for n in names), check=False)
    left = set(list_namespaces())
    return [n for n in names if n in left] if res.returncode else []


def _setns(fd: int) -> None:
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@contextmanager
def inside(ns: str | None) -> Iterator[None]:
    """Run this thread's block inside namespace `ns` (no-op for None); restores the thread after."""
    if ns is None:
        yield
        return
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(target)
        os.close(home)
