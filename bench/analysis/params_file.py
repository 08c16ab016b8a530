"""The calibrated parameter file: partial scenario sections with a comment on every fitted value.

`render_params` writes the YAML text (network, strategies) that scenarios `include:`;
`calibration_json` everything fitted, machine-readable.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from bench.analysis.fanout_fit import FanoutFit
from bench.analysis.swarm_fit import SwarmFit
from bench.analysis.transfer_fit import HostLinkFit, ShareFit, TransferFit


def _s(x: float) -> str:
    """A duration for a scenario file, 4 significant digits."""
    return f"{x * 1e3:.4g}ms" if x < 1 else f"{x:.4g}s"


def _rate(x: float) -> str:
    return f"{x * 8 / 1e6:.4g}Mbps"


def _lognormal(fit: dict) -> str:
    return f"{{dist: lognormal, median: {_s(fit['median'])}, p95: {_s(fit['p95'])}}}"


def _sources(labels: list[str]) -> str:
    return "; ".join(labels)


def push_lines(name: str, parallel: int, p: dict, files: int) -> list[str]:
    t = p["transfer"]
    src = _sources(p["runs"])
    return [
        f"  {name}:",
        "    kind: push",
        f"    parallel: {parallel}                      # as on the bench (the including scenario wins)",
        f"    connect: {_lognormal(p['connect'])}",
        f"      # median and p95 of transfer_start - signal over {p['connect']['n']} first-attempt hosts ({src})",
        f"    scan_per_file: {_s(p['scan_per_file'])}",
        f"      # fitted fixed rsync overhead {_s(p['overhead'])} per host / {files} files: replay of {p['flows']} flows",
        "      # through sim.deploy.wave's processor sharing with the deploy egress above (push rmse " + f"{t.rmse:.3f}s);",
        "      # holds rsync's process start, and over ssh the cipher cost of this build size, too",
        f"    activation: {_lognormal(p['activation'])}",
        f"      # median and p95 of done - transfer_end over {p['activation']['n']} hosts ({src})",
    ] + fanout_lines(p)


def fanout_lines(p: dict) -> list[str]:
    """A push's deploy-host CPU term, when a fan-out run gave it (`calibrate.calibrate_fanout`)."""
    if "fanout" not in p:
        return []
    fit = p["fanout"]
    widths = ", ".join(f"{w}: {t:.3g}s" for w, t in zip(fit.widths, fit.per_host))
    return [f"    connection_cpu: {fit.ratio:.4g}",
            "    deploy_cores: 1",
            f"      # fitted: one connection keeps {fit.ratio:.4g} of the deploy host's cores busy (only the ratio shows):",
            f"      # median per-host time by fan-out {{{widths}}} = {fit.serial:.3g}s x max(1, k x ratio),",
            f"      # rms log error {fit.rms_log:.3f} ({p['fanout_run']}); connect, scan and activation above are",
            f"      # the measured ones divided by the {p['derated_by']:.3g}x the term slows them at the fitted fan-out"]


def pull_lines(name: str, p: dict, empirical: str | None) -> list[str]:
    src = _sources(p["runs"])
    kw = ("median and p95 of the recorded key writes" if p["key_write_recorded"] else
          "NOT recorded by the bench: estimated per deploy as the earliest agent's wake-up (an upper bound)")
    wake = (f"{{dist: empirical, file: {empirical}, column: to_first_byte}}" if empirical
            else _lognormal(p["to_first_byte"]))
    return [
        f"  {name}:",
        "    kind: pull",
        f"    key_write: {_lognormal(p['key_write'])}",
        f"      # {kw} ({p['key_write']['n']} deploys)",
        f"    wakeup: {wake}",
        f"      # key committed -> first byte requested: agent wake-up (median {_s(p['wakeup']['median'])}, "
        f"p95 {_s(p['wakeup']['p95'])})",
        f"      # plus request start and the fitted download overhead {_s(p['overhead'])}; {p['to_first_byte']['n']} hosts "
        f"({src}); per-host values in wakeup.csv",
        "    verify_rate: 1000GB/s",
        "      # the bench agent hashes while downloading: verification adds nothing after the transfer",
        f"    activation: {_lognormal(p['activation'])}",
        f"      # median and p95 of done - transfer_end (untar, rename, symlink) over {p['activation']['n']} hosts",
    ]


