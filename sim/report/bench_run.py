"""The page of a bench run (`deploysim bench`): what real hosts did when each strategy deployed one build.

The answer first (per strategy: hosts updated, when the median and the last host ran the new build),
then the bench's setting (hosts, build, shaped links, isolation, what the bench does not reproduce of the
scenario), the table per strategy (`summary.csv`: the three quantiles, transfer and activation per host,
the Consul fan-out or the ssh set-up), the share of the fleet updated over time as the run drew it, and
what each host that needed more than one attempt or was never updated did (`hosts.csv`: attempts and
the reason). How far the simulator's prediction is from these numbers is `deploysim validate-model`'s
page: a bench folder holds measurements only.
"""

from __future__ import annotations

from sim.report import formats
from sim.report.folder import ResultsFolder

SHOWN_HOSTS = 30  # rows of the hosts table: the hosts that needed retries or were never updated, first ones
TIMES = ("p50", "p95", "max", "transfer_mean", "activate_mean", "fanout_p50", "fanout_p99", "connect_mean")


def context(folder: ResultsFolder) -> dict:
    """What the bench template shows."""
    summary = folder.read_csv("summary.csv") if folder.has("summary.csv") else []
    hosts = folder.read_csv("hosts.csv") if folder.has("hosts.csv") else []
    troubled = [h for h in hosts if h.get("updated") != "True" or int(float(h.get("attempts") or 1)) > 1]
    return {
        "answers": [_answer(row) for row in summary],
        "setting": _setting(folder.manifest),
        "rows": [_row(row) for row in summary],
        "updated_png": folder.png_uri("fleet_updated_over_time.png"),
        "hosts": [_host(h) for h in troubled[:SHOWN_HOSTS]],
        "troubled": len(troubled),
        "host_count": len(hosts),
        "settings": None, "settings_note": "",
    }


def _answer(row: dict) -> dict:
    updated, total = formats.number(row.get("updated")), formats.number(row.get("hosts"))
    text = (f"{row.get('strategy')} ({row.get('kind')}) updated {formats.count(updated)} of "
            f"{formats.count(total)} hosts: half of them ran the new build after {formats.duration(row.get('p50'))}, "
            f"the last after {formats.duration(row.get('max'))}.")
    return {"strategy": row.get("strategy", ""), "text": text, "max": row.get("max"), "updated": row.get("updated")}


def _setting(manifest: dict) -> list[tuple[str, str]]:
    found = manifest.get("config")
    config: dict = found if isinstance(found, dict) else {}
    rate = lambda mbit: "unshaped" if not mbit else f"{formats.number(mbit):g} Mbit/s (tbf)"  # noqa: E731
    facts = [("hosts", formats.count(config.get("hosts"))),
             ("build", f"{formats.number(config.get('size', 0)) / 2**20:.1f} MiB in {formats.count(config.get('files'))} files"),
             ("deploy host's link", rate(config.get("deploy_rate_mbit"))),
             ("each host's link", rate(config.get("host_rate_mbit"))),
             ("push", f"{formats.count(config.get('parallel'))} rsyncs at a time"),
             ("hosts are", "network namespaces" if manifest.get("isolated") else "processes on loopback")]
    missing = manifest.get("not_reproduced") or []
    if missing:
        facts.append(("not reproduced from the scenario", ", ".join(map(str, missing))))
    for note in manifest.get("notes") or []:
        facts.append(("note", str(note)))
    return facts


def _row(row: dict) -> dict:
    cells = [("hosts", formats.count(row.get("hosts"))), ("updated", formats.count(row.get("updated")))]
    cells += [(key, formats.duration(row.get(key))) for key in TIMES]
    return {"strategy": row.get("strategy", ""), "kind": row.get("kind", ""),
            "cells": [{"key": key, "text": text, "value": row.get(key)} for key, text in cells]}


def _host(row: dict) -> dict:
    done = row.get("done")
    return {"strategy": row.get("strategy", ""), "host": row.get("host", ""), "zone": row.get("zone", ""),
            "attempts": row.get("attempts", ""), "updated": row.get("updated") == "True",
            "done": done, "done_text": formats.duration(done) if done else "never",
            "reason": row.get("reason", "")}
