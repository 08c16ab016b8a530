"""Names that one section of a scenario uses and another defines: each use must name something defined.

    rollout.strategy                                  a key of `strategies:`
    evaluation.sweep.grid `rollout.strategy` values   a key of `strategies:`
    rollout.steps[i].analysis.gates[j]                a key of `gates:` (without `evaluation:`), or a gate
    rollout.steps[i].canary.gates[j]                    that every `evaluation.policies.P` defines (with it)
    rollout.background_gates[k]                         that every `evaluation.policies.P` defines (with it)
    evaluation.rollouts.P.steps[i]...gates[j]         a gate that policy P defines (its own steps)
    evaluation.rollouts.P                             a key of `evaluation.policies`
    rollout.steps[i].stage                            a tier with hosts (`fleet.tiers.staging`, `.dogfood`)
    evaluation.sweep.base                             a key of `evaluation.policies`
    evaluation.sweep.grid `gates.NAME.FIELD` keys     a gate NAME of the sweep's base policy

These are checked on the scenario's data as read (after includes and overrides), before and whatever the
models make of it, so every bad reference is found at once, next to ordinary field errors, and each is
reported at the reference itself with its key path, the bad name, a "did you mean" and the names allowed.
Data of the wrong shape (a list where a mapping belongs, a number where a name belongs) is skipped here:
the models report it. `located` lets a model validator report its problems at the keys they concern too.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Iterator

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError


@dataclass(frozen=True)
class BadReference:
    """A name used at `path` that names nothing defined; `at_key`: the problem is the key at `path`."""

    path: tuple
    got: str
    """What was found there, as shown in the message (a quoted name, or a policy's gate names)."""
    message: str
    allowed: tuple[str, ...]
    at_key: bool = False


def bad_references(data: dict, default_strategies: tuple[str, ...]) -> list[BadReference]:
    """Every reference in `data` (a scenario as plain dicts and lists) that names nothing defined."""
    strategies = _keys(data.get("strategies"), default_strategies)
    rollout = _mapping(data.get("rollout"))
    evaluation = _mapping(data.get("evaluation"))
    bad: list[BadReference] = []
    strategy = rollout.get("strategy")
    if isinstance(strategy, str) and strategies is not None and strategy not in strategies:
        bad.append(_unknown(("rollout", "strategy"), strategy, "strategy", strategies, "in strategies"))
    bad += _stages(rollout, _mapping(_mapping(data.get("fleet")).get("tiers")))
    uses = list(gate_uses(rollout))
    policies = _policies(evaluation)
    if "evaluation" in data and evaluation:
        own = _mapping(evaluation.get("rollouts"))
        if policies is not None:
            shared = {policy: names for policy, names in policies.items() if policy not in own}
            if shared or not policies:  # (every policy with its own steps: evaluate runs no `rollout.steps`)
                bad += _policy_gates(uses, shared, _keys(data.get("gates"), ()) or ())
            for policy, steps in own.items():
                if policy not in policies:
                    bad.append(_unknown(("evaluation", "rollouts", policy), str(policy), "policy", policies,
                                        "in evaluation.policies"))
                    continue
                own_uses = [(("evaluation", "rollouts", policy, *path[1:]), name)
                            for path, name in gate_uses(_mapping(steps))]
                bad += _policy_gates(own_uses, {policy: policies[policy]}, ())
    else:
        gates = _keys(data.get("gates"), ())
        if gates is not None:
            bad += [_unknown(path, name, "gate", gates, "in gates") for path, name in uses if name not in gates]
    bad += _sweep(_mapping(evaluation.get("sweep")), policies, strategies)
    return bad


def gate_uses(rollout: dict) -> Iterator[tuple[tuple, str]]:
    """(key path, gate name) of every gate the rollout names, in file order."""
    steps = rollout.get("steps")
    for i, step in enumerate(steps if isinstance(steps, list) else ()):
        for kind in ("analysis", "canary"):
            gates = _mapping(_mapping(step).get(kind)).get("gates")
            for j, name in enumerate(gates if isinstance(gates, list) else ()):
                if isinstance(name, str):
                    yield ("rollout", "steps", i, kind, "gates", j), name
    background = rollout.get("background_gates")
    for k, name in enumerate(background if isinstance(background, list) else ()):
        if isinstance(name, str):
            yield ("rollout", "background_gates", k), name


def line_error(bad: BadReference) -> InitErrorDetails:
    """`bad` as a pydantic line error (type `reference`), which `sim.load.locate` words and locates."""
    ctx = {"message": bad.message, "got": bad.got, "allowed": ", ".join(bad.allowed) or "none",
           "at": "key" if bad.at_key else "value"}
    return {"type": PydanticCustomError("reference", "{message}", ctx), "loc": bad.path, "input": bad.got}


def located(title: str, problems: list[tuple[tuple, Any, str]]) -> ValidationError:
    """A ValidationError with one `reference`-typed error per (key path, value, message), the paths
    relative to the model that raises it (pydantic prefixes the model's own place)."""
    return ValidationError.from_exception_data(title, [
        {"type": PydanticCustomError("reference", "{message}", {"message": message}), "loc": path, "input": value}
        for path, value, message in problems])


def did_you_mean(name: str, names) -> str:
    """`; did you mean 'x'?` for the closest of `names`, or nothing."""
    close = difflib.get_close_matches(name, list(names), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _unknown(path: tuple, name: str, what: str, names, where: str) -> BadReference:
    return BadReference(path, repr(name), f"{what} {name!r} is not defined {where}{did_you_mean(name, names)}",
                        tuple(names))


def _stages(rollout: dict, tiers: dict) -> list[BadReference]:
    """A `stage:` step needs hosts in its tier."""
    bad = []
    steps = rollout.get("steps")
    for i, step in enumerate(steps if isinstance(steps, list) else ()):
        stage = _mapping(step).get("stage")
        count = tiers.get(stage, 0) if stage in ("staging", "dogfood") else None
        if isinstance(count, int) and not isinstance(count, bool) and count == 0:
            staffed = tuple(t for t in ("staging", "dogfood") if isinstance(tiers.get(t), int) and tiers[t] > 0)
            bad.append(BadReference(("rollout", "steps", i, "stage"), repr(stage),
                                    f"fleet.tiers.{stage} is 0: this stage has no hosts (give the tier hosts, "
                                    f"or drop the step)", staffed))
    return bad


def _policy_gates(uses: list, policies: dict[str, tuple | None], gates: tuple) -> list[BadReference]:
    """With `evaluation:`, every policy must define every gate the rollout uses. A name no policy (and no
    `gates:` entry) defines is a typo at the use; a name some policies lack is a gap in those policies."""
    defining = {policy: names for policy, names in policies.items() if names is not None}
    defined = sorted({name for names in defining.values() for name in names} | set(gates))
    bad = [_unknown(path, name, "gate", defined, "in any of evaluation.policies (or gates)") for path, name in uses
           if name not in defined]
    used = list(dict.fromkeys(name for _, name in uses if name in defined))
    first = {name: path for path, name in reversed(uses)}
    for policy, names in defining.items():
        spare = [n for n in names if n not in used]
        for name in (n for n in used if n not in names):
            close = difflib.get_close_matches(name, spare, n=1, cutoff=0.75)
            if close:
                bad.append(BadReference(("evaluation", "policies", policy, close[0]), repr(close[0]),
                                        f"the rollout uses no gate of this name; did you mean {name!r}?",
                                        tuple(used), at_key=True))
                spare.remove(close[0])
            else:
                bad.append(BadReference(("evaluation", "policies", policy), ", ".join(names) or "no gates",
                                        f"defines no gate {name!r}, which the rollout uses at "
                                        f"{render_path(first[name])}", tuple(used), at_key=True))
    return bad


def _sweep(sweep: dict, policies: dict[str, tuple | None] | None, strategies: tuple | None) -> list[BadReference]:
    bad = []
    base = sweep.get("base")
    if isinstance(base, str) and policies is not None and base not in policies:
        bad.append(_unknown(("evaluation", "sweep", "base"), base, "policy", policies, "in evaluation.policies"))
    grid = _mapping(sweep.get("grid"))
    base_gates = (policies or {}).get(base) if isinstance(base, str) else None
    for key, values in grid.items():
        parts = key.split(".") if isinstance(key, str) else []
        if len(parts) >= 3 and parts[0] == "gates" and base_gates is not None and parts[1] not in base_gates:
            bad.append(BadReference(("evaluation", "sweep", "grid", key), repr(parts[1]),
                                    f"gate {parts[1]!r} is not defined in the base policy {base!r}"
                                    f"{did_you_mean(parts[1], base_gates)}", base_gates, at_key=True))
        if key == "rollout.strategy" and isinstance(values, list) and strategies is not None:
            bad += [_unknown(("evaluation", "sweep", "grid", key, i), value, "strategy", strategies, "in strategies")
                    for i, value in enumerate(values) if isinstance(value, str) and value not in strategies]
    return bad


def _policies(evaluation: dict) -> dict[str, tuple | None] | None:
    """Policy name -> its gate names, or None for a policy that is not a mapping (the model reports it);
    None when `evaluation.policies` is not a mapping."""
    policies = evaluation.get("policies")
    if not isinstance(policies, dict):
        return None
    return {str(name): tuple(map(str, gates)) if isinstance(gates, dict) else None for name, gates in policies.items()}


def _keys(section: Any, default: tuple) -> tuple | None:
    """The names a section defines: its keys, `default` when it is absent, None when it is not a mapping."""
    if section is None:
        return tuple(default)
    return tuple(map(str, section)) if isinstance(section, dict) else None


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def render_path(path: tuple) -> str:
    """`rollout.steps[5].analysis.gates[0]`: a key path as written in messages."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and ("." in part or "[" in part):
            text += f"[{part!r}]"
        else:
            text += f".{part}" if text else str(part)
    return text
