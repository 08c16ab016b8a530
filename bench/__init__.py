"""Bench mode: real Consul agents, real rsync and sshd, hosts as Linux network namespaces.

The bench deploys one real build to a small real fleet on this machine, by push (rsync over ssh or
the rsync daemon protocol) and by pull (a Consul release key watched by a per-host deploy agent),
and emits the same `sim.results.records.DeployRecord` rows as the simulator (source="bench").

Three rooms, imports pointing down (analysis imports neither of the others; deploy imports the
harness; the harness imports neither):

    harness/   root-only machinery: netns (hosts as namespaces, roles), procs, cleanup, consul_cluster,
               kv (the release/status keys), daemons (sshd, rsyncd, deploy agent), artifact, fleet,
               faults, preflight
    deploy/    deploy protocols: agent (per-host pull agent), pull, push, rollout, records, p2p (with
               p2p_agent, seeder and torrent: a libtorrent swarm, under the system python3)
    analysis/  needs neither root nor namespaces: recording (the files a run writes), runs, calibrate,
               transfer_fit, params_file, validate

Top level: config (BenchConfig, from a scenario), run (orchestration), results (the results folder),
cli (typer commands, registered into `deploysim` by the `bench.cli:register` entry point).
"""
