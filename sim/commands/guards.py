"""Resource guards: a run that would need more memory, time or disk than this machine has is refused
before any work starts, with the estimate, the parts it is made of, and the setting that drives it.

    $ deploysim run scenarios/push_vs_pull.yaml --replications 1000000
    --set replications: too large for this machine: about 34.1 GB of memory (2 workers at 100,010 hosts:
    928 MB; results of 30,000,000 deploys: 33.0 GB); this machine has 23.8 GB available. Lower
    replications, or set DEPLOYSIM_ALLOW_LARGE=1 to run it anyway

Budgets: memory is MemAvailable in /proc/meminfo; time is `TIME_BUDGET` (a day of wall time on the run's
workers); disk is the free space where `--out` goes. `DEPLOYSIM_ALLOW_LARGE=1` in the environment skips
every guard (an environment variable rather than a scenario key: being allowed to use this machine is not
part of what a scenario means, and so not part of its digest).

Estimates add measured costs. Every constant below was measured on the reference machine (2 cores,
23.9 GB available, Python 3.11, numpy 2.4, pandas 3.1; 2026-12-01) in fresh processes with
`resource.getrusage(RUSAGE_SELF).ru_maxrss` before and after the work, after one warm-up run; the machine's
speed varies by up to a third from run to run, so each is rounded up from the largest value seen. They
overestimate on purpose (a guard that lets through a run that then exhausts memory is worse than one that
asks for the override), but the shipped scenarios and the documented 1,000,000-host replication need a
small fraction of every budget (tests/test_guards.py holds them to that).
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

from sim.errors import Problem, UserError
from sim.load.locate import where
from sim.spec.references import render_path

ALLOW_ENV = "DEPLOYSIM_ALLOW_LARGE"
TIME_BUDGET = 24 * 3600.0
"""Longest estimated wall time allowed without the override: one day."""

PROCESS_BYTES = 300e6
"""One Python process with numpy, pandas, SimPy and the compiled wave kernel loaded: 250-280 MB (parent
and pool workers alike; ru_maxrss after warm-up)."""

# Fleet-growth runs (`deploysim run` without `rollout:`), one job = one (strategy, fleet size, replication).
ENGINE_BYTES_PER_HOST = 140.0
"""Peak memory of one replication, per host: 125 B (push) and 134 B (pull) at 1e5 hosts, 120 B and 130 B
at 1e6 (`sim.deploy.engine.simulate`, benchmarks' scenario; peak minus peak after a 10-host warm-up)."""
ENGINE_SECONDS_PER_HOST = 1.1e-6
"""Wall time of one replication, per host: 0.46-0.56 us at 1e5 hosts, 0.78-1.04 us at 1e6."""
JOB_SECONDS = 0.5e-3
"""Fixed cost of one job (plan, SimPy, summary, pool transfer): 0.43-0.46 ms (36,000 jobs of 10 hosts)."""
JOB_BYTES = 1100.0
"""Memory the parent keeps per job (its summary and replication row): 1,019 B (9,000 and 36,000 jobs)."""
HOST_ROW_BYTES = 400.0
"""Parent memory per kept host row (the record sent back by a worker, the host table, the CSV and plot):
393 B (`run` of push_vs_pull at 1,000,000 hosts, 2 replications, host rows of the first: 3e6 rows, 1,462 MB
peak in the parent)."""
HOST_ROW_SECONDS = 18e-6
"""Wall time per kept host row (host table, hosts.csv, plot): 17.5 us (the same run: 52.5 s)."""
UNEQUAL_SHARE_SECONDS_PER_STEP = 4e-8
"""With unequal shares (`network.flow_share_p95` > 1, `sim.deploy.unfair`) every event touches every flow in
flight: wall time per (event, flow) step, counting 2 N x (flows in flight) steps a wave. A 10,000-host pull
(all flows in flight at once) took 1.0-1.1 s on a machine loaded by a mutation run: 1e-8 s a step, rounded
up to allow for the rest of the job."""
HOST_ROW_CSV_BYTES = 135.0
"""hosts.csv bytes per row: 131 B (the same run: 392.7 MB for 3e6 rows)."""

# Release runs (`deploysim run` with `rollout:`), per release.
RELEASE_SECONDS = 12e-3
"""Fixed wall time per release: 12 ms (slack_2020_pipeline, 800 releases of 5,000 hosts: 13.3 ms each)."""
RELEASE_SECONDS_PER_HOST = 0.25e-6
"""Per host of the fleet: 0.21 us (the same at 50,000 hosts: 22.8 ms each)."""
RELEASE_SECONDS_PER_INTERVAL = 0.4e-6
"""Per metric interval to the horizon: 0.39 us (metric_interval 1s, 172,802 intervals: 80 ms each)."""
RELEASE_BYTES_PER_INTERVAL = 14.0
"""Memory kept per release and metric interval: 12 B (2,882 and 17,282 intervals: 34 KB and 204 KB)."""
RELEASE_BYTES_PER_HOST = 1.5
"""Memory kept per release and host: 1.2 B (5,000 and 50,000 hosts: 34 KB and 87 KB)."""
FLIGHT_BYTES_PER_HOST = 100.0
"""Memory of a release being simulated, per host (a worker holds a chunk of them): 88-100 B."""
FLIGHT_BYTES_PER_INTERVAL = 12.0
"""The same per metric interval: 7 B (releases), 11 B (evaluations; 1s intervals, 50 in flight)."""
RELEASE_CSV_BYTES = 250.0
"""releases.csv bytes per release: 222 B; with `output.host_rows: all` also its stages, metrics and
decisions: `RELEASE_DETAIL_CSV_BYTES` (16 KB for one slack_2020_pipeline release)."""
RELEASE_DETAIL_CSV_BYTES = 20e3

# Evaluations (`deploysim evaluate`, `deploysim sweep`), per release and policy.
EVAL_SECONDS = 4e-3
EVAL_SECONDS_PER_POLICY = 2e-3
"""threshold_policies (2,000 hosts): 6.2 ms per release with one policy, 8.7 ms with three."""
EVAL_SECONDS_PER_HOST = 0.6e-6
"""Per release and host: 0.54 us (2,000 and 20,000 hosts: 4.4 and 14.1 ms per release, 3 policies)."""
EVAL_SECONDS_PER_INTERVAL = 0.2e-6
"""Per release and metric interval: 0.18 us (1s intervals: 37 ms per release, 3 policies)."""
EVAL_ROW_BYTES = 2000.0
"""Memory kept per (release, policy) row: 1.7 KB (400 and 3,200 releases, 3 policies)."""
EVAL_CHUNK = 50
"""Releases a worker simulates together (`sim.evaluation.engine.CHUNK`, `sim.commands.release.CHUNK`)."""


ROWS_ADVICE = "Keep fewer host rows (output.host_rows: first or none)"


@dataclass(frozen=True)
class Cost:
    """One part of what a run needs of a resource, and the scenario key that drives it."""

    amount: float
    what: str
    path: tuple
    advice: str = ""
    """How to lower it (default: lower the value at `path`)."""


@dataclass(frozen=True)
class Budget:
    """What this machine offers: bytes of memory, seconds, bytes of disk (None: nothing is written)."""

    memory: float
    time: float = TIME_BUDGET
    disk: float | None = None


def budget(out: str | Path | None = None) -> Budget:
    """This machine's budget: available memory, `TIME_BUDGET`, free disk where `out` would be written."""
    return Budget(memory=available_memory(), time=TIME_BUDGET, disk=None if out is None else free_disk(Path(out)))


def available_memory(meminfo: str = "/proc/meminfo") -> float:
    """MemAvailable in bytes (infinite where /proc/meminfo cannot be read: no guard then)."""
    try:
        with open(meminfo) as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return math.inf


def free_disk(out: Path) -> float:
    """Free bytes on the file system that would hold `out` (its nearest existing ancestor)."""
    path = out.resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return float(shutil.disk_usage(path).free)
    except OSError:
        return math.inf


def check(loaded, costs: Mapping[str, list[Cost]], have: Budget, environ: Mapping[str, str] = os.environ) -> None:
    """Raise UserError naming every resource whose estimate exceeds the budget, at the key that drives
    it, unless DEPLOYSIM_ALLOW_LARGE=1."""
    if environ.get(ALLOW_ENV) == "1":
        return
    problems = []
    for resource, parts in costs.items():
        need, limit = sum(p.amount for p in parts), getattr(have, resource)
        if limit is None or need <= limit or not parts:
            continue
        top = max(parts, key=lambda p: p.amount)
        detail = "; ".join(f"{p.what}: {_amount(resource, p.amount)}" for p in parts if p.amount >= 0.01 * need)
        problems.append(_problem(loaded, top.path, f"too large for this machine: about {_amount(resource, need)} "
                                 f"of {resource} ({detail}); {_limit(resource, limit)}. "
                                 f"{top.advice or 'Lower ' + render_path(top.path)}, or set {ALLOW_ENV}=1 to "
                                 f"run it anyway"))
    if problems:
        raise UserError(problems)


def fleet_costs(scenario, workers: int, writes: bool, remote: bool = False, rollback: bool = False
                ) -> dict[str, list[Cost]]:
    """A fleet-growth run: every strategy at every fleet size, `replications` times (`sim.commands.run`);
    `remote`: the deploys run elsewhere (Dask), so only what this process keeps and writes counts;
    `rollback` (run --rollback): as many deploys again, each moving no bytes, counted as deploys (an upper
    bound on the time)."""
    sizes = scenario.fleet_sizes()
    strategies, replications = len(scenario.strategies), scenario.replications
    jobs = strategies * len(sizes) * replications
    kept = {"first": 1, "all": replications, "none": 0}[scenario.output.host_rows] * strategies * sum(sizes)
    size_key = _size_key(scenario)
    span = f"{len(sizes)} fleet size{'s' if len(sizes) > 1 else ''} up to {max(sizes):,} hosts"
    memory = [] if remote else [
        Cost(PROCESS_BYTES + workers * (PROCESS_BYTES if workers > 1 else 0) + workers * ENGINE_BYTES_PER_HOST * max(sizes),
             f"{_workers(workers)} at {max(sizes):,} hosts", size_key)]
    memory += [Cost(jobs * JOB_BYTES, f"results of {jobs:,} deploys", ("replications",)),
              Cost(kept * HOST_ROW_BYTES, f"{kept:,} host rows (output.host_rows: {scenario.output.host_rows})",
                   ("output", "host_rows"), ROWS_ADVICE)]
    host_seconds = strategies * replications * sum(sizes) * ENGINE_SECONDS_PER_HOST
    time = [] if remote else [
        Cost((jobs * JOB_SECONDS + host_seconds) / workers,
             f"{jobs:,} deploys ({strategies} strategies x {span} x {replications:,} replications) "
             f"on {_workers(workers)}", ("replications",) if replications > 1 else size_key)]
    time += [Cost(kept * HOST_ROW_SECONDS, f"{kept:,} host rows", ("output", "host_rows"), ROWS_ADVICE)]
    if not remote:
        time += unequal_share_cost(replications * sum(unequal_share_steps(scenario, n) for n in sizes), workers,
                                   "the fleet sizes")
    if rollback:
        time = [replace(c, amount=2 * c.amount) for c in time]
    disk = [Cost(kept * HOST_ROW_CSV_BYTES, f"hosts.csv of {kept:,} rows", ("output", "host_rows"), ROWS_ADVICE)
            ] if writes else []
    return {"memory": memory, "time": time, "disk": disk}


def unequal_share_steps(scenario, hosts: int) -> int:
    """(event, flow) steps of one deploy of every push and pull strategy at `hosts` hosts with unequal shares
    (0 with equal ones): 2 N events, each touching the flows in flight (a push's slots, or every pulling host)."""
    if scenario.network.flow_share_p95 == 1.0:
        return 0
    in_flight = [min(hosts, spec.parallel) if spec.kind == "push" else hosts
                 for spec in scenario.strategies.values() if spec.kind in ("push", "pull")]
    return sum(2 * hosts * flows for flows in in_flight)


def unequal_share_cost(steps: int, workers: int, sizes: str) -> list[Cost]:
    """The time of `steps` unequal-shares steps on `workers` (none when there are none); `sizes` names the
    setting that sets the fleet sizes, for the advice."""
    if not steps:
        return []
    return [Cost(steps * UNEQUAL_SHARE_SECONDS_PER_STEP / workers,
                 f"unequal shares on {_workers(workers)}: {steps:,} flow steps", ("network", "flow_share_p95"),
                 f"set network.flow_share_p95 to 1 (equal shares), or lower {sizes}")]


def release_costs(scenario, workers: int, writes: bool, remote: bool = False) -> dict[str, list[Cost]]:
    """Releases through the rollout, `replications` of them (`sim.commands.release`); `remote`: simulated
    elsewhere (Dask), so only the releases this process keeps count."""
    n, hosts, intervals = scenario.replications, scenario.fleet.hosts, _intervals(scenario)
    flight = min(EVAL_CHUNK, n) * (FLIGHT_BYTES_PER_HOST * hosts + FLIGHT_BYTES_PER_INTERVAL * intervals)
    memory = [] if remote else [Cost(PROCESS_BYTES + workers * ((PROCESS_BYTES if workers > 1 else 0) + flight),
                                     f"{_workers(workers)} simulating releases of {hosts:,} hosts", ("fleet", "hosts"))]
    memory += [Cost(n * (RELEASE_BYTES_PER_INTERVAL * intervals + RELEASE_BYTES_PER_HOST * hosts),
                   f"{n:,} releases of {intervals:,} metric intervals each", ("replications",))]
    each = RELEASE_SECONDS + RELEASE_SECONDS_PER_HOST * hosts + RELEASE_SECONDS_PER_INTERVAL * intervals
    time = [] if remote else [Cost(n * each / workers, f"{n:,} releases of {hosts:,} hosts on {_workers(workers)}",
                                   ("replications",))]
    if not remote:
        time += unequal_share_cost(n * unequal_share_steps(scenario, hosts), workers, "fleet.hosts")
    detail = RELEASE_DETAIL_CSV_BYTES if scenario.output.host_rows == "all" else 0.0
    disk = [Cost(n * (RELEASE_CSV_BYTES + detail), f"the files of {n:,} releases", ("replications",))] if writes else []
    return {"memory": memory, "time": time, "disk": disk}


def evaluation_costs(scenario, releases: int | None, policies: int, workers: int, rounds: int = 1,
                     held: int | None = None, remote: bool = False) -> dict[str, list[Cost]]:
    """`releases` releases (None: the scenario's `evaluation.releases`) judged by `policies` policies,
    simulated `rounds` times, `held` policies' rows in memory at once (a sweep evaluates each group of
    points that share a scenario apart; default all); `remote`: the workers are elsewhere (Dask), so only
    the rows this process keeps count."""
    held = policies if held is None else held
    key = ("evaluation", "releases") if releases is None else ("--releases",)
    releases = scenario.evaluation.releases if releases is None else releases
    hosts, intervals = scenario.fleet.hosts, _intervals(scenario)
    flight = min(EVAL_CHUNK, releases) * (FLIGHT_BYTES_PER_HOST * hosts + FLIGHT_BYTES_PER_INTERVAL * intervals)
    advice = "Lower evaluation.releases (or --releases)"
    memory = [Cost(releases * held * EVAL_ROW_BYTES, f"{releases:,} releases x {held} policies",
                   key, advice)]
    if not remote:
        memory.append(Cost(PROCESS_BYTES + workers * ((PROCESS_BYTES if workers > 1 else 0) + flight),
                           f"{_workers(workers)} simulating releases of {hosts:,} hosts", ("fleet", "hosts")))
    each = (EVAL_SECONDS + EVAL_SECONDS_PER_HOST * hosts + EVAL_SECONDS_PER_INTERVAL * intervals) * rounds
    seconds = releases * (each + EVAL_SECONDS_PER_POLICY * policies) / workers
    time = [] if remote else [Cost(seconds, f"{releases:,} releases x {policies} policies x {intervals:,} metric "
                                            f"intervals on {_workers(workers)}", key, advice)]
    return {"memory": memory, "time": time, "disk": []}


def _intervals(scenario) -> int:
    """Metric intervals of one release."""
    if scenario.rollout is None:
        return 0
    from sim.rollout.setup import interval_count  # (the engine's modules load only when a run starts)

    return interval_count(scenario)


def _size_key(scenario) -> tuple:
    if scenario.fleet.sizes is not None:
        return ("fleet", "sizes")
    return ("fleet", "growth") if scenario.fleet.growth is not None else ("fleet", "hosts")


def _workers(workers: int) -> str:
    return "1 process" if workers <= 1 else f"{workers} workers"


def _amount(resource: str, amount: float) -> str:
    if resource == "time":
        return f"{amount / 3600:,.1f} h" if amount >= 3600 else f"{amount / 60:.0f} min"
    return f"{amount / 1e9:,.1f} GB" if amount >= 1e9 else f"{amount / 1e6:,.0f} MB"


def _limit(resource: str, limit: float) -> str:
    if resource == "time":
        return f"more than the {limit / 3600:g} h a run may take"
    return f"this machine has {_amount(resource, limit)} {'available' if resource == 'memory' else 'free there'}"


def _problem(loaded, path: tuple, message: str) -> Problem:
    """Located at the key that drives the estimate when the scenario sets it (else at the scenario), or at
    the command-line option (`--releases`) that does."""
    if path and str(path[0]).startswith("--"):
        return Problem(str(path[0]), None, None, "", message)
    source = getattr(loaded, "source", "deploysim")
    data, origins = getattr(loaded, "data", None), getattr(loaded, "origins", {}) or {}
    if data is not None and (_present(data, path) or any(path[:n] in origins for n in range(1, len(path) + 1))):
        file, line, column = where(data, source, origins, path)
        if file.startswith("--set"):
            return Problem(file, None, None, "", message)
        return Problem(file, line, column, render_path(path), message)
    return Problem(source, None, None, render_path(path), message)


def _present(data, path: tuple) -> bool:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True
