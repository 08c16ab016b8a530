"""The Consul KV layout of a bench run, shared by the cluster's ACLs, the deploy host and every agent.

Standard library only: each host's deploy agent imports it.
"""

RELEASE_KEY = "deploysim/release"   # JSON {build, url, sha256, percent, serial}, written by the deploy host
STATUS_PREFIX = "deploysim/status/"  # + host name: that host's agent's status of the latest release
P2P_RELEASE_KEY = "deploysim/release-p2p"  # JSON {build, torrent, info_hash, sha256, seeder, percent, seed_time, serial}
PEERS_PREFIX = "deploysim/peers/"  # + host name: that host's BitTorrent address (JSON {addr, port})
