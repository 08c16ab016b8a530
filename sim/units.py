"""Quantities written with their units in scenario files: durations, sizes, rates, shares.

Every parser returns a plain float in SI base units (seconds, bytes, bytes per second, fraction) or
raises `ValueError` with a message that says what is allowed. Bare numbers are accepted where the unit
is unambiguous (seconds, bytes, fractions), so `--set artifact.size=1500000000` works too.

Durations may be compound, largest unit first, each unit once, every part with its unit (the grammar,
with `number` as in `1`, `1.5`, `.5`, `2e3`)::

    duration  := sign? number                      (bare: seconds)
               | sign? part (space* part)*
    part      := number space* unit                (units: w d h m|min s|sec ms us|µs ns, in that order)

so `1h30m`, `1m30s`, `2d`, `1h 30m`, `1.5h` and `-90s` are read, and `1h30` (a part without its unit),
`h` (no number), `30m1h` (units out of order) and `1m1m` (a unit twice) are refused.

Shares are fractions in [0, 1] written as `25%` or `0.25`; percents (`set_weight`) are numbers in
[0, 100] written as `10%` or `10`: the field's own unit is percent, so a bare number is a percent and
`0.1` is 0.1%, never 10%.

>>> parse_duration("90s"), parse_duration("5m"), parse_duration("250ms"), parse_duration("1h30m")
(90.0, 300.0, 0.25, 5400.0)
>>> parse_size("1.5GB"), parse_size("2GiB")
(1500000000.0, 2147483648.0)
>>> parse_rate("10Gbps"), parse_rate("125MB/s")
(1250000000.0, 125000000.0)
>>> parse_share("25%"), parse_share(0.25)
(0.25, 0.25)
>>> parse_percent("10%"), parse_percent(10), parse_percent("0.1")
(10.0, 10.0, 0.1)
"""

from __future__ import annotations

import math
import re

_NUMBER = r"(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"
_PATTERN = re.compile(rf"^\s*{_NUMBER}\s*(?P<unit>[A-Za-z/%µ]*)\s*$")

DURATION_UNITS = {
    "": 1.0, "s": 1.0, "sec": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9,
    "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0,
}
SIZE_UNITS = {
    "": 1.0, "B": 1.0, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
    "KiB": 2.0**10, "MiB": 2.0**20, "GiB": 2.0**30, "TiB": 2.0**40,
}
RATE_UNITS = {
    "bps": 1 / 8, "kbps": 1e3 / 8, "Kbps": 1e3 / 8, "Mbps": 1e6 / 8, "Gbps": 1e9 / 8,
    "Tbps": 1e12 / 8, "B/s": 1.0, "kB/s": 1e3, "KB/s": 1e3, "MB/s": 1e6, "GB/s": 1e9,
    "KiB/s": 2.0**10, "MiB/s": 2.0**20, "GiB/s": 2.0**30,
}

DURATION_HELP = "a duration such as 250ms, 90s, 5m, 1h30m, 2d (bare numbers are seconds)"
SIZE_HELP = "a size such as 500MB, 1.5GB, 2GiB (bare numbers are bytes)"
RATE_HELP = "a rate such as 1Gbps, 10Gbps, 125MB/s"
SHARE_HELP = "a share such as 25%, 0.2% or a fraction 0.25 between 0 and 1"
PERCENT_HELP = "a percent such as 10%, 2.5% or a bare number of percent 10 between 0 and 100"


class UnitError(ValueError):
    """A quantity that could not be read: `reason` says why, `allowed` what would be accepted."""

    def __init__(self, reason: str, allowed: str):
        super().__init__(f"{reason}; expected {allowed}")
        self.reason = reason
        self.allowed = allowed


def _split(text: object, help_text: str) -> tuple[float, str]:
    if isinstance(text, bool) or not isinstance(text, (int, float, str)):
        raise UnitError(f"not a quantity: {text!r}", help_text)
    if isinstance(text, (int, float)):
        return float(text), ""
    match = _PATTERN.match(text)
    if not match:
        raise UnitError(f"cannot read {text!r}", help_text)
    return float(match["num"]), match["unit"]


