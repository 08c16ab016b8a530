"""Experiments: every (replication, fleet size, strategy) of a scenario, mapped over an executor.

Each job carries the run's entropy and its replication number, so its draws do not depend on which
worker runs it, how many workers there are, or in what order they finish; results come back in job
order. The default executor is a local process pool; `workers=1` runs in this process. An interrupt or
an error ends the pool's workers at once (they ignore Ctrl-C themselves, so the command decides), and
a Dask map cancels what it has not returned.
"""

from __future__ import annotations

import os
import signal
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from sim.deploy.engine import Job, simulate
from sim.deploy.wave import run_wave
from sim.errors import UserError
from sim.results.records import DeployRecord, DeploySummary
from sim.spec.scenario import Scenario


@dataclass(frozen=True)
class JobResult:
    job: Job
    summary: DeploySummary
    record: DeployRecord | None  # kept only when the output asks for host rows


def plan_jobs(scenario: Scenario, entropy: int) -> list[Job]:
    return [
        Job(strategy=name, fleet_size=size, replication=r, entropy=entropy)
        for r in range(scenario.replications)
        for size in scenario.fleet_sizes()
        for name in scenario.strategies
    ]


def _keeps_hosts(scenario: Scenario, job: Job) -> bool:
    rows = scenario.output.host_rows
    return rows == "all" or (rows == "first" and job.replication == 0)


_WORKER: tuple | None = None  # (function, shared) set once per worker process


def _init_worker(function: Callable, shared: object) -> None:
    global _WORKER
    _WORKER = (function, shared)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, inherited by fork


def _run_in_worker(item):
    function, shared = _WORKER
    return function(shared, item)


def run_job(scenario: Scenario, job: Job) -> JobResult:
    record = simulate(scenario, job)
    return JobResult(job=job, summary=record.summary(), record=record if _keeps_hosts(scenario, job) else None)


def run_indexed_job(scenarios: tuple, item: tuple[int, Job]) -> tuple[int, JobResult]:
    """One deploy of the `index`-th of several scenarios mapped together (sweep points, deploy and
    rollback): `item` is (index, job); a module-level function, so workers and Dask can pickle it."""
    index, job = item
    return index, run_job(scenarios[index], job)


def run_jobs_of(scenarios: tuple, jobs: list[tuple[int, Job]], workers: int,
                progress: Callable = lambda result: None, executor: Executor | None = None) -> list[list[JobResult]]:
    """The results of every (scenario index, job), through one pool, grouped per scenario in job order."""
    grouped: list[list[JobResult]] = [[] for _ in scenarios]
    for index, result in map_ordered(run_indexed_job, scenarios, jobs, workers, progress, executor):
        grouped[index].append(result)
    return grouped


def warm_up() -> None:
    """Compile the wave kernel once in this process, so forked workers inherit it."""
    one = np.zeros(1)
    run_wave(0.0, 1, one, one, np.zeros(1, np.int64), 0.0, np.zeros(0), 1.0, 1.0, 1.0, np.zeros(0, np.int64))


def default_workers(jobs: int) -> int:
    return max(1, min(os.cpu_count() or 1, jobs))


def map_ordered(function: Callable, shared: object, items: list, workers: int,
                progress: Callable = lambda result: None, executor: Executor | None = None,
                chunksize: int | None = None) -> Iterator:
    """Yield function(shared, item) for each item, in item order, whatever runs them.

    `shared` is what every item needs (a scenario, or a release setup): a local pool sends it to each
    worker once. `function` must be a module-level function (picklable); each item carries its own seeds. Items
    go to the local pool `chunksize` at a time (default: about 8 chunks per worker; give 1 when each
    item is already a sizeable batch, so no worker idles at the end)."""
    warm_up()
    if executor is None and workers <= 1:
        for item in items:
            result = function(shared, item)
            progress(result)
            yield result
        return
    own = executor is None
    pool = executor or ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(function, shared))
    mapper = iter(())
    try:
        chunk = chunksize or max(1, len(items) // (workers * 8))
        mapper = (pool.map(_run_in_worker, items, chunksize=chunk) if own
                  else pool.map(function, [shared] * len(items), items))
        for result in mapper:
            progress(result)
            yield result
    except BaseException:
        if own:
            assert isinstance(pool, ProcessPoolExecutor)  # own: the local pool made above
            _stop_workers(pool)
        raise
    finally:
        if hasattr(mapper, "close"):
            mapper.close()  # a Dask map cancels the items it has not returned
        if own:
            pool.shutdown(wait=True, cancel_futures=True)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End a local pool's workers now (running items abandoned, queued ones dropped), then its threads.

    Terminate first and shut down after: the pool sees its workers gone and fails what is left, which on
    Python 3.11 races neither a cancel of our own nor its exit hook (both print tracebacks)."""
    for process in list((pool._processes or {}).values()):  # no public way before Python 3.14
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def make_executor(kind: str, scheduler: str | None):
    """None for the local process pool (the default), or a concurrent.futures executor on a Dask cluster."""
    if kind == "local":
        return None
    if kind != "dask":
        raise UserError(f"--executor: unknown executor (got {kind!r}; allowed local, dask)")
    if not scheduler:
        raise UserError("--executor dask needs --scheduler tcp://HOST:PORT (the address of an existing Dask scheduler)")
    from distributed import Client

    try:
        client = Client(scheduler, timeout="10s")
    except OSError as error:
        raise UserError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({error})") from None
    return client.get_executor()


def close_executor(executor) -> None:
    """Let go of an executor from `make_executor`: cancel what it still runs for us, close its Dask client."""
    if executor is None:
        return
    executor.shutdown(wait=False)
    client = getattr(executor, "_client", None)
    if client is not None:
        client.close()


def run_jobs(scenario: Scenario, jobs: list[Job], workers: int, progress: Callable = lambda result: None,
             executor: Executor | None = None) -> Iterator[JobResult]:
    """Yield each deploy job's result in job order."""
    return map_ordered(run_job, scenario, jobs, workers, progress, executor)
