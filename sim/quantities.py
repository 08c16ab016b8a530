"""Pydantic field types for quantities with units, shared by every scenario model.

Each type reads the written form (`90s`, `1h30m`, `1.5GB`, `10Gbps`, `25%`) through `sim.units`, stores a
plain float in SI units (a `Percent` stays in percent), and describes itself in the JSON Schema so
editors can check scenario files.
"""

from __future__ import annotations

from typing import Annotated, Any, Callable

from pydantic import BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from sim import units


def _reader(parse: Callable[[object], float]) -> Callable[[Any], float]:
    def read(value: Any) -> float:
        try:
            return parse(value)
        except units.UnitError as error:
            raise PydanticCustomError("unit", error.reason, {"allowed": error.allowed}) from None

    return read


def _schema(pattern: str, description: str) -> WithJsonSchema:
    return WithJsonSchema(
        {"anyOf": [{"type": "string", "pattern": pattern}, {"type": "number"}], "description": description}
    )


_NUM = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*"
_UNSIGNED = r"(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
DURATION_PATTERN = (rf"^\s*[+-]?({_UNSIGNED}\s*|({_UNSIGNED}\s*(w|d|h|min|m|sec|s|ms|us|µs|ns)\s*)+)$")
"""A bare number, or parts with units (`1h30m`); `sim.units` also checks their order."""
Duration = Annotated[
    float,
    BeforeValidator(_reader(units.parse_duration)),
    _schema(DURATION_PATTERN, units.DURATION_HELP),
]
Size = Annotated[
    float,
    BeforeValidator(_reader(units.parse_size)),
    _schema(_NUM + r"(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$", units.SIZE_HELP),
]
RATE_SCHEMA = {"type": "string", "pattern": _NUM + r"([kKMGT]?bps|[kKMG]?B/s|[KMG]iB/s)\s*$",
               "description": units.RATE_HELP}
Rate = Annotated[
    float,
    BeforeValidator(_reader(units.parse_rate)),
    WithJsonSchema(RATE_SCHEMA),
]
Share = Annotated[
    float,
    BeforeValidator(_reader(units.parse_share)),
    _schema(_NUM + r"%?\s*$", units.SHARE_HELP),
]

Percent = Annotated[
    float,
    BeforeValidator(_reader(units.parse_percent)),
    _schema(_NUM + r"%?\s*$", units.PERCENT_HELP),
]
"""A percent in [0, 100]: `10%` or `10` (the field's unit is percent, so `0.1` is 0.1%)."""

PositiveDuration = Annotated[Duration, Field(gt=0)]
NonNegativeDuration = Annotated[Duration, Field(ge=0)]
PositiveRate = Annotated[Rate, Field(gt=0)]


def _listed(value: Any) -> Any:
    return value if isinstance(value, list) else [value]


PositiveRates = Annotated[
    list[PositiveRate],
    BeforeValidator(_listed),
    Field(min_length=1, max_length=1000),
    WithJsonSchema({"anyOf": [RATE_SCHEMA, {"type": "array", "items": RATE_SCHEMA, "minItems": 1, "maxItems": 1000}],
                    "description": "one rate, or a list of rates"}),
]
"""One rate for every item (`10Gbps`, kept as a list of one) or a list with a rate per item."""
PositiveSize = Annotated[Size, Field(gt=0)]
