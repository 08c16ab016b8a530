"""The scenario format's user documentation, generated from the models so it cannot drift.

`json_schema()` is what editors use (docs/scenario.schema.json); `markdown_reference()` is the page
users read (docs/scenario-reference.md). A test regenerates both and compares them with the files.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from sim.distributions import Constant, Empirical, LogNormal, Uniform
from sim.spec.scenario import Scenario

UNIT_NOTES = {
    "Duration": "duration (`250ms`, `90s`, `5m`, `1h30m`, `2d`; bare number = seconds)",
    "Size": "size (`500MB`, `1.5GB`, `2GiB`; bare number = bytes)",
    "Rate": "rate (`1Gbps`, `10Gbps`, `125MB/s`)",
    "Share": "share (`25%`, `0.2%` or a fraction)",
    "Percent": "percent (`10%` or `10`; bare number = percent)",
}


Child = tuple[str, type[BaseModel]]
"""A nested model's section: its title and its model."""


def json_schema() -> dict:
    schema = Scenario.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["properties"]["include"] = {
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
        "description": "Scenario files merged under this one (this file wins), paths relative to it.",
    }
    schema["title"] = "deploysim scenario (version 1)"
    return schema


def markdown_reference() -> str:
    lines = [
        "# Scenario file reference",
        "",
        "Generated from the models in `sim/` by `deploysim schema --markdown`; do not edit by hand.",
        "A JSON Schema for editors is in `docs/scenario.schema.json` (`deploysim schema`).",
        "",
        "Units are written out: durations `250ms`, `90s`, `5m`, `1h30m` (largest unit first); sizes `1.5GB`,",
        "`2GiB`; rates `10Gbps`, `125MB/s`; shares `25%` or `0.25`; percents (`set_weight`) `10%` or `10`.",
        "Unknown keys are errors. Per-host durations marked",
        "*distribution* take a plain duration (constant) or a mapping with `dist:` (see the end).",
        "",
    ]
    seen: set = set()
    _section(Scenario, "(top level)", lines, seen)
    lines += ["## Distributions", ""]
    for model in (Constant, Uniform, LogNormal, Empirical):
        _section(model, f"dist: {get_args(model.model_fields['dist'].annotation)[0]}", lines, seen)
    return "\n".join(lines).rstrip() + "\n"


def _section(model: type[BaseModel], title: str, lines: list[str], seen: set) -> None:
    if model in seen:
        return
    seen.add(model)
    doc = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
    lines += [f"### `{title}` ({model.__name__})", "", doc, "", "| key | type | default | meaning |", "|---|---|---|---|"]
    nested: list[Child] = []
    children: list[Child]
    for name, field in model.model_fields.items():
        unit = _unit_name((field.annotation, *field.metadata))
        if unit:
            kind, children = UNIT_NOTES[unit], []
        elif field.discriminator == "dist":
            kind, children = "distribution", []
        else:
            kind, children = _describe(field.annotation, field.metadata)
        nested += children
        default = _default(field, unit)
        meaning = " ".join((field.description or "").split()).replace("|", "/")
        lines.append(f"| `{name}` | {kind} | {default} | {meaning} |")
    lines.append("")
    for child_title, child in nested:
        _section(child, child_title, lines, seen)


def _default(field: Any, unit: str | None) -> str:
    if field.is_required():
        return "**required**"
    value = field.get_default(call_default_factory=True)
    if value is None or value is PydanticUndefined:
        return "none"
    if isinstance(value, dict):
        return "`" + ", ".join(value) + "`" if value else "`{}`"
    if isinstance(value, BaseModel):
        shown = value.model_dump(mode="json", exclude_defaults=False)
        return f"`{_short(value)}`" if "dist" in shown else "(defaults)"
    if unit:
        return f"`{UNIT_FORMAT[unit](value)}`"
    return f"`{value}`" if value != "" else '`""`'


def _short(dist: BaseModel) -> str:
    fields = dist.model_dump()
    return "{" + ", ".join(f"{k}: {_seconds(v) if isinstance(v, float) else v}" for k, v in fields.items()) + "}"


def _seconds(value: float) -> str:
    return f"{value * 1000:g}ms" if value < 1 else f"{value:g}s"


UNIT_FORMAT = {
    "Duration": _seconds,
    "Size": lambda v: f"{v / 1e9:g}GB",
    "Rate": lambda v: f"{v * 8 / 1e9:g}Gbps",
    "Share": lambda v: f"{v * 100:g}%",
    "Percent": lambda v: f"{v:g}%",
}


def _describe(annotation: Any, metadata: list) -> tuple[str, list[Child]]:
    origin = get_origin(annotation)
    if origin is Annotated:
        args = get_args(annotation)
        name = _unit_name(args)
        if name:
            return UNIT_NOTES[name], []
        if any(getattr(a, "discriminator", None) == "dist" for a in args[1:]):
            return "distribution", []
        return _describe(args[0], list(args[1:]))
    if origin is Union or origin is types.UnionType:
        parts = [a for a in get_args(annotation) if a is not type(None)]
        texts, groups = zip(*(_describe(p, []) for p in parts))
        return " or ".join(texts), [c for group in groups for c in group]
    if origin is Literal:
        return " / ".join(f"`{a}`" for a in get_args(annotation)), []
    if origin is dict:
        value_text, children = _describe(get_args(annotation)[1], [])
        return f"mapping of name to {value_text}", children
    if origin is list:
        item_text, children = _describe(get_args(annotation)[0], [])
        return f"list of {item_text}", children
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"mapping ({annotation.__name__})", [(annotation.__name__, annotation)]
    return getattr(annotation, "__name__", str(annotation)), []


def _unit_name(args: tuple) -> str | None:
    for meta in args[1:]:
        func = getattr(meta, "func", None)
        if func is not None and "_reader" in getattr(func, "__qualname__", ""):
            parse = func.__closure__[0].cell_contents.__name__ if func.__closure__ else ""
            return {"parse_duration": "Duration", "parse_size": "Size", "parse_rate": "Rate", "parse_share": "Share",
                    "parse_percent": "Percent"}.get(parse)
    inner = args[0]
    if get_origin(inner) is Annotated:
        return _unit_name(get_args(inner))
    return None
