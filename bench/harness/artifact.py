"""A real build artifact and the HTTP server hosts pull it from.

`make_build` writes a release tree of `files` files totalling `size` bytes, with content drawn from
`seed` (same seed, same bytes), and packs it as an uncompressed, reproducible tarball with its
SHA-256. `ArtifactServer` serves a folder over HTTP (stdlib, threaded) from inside the deploy
namespace; its `faults` can slow it, stop it (503) or make it serve corrupt bytes.
"""

from __future__ import annotations

import hashlib
import io
import random
import tarfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.harness import netns


@dataclass(frozen=True)
class Build:
    build_id: str
    tree: Path      # unpacked release tree (what push rsyncs)
    tarball: Path   # what pull downloads
    sha256: str
    size: int       # bytes of file content
    files: int


def file_sizes(size: int, files: int) -> list[int]:
    base, extra = divmod(size, files)
    return [base + (1 if i < extra else 0) for i in range(files)]


def write_tree(tree: Path, size: int, files: int, seed: int) -> None:
    rng = random.Random(seed)
    for i, n in enumerate(file_sizes(size, files)):
        path = tree / f"d{i % 16:02d}" / f"f{i:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(n))


def pack(tree: Path, tarball: Path) -> str:
    """Reproducible tar (sorted names, zero mtimes and owners); returns its SHA-256."""
    with tarfile.open(tarball, "w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(p for p in tree.rglob("*") if p.is_file()):
            info = tarfile.TarInfo(str(path.relative_to(tree)))
            info.size, info.mode, info.mtime = path.stat().st_size, 0o644, 0
            with open(path, "rb") as fh:
                tar.addfile(info, fh)
    return sha256_of(tarball)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def make_build(out: Path, build_id: str, size: int, files: int, seed: int) -> Build:
    tree = out / build_id
    tree.mkdir(parents=True, exist_ok=True)
    write_tree(tree, size, max(1, files), seed)
    tarball = out / f"{build_id}.tar"
    return Build(build_id, tree, tarball, pack(tree, tarball), size, max(1, files))


@dataclass
class Faults:
    """Mutable fault switches read by every request (set them from tests or the orchestrator)."""

    stopped: bool = False
    corrupt: bool = False
    rate_bytes_per_s: float = 0.0  # 0 = unthrottled
    requests: int = 0


def make_handler(root: Path, faults: Faults) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            faults.requests += 1
            path = (root / self.path.lstrip("/")).resolve()
            if faults.stopped or root.resolve() not in path.parents or not path.is_file():
                self.send_error(503 if faults.stopped else 404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(path.stat().st_size))
            self.end_headers()
            send_file(self.wfile, path, faults)

    return Handler


def send_file(out: io.BufferedIOBase, path: Path, faults: Faults, chunk: int = 1 << 16) -> None:
    with open(path, "rb") as fh:
        first = True
        for block in iter(lambda: fh.read(chunk), b""):
            if faults.corrupt and first:
                block = bytes([block[0] ^ 0xFF]) + block[1:]
            first = False
            out.write(block)
            if faults.rate_bytes_per_s > 0:
                time.sleep(len(block) / faults.rate_bytes_per_s)


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # the default 5 drops SYNs when a whole fleet pulls at once
    daemon_threads = True


class ArtifactServer:
    """A threaded HTTP server bound to `addr:port` inside namespace `ns` (None = this namespace)."""

    def __init__(self, root: Path, addr: str, port: int, ns: str | None) -> None:
        self.faults = Faults()
        with netns.inside(ns):
            self.httpd = _Server((addr, port), make_handler(root, self.faults))
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="artifact-server", daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def tree_digest(tree: Path) -> str:
    """SHA-256 over sorted relative paths and contents: equal trees, equal digests."""
    h = hashlib.sha256()
    for path in sorted(p for p in tree.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(tree)).encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()
