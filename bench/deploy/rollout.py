"""Percentage rollouts and rollbacks through the release key, measured on the real fleet.

A staged rollout writes the same build with a rising percentage; each step waits for the hosts that
step newly selects (bucket under the new percentage, not under the previous one) and yields one
record per step. A rollback is a pull deploy of the previous build: the record shows how long the
fleet takes to converge back.
"""

from __future__ import annotations

from bench.deploy import agent
from bench.deploy.pull import deploy_pull, fanout, pull_row, wait_pull, write_release
from bench.deploy.records import to_record
from bench.harness.artifact import Build
from bench.harness.fleet import Fleet
from sim.api import DeployRecord


def staged_rollout(f: Fleet, build: Build, steps: list[float], name: str = "rollout",
                   timeout: float | None = None) -> list[DeployRecord]:
    """One record per step; rows of hosts outside the step say so in `reason`."""
    records, previous = [], 0.0
    names = [m.name for m in f.hosts]
    for pct in steps:
        new = [h for h in names if agent.selected(h, pct) and not agent.selected(h, previous)]
        t0, t_commit, index = write_release(f, build, pct)
        statuses = wait_pull(f, index, new, timeout or f.config.timeout)
        rows = [pull_row(m, statuses.get(m.name), t0, m.name in new) for m in f.hosts]
        extra = {"percent": pct, "previous_percent": previous, "build": build.build_id, "step_hosts": len(new),
                 **fanout({h: s for h, s in statuses.items() if h in new}, t0)}
        records.append(to_record(f"{name}@{pct:g}%", "pull", rows, t_commit - t0, extra))
        previous = pct
    return records


def rollback(f: Fleet, previous: Build, name: str = "rollback", timeout: float | None = None) -> DeployRecord:
    """Write the previous build as the release; the record is the fleet converging back to it."""
    return deploy_pull(f, previous, name=name, timeout=timeout)


def parse_steps(text: str) -> list[float]:
    """`10,25,50,100` -> [10.0, 25.0, 50.0, 100.0]; rising, each in (0, 100]."""
    steps = [float(part) for part in text.split(",") if part.strip()]
    if not steps or any(not 0 < s <= 100 for s in steps) or steps != sorted(set(steps)):
        raise ValueError(f"steps must rise within (0, 100], e.g. 10,25,50,100 (got {text!r})")
    return steps
