"""The per-host deploy agent: watches the release key, pulls, verifies, activates, reports.

Run inside a host's namespace as `python -m bench.deploy.agent --host h3 --consul http://ADDR:8500
--token-file F --root DIR` (the harness starts it: `bench.harness.daemons.start_agent`). Standard
library only (and the KV layout, `bench.harness.kv`), so each agent stays small.

Loop: a blocking query on `deploysim/release` (value: JSON with build, url, sha256, percent). The
host acts only when its stable bucket `crc32(host) % 1000` is below `percent * 10` (HashiCorp's
rollout pattern). It downloads to a temp file, checks SHA-256, unpacks into a temp folder renamed to
`releases/<build>`, then points `current` at it by renaming a fresh symlink over it (atomic). A
corrupt or partial download is never unpacked or activated. A failed attempt is retried after a
back-off of 1, 2, 3... s (at most 5 s), up to `MAX_ATTEMPTS` attempts per release. Status (build,
state, timings on the shared CLOCK_MONOTONIC) goes to `deploysim/status/<host>` and
`<root>/status.json`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import tarfile
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.harness.kv import RELEASE_KEY, STATUS_PREFIX

MAX_ATTEMPTS = 4  # per release; the deploy host counts a host that reached it as settled
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never an environment proxy


@dataclass(frozen=True)
class Release:
    build: str
    url: str
    sha256: str
    percent: float
    index: int


def bucket(host: str) -> int:
    """Stable rollout bucket 0..999 of a host."""
    return zlib.crc32(host.encode()) % 1000


def selected(host: str, percent: float) -> bool:
    return bucket(host) < percent * 10


def consul_call(base: str, token: str, path: str, data: bytes | None = None, timeout: float = 700):
    req = urllib.request.Request(base + path, data=data, method="PUT" if data is not None else "GET",
                                 headers={"X-Consul-Token": token})
    with _opener.open(req, timeout=timeout) as resp:
        return resp.headers.get("X-Consul-Index"), resp.read()


def wait_release(base: str, token: str, index: int, wait: str) -> tuple[int, Release | None]:
    """One blocking query; returns the new index and the release (None when the key is absent)."""
    try:
        idx, body = consul_call(base, token, f"/v1/kv/{RELEASE_KEY}?index={index}&wait={wait}")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return int(exc.headers.get("X-Consul-Index") or 0), None
        raise
    entry = json.loads(body)[0]
    value = json.loads(base64.b64decode(entry["Value"]))
    return int(idx), Release(value["build"], value["url"], value["sha256"], float(value["percent"]),
                             int(entry["ModifyIndex"]))


def download(url: str, dest: Path) -> str:
    """Stream `url` to `dest`; returns the SHA-256 of what arrived."""
    h = hashlib.sha256()
    with _opener.open(url, timeout=60) as resp, open(dest, "wb") as out:
        for chunk in iter(lambda: resp.read(1 << 16), b""):
            h.update(chunk)
            out.write(chunk)
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Regular files and folders with relative names that stay inside the target; raises otherwise."""
    out = []
    for m in tar.getmembers():
        parts = Path(m.name).parts
        if not (m.isfile() or m.isdir()) or m.name.startswith("/") or ".." in parts:
            raise ValueError(f"refusing tar member {m.name!r}")
        out.append(m)
    return out


def unpack(tarball: Path, releases: Path, build: str) -> Path:
    final = releases / build
    if final.is_dir():
        return final
    tmp = releases / f".unpack-{build}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(tarball) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(tmp, filter="data")
        else:  # Python < 3.11.4 (Debian 12's system python3 runs the p2p agent): refuse what "data" refuses
            tar.extractall(tmp, members=safe_members(tar))
    os.rename(tmp, final)
    return final


def activate(root: Path, build: str) -> None:
    """Point `current` at releases/<build> by renaming a new symlink over it (atomic)."""
    tmp = root / f".current-{os.getpid()}"
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(f"releases/{build}", tmp)
    os.replace(tmp, root / "current")


@dataclass
class Status:
    host: str
    build: str
    state: str          # "active" | "failed" | "skipped"
    reason: str
    attempts: int
    release_index: int
    woke: float                 # when the agent began this attempt
    first_woke: float           # when the agent first saw this release (fan-out latency)
    transfer_start: float = float("nan")
    transfer_end: float = float("nan")
    done: float = float("nan")
    payload_bytes: int | None = None  # p2p: payload bytes this host downloaded (libtorrent's torrent counter)
    origin_bytes: int | None = None   # p2p: of them, from the seeder as sampled per connection (a lower bound)
    peer_bytes: int | None = None     # p2p: of them, from other hosts, sampled likewise (a lower bound)


