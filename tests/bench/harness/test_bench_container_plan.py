"""When fleet hosts are runc containers, and what a run says when they are not (no root needed)."""

from types import SimpleNamespace

import pytest

from bench.config import BenchConfig
from bench.harness import containers, fleet


def plan(monkeypatch, why: str, isolated: bool = True, **cfg) -> str:
    monkeypatch.setattr(containers, "unavailable", lambda: why)
    return fleet.container_plan(BenchConfig(**cfg), SimpleNamespace(isolated=isolated))


def test_containers_when_root_and_runc_allow(monkeypatch) -> None:
    assert plan(monkeypatch, "") == ""
    assert plan(monkeypatch, "", containers=True) == ""


def test_fallback_to_namespaces_says_why(monkeypatch) -> None:
    assert plan(monkeypatch, "runc not found") == "runc not found"
    assert plan(monkeypatch, "", isolated=False) == "no network namespaces (loopback fallback)"
    assert plan(monkeypatch, "", containers=False) == "not asked for (containers: false)"
    note = fleet.fallback_note("not root", BenchConfig(host_cpu=0.5))
    assert note.startswith("no host containers (not root): hosts share the machine's files, process table and CPU")
    assert note.endswith("bench.host_cpu not applied")
    assert "not applied" not in fleet.fallback_note("not root", BenchConfig())


def test_containers_asked_for_but_impossible_is_an_error(monkeypatch) -> None:
    with pytest.raises(RuntimeError, match="host containers asked for, but runc not found"):
        plan(monkeypatch, "runc not found", containers=True)
