"""A real Consul 1.8 datacenter for one bench run: server agents, one client agent per host, ACLs.

Each agent runs in its member's namespace with its own data dir, binds and serves ONLY on that
member's bench address, runs with `GOMAXPROCS=1` and the slower LAN gossip measured in
docs/sources.md. ACLs are on with default deny; gossip is encrypted with a `consul keygen` key.

Tokens: `master` (bootstrap), `agent` (node registration), `deploy` (writes `deploysim/release*`,
reads statuses and p2p peer entries), and one per host (reads the release keys and every
`deploysim/peers/*` entry, writes only `deploysim/status/<host>` and `deploysim/peers/<host>`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.harness import netns
from bench.harness.kv import PEERS_PREFIX, RELEASE_KEY, STATUS_PREFIX
from bench.harness.netns import Member, Net, Role
from bench.harness.procs import Supervisor

if TYPE_CHECKING:
    import consul

GOSSIP_LAN = {"probe_interval": "5s", "gossip_interval": "1s", "gossip_nodes": 3}

AGENT_RULES = {"node_prefix": {"": {"policy": "write"}}, "service_prefix": {"": {"policy": "read"}}}
DEPLOY_RULES = {"key_prefix": {RELEASE_KEY: {"policy": "write"}, STATUS_PREFIX: {"policy": "read"},
                              PEERS_PREFIX: {"policy": "read"}}}


def host_rules(host: str) -> dict:
    """Rules (JSON form, as py-consul sends them) of one host's token: it reads the release keys (the
    prefix covers the p2p release) and every peer entry, and writes only its own status and peer entry."""
    return {"key_prefix": {RELEASE_KEY: {"policy": "read"}, PEERS_PREFIX: {"policy": "read"}},
            "key": {f"{STATUS_PREFIX}{host}": {"policy": "write"}, f"{PEERS_PREFIX}{host}": {"policy": "write"}}}


@dataclass(frozen=True)
class Tokens:
    master: str
    agent: str
    deploy: str
    hosts: dict[str, str]


@dataclass(frozen=True)
class Cluster:
    """A started datacenter: where to reach a server, from which namespace, with which tokens."""

    servers: tuple[Member, ...]
    clients: tuple[Member, ...]
    tokens: Tokens
    caller_ns: str | None  # namespace the orchestrator calls the HTTP API from (the deploy host)

    def api(self, token: str | None = None, member: Member | None = None) -> consul.Consul:
        target = member or self.servers[0]
        import consul  # (py-consul and requests load only when a bench talks to its agents, not with every command)

        c = consul.Consul(host=target.addr, port=8500, token=token or self.tokens.master)
        c.http.session.trust_env = False  # never send bench traffic through an environment proxy
        return c


def consul_bin() -> str | None:
    return os.environ.get("CONSUL_BIN") or shutil.which("consul")


def new_tokens(hosts: list[str]) -> Tokens:
    return Tokens(str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4()),
                  {h: str(uuid.uuid4()) for h in hosts})


def keygen(binary: str) -> str:
    return subprocess.run([binary, "keygen"], capture_output=True, text=True, check=True).stdout.strip()


def agent_config(m: Member, data_dir: Path, servers: tuple[Member, ...], key: str, tokens: Tokens) -> dict:
    """The JSON config of one agent (server when `m` is one of `servers`)."""
    is_server = m in servers
    cfg = {
        "datacenter": "dsim", "node_name": m.name, "data_dir": str(data_dir),
        "bind_addr": m.addr, "advertise_addr": m.addr, "client_addr": m.addr,
        "retry_join": [s.addr for s in servers], "retry_interval": "1s",
        "encrypt": key, "log_level": "warn", "disable_update_check": True,
        "disable_host_node_id": True, "leave_on_terminate": False, "ui": False,
        "ports": {"dns": -1}, "gossip_lan": GOSSIP_LAN, "performance": {"raft_multiplier": 1},
        "acl": {"enabled": True, "default_policy": "deny", "down_policy": "extend-cache",
                "tokens": {"agent": tokens.master if is_server else tokens.agent}},
    }
    if is_server:
        cfg.update(server=True, bootstrap_expect=len(servers))
        cfg["acl"]["tokens"]["master"] = tokens.master
    return cfg


def start_agent(sup: Supervisor, binary: str, m: Member, root: Path, cfg: dict) -> None:
    home = root / m.name / "consul"
    (home / "data").mkdir(parents=True, exist_ok=True)
    (home / "config.json").write_text(json.dumps(cfg, indent=1))
    sup.spawn(f"consul-{m.name}", [binary, "agent", f"-config-file={home / 'config.json'}"],
              m.ns, home / "agent.log", env={"GOMAXPROCS": "1"})


def wait_for(what: str, check, timeout: float, every: float = 0.2):
    """Poll `check()` until it returns a truthy value; raise TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            got = check()
            if got:
                return got
        except Exception as exc:  # agents refuse connections while starting
            last = exc
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last})")


def create_acls(c: consul.Consul, tokens: Tokens) -> None:
    """Policies and tokens with pre-chosen secrets (so configs can name them before creation)."""
    c.acl.policy.create("agent", rules=AGENT_RULES)
    c.acl.token.create(secret_id=tokens.agent, policies_name=["agent"], description="agents")
    c.acl.policy.create("deploy", rules=DEPLOY_RULES)
    c.acl.token.create(secret_id=tokens.deploy, policies_name=["deploy"], description="deploy host")
    for host, secret in tokens.hosts.items():
        c.acl.policy.create(f"host-{host}", rules=host_rules(host))
        c.acl.token.create(secret_id=secret, policies_name=[f"host-{host}"], description=host)


def alive_count(c: consul.Consul) -> int:
    # py-consul's agent.members() sends no token, and ACLs filter members: call the endpoint directly.
    members = c.http.get(lambda r: json.loads(r.body), "/v1/agent/members",
                         headers=c.prepare_headers())
    return sum(1 for m in members if m.get("Status") == 1)


def start(sup: Supervisor, net: Net, root: Path, n_servers: int, timeout: float = 120.0) -> Cluster:
    """Start servers, set up ACLs, start one client per host; return once all members are alive."""
    binary = consul_bin()
    if binary is None:
        raise RuntimeError("consul binary not found: run scripts/install-system-deps.sh or set CONSUL_BIN")
    servers = net.having(Role.SERVER)[:n_servers]
    clients = net.having(Role.HOST)
    tokens = new_tokens([h.name for h in clients])
    key = keygen(binary)
    cluster = Cluster(servers, clients, tokens, net.deploy.ns)
    for s in servers:
        start_agent(sup, binary, s, root, agent_config(s, root / s.name / "consul" / "data", servers, key, tokens))
    with netns.inside(cluster.caller_ns):
        c = cluster.api()
        wait_for("a Consul leader", lambda: c.status.leader(), timeout)
        wait_for("the ACL system", lambda: c.acl.token.list() is not None, timeout)
        create_acls(c, tokens)
    for h in clients:
        start_agent(sup, binary, h, root, agent_config(h, root / h.name / "consul" / "data", servers, key, tokens))
    wait_alive(cluster, timeout)
    return cluster


def wait_alive(cluster: Cluster, timeout: float = 120.0) -> None:
    want = len(cluster.servers) + len(cluster.clients)
    with netns.inside(cluster.caller_ns):
        c = cluster.api()
        wait_for(f"{want} alive Consul members", lambda: alive_count(c) >= want, timeout, every=0.5)
