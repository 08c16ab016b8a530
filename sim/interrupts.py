"""Signals into exits: SIGINT and SIGTERM end a command with one line saying what was written, and exit
code 128 + the signal (130 for Ctrl-C, 143 for SIGTERM)."""

from __future__ import annotations

import contextlib
import signal
import sys
from typing import Iterator

import typer


class Interrupted(KeyboardInterrupt):
    """A signal asked the command to stop: it ends as Ctrl-C does, with exit code 128 + the signal."""

    def __init__(self, signum: int):
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


def raise_interrupted(signum, frame) -> None:
    raise Interrupted(signum)


def interrupt_exit_code(stop: KeyboardInterrupt) -> int:
    """130 for Ctrl-C (SIGINT), 143 for SIGTERM."""
    signum = getattr(stop, "signum", None)
    if signum is None:  # Ctrl-C, or bench.cleanup.Interrupted, which names its signal in its message only
        signum = signal.SIGTERM if "SIGTERM" in str(stop) else signal.SIGINT
    return 128 + signum


@contextlib.contextmanager
def interruptible(out: object = None, written: bool = False) -> Iterator[None]:
    """End the command if a signal stops the block: one line on stderr, then exit 130 (SIGINT) or 143.

    `out` is the results folder the command writes; `written`, that the block runs after writing it."""
    try:
        yield
    except KeyboardInterrupt as stop:
        kept = "nothing written" if out is None else (
            f"results written to {out}" if written else f"nothing written to {out}")
        print(f"interrupted; {kept}", file=sys.stderr)
        raise typer.Exit(interrupt_exit_code(stop)) from None