def deploy_once(root: Path, rel: Release, st: Status) -> Status:
    """One attempt: download, verify, unpack, activate. Raises on any failure."""
    releases = root / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    tarball = releases / f".download-{rel.build}.tar"
    st.transfer_start = time.monotonic()
    try:
        got = download(rel.url, tarball)
        st.transfer_end = time.monotonic()
        if got != rel.sha256:
            raise ValueError(f"checksum mismatch (got {got[:12]}, want {rel.sha256[:12]})")
        unpack(tarball, releases, rel.build)
    finally:
        tarball.unlink(missing_ok=True)
    activate(root, rel.build)
    st.done, st.state, st.reason = time.monotonic(), "active", ""
    return st


def report(base: str, token: str, root: Path, st: Status) -> None:
    body = json.dumps(asdict(st)).encode()
    tmp = root / ".status.json.tmp"
    tmp.write_bytes(body)
    os.replace(tmp, root / "status.json")
    try:
        consul_call(base, token, f"/v1/kv/{STATUS_PREFIX}{st.host}", data=body, timeout=30)
    except (urllib.error.URLError, OSError):
        pass  # the local status file still tells; a cut link must not kill the agent


def current_build(root: Path) -> str | None:
    link = root / "current"
    return os.readlink(link).split("/", 1)[1] if link.is_symlink() else None


def handle(args, rel: Release, woke: float, first: float, attempts: int) -> Status:
    st = Status(args.host, rel.build, "failed", "", attempts, rel.index, woke, first)
    try:
        return deploy_once(Path(args.root), rel, st)
    except Exception as exc:  # report every failure by name; never activate
        st.reason = f"{type(exc).__name__}: {exc}"[:200]
        return st


def serve(args) -> None:
    release_loop(args, wait_release, lambda rel, woke, first, attempts: handle(args, rel, woke, first, attempts))


def release_loop(args, wait_for, deploy, seeding=lambda: False, tick=lambda: None) -> None:
    """Watch the release key and act on each release, as every agent does (pull, p2p): skip a release
    whose percent leaves this host out, or that it already runs; retry a failed attempt after a back-off
    (up to args.max_attempts); report every outcome. `wait_for(consul, token, index, wait)` is the
    blocking read of the key; `deploy(rel, woke, first, attempts)` one attempt, returning its Status;
    `tick()` runs before each wait, and while `seeding()` the key is polled every 2 s, not 60."""
    token = Path(args.token_file).read_text().strip()
    root = Path(args.root)
    index, attempts, retry_at, rel, first = 0, 0, None, None, 0.0
    while True:
        tick()
        wait = "2s" if retry_at or seeding() else "60s"
        try:
            new_index, got = wait_for(args.consul, token, index, wait)
        except (urllib.error.URLError, OSError, ValueError):
            time.sleep(1.0)
            continue
        woke = time.monotonic()
        (root / "ready").touch()  # the next query blocks: this agent will see a release write
        index = new_index if new_index >= index else 0
        if got is None or (rel is not None and got.index == rel.index and retry_at is None):
            continue
        if rel is None or got.index != rel.index:
            rel, attempts, first, retry_at = got, 0, woke, None
        if retry_at and woke < retry_at:
            continue
        retry_at = None
        if not selected(args.host, rel.percent):
            skip = Status(args.host, rel.build, "skipped", "bucket", 0, rel.index, woke, first)
            report(args.consul, token, root, skip)
            continue
        if current_build(root) == rel.build:
            continue
        attempts += 1
        st = deploy(rel, woke, first, attempts)
        report(args.consul, token, root, st)
        if st.state == "failed" and attempts < args.max_attempts:
            retry_at = time.monotonic() + min(1.0 * attempts, 5.0)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="bench.deploy.agent", description=__doc__.splitlines()[0])
    p.add_argument("--host", required=True)
    p.add_argument("--consul", required=True, help="http://ADDR:8500 of this host's own agent")
    p.add_argument("--token-file", required=True)
    p.add_argument("--root", required=True)
    p.add_argument("--max-attempts", type=int, default=MAX_ATTEMPTS)
    serve(p.parse_args(argv))


if __name__ == "__main__":
    main()
