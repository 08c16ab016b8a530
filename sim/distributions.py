"""Named distributions of per-host durations: how a scenario says "this takes about X".

A distribution is written in a scenario as a plain duration (constant) or a mapping with `dist`:

    connect: 1.1s                                           # constant
    connect: {dist: uniform, low: 1s, high: 2s}
    wakeup:  {dist: lognormal, median: 50ms, p95: 200ms}    # fitted so those two quantiles hold
    wakeup:  {dist: empirical, file: wake.csv, column: seconds}  # resampled with replacement

`sample(spec, rng, n)` draws `n` values in seconds from a numpy Generator; nothing else draws.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import os
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from sim import limits
from sim.errors import UserError
from sim.quantities import NonNegativeDuration, PositiveDuration

Z95 = 1.6448536269514722  # standard normal quantile at 0.95


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Constant(_Spec):
    """Always the same value."""

    dist: Literal["constant"] = "constant"
    value: NonNegativeDuration


class Uniform(_Spec):
    """Uniform between `low` and `high`."""

    dist: Literal["uniform"]
    low: NonNegativeDuration
    high: NonNegativeDuration

    @model_validator(mode="after")
    def _ordered(self) -> "Uniform":
        if self.high < self.low:
            raise ValueError(f"high must be >= low (got low={self.low}s, high={self.high}s)")
        return self


class LogNormal(_Spec):
    """Log-normal with the given median and 95th percentile (p95 >= median)."""

    dist: Literal["lognormal"]
    median: PositiveDuration
    p95: PositiveDuration

    @model_validator(mode="after")
    def _ordered(self) -> "LogNormal":
        if self.p95 < self.median:
            raise ValueError(f"p95 must be >= median (got median={self.median}s, p95={self.p95}s)")
        return self

    @functools.cached_property
    def sigma(self) -> float:
        return (math.log(self.p95) - math.log(self.median)) / Z95


class Empirical(_Spec):
    """Values resampled with replacement from a CSV column (path relative to the scenario file)."""

    dist: Literal["empirical"]
    file: str
    column: str
    unit: Literal["s", "ms", "us"] = "s"

    @field_validator("file")
    @classmethod
    def _from_scenario_folder(cls, file: str, info: ValidationInfo) -> str:
        """The file's path, relative to the scenario file's folder unless absolute."""
        return str((Path(file) if Path(file).is_absolute() else scenario_folder(info) / file).resolve())

    @model_validator(mode="after")
    def _readable(self) -> "Empirical":
        load_column(self.file, self.column)  # raises ValueError naming the problem
        return self


def scenario_folder(info: ValidationInfo) -> Path:
    """The folder that relative file names in a scenario are read from (the loader passes the scenario
    file's folder as validation context; the working directory otherwise)."""
    return Path((info.context or {}).get("base_dir", "."))


def _constant_shorthand(value: Any) -> Any:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return {"dist": "constant", "value": value}
    return value


class _OrPlainDuration:
    """In the JSON Schema, a distribution may also be a plain duration (the constant shorthand)."""

    def __get_pydantic_json_schema__(self, core_schema, handler):
        return {"anyOf": [{"type": ["string", "number"], "description": "a constant duration, e.g. 90s"},
                          handler(core_schema)]}


Distribution = Annotated[
    Union[Constant, Uniform, LogNormal, Empirical],
    BeforeValidator(_constant_shorthand),
    Field(discriminator="dist"),
    _OrPlainDuration(),
]


def load_column(path: str, column: str) -> np.ndarray:
    """The non-empty values of one CSV column as floats (read-only), read once per process while the file
    is unchanged (validation and every draw read it); ValueError says what is wrong and where."""
    try:
        stat = os.stat(path)
    except OSError:
        return _read_column(path, column)  # raises ValueError, saying what is wrong with the path
    return _unchanged_column(path, column, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _unchanged_column(path: str, column: str, size: int, mtime_ns: int) -> np.ndarray:
    return _read_column(path, column)


def _read_column(path: str, column: str) -> np.ndarray:
    try:
        raw = limits.read_bounded(path, limits.METRICS)
    except UserError as error:  # too large or unreadable: said as the value's problem, located at its key
        raise ValueError("; ".join(f"{path}: {p.message}" for p in error.problems)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or column not in reader.fieldnames:
        raise ValueError(f"{path}: no column {column!r} (columns: {reader.fieldnames})")
    values = []
    for row in reader:
        cell = (row[column] or "").strip()
        if not cell:
            continue
        try:
            values.append(float(cell))
        except ValueError:
            raise ValueError(f"{path}:{reader.line_num}: {column}: not a number (got {cell!r})") from None
    if not values:
        raise ValueError(f"{path}: column {column!r} has no values")
    array = np.asarray(values, dtype=float)
    if (array < 0).any() or not np.isfinite(array).all():
        raise ValueError(f"{path}: column {column!r} must hold finite values >= 0")
    array.flags.writeable = False  # shared by every reader
    return array


_SCALE = {"s": 1.0, "ms": 1e-3, "us": 1e-6}


def sample(spec: Constant | Uniform | LogNormal | Empirical, rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` draws in seconds. Drawing n then m values gives the same first n as drawing n+m at once."""
    if isinstance(spec, Constant):
        return np.full(n, spec.value)
    if isinstance(spec, Uniform):
        return rng.uniform(spec.low, spec.high, size=n)
    if isinstance(spec, LogNormal):
        return spec.median * np.exp(spec.sigma * rng.standard_normal(n))
    values = load_column(spec.file, spec.column) * _SCALE[spec.unit]
    return values[rng.integers(0, len(values), size=n)]


def sample_named(spec: Constant | Uniform | LogNormal | Empirical, streams, name: str, n: int) -> np.ndarray:
    """`sample` from the named stream `streams(name)`, which a constant does not need (nor create)."""
    if isinstance(spec, Constant):
        return np.full(n, spec.value)
    return sample(spec, streams(name), n)


def median_of(spec: Constant | Uniform | LogNormal | Empirical) -> float:
    """The distribution's median in seconds (for reports and closed-form checks)."""
    if isinstance(spec, Constant):
        return spec.value
    if isinstance(spec, Uniform):
        return (spec.low + spec.high) / 2
    if isinstance(spec, LogNormal):
        return spec.median
    return float(np.median(load_column(spec.file, spec.column) * _SCALE[spec.unit]))


def quantile_of(spec: Constant | Uniform | LogNormal | Empirical, q: float) -> float:
    """The distribution's `q`-quantile in seconds (0 < q < 1; for closed-form lower bounds)."""
    if isinstance(spec, Constant):
        return spec.value
    if isinstance(spec, Uniform):
        return spec.low + q * (spec.high - spec.low)
    if isinstance(spec, LogNormal):
        from statistics import NormalDist

        return spec.median * math.exp(spec.sigma * NormalDist().inv_cdf(q))
    return float(np.quantile(load_column(spec.file, spec.column) * _SCALE[spec.unit], q))


def mean_of(spec: Constant | Uniform | LogNormal | Empirical) -> float:
    """The distribution's mean in seconds (for closed-form bounds on sums of many draws)."""
    if isinstance(spec, Constant):
        return spec.value
    if isinstance(spec, Uniform):
        return (spec.low + spec.high) / 2
    if isinstance(spec, LogNormal):
        return spec.median * math.exp(spec.sigma**2 / 2)
    return float(np.mean(load_column(spec.file, spec.column) * _SCALE[spec.unit]))


def variance_of(spec: Constant | Uniform | LogNormal | Empirical) -> float:
    """The distribution's variance in seconds squared."""
    if isinstance(spec, Constant):
        return 0.0
    if isinstance(spec, Uniform):
        return (spec.high - spec.low) ** 2 / 12
    if isinstance(spec, LogNormal):
        return mean_of(spec) ** 2 * math.expm1(spec.sigma**2)
    return float(np.var(load_column(spec.file, spec.column) * _SCALE[spec.unit]))
