"""The columns of every table deploysim writes: name in the file, unit, meaning, population.

One list per file (`TABLES`), used three ways: the writers rename their tables' in-memory names (those of
the records and data frames: `done`, `fleet_size`) to the file names (`done_s`, `fleet_hosts`) and check
the header against the list (`write_csv`, `records`); the readers of a results folder (report, compare,
bench analysis) turn file names back into the in-memory names (`from_file`); and docs/results-files.md is
rendered from it (`sim.results.columns_doc`), so the reference cannot drift from what is written.

Naming convention: a column's unit is the last part of its name. Seconds end in `_s`, bytes in `_bytes`,
shares of a whole (0-1, never percent) in `_share`, timestamps (ISO 8601 with zone) in `_at`; counts
are nouns (`hosts_updated`, `rollbacks`, `bad_requests`); relative errors in percent, which are not
shares, end in `_pct`. A name that has no unit (text, flags, ids) has no suffix.

Results format 1 wrote the in-memory names: `from_format_1` maps them to today's, and `to_memory` reads a
table in either (the bench's recorded hosts.csv files are read through it).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Column:
    name: str  # in the file
    unit: str  # "s", "share", "hosts", "ISO 8601", "" (text, flags, ids)
    meaning: str
    internal: str = ""  # the in-memory name (records, data frames) when it differs from `name`
    only_when: str = ""  # written only in some runs (which, in words); empty: always

    @property
    def source(self) -> str:
        return self.internal or self.name


@dataclass(frozen=True)
class Table:
    file: str
    commands: tuple[str, ...]  # the manifest's `command` of the folders holding it
    rows: str  # the population: what one row is
    columns: tuple[Column, ...]
    more: str = ""  # columns after these, named by the run (stages, settings, measures): what they are

    def renames(self) -> dict[str, str]:
        """In-memory name -> file name, for the columns whose names differ."""
        return {c.internal: c.name for c in self.columns if c.internal}

    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, unit: str, meaning: str, internal: str = "", only_when: str = "") -> Column:
    return Column(name, unit, meaning, internal, only_when)


P2P_PEERS = "the run has a p2p strategy"
P2P_ONLY = "the run has a p2p strategy, or a pull or push through zone links (or a pull through caches)"


STRATEGY = (_c("strategy", "", "the strategy's name in the scenario"),
            _c("kind", "", "push, pull or p2p"),
            _c("fleet_hosts", "hosts", "the fleet size deployed to", "fleet_size"))
RUN_FILES = ("run", "bench")

HOSTS = Table("hosts.csv", RUN_FILES, "one host's deploy, per strategy, fleet size and replication", (
    *STRATEGY,
    _c("replication", "", "replication index, from 0"),
    _c("host", "", "host index in the fleet, from 0"),
    _c("tier", "", "staging, dogfood, canary or production"),
    _c("zone", "", "the host's zone index"),
    _c("attempts", "count", "deploy attempts, retries included"),
    _c("signal_s", "s", "when the successful attempt began (push: an rsync slot took the host; pull: its agent "
                        "woke), since the deploy started", "signal"),
    _c("transfer_start_s", "s", "first byte on the wire, since the deploy started", "transfer_start"),
    _c("transfer_end_s", "s", "last byte on the wire, since the deploy started", "transfer_end"),
    _c("done_s", "s", "the new build live on the host, since the deploy started; empty: never", "done"),
    _c("updated", "", "whether the host runs the new build"),
    _c("reason", "", "why a host was not updated; empty otherwise"),
))
REPLICATIONS = Table("replications.csv", RUN_FILES, "one deploy: per strategy, fleet size and replication", (
    *STRATEGY,
    _c("replication", "", "replication index, from 0"),
    _c("p50_s", "s", "when 50% of all hosts ran the new build; empty: never", "p50"),
    _c("p95_s", "s", "when 95% of all hosts ran the new build; empty: never", "p95"),
    _c("makespan_s", "s", "when the last updated host went live", "makespan"),
    _c("hosts_updated", "hosts", "hosts running the new build at the end", "updated"),
    _c("hosts_not_updated", "hosts", "hosts never updated", "not_updated"),
    _c("mean_attempts", "count", "deploy attempts per host, mean over the fleet"),
    _c("origin_bytes", "bytes", "bytes the origin (its seeders) served: p2p, and pull through zone links or caches (`network.zone_link`, `zone_cache`); push through zone links: the bytes the deploy host sent; empty otherwise", only_when=P2P_ONLY),
    _c("cross_zone_bytes", "bytes", "bytes hosts received from hosts of another zone (p2p: the reference model counts them, "
                                    "the fast engine estimates them from its peer bytes and the peer sets' zones, docs/p2p.md); "
                                    "empty otherwise", only_when=P2P_PEERS),
))
SUMMARY = Table("summary.csv", ("run",), "per strategy and fleet size, over its replications", (
    *STRATEGY,
    _c("replications", "count", "replications summarised"),
    _c("p50_s", "s", "median over replications of p50_s (replications.csv); empty: never", "p50"),
    _c("p95_s", "s", "median over replications of p95_s; empty: never", "p95"),
    _c("max_s", "s", "median over replications of makespan_s", "max"),
    _c("max_p5_s", "s", "5th percentile over replications of makespan_s", "max_p5"),
    _c("max_p95_s", "s", "95th percentile over replications of makespan_s", "max_p95"),
    _c("hosts_not_updated", "hosts", "mean over replications of hosts_not_updated", "not_updated"),
    _c("origin_bytes", "bytes", "median over replications of origin_bytes (p2p, and pull or push through zones; empty otherwise)",
       only_when=P2P_ONLY),
    _c("cross_zone_bytes", "bytes", "median over replications of cross_zone_bytes (p2p; empty otherwise)",
       only_when=P2P_PEERS),
    _c("per_added_host_s", "s", "what each added server costs: change in max_s over the change in fleet_hosts "
                                "from the strategy's previous fleet size; empty on its first", "s_per_host"),
    _c("bottleneck", "", "the resource whose closed-form lower bound on the deploy time is largest: deploy egress, "
                         "origin egress, zone link, cache egress, seeder egress, swarm upload, per-flow cap, host download, "
                         "per-host fixed costs, slots (push: rsync parallelism) with the larger of its parts, or zones in "
                         "turn (pull zone by zone) with its largest part (sim/deploy/bottleneck.py)"),
    _c("bound_s", "s", "that largest lower bound, a closed form, not a simulated time (one host's durations at their "
                       "medians, sums over hosts at their mean less 3 standard deviations, the once-per-deploy "
                       "publish and key write at their 5th percentiles)", "bound"),
))
CROSSOVER = Table("crossover.csv", ("run",), "one pair of strategies: pull and push, p2p and push, p2p and pull", (
    _c("pull", "", "the strategy that may overtake: a pull strategy, or a p2p one"),
    _c("push", "", "the strategy it may overtake: a push strategy, or (when the first is p2p) a push or pull one"),
    _c("fleet_hosts", "hosts", "the fleet size where the first's max_s drops below the second's (interpolated "
                               "in log size); empty: no crossing between the sizes run", "hosts"),
    _c("growth_week", "weeks", "the week of the scenario's fleet growth at that size (fleet.growth); empty "
                               "without growth or without crossing", "week"),
    _c("note", "", "between which sizes it crosses, or why it does not"),
))
ROLLBACK = Table("rollback.csv", ("run",), "per strategy and fleet size, rolling back to the previous build kept "
                 "on every host (run --rollback; sim/deploy/rollback.py), over its replications", SUMMARY.columns)
SWEPT = "`set KEY` per swept key (run --sweep): its value at the point, as typed"
POINT = _c("point", "", "the swept settings of the row's point, `key=value, ...` (run --sweep)")
SWEEP_SUMMARY = Table("summary.csv", ("run (sweep)",), "per swept point, strategy and fleet size, over its "
                      "replications", (POINT, *SUMMARY.columns), more=SWEPT)
SWEEP_REPLICATIONS = Table("replications.csv", ("run (sweep)",), "one deploy: per swept point, strategy, fleet "
                           "size and replication", (POINT, *REPLICATIONS.columns), more=SWEPT)
SWEEP_CROSSOVER = Table("crossover.csv", ("run (sweep)",), "per swept point, one pair of strategies",
                        (POINT, *CROSSOVER.columns), more=SWEPT)
SWEEP_ROLLBACK = Table("rollback.csv", ("run (sweep)",), "per swept point, strategy and fleet size, rolling back "
                       "to the previous build kept on every host (run --sweep --rollback), over its replications",
                       (POINT, *SUMMARY.columns), more=SWEPT)
BENCH_SUMMARY = Table("summary.csv", ("bench",), "one bench deploy: per strategy", (
    *STRATEGY[:2],
    _c("fleet_hosts", "hosts", "the fleet size deployed to", "hosts"),
    _c("hosts_updated", "hosts", "hosts running the new build at the end", "updated"),
    _c("p50_s", "s", "when 50% of all hosts ran the new build", "p50"),
    _c("p95_s", "s", "when 95% of all hosts ran the new build", "p95"),
    _c("max_s", "s", "when the last updated host went live", "max"),
    _c("transfer_mean_s", "s", "transfer time per updated host, mean", "transfer_mean"),
    _c("activate_mean_s", "s", "transfer end to live per updated host, mean", "activate_mean"),
    _c("fanout_p50_s", "s", "pull: release key to agent wake-up, median over hosts", "fanout_p50"),
    _c("fanout_p99_s", "s", "pull: release key to agent wake-up, 99th percentile", "fanout_p99"),
    _c("connect_mean_s", "s", "push: ssh connection set-up per host, mean", "connect_mean"),
))

TIMES = "seconds since the branch cut"
OUTCOME = (
    _c("replication", "", "release index, from 0 (the same release for every policy)"),
    _c("branch_cut_at", "ISO 8601", "when the release branch was cut, in the simulated week (Monday 2001-01-01, "
                                    "UTC)", "start"),
    _c("bad_build", "", "whether the first build was bad"),
    _c("outcome", "", "promoted, hotfixed, rolled_back or blocked"),
    _c("rollback_stage", "", "rolled_back: the stage where the final build was aborted"),
    _c("blocked_reason", "", "blocked: why the pipeline never ended"),
    _c("horizon_s", "s", f"when the outcome was read, {TIMES}", "horizon"),
    _c("ended_s", "s", f"when the pipeline's last step ended, {TIMES}; empty: blocked", "ended"),
    _c("detected", "", "whether a gate or a smoke test flagged the build"),
    _c("detected_by", "", "the gate's name, 'smoke test', or empty"),
    _c("detection_stage", "", "the stage where it was detected"),
    _c("detection_time_s", "s", f"detection, {TIMES}", "detection_time"),
    _c("detection_delay_s", "s", "detection, since the bad build first served production traffic",
       "detection_delay"),
    _c("exposure_at_detection_share", "share", "peak share of the fleet's traffic on a bad build up to detection",
       "exposure_at_detection"),
    _c("decision_time_s", "s", f"the decision acting on the detection, {TIMES}", "decision_time"),
    _c("mitigated_time_s", "s", f"no host serving the bad build any more, {TIMES}", "mitigated_time"),
    _c("time_to_mitigate_s", "s", "detection to no host serving the bad build", "time_to_mitigate"),
    _c("served_traffic", "", "the first build served user requests before the horizon"),
    _c("bad_serving_at_horizon", "", "some host still served a bad build at the horizon"),
    _c("peak_bad_share", "share", "the largest share of the fleet's traffic on a bad build in one interval"),
    _c("bad_requests", "requests", "extra failed requests caused by the bad build until the horizon (expected)"),
    _c("lead_time_s", "s", "branch cut to the final build at 100% (shipped releases only)", "lead_time"),
    _c("false_rollback", "", "a good build was rolled back"),
    _c("rollbacks", "count", "rollbacks started"),
    _c("hosts_not_rolled_back", "hosts", "hosts that could not be rolled back"),
)
RELEASES = Table("releases.csv", ("run (releases)",), "one simulated release (replication)", OUTCOME)
POLICY_RELEASES = Table("releases.csv", ("evaluate", "sweep"), "one release judged by one policy (sweep: one point)", (
    _c("policy", "", "the policy (sweep: the point's settings)"),
    OUTCOME[0],
    _c("spike", "share", "added error rate of the bad build (0 for a good one)"),
    *OUTCOME[1:],
    _c("missed", "", "a bad build still served at the horizon"),
    _c("error_budget_minutes", "min", "minutes the error rate burned error budget above the SLO"),
))
DISTRIBUTION = Table("outcome_distribution.csv", ("run (releases)",), "one measure over its population of releases", (
    _c("measure", "", "'outcome: NAME', false_rollback, detected, bad_serving_at_horizon, or a column of "
                      "releases.csv (detection_delay, time_to_mitigate, lead_time, peak_bad_share, bad_requests)"),
    _c("value", "per measure", "the share (0-1) of the population, or the median; seconds for times, a share "
                               "for peak_bad_share, requests for bad_requests"),
    _c("low", "per measure", "Wilson 95% interval's low end (shares) or the 5th percentile"),
    _c("high", "per measure", "Wilson 95% interval's high end (shares) or the 95th percentile"),
    _c("kind", "", "'share' or 'p50 (p5-p95)'"),
    _c("count", "releases", "releases in the population"),
    _c("population", "", "which releases: all releases, good builds, bad builds, ..."),
))
STAGES = Table("stages.csv", ("run (releases)",), "one stage event of a release (all releases, or the first: "
                                                  "output.host_rows)", (
    _c("replication", "", "release index"),
    _c("time_s", "s", TIMES, "time"),
    _c("build", "", "build number, 1 for the first"),
    _c("step", "", "index of the rollout step"),
    _c("label", "", "the stage's name"),
    _c("event", "", "start, reached, rollback, rolled-back, hotfix-build, resumed, ..."),
    _c("candidate_share", "share", "share of production hosts on the candidate build", "share"),
))
METRICS = Table("metrics.csv", ("run (releases)",), "one metric interval of a release (as stages.csv)", (
    _c("replication", "", "release index"),
    _c("time_s", "s", f"end of the interval, {TIMES}", "time"),
    _c("interval_s", "s", "the interval's length", "interval"),
    _c("new_requests", "requests", "requests served by the candidate cohort"),
    _c("new_errors", "requests", "failed requests of the candidate cohort"),
    _c("old_requests", "requests", "requests served by the stable cohort"),
    _c("old_errors", "requests", "failed requests of the stable cohort"),
    _c("new_latency_s", "s", "candidate cohort's latency; empty: no requests", "new_latency"),
    _c("old_latency_s", "s", "stable cohort's latency; empty: no requests", "old_latency"),
    _c("new_true_error_share", "share", "the candidate's true error rate (errors per request)", "new_true_rate"),
    _c("old_true_error_share", "share", "the stable build's true error rate", "old_true_rate"),
    _c("new_traffic_share", "share", "share of requests served by the candidate cohort", "new_share"),
    _c("bad_traffic_share", "share", "share of requests served by a bad build", "bad_share"),
    _c("incident", "", "an unrelated incident raised errors in this interval"),
))
DECISIONS = Table("decisions.csv", ("run (releases)",), "one gate decision of a release (as stages.csv)", (
    _c("replication", "", "release index"),
    _c("time_s", "s", TIMES, "time"),
    _c("gate", "", "the gate (or commander) deciding"),
    _c("stage", "", "the stage it judged"),
    _c("outcome", "", "pass, fail, inconclusive, ..."),
    _c("action", "", "continue, pause, rollback, ..."),
    _c("metric", "", "the metric measured"),
    _c("value", "metric's unit", "the measured value"),
    _c("rule", "", "the rule applied, with the numbers"),
    _c("measurement", "", "the controller's reading (e.g. Argo's failure count)"),
))
ESTIMATES = Table("estimates.csv", ("evaluate", "sweep"), "one measure of one policy over its population", (
    _c("policy", "", "the policy (sweep: the point's settings)"),
    _c("measure", "", "false_rollback_rate, miss_rate, detection_delay_p50, ..."),
    _c("value", "unit", "the estimate, in the unit of the `unit` column"),
    _c("low", "unit", "its confidence interval's low end"),
    _c("high", "unit", "its confidence interval's high end"),
    _c("n", "releases", "releases in the population"),
    _c("population", "", "which releases the measure is over"),
    _c("unit", "", "share (0-1), s, requests, min"),
))
ACCEPTANCE = Table("acceptance.csv", ("evaluate", "sweep"), "one acceptance criterion of one policy", (
    _c("policy", "", "the policy (sweep: the point's settings)"),
    _c("criterion", "", "the measure judged (a measure of estimates.csv)"),
    _c("bound", "", "the bound as text, e.g. '<= 0.01'"),
    _c("estimate", "measure's unit", "the measure's estimate"),
    _c("low", "measure's unit", "its confidence interval's low end"),
    _c("high", "measure's unit", "its confidence interval's high end"),
    _c("n", "releases", "releases in the population"),
    _c("population", "", "which releases the measure is over"),
    _c("status", "", "pass, fail or uncertain"),
    _c("op", "", "<= or >="),
    _c("limit", "measure's unit", "the bound's number"),
))
DETECTION_STAGES = Table("detection_stages.csv", ("evaluate",), "one policy", (
    _c("policy", "", "the policy"),
), more="one column per stage where a bad build was detected (and 'not detected'): bad builds, a count")
SWEEP = Table("sweep.csv", ("sweep",), "one point of the sweep", (
    _c("#", "", "the point's number, from 1"),
    _c("point", "", "the point's settings, as text"),
), more=("then `set KEY` per swept setting (the value as written); then per measure of estimates.csv, its "
         "estimate, `MEASURE_low` and `MEASURE_high` (in the measure's unit, estimates.csv's `unit`); "
         "`criterion MEASURE` per acceptance criterion (pass, fail, uncertain); status, failed_criteria, "
         "shortfall, pareto, recommended"))
VALIDATION = Table("validation.csv", ("validate-model",), "one bench deploy against the simulator's prediction", (
    _c("fleet_hosts", "hosts", "the fleet size deployed to", "hosts"),
    *STRATEGY[:2],
    _c("transport", "", "push: ssh or daemon"),
    _c("role", "", "fit (used by calibrate) or held-out"),
    _c("run", "", "the bench run"),
    _c("hosts_updated", "hosts", "hosts the bench updated", "updated"),
    *(col for m, what in (("p50", "when 50% of all hosts ran the new build"), ("p95", "when 95% did"),
                          ("max", "when the last updated host went live"))
      for col in (_c(f"{m}_measured_s", "s", f"bench: {what}", f"{m}_measured"),
                  _c(f"{m}_predicted_s", "s", f"simulator: {what}", f"{m}_predicted"),
                  _c(f"{m}_error_pct", "%", f"(predicted - measured) / measured of {m}, in percent", f"{m}_err_pct"))),
))

TABLES: tuple[Table, ...] = (SUMMARY, REPLICATIONS, HOSTS, CROSSOVER, BENCH_SUMMARY, RELEASES, DISTRIBUTION,
                             STAGES, METRICS, DECISIONS, POLICY_RELEASES, ESTIMATES, ACCEPTANCE, DETECTION_STAGES,
                             SWEEP, VALIDATION, ROLLBACK, SWEEP_SUMMARY, SWEEP_REPLICATIONS, SWEEP_CROSSOVER,
                             SWEEP_ROLLBACK)

# Per command: summary.json's `results` keys (and validation.json's) that hold a table's rows.
JSON_TABLES: dict[str, dict[str, Table]] = {
    "run": {"summary": SUMMARY, "crossovers": CROSSOVER, "rollback": ROLLBACK},
    "run (releases)": {"releases": RELEASES, "distribution": DISTRIBUTION},
    "run (sweep)": {"summary": SWEEP_SUMMARY, "crossovers": SWEEP_CROSSOVER, "rollback": SWEEP_ROLLBACK},
    "evaluate": {"estimates": ESTIMATES},
    "sweep": {"points": SWEEP},
    "bench": {"deploys": BENCH_SUMMARY},
    "validate-model": {"rows": VALIDATION},
}


def table(command: str, file: str) -> Table | None:
    """The table `file` of a folder written by `command`, or None when deploysim writes no such table."""
    return next((t for t in TABLES if t.file == file and command in t.commands), None)


def to_file(frame: pd.DataFrame, spec: Table) -> pd.DataFrame:
    """`frame` with its columns named as in the file; a ValueError when they are not the documented ones."""
    renamed = frame.rename(columns=spec.renames())
    names = [str(c) for c in renamed.columns]
    fixed = [c.name for c in spec.columns if not c.only_when or c.name in names]
    if (names[:len(fixed)] if spec.more else names) != fixed:
        raise ValueError(f"{spec.file}: columns {names} are not the documented {fixed} (sim/results/columns.py)")
    return renamed


def write_csv(frame: pd.DataFrame, path, spec: Table, index: bool = False) -> None:
    """Write `frame` as `spec` documents it (the in-memory names renamed; the header checked)."""
    frame = frame.reset_index() if index else frame
    if not len(frame.columns):  # no rows at all (a release without decisions): the header alone
        frame = pd.DataFrame(columns=[c.source for c in spec.columns])
    to_file(frame, spec).to_csv(path, index=False)


def rename_row(row: dict, spec: Table) -> dict:
    """One row (a JSON record) with the file's names, in the same order."""
    names = spec.renames()
    return {names.get(key, key): value for key, value in row.items()}


def from_file(row: dict, spec: Table | None) -> dict:
    """One row read from a file (CSV or JSON) with the in-memory names back (readers, such as the report)."""
    if spec is None:
        return row
    names = {c.name: c.internal for c in spec.columns if c.internal}
    return {names.get(key, key): value for key, value in row.items()}


def from_format_1(frame: pd.DataFrame, spec: Table) -> pd.DataFrame:
    """A table written in results format 1 with today's names. Format 1 wrote the in-memory names, so
    `renames()` maps them; a table already in today's names passes unchanged."""
    return frame.rename(columns=spec.renames())


def to_memory(frame: pd.DataFrame, spec: Table) -> pd.DataFrame:
    """A table read from a file, in today's names or in format 1's, with the in-memory names (one reader for
    both: format 1 wrote the in-memory names)."""
    return frame.rename(columns={c.name: c.internal for c in spec.columns if c.internal})
