"""The deploy agent's p2p mode: watch the p2p release key, fetch the build from the swarm, verify, switch.

Run as `/usr/bin/python3 -m bench.deploy.p2p_agent --addr ADDR ...` with the pull agent's other
arguments (libtorrent is Debian's
`python3-libtorrent`, for the system Python only; `bench.harness.daemons.start_p2p_agent` starts it).
Standard library and libtorrent only.

At start the agent registers its own BitTorrent address under `deploysim/peers/<host>` (its token
may write that key and no other host's) and opens a libtorrent session on its bench address only.
Loop: a blocking query on `deploysim/release-p2p` (JSON: build, torrent, info_hash, sha256, seeder,
percent, seed_time, connections, serial). A selected host fetches the metainfo from the deploy host, checks its
info-hash against the key, adds the torrent and connects to the seeder and to up to `MAX_PEERS`
hosts from the Consul list (no DHT, trackers, LSD or PEX: the torrent is private). libtorrent checks
every piece's SHA-1; when all are in, the agent checks the whole file's SHA-256 against the key,
unpacks into `releases/<build>` and switches `current` atomically (as pull does), reports (status
with timings and the bytes it got from the seeder and from peers), and keeps seeding for
`seed_time` seconds while it waits for the next release. A failure removes the torrent and its file
and is retried like pull's.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
from dataclasses import dataclass
from pathlib import Path

from bench.deploy import agent, torrent
from bench.harness.kv import P2P_RELEASE_KEY, PEERS_PREFIX

DOWNLOAD_TIMEOUT = 300.0  # seconds for one attempt's swarm download
LOOK = 0.2                # seconds between reads of the peers' counters while waiting on alerts


@dataclass(frozen=True)
class P2PRelease:
    build: str
    torrent: str      # URL of the metainfo on the deploy host
    info_hash: str
    sha256: str       # of the whole tarball
    seeder: tuple[str, int]
    percent: float
    seed_time: float
    connections: int
    index: int


def parse(entry: dict) -> P2PRelease:
    v = json.loads(base64.b64decode(entry["Value"]))
    return P2PRelease(v["build"], v["torrent"], v["info_hash"], v["sha256"], (v["seeder"][0], int(v["seeder"][1])),
                      float(v["percent"]), float(v["seed_time"]), int(v.get("connections", torrent.CONNECTIONS)),
                      int(entry["ModifyIndex"]))


def wait_release(base: str, token: str, index: int, wait: str) -> tuple[int, P2PRelease | None]:
    try:
        idx, body = agent.consul_call(base, token, f"/v1/kv/{P2P_RELEASE_KEY}?index={index}&wait={wait}")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return int(exc.headers.get("X-Consul-Index") or 0), None
        raise
    return int(idx), parse(json.loads(body)[0])


def register(base: str, token: str, host: str, addr: str) -> None:
    """Put this host's peer entry, retrying until its Consul agent takes it."""
    while True:
        try:
            agent.consul_call(base, token, f"/v1/kv/{PEERS_PREFIX}{host}", data=torrent.peer_entry(addr).encode(),
                              timeout=10)
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)


def peers(base: str, token: str, host: str, salt: str) -> list[tuple[str, int]]:
    _, body = agent.consul_call(base, token, f"/v1/kv/{PEERS_PREFIX}?recurse=true", timeout=30)
    entries = {e["Key"][len(PEERS_PREFIX):]: base64.b64decode(e["Value"]).decode() for e in json.loads(body)}
    return torrent.choose_peers(entries, host, salt=salt)


@dataclass
class Swarm:
    """This host's libtorrent session and the torrents it seeds: handle, files, seed-until time."""

    ses: object
    seeding: list

    def expire(self, now: float) -> None:
        for item in [s for s in self.seeding if s[2] <= now]:
            self.drop(item[0], item[1])
            self.seeding.remove(item)

    def drop(self, handle, folder: Path) -> None:
        import shutil

        self.ses.remove_torrent(handle)
        shutil.rmtree(folder, ignore_errors=True)