def p2p_lines(name: str, p: dict) -> list[str]:
    src = _sources(p["runs"])
    return [
        f"  {name}:",
        "    kind: p2p",
        f"    key_write: {_lognormal(p['key_write'])}",
        f"      # median and p95 of the recorded key writes ({p['key_write']['n']} deploys)",
        f"    wakeup: {_lognormal(p['wakeup'])}",
        f"      # key committed -> torrent added: agent wake-up (median {_s(p['agent_wakeup']['median'])}), metainfo "
        f"fetch, peer list; {p['wakeup']['n']} hosts ({src})",
        "    verify_rate: 1000GB/s",
        "      # libtorrent checks pieces while downloading; the whole-build SHA-256 is inside activation below",
        f"    activation: {_lognormal(p['activation'])}",
        f"      # median and p95 of done - transfer_end (SHA-256, untar, rename, symlink) over {p['activation']['n']} hosts",
        f"      # swarm transfer on the bench (torrent added -> finished): median {_s(p['transfer']['median'])}, "
        f"p95 {_s(p['transfer']['p95'])}",
        *swarm_lines(p.get("swarm")),
    ]


def swarm_lines(fit) -> list[str]:
    """The hosts' swarm rate (upload = download), or why the scenario's rates stay."""
    if fit is None:
        return ["      # hosts' swarm rates NOT fitted (no pull or push measured the seeder's link): the scenario's"]
    how = (f"replaying {fit.deploys} deploys ({fit.hosts} hosts) through sim.deploy.swarm, hosts joining at their "
           f"measured times,", f"      # the seeder at {_rate(fit.seeder_rate)}; sorted ends, mean of {fit.seeds} "
           f"peer-set draws (seed {fit.seed}): rmse {fit.rmse:.3f}s, hosts too fast to bind {fit.rmse_unbound:.3f}s")
    if fit.identified:
        return [f"    upload: {_rate(fit.rate)}", f"    download: {_rate(fit.rate)}",
                f"      # fitted: each host's rate in the swarm (upload = download), {how[0]}", how[1],
                "      # on the bench this is a host's share of the machine's CPU as much as of a link"]
    return [f"      # hosts' swarm rate NOT identified: no rate up to 10Gbps binds better ({how[0]}",
            how[1] + f"); lower bound {_rate(fit.rate)}, the scenario's rates stay"]


def network_lines(cal) -> list[str]:
    net, lines = cal.network, ["network:"]
    if "deploy_egress" in net:
        t = next(iter(cal.push.values()))["transfer"]
        lines += [f"  deploy_egress: {_rate(net['deploy_egress'])}",
                  f"    # shared capacity of the push flows ({', '.join(cal.push)}; {t.flows} flows), replayed through",
                  f"    # sim.deploy.wave (rmse {t.rmse:.3f}s); fitted on the rsync-daemon flows when present (no cipher),",
                  "    # ssh's own costs then land in its overhead (scan_per_file). Weakly identified when few",
                  "    # pushes overlap on the link (k slots, transfers a fraction of each slot's time)"]
        if "origin_egress" in net and abs(net["deploy_egress"] / net["origin_egress"] - 1) > 0.25:
            lines += [f"    # differs from origin_egress by {100 * (net['deploy_egress'] / net['origin_egress'] - 1):+.0f}%: "
                      "where one link serves both", "    # (the bench's deploy host), origin_egress is the better measure"]
    if "origin_egress" in net:
        t = cal.pull["transfer"]
        lines += [f"  origin_egress: {_rate(net['origin_egress'])}",
                  f"    # shared capacity of the pull downloads, replayed through sim.deploy.wave ({t.flows} flows, "
                  f"rmse {t.rmse:.3f}s)"]
    if "share" in net:
        share = net["share"]
        lines += [f"  flow_share_p95: {share.p95:.3g}",
                  f"    # {'fitted' if share.identified else 'NOT identified (equal shares)'}: the pulls' spread of ends, "
                  f"sorted, against replays with weighted shares",
                  f"    # (sim.deploy.unfair; mean of {share.draws} weight draws, seed {share.seed}): rmse {share.rmse:.3f}s, "
                  f"equal shares {share.rmse_equal:.3f}s"]
    if net["per_flow_identified"]:
        lines += [f"  per_flow: {_rate(net['per_flow'])}", "    # fitted: a finite per-flow ceiling explained lone flows"]
    else:
        lines += [f"  per_flow: {_rate(max(net['per_flow'], net.get('deploy_egress', 0), net.get('origin_egress', 0)))}",
                  f"    # NOT identified: no flow ran below the shared capacity; lower bound {_rate(net['per_flow'])}",
                  "    # (written as at least the larger shared capacity, so it never binds)"]
    return lines + host_link_lines(net.get("host_link"))


