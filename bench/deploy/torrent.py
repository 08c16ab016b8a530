"""BitTorrent pieces of the bench's p2p strategy: piece size, peer choice, a closed libtorrent session.

Pure logic (`piece_size_for`, `choose_peers`, `peer_entry`) runs under any Python. What needs the
engine (`session`, `make_torrent`, `add`) imports `libtorrent` when called: Debian's
`python3-libtorrent` exists for the system Python only (/usr/bin/python3, `SYSTEM_PYTHON`), so the
seeder and the hosts' p2p agents run under it, never the orchestrator.

Every session is closed to the outside: it listens only on its member's bench address, has no DHT,
no local service discovery, no UPnP/NAT-PMP and no uTP (TCP only, like pull and push), and torrents
are made private with no tracker: peers come only from the Consul list the agent reads and from the
release key (the seeder).
"""

from __future__ import annotations

import json
import random

SYSTEM_PYTHON = "/usr/bin/python3"
PORT = 6881            # every member has its own address, so one port serves them all
MIN_PIECE = 16 << 10   # BitTorrent's block size: no smaller piece makes sense
MAX_PIECE = 4 << 20    # the simulator's default piece (sim.spec.scenario P2P: 4 MB)
TARGET_PIECES = 32     # a bench-sized build still cut into enough pieces to share
MAX_PEERS = 30         # a host connects to at most this many peers from the Consul list (+ the seeder)
CONNECTIONS = 10       # uploads a member serves at once (the simulator's `connections`, Kraken max_open_conn)


def piece_size_for(size: int, cap: float = MAX_PIECE) -> int:
    """Largest power of two <= min(cap, 4 MiB) that still cuts `size` bytes into TARGET_PIECES pieces,
    never under 16 KiB.

    >>> piece_size_for(1 << 20), piece_size_for(1 << 30), piece_size_for(1000)
    (32768, 4194304, 16384)
    """
    limit = max(MIN_PIECE, min(int(cap), MAX_PIECE, size // TARGET_PIECES))
    piece = MIN_PIECE
    while piece * 2 <= limit:
        piece *= 2
    return piece


def peer_entry(addr: str, port: int = PORT) -> str:
    """What a host registers under `deploysim/peers/<host>`."""
    return json.dumps({"addr": addr, "port": port})


def choose_peers(entries: dict[str, str], me: str, k: int = MAX_PEERS, salt: str = "") -> list[tuple[str, int]]:
    """Up to `k` peers (addr, port) from the registered `entries` (host -> peer_entry), never `me`;
    a random set like a tracker's, drawn from a stream seeded by the host and `salt` (the build), sorted
    by host name first so the draw never depends on the order Consul returned them in."""
    others = sorted(h for h in entries if h != me)
    rng = random.Random(f"{me}/{salt}")
    picked = others if len(others) <= k else rng.sample(others, k)
    out = []
    for h in picked:
        e = json.loads(entries[h])
        out.append((str(e["addr"]), int(e["port"])))
    return out


def settings(addr: str, port: int = PORT, connections: int = CONNECTIONS) -> dict:
    """Closed to the outside (see the module), `connections` upload slots, and choke rounds of 1 s
    (optimistic: 2 s) instead of BitTorrent's 15 s and 30 s, which assume downloads of hours, not seconds."""
    import libtorrent as lt

    return {**swarm_settings(connections),
        "listen_interfaces": f"{addr}:{port}", "outgoing_interfaces": addr,
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_incoming_utp": False, "enable_outgoing_utp": False,
        "user_agent": "deploysim-bench", "connections_limit": 400,
        "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
    }


def swarm_settings(connections: int) -> dict:
    return {"unchoke_slots_limit": connections, "unchoke_interval": 1, "optimistic_unchoke_interval": 2}


def session(addr: str, port: int = PORT, connections: int = CONNECTIONS):
    import libtorrent as lt

    return lt.session(settings(addr, port, connections))


def wait_finished(ses, handle, timeout: float) -> bool:
    """Wait up to `timeout` s for libtorrent to say `handle` finished (every piece in and hash-checked)."""
    import libtorrent as lt

    if handle.status().is_seeding:
        return True
    ses.wait_for_alert(int(timeout * 1000))
    for a in ses.pop_alerts():
        if isinstance(a, lt.torrent_finished_alert) and a.handle == handle:
            return True
    return handle.status().is_seeding


def make_torrent(tarball: str, piece: int) -> bytes:
    """Metainfo (v1, private, no tracker) of one file, hashed here."""
    import os

    import libtorrent as lt

    fs = lt.file_storage()
    lt.add_files(fs, tarball)
    t = lt.create_torrent(fs, piece, flags=lt.create_torrent.v1_only)
    t.set_priv(True)
    t.set_creator("deploysim-bench")
    lt.set_piece_hashes(t, os.path.dirname(tarball))
    return lt.bencode(t.generate())


def add(ses, metainfo: bytes, save_path: str, seed: bool = False):
    """Add a torrent; `seed` trusts the files (the seeder just hashed them)."""
    import libtorrent as lt

    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(lt.bdecode(metainfo))
    atp.save_path = save_path
    if seed:
        atp.flags |= lt.torrent_flags.seed_mode
    return ses.add_torrent(atp)


def info_hash(metainfo: bytes) -> str:
    import libtorrent as lt

    return str(lt.torrent_info(lt.bdecode(metainfo)).info_hashes().v1)
