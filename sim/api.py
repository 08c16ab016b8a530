"""What the bench, notebooks and scripts may import from the simulator, one name each.

Names load on first use (`from sim.api import simulate` imports the deploy engine then, not when this
module is imported), so a command that only reads its input stays light. Everything in `sim` that is
not named here is internal and may move; `tests/test_layering.py` holds `bench` to this list.

Tables returned here (`host_table`, `fleet_summary`, ...) carry the in-memory column names (`done`,
`fleet_size`); the files carry names with their units (`done_s`, `fleet_hosts`). `columns.to_file(frame,
columns.table(command, file))` renames a frame as its file would be, `columns.from_file` turns a
row read from a file back (`columns.TABLES` holds both names of every column).
"""

from __future__ import annotations

from importlib import import_module

_EXPORTS: dict[str, str] = {
    # errors and the budgets of untrusted input
    "Problem": "sim.errors", "UserError": "sim.errors",
    "BENCH": "sim.limits", "MAX_DEPTH": "sim.limits", "read_bounded": "sim.limits", "too_deep_in_json": "sim.limits",
    # scenarios
    "LoadedScenario": "sim.load.loader", "load_scenario": "sim.load.loader", "read_yaml": "sim.load.loader",
    "vary": "sim.load.loader", "load_mapping": "sim.load.loader", "prepare": "sim.commands.common",
    # fleet deploys
    "Job": "sim.deploy.engine", "simulate": "sim.deploy.engine", "run_wave": "sim.deploy.wave",
    "run_unfair_wave": "sim.deploy.unfair", "SwarmPlan": "sim.deploy.swarm_plan", "run_swarm": "sim.deploy.swarm",
    "DeployRecord": "sim.results.records", "fleet_quantile": "sim.results.records",
    "host_table": "sim.results.tables", "replication_table": "sim.results.tables",
    "fleet_summary": "sim.results.tables", "crossovers": "sim.results.tables",
    "manifest": "sim.results.output", "results_folder": "sim.results.output", "write_json": "sim.results.output",
    "plots": "sim.results", "columns": "sim.results", "envelope": "sim.results.envelope", "records": "sim.results.envelope",
    # releases and policies
    "simulate_release": "sim.rollout.simulate", "simulate_releases": "sim.rollout.simulate",
    "timeline": "sim.rollout.timeline", "summary": "sim.rollout",
    # the commands, as functions
    "run": "sim.commands.run", "evaluate": "sim.commands.evaluate", "sweep": "sim.commands.sweep",
    # for command-line plugins (`deploysim bench`)
    "write_report": "sim.report.build", "bad_flags": "sim.commands.flags", "check_options": "sim.commands.flags", "interruptible": "sim.interrupts",
    "progress_bar": "sim.progress",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    try:
        home = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"sim.api has no {name!r} (what it offers: sim.api.__all__)") from None
    module = import_module(home)
    value = getattr(module, name) if hasattr(module, name) else import_module(f"{home}.{name}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return __all__
