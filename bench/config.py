"""What a bench run is asked to do (`BenchConfig`), and how a scenario file sets it.

A scenario is read with the simulator's own loader (`sim.load.loader`). The bench uses `seed`,
`artifact.size`, `artifact.files`, `network.deploy_egress` (tbf on the deploy host's link),
`network.host_download` (tbf on each host's link), the `strategies` (each push strategy with its
`parallel`, each pull strategy, each p2p strategy with its `piece_size`, `seed_time` and `connections`) and `bench.host_cpu` / `bench.host_memory` (each host container's CPU
quota in cores and memory limit in bytes; checked by the scenario model, `sim.spec.scenario.Bench`).
`--set` overrides work as in `deploysim run`, e.g. `--set artifact.size=5MB` to shrink a production-sized
build to what one machine can copy 200 times, or `--set bench.host_cpu=0.5`. Rates at or above 10 Gbit/s
are left unshaped (a veth is no faster than that anyway).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from sim.api import UserError

UNSHAPED_MBIT = 10_000.0


@dataclass(frozen=True)
class StrategySpec:
    """A strategy to run on the bench: name (as in the scenario), kind, push fan-out, p2p pieces and seeding."""

    name: str
    kind: str       # "pull" | "push" | "p2p"
    parallel: int = 0
    transport: str = "ssh"  # push only: "ssh" or "daemon" (rsync://)
    piece_size: float = 4e6   # p2p only: the largest piece (bench-sized builds get smaller ones)
    seed_time: float = 300.0  # p2p only: seconds a host keeps seeding after its switch
    connections: int = 10     # p2p only: uploads each member (seeder, host) serves at once


DEFAULT_STRATEGIES = (StrategySpec("consul-pull", "pull"), StrategySpec("rsync-parallel-4", "push", 4))


@dataclass(frozen=True)
class BenchConfig:
    """One bench run: the fleet, the build, the links, the strategies (written to the run's manifest)."""

    hosts: int = 5
    servers: int = 1
    size: int = 1 << 20            # artifact bytes
    files: int = 50
    seed: int = 1
    parallel: int = 4              # push: rsyncs at a time
    host_rate_mbit: float = 0.0    # tbf on each host's link; 0 = unshaped
    deploy_rate_mbit: float = 0.0  # tbf on the deploy host's (origin's) link; 0 = unshaped
    isolated: bool | None = None   # None: namespaces when root, loopback otherwise
    containers: bool | None = None  # None: each host in a runc container when root and runc allow it
    host_cpu: float | None = None  # cores per host container (cgroup CPU quota); None = no limit
    host_memory: int | None = None  # bytes per host container (cgroup memory limit); None = no limit
    timeout: float = 120.0
    strategies: tuple[StrategySpec, ...] = DEFAULT_STRATEGIES
    scenario: str = ""             # the scenario file the run was configured from ("" when none)
    scenario_sha256: str = ""      # the fingerprint of that scenario as loaded (`LoadedScenario.digest`)
    overrides: tuple[str, ...] = ()  # its --set overrides


def _mbit(rate_bytes_per_s: float) -> float:
    mbit = rate_bytes_per_s * 8 / 1e6
    return 0.0 if mbit >= UNSHAPED_MBIT else mbit


def strategies_of(scenario) -> tuple[StrategySpec, ...]:
    out = []
    for name, s in scenario.strategies.items():
        p2p = ({"piece_size": float(s.piece_size), "seed_time": float(s.seed_time), "connections": s.connections}
               if s.kind == "p2p" else {})
        out.append(StrategySpec(name, s.kind, getattr(s, "parallel", 0), **p2p))
    return tuple(out)


def with_transport(specs: tuple[StrategySpec, ...], transport: str) -> tuple[StrategySpec, ...]:
    """Pushes over `ssh`, over the rsync `daemon`, or `both` (the daemon copy named `<name>-daemon`)."""
    out: list[StrategySpec] = []
    for s in specs:
        if s.kind != "push":
            out.append(s)
            continue
        if transport in ("ssh", "both"):
            out.append(StrategySpec(s.name, s.kind, s.parallel, "ssh"))
        if transport in ("daemon", "both"):
            name = f"{s.name}-daemon" if transport == "both" else s.name
            out.append(StrategySpec(name, s.kind, s.parallel, "daemon"))
    return tuple(out)


def config_from_scenario(path: Path | str | None, hosts: int, servers: int = 1, seed: int | None = None,
                         parallel: int = 0, overrides: tuple[str, ...] = (), transport: str = "ssh") -> BenchConfig:
    """BenchConfig from a scenario (defaults when None); `parallel` > 0 replaces every push's fan-out.

    Raises `sim.errors.ScenarioError` (a UserError, exit 2) for a bad file, located by line.
    """
    base = BenchConfig(hosts=hosts, servers=servers)
    if path is None and overrides:  # they used to be dropped without a word
        raise UserError(f"--set {overrides[0]}: needs a SCENARIO file to override (e.g. scenarios/bench_small.yaml)")
    if path is None:
        specs = base.strategies
        cfg = base
    else:
        from sim.api import load_scenario  # imported late: `register` loads the bench on every deploysim start

        loaded = load_scenario(path, overrides)
        sc = loaded.scenario
        specs = strategies_of(sc)
        limits = sc.bench
        cfg = BenchConfig(hosts=hosts, servers=servers, size=int(sc.artifact.size), files=sc.artifact.files,
                          seed=sc.seed if sc.seed is not None else base.seed,
                          host_rate_mbit=_mbit(sc.network.host_download),
                          deploy_rate_mbit=_mbit(sc.network.deploy_egress), strategies=specs,
                          host_cpu=limits.host_cpu if limits else None,
                          host_memory=int(limits.host_memory) if limits and limits.host_memory else None,
                          scenario=loaded.source, scenario_sha256=loaded.digest, overrides=loaded.overrides)
    if parallel:
        specs = tuple(replace(s, parallel=parallel if s.kind == "push" else 0) for s in specs)
    if transport not in ("ssh", "daemon", "both"):
        raise UserError(f"--transport must be ssh, daemon or both (got {transport!r})")
    return BenchConfig(**{**cfg.__dict__, "strategies": with_transport(specs, transport),
                          "seed": seed if seed is not None else cfg.seed % (2**32)})
