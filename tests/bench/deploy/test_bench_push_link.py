"""The daemon push's local `current` symlink: made once, pointing at the build, safe to ask for again."""

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.deploy.push import current_link


def test_current_link_points_at_the_release_and_is_made_once(tmp_path: Path) -> None:
    link = current_link(tmp_path, "b7")
    assert link.is_symlink() and os.readlink(link) == "releases/b7"
    assert current_link(tmp_path, "b7") == link


def test_current_link_asked_for_by_many_threads_after_it_exists_never_fails(tmp_path: Path) -> None:
    current_link(tmp_path, "b8")
    with ThreadPoolExecutor(max_workers=8) as pool:
        links = set(pool.map(lambda _: current_link(tmp_path, "b8"), range(64)))
    assert links == {tmp_path / "link-b8" / "current"}
