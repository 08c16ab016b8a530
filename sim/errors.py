"""The one exception root for user mistakes, and the shape of a located error message.

The CLI catches `UserError` once, prints its lines and exits with its code; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can.

    Rendered as `file:line:col: key.path: message (got X; allowed Y)`.
    """

    source: str
    line: int | None
    column: int | None
    path: str
    message: str
    got: str | None = None
    allowed: str | None = None

    def render(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        details = []
        if self.got is not None:
            details.append(f"got {shorten(self.got)}")
        if self.allowed is not None:
            details.append(f"allowed {self.allowed}")
        if details:
            text += f" ({'; '.join(details)})"
        return text


SHOWN = 200  # characters of an offending value a message echoes


def shorten(text: str) -> str:
    """`text`, or its start and its length when it is too long to echo whole (a 200 KB value, say)."""
    return text if len(text) <= SHOWN else f"{text[:SHOWN]}... ({len(text):,} characters in all)"


class UserError(Exception):
    """A mistake in what the user gave us: report it on one line per problem, exit non-zero."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem(source="deploysim", line=None, column=None, path="", message=problems)]
        self.problems = list(problems)
        super().__init__("\n".join(p.render() for p in self.problems))


class ScenarioError(UserError):
    """A scenario file (or a --set override) that does not describe a valid scenario."""
