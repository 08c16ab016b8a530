"""Keys a scenario file no longer takes, each reported at the key itself with its new name.

    sweep: {hosts: [...]}      fleet sizes that `run` simulates: now `fleet.sizes` ("sweep" is the
                               `deploysim sweep` command's grid, `evaluation.sweep`)
"""

from __future__ import annotations

from sim.spec.references import BadReference

RENAMED: dict[str, tuple[str, str]] = {  # top-level key: (its new place, an example)
    "sweep": ("fleet.sizes", "fleet: {sizes: [10, 100, 1000]}"),
}


def renamed_keys(data: dict) -> list[BadReference]:
    """A problem for each top-level key of `data` that was renamed."""
    return [BadReference(path=(key,), got=key, message=f"renamed: write it as {new} (e.g. {example})",
                         allowed=(new,), at_key=True)
            for key, (new, example) in RENAMED.items() if key in data]


def without_renamed(data: dict) -> dict:
    """`data` without its renamed keys (reported by `renamed_keys`, not again as unknown keys)."""
    return {key: value for key, value in data.items() if key not in RENAMED}