def host_link_lines(link) -> list[str]:
    """`host_download` for the runs' unshaped host links, and what the shaped runs showed of a shaped one."""
    lines = ["  host_download: 10Gbps", "    # the bench's host links were unshaped in the runs fitted above (a veth)"]
    if link is None:
        return lines
    how = (f"{link.flows} pull flows of {'; '.join(link.runs)}: rmse {link.rmse:.3f}s, "
           f"with no host cap {link.rmse_unbound:.3f}s")
    if link.identified:
        return lines + [f"    # host links shaped to {_rate(link.shaped)} (tbf) delivered {_rate(link.rate)} to a host "
                        f"({link.efficiency:.0%} of the tbf rate),",
                        f"    # fitted with the overhead, origin and per-flow ceiling above held: {how};",
                        "    # validate-model simulates a shaped run with host_download = that share of its tbf rate"]
    return lines + [f"    # host links shaped to {_rate(link.shaped)} (tbf): their rate NOT identified (the shared "
                    f"link bound first); lower bound {_rate(link.rate)}: {how}"]


def render_params(cal, push_names: dict, pull_name: str | None, command: str,
                  empirical: str | None = None, p2p_name: str | None = None) -> str:
    """The parameter file's text: partial scenario sections with a comment on every fitted value."""
    head = [
        "# deploysim parameters calibrated from real bench runs (include: this file from a scenario).",
        f"# written by: {command}",
        f"# on: {datetime.now(timezone.utc).date().isoformat()}; from: {_sources(cal.runs)}",
        f"# build on the bench: {cal.size:.0f} bytes in {cal.files} files; fleet sizes {cal.sizes}",
        "# Per-host values are first-attempt hosts that were updated. Fitting method: bench/analysis/calibrate.py.",
    ]
    for note in cal.notes:
        head.append(f"# note: {note}")
    if cal.contention:
        head.append("# Contention on the bench machine (median = a + b * hosts; in calibration.json, applied")
        head.append("# only by `deploysim validate-model --contention`):")
        for key, term in cal.contention.items():
            if "aggregate" in term:  # a rate shared by the fleet: aggregate / hosts each
                fitted = ", ".join(f"{_rate(r)} at {n}" for r, n in zip(term["rates"], term["sizes"]))
                head.append(f"#   {key}: {_rate(term['aggregate'])} / hosts each (fitted per run: {fitted})")
            else:
                head.append(f"#   {key}: a {_s(term['intercept'])}, b {term['per_host'] * 1e3:+.3f} ms/host"
                            f" (sizes {term['sizes']})")
    body = network_lines(cal) + ["strategies:"]
    for transport, (name, parallel) in push_names.items():
        if transport in cal.push:
            body += push_lines(name, parallel, cal.push[transport], cal.files)
    if pull_name and cal.pull:
        body += pull_lines(pull_name, cal.pull, empirical)
    if p2p_name and cal.p2p:
        body += p2p_lines(p2p_name, cal.p2p)
    return "\n".join(head + body) + "\n"


def calibration_json(cal) -> dict:
    """Everything fitted, machine-readable (written beside the parameter file)."""
    def clean(d: dict) -> dict:
        out = {}
        for k, v in d.items():
            if isinstance(v, (TransferFit, ShareFit, SwarmFit, HostLinkFit, FanoutFit)):
                out[k] = {**v.__dict__, **({"efficiency": v.efficiency} if isinstance(v, HostLinkFit) else {})}
            elif isinstance(v, np.ndarray) or k == "deploys":  # raw per-host values: in the runs' own files
                continue
            elif isinstance(v, dict):
                out[k] = clean(v)
            else:
                out[k] = v
        return out
    return {"format": "deploysim-calibration", "format_version": 1, "runs": cal.runs, "sizes": cal.sizes,
            "size": cal.size, "files": cal.files, "push": {k: clean(v) for k, v in cal.push.items()},
            "pull": clean(cal.pull), "p2p": clean(cal.p2p), "network": clean(cal.network), "contention": cal.contention,
            "notes": cal.notes}


