"""The progress bar that long commands draw on stderr (transient: it disappears when done)."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


@contextlib.contextmanager
def progress_bar(err: Console | None, label: str, total: int | None,
                 step: Callable[[object], int] = lambda result: 1) -> Iterator[Callable[[object], None]]:
    """Yield a callback that advances the bar by `step(result)` (one per result by default); without a
    console it does nothing."""
    if err is None:
        yield lambda _: None
        return
    columns = [TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda result: bar.advance(task, step(result))
