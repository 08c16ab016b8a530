"""Pull deploys: the deploy host writes the release key; every selected host's agent pulls the build.

`deploy_pull` writes the key (JSON: build, url, sha256, percent, serial) with the deploy token from
inside the deploy host's namespace, waits until every selected host has settled (active, skipped or
out of attempts) on that release, and returns its `DeployRecord`: times are seconds from the start
of the write, `extra` holds the fan-out latency (write start to each agent waking).
"""

from __future__ import annotations

import json
import time

import numpy as np

from bench.deploy import agent
from bench.deploy.records import NAN, HostRow, to_record
from bench.harness import netns
from bench.harness.artifact import Build
from bench.harness.fleet import Fleet
from bench.harness.kv import RELEASE_KEY, STATUS_PREFIX
from bench.harness.netns import Member
from sim.api import DeployRecord


def write_release(f: Fleet, build: Build, percent: float, url: str | None = None) -> tuple[float, float, int]:
    """Write the release key as the deploy host; returns (start, commit, modify index)."""
    return put_release(f, RELEASE_KEY, {"build": build.build_id, "url": url or f.server.url(build.tarball.name),
                                        "sha256": build.sha256, "percent": percent})


def put_release(f: Fleet, key: str, value: dict) -> tuple[float, float, int]:
    """Write release `key` = JSON `value` + a serial as the deploy host; returns (start, commit, modify index)."""
    body = json.dumps({**value, "serial": time.monotonic_ns()})  # an identical value would not bump the index
    with netns.inside(f.deploy.ns):
        c = f.cluster.api(f.cluster.tokens.deploy)
        t0 = time.monotonic()
        if not c.kv.put(key, body):
            raise RuntimeError(f"release key {key} write refused")
        t1 = time.monotonic()
        _, entry = c.kv.get(key)
    return t0, t1, int(entry["ModifyIndex"])


def read_statuses(f: Fleet, index: int) -> dict[str, dict]:
    with netns.inside(f.deploy.ns):
        _, entries = f.cluster.api(f.cluster.tokens.deploy).kv.get(STATUS_PREFIX, recurse=True)
    out = {}
    for e in entries or []:
        st = json.loads(e["Value"])
        if st.get("release_index") == index:
            out[st["host"]] = st
    return out


def settled(st: dict | None) -> bool:
    """The host is live, skipped by its bucket, or its agent gave up (`agent.MAX_ATTEMPTS` attempts)."""
    return st is not None and (st["state"] in ("active", "skipped") or st["attempts"] >= agent.MAX_ATTEMPTS)


def wait_pull(f: Fleet, index: int, expect: list[str], timeout: float) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    statuses: dict[str, dict] = {}
    while time.monotonic() < deadline:
        statuses = read_statuses(f, index)
        if all(settled(statuses.get(h)) for h in expect):
            break
        time.sleep(0.2)
    return statuses


def pull_row(host: Member, st: dict | None, t0: float, chosen: bool) -> HostRow:
    if not chosen:
        return HostRow(host.number, 0, NAN, NAN, NAN, NAN, "not selected (rollout bucket or earlier step)")
    if st is None:
        return HostRow(host.number, 0, NAN, NAN, NAN, NAN, "no status: agent down or unreachable")
    rel = lambda k: st[k] - t0 if st.get(k) is not None else NAN  # noqa: E731
    done = rel("done") if st["state"] == "active" else NAN
    return HostRow(host.number, st["attempts"], rel("woke"), rel("transfer_start"), rel("transfer_end"), done,
                   st["reason"] if st["state"] != "active" else "")


def fanout(statuses: dict[str, dict], t_write: float) -> dict:
    """Latency from the start of the release write to each agent waking (includes the Raft commit)."""
    lat = np.array([s["first_woke"] - t_write for s in statuses.values()], dtype=float)
    if not len(lat):
        return {"fanout_n": 0}
    return {"fanout_n": int(len(lat)), "fanout_p50": float(np.percentile(lat, 50)),
            "fanout_p99": float(np.percentile(lat, 99)), "fanout_max": float(lat.max())}


def deploy_pull(f: Fleet, build: Build, percent: float = 100.0, timeout: float | None = None,
                name: str = "pull") -> DeployRecord:
    """Write the release key, wait for every selected host to settle, return the record."""
    t0, t_commit, index = write_release(f, build, percent)
    return collect_pull(f, build, index, t0, t_commit, percent, timeout, name)


def collect_pull(f: Fleet, build: Build, index: int, t0: float, t_commit: float, percent: float = 100.0,
                 timeout: float | None = None, name: str = "pull") -> DeployRecord:
    """Wait for the hosts to settle on release `index` (or the timeout); every host gets a row.

    Called again after a fault ends, it measures convergence: times stay relative to the write.
    """
    chosen = {m.name: agent.selected(m.name, percent) for m in f.hosts}
    statuses = wait_pull(f, index, [h for h, yes in chosen.items() if yes], timeout or f.config.timeout)
    rows = [pull_row(m, statuses.get(m.name), t0, chosen[m.name]) for m in f.hosts]
    extra = {"percent": percent, "build": build.build_id, "release_index": index, "release_signalled": t_commit - t0,
             **fanout(statuses, t0)}
    return to_record(name, "pull", rows, t_commit - t0, extra)