def _scaled(text: object, units: dict[str, float], help_text: str, bare_ok: bool = True) -> float:
    number, unit = _split(text, help_text)
    if unit == "" and not bare_ok:
        raise UnitError("a unit is required", help_text)
    if unit not in units:
        raise UnitError(f"unknown unit {unit!r}", help_text)
    value = number * units[unit]
    if not math.isfinite(value):
        raise UnitError("not a finite value", help_text)
    return value


def parse_duration(text: object) -> float:
    """Seconds from `90s`, `5m`, `250ms`, `1h`, a compound `1h30m`, or a bare number of seconds."""
    if isinstance(text, str) and not _PATTERN.match(text):
        return _compound(text)
    return _scaled(text, DURATION_UNITS, DURATION_HELP)


_UNSIGNED = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_PART = re.compile(rf"\s*(?P<num>{_UNSIGNED})\s*(?P<unit>[A-Za-zµ]+)")
_ORDER = {"w": 0, "d": 1, "h": 2, "m": 3, "min": 3, "s": 4, "sec": 4, "ms": 5, "us": 6, "µs": 6, "ns": 7}


def _compound(text: str) -> float:
    """`1h30m`: parts of number and unit, largest unit first, each unit once; anything else is refused."""
    body = text.strip()
    sign = -1.0 if body[:1] == "-" else 1.0
    body = body[1:] if body[:1] in ("+", "-") else body
    position, last, total = 0, -1, 0.0
    while position < len(body):
        match = _PART.match(body, position)
        if not match:
            raise UnitError(_why(text, body[position:]), DURATION_HELP)
        unit = match["unit"]
        if unit not in _ORDER:
            raise UnitError(f"unknown unit {unit!r} in {text!r}", DURATION_HELP)
        if _ORDER[unit] <= last:
            raise UnitError(f"units out of order or repeated in {text!r} (largest first, each once)", DURATION_HELP)
        last, total, position = _ORDER[unit], total + float(match["num"]) * DURATION_UNITS[unit], match.end()
    if position == 0:  # nothing but a sign, or nothing at all
        raise UnitError(f"cannot read {text!r}", DURATION_HELP)
    if not math.isfinite(total):
        raise UnitError("not a finite value", DURATION_HELP)
    return sign * total


def _why(text: str, rest: str) -> str:
    if re.fullmatch(rf"\s*{_UNSIGNED}\s*", rest):
        return f"a unit is missing after {rest.strip()!r} in {text!r}"
    return f"cannot read {text!r}"


def parse_size(text: object) -> float:
    """Bytes from `1.5GB` (decimal), `2GiB` (binary) or a bare number of bytes."""
    return _scaled(text, SIZE_UNITS, SIZE_HELP)


def parse_rate(text: object) -> float:
    """Bytes per second from `10Gbps` (bits) or `125MB/s` (bytes); a unit is required."""
    return _scaled(text, RATE_UNITS, RATE_HELP, bare_ok=False)


def parse_share(text: object) -> float:
    """A fraction in [0, 1] from `25%` or `0.25`."""
    number, unit = _split(text, SHARE_HELP)
    if unit == "%":
        number /= 100.0
    elif unit:
        raise UnitError(f"unknown unit {unit!r}", SHARE_HELP)
    if not 0.0 <= number <= 1.0:
        raise UnitError("must be between 0% and 100%", SHARE_HELP)
    return number


def parse_percent(text: object) -> float:
    """A percent in [0, 100] from `10%` or a bare number of percent (`10`, `0.1` is 0.1%)."""
    number, unit = _split(text, PERCENT_HELP)
    if unit and unit != "%":
        raise UnitError(f"unknown unit {unit!r}", PERCENT_HELP)
    if not 0.0 <= number <= 100.0:
        raise UnitError("must be between 0% and 100%", PERCENT_HELP)
    return number


def format_duration(seconds: float) -> str:
    """A short human form: 0.25 -> '250ms', 95 -> '1m35s'."""
    if math.isnan(seconds):
        return "-"
    if round(seconds * 1000) < 1000:
        return f"{seconds * 1000:.0f}ms"
    if round(seconds, 1) < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)  # rounded first: 419.9 s is 7m00s, not 6m60s
    if minutes < 60:
        return f"{int(minutes)}m{int(secs):02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{int(hours)}h{int(minutes):02d}m"
