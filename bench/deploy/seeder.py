"""The deploy host's BitTorrent seeder of one build (the origin of a bench p2p deploy).

Run in the deploy host's namespace under the system python3 (libtorrent) by
`bench.harness.daemons.start_seeder`: `python3 -m bench.deploy.seeder --addr A --port P --tarball T
--torrent OUT --piece N [--connections K]`. It hashes the tarball into a private, trackerless v1 torrent of `--piece`-byte
pieces, seeds it from a session that listens on `A:P` only, then writes the metainfo to OUT (atomically:
its presence means "seeding"). Every half second, and once more on SIGTERM, it writes what it has
uploaded to OUT + ".stats" (JSON {uploaded}), which the deploy host reads as the origin bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from pathlib import Path

from bench.deploy import torrent


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def uploaded(handle) -> int:
    s = handle.status()
    return int(max(s.all_time_upload, s.total_payload_upload))


def serve(args) -> None:
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    tarball, out = Path(args.tarball), Path(args.torrent)
    meta = torrent.make_torrent(str(tarball), args.piece)
    ses = torrent.session(args.addr, args.port, args.connections)
    h = torrent.add(ses, meta, str(tarball.parent), seed=True)
    stats = out.with_name(out.name + ".stats")
    write_atomic(out, meta)
    while not stop:
        write_atomic(stats, json.dumps({"uploaded": uploaded(h)}).encode())
        time.sleep(0.5)
    write_atomic(stats, json.dumps({"uploaded": uploaded(h)}).encode())
    ses.remove_torrent(h)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="bench.deploy.seeder", description=__doc__.splitlines()[0])
    p.add_argument("--addr", required=True)
    p.add_argument("--port", type=int, default=torrent.PORT)
    p.add_argument("--tarball", required=True)
    p.add_argument("--torrent", required=True)
    p.add_argument("--piece", type=int, required=True)
    p.add_argument("--connections", type=int, default=torrent.CONNECTIONS, help="uploads served at once")
    serve(p.parse_args(argv))


if __name__ == "__main__":
    main()
