"""Pydantic field types for quantities with units, shared by every scenario model.

Each type reads the written form (`90s`, `1.5GB`, `10Gbps`, `25%`) through `sim.units`, stores a
plain float in SI units, and describes itself in the JSON Schema so editors can check scenario files.
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
Duration = Annotated[
    float,
    BeforeValidator(_reader(units.parse_duration)),
    _schema(_NUM + r"(s|sec|ms|us|µs|ns|m|min|h|d|w)?\s*$", units.DURATION_HELP),
]
Size = Annotated[
    float,
    BeforeValidator(_reader(units.parse_size)),
    _schema(_NUM + r"(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$", units.SIZE_HELP),
]
Rate = Annotated[
    float,
    BeforeValidator(_reader(units.parse_rate)),
    WithJsonSchema(
        {"type": "string", "pattern": _NUM + r"([kKMGT]?bps|[kKMG]?B/s|[KMG]iB/s)\s*$", "description": units.RATE_HELP}
    ),
]
Share = Annotated[
    float,
    BeforeValidator(_reader(units.parse_share)),
    _schema(_NUM + r"%?\s*$", units.SHARE_HELP),
]

PositiveDuration = Annotated[Duration, Field(gt=0)]
NonNegativeDuration = Annotated[Duration, Field(ge=0)]
PositiveRate = Annotated[Rate, Field(gt=0)]
PositiveSize = Annotated[Size, Field(gt=0)]
