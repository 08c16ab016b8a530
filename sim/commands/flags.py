"""Command-line flags checked before they become scenario overrides, so a problem names the flag as
typed (for `deploysim` and its plugins, e.g. `deploysim bench`); `--out` is checked with them."""

from __future__ import annotations

from sim.errors import Problem, UserError
from sim.results.output import preflight


def bad_flags(lowest: dict[str, tuple[int | None, int]], choices: dict[str, tuple[object, tuple]]) -> list[Problem]:
    """A problem per flag below its lowest value (`{"--workers": (workers, 1)}`; None: not given) or not one
    of its choices (`{"--format": (format_, FORMATS)}`), each naming the flag as typed."""
    problems = [_flag(name, f"must be >= {low}", str(value), f">= {low}")
                for name, (value, low) in lowest.items() if value is not None and value < low]
    problems += [_flag(name, "not one of the choices", repr(value), ", ".join(map(str, allowed)))
                 for name, (value, allowed) in choices.items() if value not in allowed]
    return problems


def _flag(name: str, message: str, got: str, allowed: str) -> Problem:
    return Problem(source=name, line=None, column=None, path="", message=message, got=got, allowed=allowed)


def check_options(problems: list[Problem], out: object, overwrite: bool) -> None:
    """Raise every flag problem and the --out problem (`sim.results.output.preflight`) at once, if any."""
    if out is not None:
        try:
            preflight(out, overwrite)
        except UserError as error:
            problems = problems + error.problems
    if problems:
        raise UserError(problems)
