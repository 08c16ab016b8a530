"""The build artifact needs no root: same seed, same bytes."""

from pathlib import Path

from bench.harness.artifact import make_build, tree_digest


def test_same_seed_same_artifact(tmp_path: Path) -> None:
    a = make_build(tmp_path / "a", "b1", 10_000, 7, seed=3)
    b = make_build(tmp_path / "b", "b1", 10_000, 7, seed=3)
    c = make_build(tmp_path / "c", "b1", 10_000, 7, seed=4)
    assert a.sha256 == b.sha256 != c.sha256
    assert tree_digest(a.tree) == tree_digest(b.tree)
    assert sum(p.stat().st_size for p in a.tree.rglob("*") if p.is_file()) == 10_000
