"""The bench's progress: `run_bench` reports each phase done once, in order, and `phases` counts them
(the bar's total). The fleet and deploys are stood in for here, since only the orchestration is under
test; tests/bench/harness and tests/bench/deploy run the real ones."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import pytest

from bench import run
from bench.config import BenchConfig


@pytest.fixture
def orchestration_only(monkeypatch):
    @contextlib.contextmanager
    def fleet(cfg):
        yield SimpleNamespace(run_id="t", net=SimpleNamespace(isolated=True), fallback="", host_limits={})

    monkeypatch.setattr(run, "fleet", fleet)
    monkeypatch.setattr(run, "new_build", lambda f, name, seed=None: name)
    monkeypatch.setattr(run, "deploy_pull", lambda f, build, name: f"pull {name}")
    monkeypatch.setattr(run, "deploy_push", lambda f, build, **kw: f"push {kw['name']}")
    monkeypatch.setattr(run.rollout, "staged_rollout", lambda f, build, steps: [f"step {s}" for s in steps])
    monkeypatch.setattr(run.rollout, "rollback", lambda f, baseline: "rollback")


@pytest.mark.parametrize("steps, rollback", [(None, False), ([10, 100], False), (None, True), ([50, 100], True)])
def test_every_phase_is_reported_once_in_order_and_counted(orchestration_only, steps, rollback):
    cfg = BenchConfig()
    seen = []
    result = run.run_bench(cfg, steps=steps, with_rollback=rollback, done=seen.append)
    names = [s.name for s in cfg.strategies]
    assert seen == ["fleet up", *(["baseline"] if rollback else []), *names,
                    *(["staged rollout"] if steps else []), *(["rollback"] if rollback else [])]
    assert len(seen) == run.phases(cfg, steps, rollback)
    assert len(result.records) == len(names) + len(steps or ()) + rollback
