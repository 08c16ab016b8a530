"""What was changed on purpose: the settings whose values differ between the two effective scenarios.

The manifests' `effective_scenario` (every default filled in, units in seconds, bytes and bytes per
second) are flattened to dotted keys (`network.deploy_egress`, `rollout.steps[1].pause`); a list of plain
values is one setting (`fleet.sizes`). A key one scenario lacks shows as None on that side.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Change:
    key: str
    a: object
    b: object


def changed(a: dict, b: dict) -> list[Change]:
    """Every setting whose value differs, in the order of A's scenario, then keys only B has."""
    flat_a, flat_b = flatten(a), flatten(b)
    keys = list(dict.fromkeys([*flat_a, *flat_b]))
    return [Change(key, flat_a.get(key), flat_b.get(key)) for key in keys if flat_a.get(key) != flat_b.get(key)]


def flatten(value, prefix: str = "") -> dict[str, object]:
    """{'network': {'per_flow': 5}} -> {'network.per_flow': 5}; lists of mappings by index."""
    if isinstance(value, dict):
        if not value:
            return {prefix: {}} if prefix else {}
        out: dict[str, object] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{index}]"))
        return out
    return {prefix: value}
