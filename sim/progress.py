"""The progress bar that long commands draw on stderr when it is a terminal (transient: it disappears when
done, or when the command is interrupted, before the command says what it kept); none in logs and pipes."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


@contextlib.contextmanager
def progress_bar(err: Console | None, label: str, total: int | None,
                 step: Callable[[object], int] = lambda result: 1) -> Iterator[Callable[[object], None]]:
    """Yield a callback that advances the bar by `step(result)` (one per result by default); without a
    console, or on one that is not a terminal, it does nothing."""
    if err is None or not err.is_terminal:
        yield lambda _: None
        return
    columns = [TextColumn(label, markup=False), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda result: bar.advance(task, step(result))