def download(args, swarm: Swarm, rel: P2PRelease, folder: Path, st: agent.Status):
    """Fetch metainfo, swarm the file into `folder`; returns (handle, path, payload bytes in all, from the
    seeder, from peers); the last two are sampled per connection and miss what a connection carried
    after its last sample (a closed connection's counter is gone), so they are lower bounds.

    Waits on libtorrent's alerts (no busy polling: 100 agents share 2 cores), reading every `LOOK`
    seconds the per-peer counters (payload from each address) and offering the peers again each second
    (one not yet in the swarm refused the first try)."""
    meta_path = folder / "meta.torrent"
    agent.download(rel.torrent, meta_path)
    meta = meta_path.read_bytes()
    if torrent.info_hash(meta) != rel.info_hash:
        raise ValueError("metainfo does not match the release's info-hash")
    token = Path(args.token_file).read_text().strip()
    targets = [rel.seeder] + peers(args.consul, token, args.host, rel.build)
    swarm.ses.apply_settings(torrent.swarm_settings(rel.connections))
    st.transfer_start = time.monotonic()
    h = torrent.add(swarm.ses, meta, str(folder / "data"))
    got: dict[str, int] = {}
    deadline, next_connect = st.transfer_start + DOWNLOAD_TIMEOUT, 0.0
    while True:
        now = time.monotonic()
        if now >= next_connect:
            for ep in targets:
                h.connect_peer(ep)
            next_connect = now + 1.0
        for p in h.get_peer_info():
            got[p.ip[0]] = max(got.get(p.ip[0], 0), p.total_download)
        if torrent.wait_finished(swarm.ses, h, LOOK):
            break
        s = h.status()
        failed = s.errc.message() if s.errc.value() else ""
        if time.monotonic() > deadline or failed:
            swarm.drop(h, folder)
            raise TimeoutError(f"swarm download: {failed or 'timed out'} at {s.progress:.0%}")
    st.transfer_end = time.monotonic()
    for p in h.get_peer_info():
        got[p.ip[0]] = max(got.get(p.ip[0], 0), p.total_download)
    origin = got.get(rel.seeder[0], 0)
    path = folder / "data" / h.torrent_file().files().file_path(0)
    return h, path, int(h.status().total_payload_download), origin, sum(got.values()) - origin


def deploy_once(args, swarm: Swarm, rel: P2PRelease, st: agent.Status) -> agent.Status:
    root = Path(args.root)
    releases = root / "releases"
    folder = root / f".swarm-{rel.build}"
    releases.mkdir(parents=True, exist_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    h, path, payload, origin, from_peers = download(args, swarm, rel, folder, st)
    try:
        got = agent.sha256_file(path)
        if got != rel.sha256:
            raise ValueError(f"checksum mismatch (got {got[:12]}, want {rel.sha256[:12]})")
        agent.unpack(path, releases, rel.build)
        agent.activate(root, rel.build)
    except Exception:
        swarm.drop(h, folder)  # a retry adds the torrent afresh (libtorrent refuses a duplicate)
        raise
    st.done, st.state, st.reason = time.monotonic(), "active", ""
    st.payload_bytes, st.origin_bytes, st.peer_bytes = payload, origin, from_peers
    swarm.seeding.append((h, folder, time.monotonic() + rel.seed_time))
    return st


def handle(args, swarm: Swarm, rel: P2PRelease, woke: float, first: float, attempts: int) -> agent.Status:
    st = agent.Status(args.host, rel.build, "failed", "", attempts, rel.index, woke, first)
    try:
        return deploy_once(args, swarm, rel, st)
    except Exception as exc:  # report every failure by name; never activate
        st.reason = f"{type(exc).__name__}: {exc}"[:200]
        return st


def serve(args) -> None:
    token = Path(args.token_file).read_text().strip()
    register(args.consul, token, args.host, args.addr)
    swarm = Swarm(torrent.session(args.addr), [])
    agent.release_loop(args, wait_release,
                       lambda rel, woke, first, attempts: handle(args, swarm, rel, woke, first, attempts),
                       seeding=lambda: bool(swarm.seeding), tick=lambda: swarm.expire(time.monotonic()))


def main(argv: list[str] | None = None) -> None:
    import argparse

    p = argparse.ArgumentParser(prog="bench.deploy.p2p_agent", description=__doc__.splitlines()[0])
    p.add_argument("--host", required=True)
    p.add_argument("--addr", required=True, help="this host's bench address: libtorrent listens there only")
    p.add_argument("--consul", required=True, help="http://ADDR:8500 of this host's own agent")
    p.add_argument("--token-file", required=True)
    p.add_argument("--root", required=True)
    p.add_argument("--max-attempts", type=int, default=agent.MAX_ATTEMPTS)
    serve(p.parse_args(argv))


if __name__ == "__main__":
    main()
