"""Bench mode: real Consul agents, real rsync and sshd, hosts as Linux network namespaces.

The bench deploys one real build to a small real fleet on this machine, by push (rsync over ssh or
the rsync daemon protocol) and by pull (a Consul release key watched by a per-host deploy agent),
and emits the same `sim.results.records.DeployRecord` rows as the simulator (source="bench").

Modules: preflight (checks with advice), netns (hosts as namespaces), consul_cluster (agents, ACLs),
artifact (build tarball, HTTP server), agent (per-host pull agent), push (rsync fan-out),
run (orchestration), cleanup (leftover removal), cli (typer commands).
"""
