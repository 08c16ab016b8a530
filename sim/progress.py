"""The progress bar that long commands draw on stderr (transient: it disappears when done)."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


@contextlib.contextmanager
def progress_bar(err: Console | None, label: str, total: int | None) -> Iterator[Callable[[object], None]]:
    """Yield a callback that advances the bar by one result; without a console it does nothing."""
    if err is None:
        yield lambda _: None
        return
    columns = [TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda _: bar.advance(task)
