"""P2P deploys on the bench: the deploy host seeds the build over BitTorrent, the hosts swarm it.

`deploy_p2p` starts a libtorrent seeder of the build on the deploy host (`bench.deploy.seeder`, under
the system python3), waits until it seeds and has written the metainfo next to the tarball on the
artifact server, writes `deploysim/release-p2p` (JSON: build, torrent URL, info-hash, SHA-256, seeder
address, percent, seed time, upload slots per member (`connections`), serial) as the deploy host, waits until every selected host's p2p agent
(`bench.deploy.p2p_agent`) has settled on that release, stops the seeder and returns the
`DeployRecord` (kind "p2p"): times as for pull, seconds from the start of the key write;
`origin_bytes` is what the seeder uploaded, `extra` holds the fan-out latency, what hosts downloaded
and how much of it came from peers. Hosts keep seeding to each other for `seed_time`.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

from bench.deploy import agent
from bench.deploy.pull import fanout, pull_row, put_release, wait_pull
from bench.deploy.records import to_record
from bench.deploy.torrent import CONNECTIONS, PORT, piece_size_for
from bench.harness import daemons
from bench.harness.artifact import Build
from bench.harness.consul_cluster import wait_for
from bench.harness.fleet import Fleet
from bench.harness.kv import P2P_RELEASE_KEY
from sim.api import DeployRecord

DEFAULT_SEED_TIME = 300.0  # the simulator's default (Kraken's seeder_tti: 5 min)


def start_seeding(f: Fleet, build: Build, piece: int, name: str, connections: int) -> tuple[Path, str]:
    """Start the deploy host's seeder of `build`; returns (metainfo path, the seeder's process name)."""
    tarball = f.folder / "artifacts" / build.tarball.name
    meta = tarball.with_name(tarball.name + ".torrent")
    meta.unlink(missing_ok=True)
    proc = f"seeder-{name}-{build.build_id}"
    daemons.start_seeder(f.sup, f.deploy, proc, tarball, meta, piece, f.folder / f"{proc}.log", connections)
    wait_for(f"the seeder of {build.build_id}", lambda: meta.exists() or f.sup.find(proc).poll() is not None,
             f.config.timeout, every=0.05)
    if not meta.exists():
        raise RuntimeError(f"the seeder of {build.build_id} exited (log: {f.folder / f'{proc}.log'})")
    return meta, proc


def seeder_uploaded(meta: Path) -> float:
    try:
        return float(json.loads(meta.with_name(meta.name + ".stats").read_text())["uploaded"])
    except (OSError, ValueError, KeyError):
        return float("nan")


def byte_counts(statuses: dict[str, dict], seeder_uploaded: float) -> dict:
    """Where the updated hosts' bytes came from: what they downloaded in all (libtorrent's exact torrent
    counters) less what the seeder uploaded came from peers; the per-connection samples (lower bounds)
    are kept beside them."""
    live = [s for s in statuses.values() if s.get("state") == "active" and s.get("payload_bytes") is not None]
    payload = sum(s["payload_bytes"] for s in live)
    peers = payload - seeder_uploaded
    return {"hosts_payload_bytes": payload, "hosts_from_peers_bytes": peers,
            "peer_share": peers / payload if payload else float("nan"),
            "sampled_from_seeder_bytes": sum(s["origin_bytes"] for s in live),
            "sampled_from_peers_bytes": sum(s["peer_bytes"] for s in live)}


def deploy_p2p(f: Fleet, build: Build, percent: float = 100.0, piece_size: float = 4e6,
               seed_time: float = DEFAULT_SEED_TIME, connections: int = CONNECTIONS, timeout: float | None = None,
               name: str = "p2p") -> DeployRecord:
    """Seed `build`, write the p2p release key, wait for every selected host to settle, return the record."""
    piece = piece_size_for(build.tarball.stat().st_size, piece_size)
    meta, proc = start_seeding(f, build, piece, name, connections)
    try:
        t0, t_commit, index = put_release(f, P2P_RELEASE_KEY, {
            "build": build.build_id, "torrent": f.server.url(meta.name), "info_hash": info_hash_of(meta),
            "sha256": build.sha256, "seeder": [f.deploy.addr, PORT], "percent": percent, "seed_time": seed_time,
            "connections": connections})
        chosen = {m.name: agent.selected(m.name, percent) for m in f.hosts}
        statuses = wait_pull(f, index, [h for h, yes in chosen.items() if yes], timeout or f.config.timeout)
        time.sleep(1.2)  # libtorrent updates its counters each second; the seeder writes them every 0.5 s
    finally:
        f.sup.stop(proc)
    rows = [pull_row(m, statuses.get(m.name), t0, chosen[m.name]) for m in f.hosts]
    uploaded = seeder_uploaded(meta)
    extra = {"percent": percent, "build": build.build_id, "release_index": index, "release_signalled": t_commit - t0,
             "piece_size": piece, "seed_time": seed_time, "connections": connections, "seeder_uploaded_bytes": uploaded,
             **byte_counts(statuses, uploaded), **fanout(statuses, t0)}
    rec = to_record(name, "p2p", rows, t_commit - t0, extra)
    return replace(rec, origin_bytes=extra["seeder_uploaded_bytes"])


def info_hash_of(meta: Path) -> str:
    """The v1 info-hash (SHA-1 of the bencoded `info` value of the top dictionary), without libtorrent
    (the orchestrator's Python has none)."""
    import hashlib

    data = meta.read_bytes()
    i = 1  # past the top dictionary's "d"
    while data[i:i + 1] != b"e":
        key_end = bencoded_end(data, i)
        value_end = bencoded_end(data, key_end)
        if data[data.index(b":", i) + 1:key_end] == b"info":
            return hashlib.sha1(data[key_end:value_end]).hexdigest()
        i = value_end
    raise ValueError(f"{meta}: no info dictionary")


def bencoded_end(data: bytes, i: int) -> int:
    """Index just past the bencoded value that starts at `data[i]`."""
    c = data[i:i + 1]
    if c == b"i":
        return data.index(b"e", i) + 1
    if c in (b"l", b"d"):
        i += 1
        while data[i:i + 1] != b"e":
            i = bencoded_end(data, i)
        return i + 1
    colon = data.index(b":", i)
    return colon + 1 + int(data[i:colon])
