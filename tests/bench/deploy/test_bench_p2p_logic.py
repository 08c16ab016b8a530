"""The bench p2p strategy's pure logic (no root, no libtorrent in this Python): piece sizes, peer sets,
the info-hash the deploy host computes itself, byte counts, tar safety, ACL rules, scenario mapping."""

import hashlib
import io
import subprocess
import tarfile
from pathlib import Path

import pytest

from bench.config import config_from_scenario
from bench.deploy import agent
from bench.deploy.p2p import bencoded_end, byte_counts, info_hash_of
from bench.deploy.torrent import MAX_PIECE, MIN_PIECE, TARGET_PIECES, choose_peers, peer_entry, piece_size_for
from bench.harness import consul_cluster, preflight
from bench.harness.daemons import SYSTEM_PYTHON
from bench.harness.kv import P2P_RELEASE_KEY, PEERS_PREFIX, RELEASE_KEY

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("size", [1, 1000, 1 << 20, 4_000_000, 10**8, 1_500_000_000, 10**11])
def test_piece_is_a_power_of_two_within_bounds_and_cuts_enough_pieces(size) -> None:
    p = piece_size_for(size)
    assert p & (p - 1) == 0 and MIN_PIECE <= p <= MAX_PIECE
    if MIN_PIECE * TARGET_PIECES <= size <= MAX_PIECE * TARGET_PIECES:
        assert size // p >= TARGET_PIECES and size // (2 * p) < TARGET_PIECES  # the largest that does
    assert piece_size_for(size, cap=64 << 10) <= max(MIN_PIECE, 64 << 10)


def test_a_large_build_gets_the_simulators_4mb_piece() -> None:
    assert piece_size_for(1_500_000_000, 4e6) == 2 << 20  # 4e6 is not a power of two: the one below
    assert piece_size_for(1_500_000_000, 1 << 22) == 4 << 20


def test_peer_set_excludes_self_is_bounded_and_ignores_listing_order() -> None:
    entries = {f"h{i}": peer_entry(f"198.18.1.{i}") for i in range(1, 101)}
    got = choose_peers(entries, "h7", k=30, salt="b1")
    assert len(got) == len(set(got)) == 30 and ("198.18.1.7", 6881) not in got
    assert got == choose_peers(dict(reversed(entries.items())), "h7", k=30, salt="b1")
    assert got != choose_peers(entries, "h7", k=30, salt="b2")  # a new build, a new draw
    small = choose_peers({h: entries[h] for h in ("h1", "h2", "h3")}, "h2")
    assert sorted(small) == [("198.18.1.1", 6881), ("198.18.1.3", 6881)]


def test_info_hash_is_sha1_of_the_info_value(tmp_path) -> None:
    info = b"d6:lengthi5e4:name3:abc12:piece lengthi16384e6:pieces20:" + b"x" * 20 + b"e"
    meta = tmp_path / "m.torrent"
    meta.write_bytes(b"d10:created by4:test4:info" + info + b"e")
    assert info_hash_of(meta) == hashlib.sha1(info).hexdigest()
    assert bencoded_end(b"li1e3:abce", 0) == 10


@pytest.mark.skipif(bool(preflight.libtorrent_missing()), reason=preflight.libtorrent_missing() or "-")
def test_info_hash_matches_libtorrents(tmp_path) -> None:
    (tmp_path / "b.tar").write_bytes(bytes(range(256)) * 2000)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from bench.deploy import torrent as t; "
            "m = t.make_torrent(sys.argv[2], t.piece_size_for(512000)); open(sys.argv[3], 'wb').write(m); "
            "print(t.info_hash(m))")
    out = subprocess.run([SYSTEM_PYTHON, "-c", code, str(REPO), str(tmp_path / "b.tar"), str(tmp_path / "m")],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert info_hash_of(tmp_path / "m") == out


def test_byte_counts_sum_active_hosts_only_and_take_the_seeders_upload_from_the_total() -> None:
    st = {"h1": {"state": "active", "payload_bytes": 500, "origin_bytes": 100, "peer_bytes": 300},
          "h2": {"state": "active", "payload_bytes": 500, "origin_bytes": 0, "peer_bytes": 400},
          "h3": {"state": "failed", "payload_bytes": None, "origin_bytes": None, "peer_bytes": None}}
    assert byte_counts(st, 250.0) == {"hosts_payload_bytes": 1000, "hosts_from_peers_bytes": 750.0, "peer_share": 0.75,
                                      "sampled_from_seeder_bytes": 100, "sampled_from_peers_bytes": 700}


def test_unpack_without_the_data_filter_refuses_escaping_members(tmp_path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("../evil")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tar, pytest.raises(ValueError, match="refusing"):
        agent.safe_members(tar)


def test_host_tokens_read_every_peer_entry_and_write_only_their_own() -> None:
    rules = consul_cluster.host_rules("h3")
    assert rules["key"] == {"deploysim/status/h3": {"policy": "write"}, f"{PEERS_PREFIX}h3": {"policy": "write"}}
    assert rules["key_prefix"][PEERS_PREFIX] == {"policy": "read"}
    assert P2P_RELEASE_KEY.startswith(RELEASE_KEY)  # the release prefix rules cover the p2p key both ways


def test_a_scenarios_p2p_strategy_is_run_as_p2p_with_its_pieces_and_seed_time() -> None:
    cfg = config_from_scenario(REPO / "scenarios" / "p2p_vs_pull.yaml", hosts=10)
    p2p = [s for s in cfg.strategies if s.kind == "p2p"]
    assert p2p and p2p[0].piece_size == 4e6 and p2p[0].seed_time > 0 and p2p[0].connections == 10
