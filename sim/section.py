"""The base of every scenario section model: frozen, no unknown keys, and each field's docstring as its
description (the scenario reference and the JSON Schema are generated from them)."""

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)
