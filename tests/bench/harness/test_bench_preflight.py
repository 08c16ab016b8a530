"""Preflight checks run with or without root, and every failed one says how to fix it."""

from bench.harness import preflight


def test_preflight_findings_give_advice() -> None:
    for f in preflight.run_checks():
        assert f.ok or f.advice, f"{f.name} failed without advice"
