"""The scenario model: what a scenario file may say, with defaults, ranges and units.

These frozen pydantic models are the single source of truth for the file format: the loader validates
against them, `deploysim schema` exports their JSON Schema, and docs/scenario-reference.md is generated
from them. Defaults cite docs/sources.md where a published number exists and say "guess" where
none does.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import Field, ValidationError, field_validator, model_serializer, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from sim.distributions import Constant, Distribution, LogNormal
from sim.policies import Policy
from sim.policies.measures import MappedMetric
from sim.quantities import NonNegativeDuration, Percent, PositiveRate, PositiveRates, PositiveSize, Share, Size
from sim.section import Section
from sim.spec.evaluation import Evaluation
from sim.spec.references import bad_references, line_error, located
from sim.spec.renamed import renamed_keys, without_renamed
from sim.spec.rollout import Build, CanaryStep, Commander, Incidents, Rollout, Schedule, Traffic

SCENARIO_VERSION = 1
MAX_HOSTS = 10_000_000
NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"


class Tiers(Section):
    """How many hosts of the fleet are in each pre-production tier; the rest is production."""

    staging: int = Field(0, ge=0)
    """Hosts in staging (production-like, no public traffic)."""
    dogfood: int = Field(0, ge=0)
    """Hosts serving employees only."""
    canary: Share = 0.02
    """Share of production hosts in the canary (Slack: about 2%; docs/sources.md)."""


class Growth(Section):
    """A fleet that grows every week, by a number of hosts (`per_week`) or by a share of itself
    (`percent_per_week`, compounding); `run` samples its size from `start` to the last week."""

    start: int = Field(10, ge=1, le=MAX_HOSTS)
    """Hosts in week 0."""
    per_week: int | None = Field(None, ge=1, le=MAX_HOSTS)
    """Hosts added each week (linear growth). Give this or `percent_per_week`."""
    percent_per_week: Percent | None = Field(None, gt=0)
    """Growth each week as a percent of the fleet (compounding: `5%` is 1.05 times a week). Give this or
    `per_week`."""
    weeks: int = Field(..., ge=1, le=10_000)
    """How many weeks of growth `run` covers."""
    points: int = Field(12, ge=2, le=200)
    """How many fleet sizes to simulate, spaced evenly on a log scale."""

    @model_validator(mode="after")
    def _one_rate(self) -> "Growth":
        given = [key for key in ("per_week", "percent_per_week") if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of per_week (hosts a week) and percent_per_week (a percent of the "
                             f"fleet a week, compounding); got {' and '.join(given) or 'neither'}")
        if self.log_size(self.weeks) > math.log(MAX_HOSTS) + 1e-12:
            rate = f"{self.per_week} hosts" if self.per_week else f"{self.percent_per_week:g}%"
            raise ValueError(f"the fleet would grow past {MAX_HOSTS:,} hosts (start {self.start:,}, {rate} a week, "
                             f"{self.weeks} weeks); give fewer weeks or a slower growth")
        return self

    def log_size(self, week: float) -> float:
        """The natural log of the fleet's size at `week` (a log, so that compounding never overflows)."""
        if self.per_week is not None:
            return math.log(self.start + self.per_week * week)
        return math.log(self.start) + week * self._log_rate()

    def sizes(self) -> list[int]:
        last = self.start + self.per_week * self.weeks if self.per_week is not None else \
            math.exp(self.log_size(self.weeks))
        raw = np.geomspace(self.start, last, self.points)
        return sorted({int(round(x)) for x in raw})

    def week_of(self, hosts: float) -> float:
        """The (fractional) week the fleet reaches `hosts`."""
        if self.per_week is not None:
            return (hosts - self.start) / self.per_week
        return math.log(hosts / self.start) / self._log_rate()

    def _log_rate(self) -> float:
        """log(1 + percent_per_week / 100): the weekly growth factor's log (compounding growth)."""
        assert self.percent_per_week is not None  # one of the two rates is given (_one_rate)
        return math.log1p(self.percent_per_week / 100)


class Fleet(Section):
    """The servers a build must reach."""

    hosts: int = Field(100, ge=1, le=MAX_HOSTS)
    """Fleet size for a single run (`sizes` or `growth`, when given, override it)."""
    sizes: list[Annotated[int, Field(ge=1, le=MAX_HOSTS)]] | None = Field(None, min_length=1)
    """Fleet sizes `run` simulates, for example [10, 100, 1000, 10000, 100000] (overrides `hosts` and `growth`)."""
    zones: int = Field(3, ge=1, le=1000)
    """Availability zones; hosts are spread round-robin."""
    tiers: Tiers = Tiers()
    growth: Growth | None = None
    """Optional weekly growth; when set, `run` sweeps the sizes it passes through."""


class Artifact(Section):
    """The build being shipped."""

    size: PositiveSize = 1.5e9
    """Bytes in the build (Facebook 2012: a ~1.5 GB binary; docs/sources.md)."""
    files: int = Field(12_000, ge=1, le=100_000_000)
    """Files in the build tree (drives rsync's file-list scan). Guess."""


class Network(Section):
    """Bottlenecks a transfer goes through. Flows through one bottleneck share it fairly (max-min)."""

    deploy_egress: PositiveRate = 1.25e9
    """The push deploy host's uplink, shared by all its rsyncs. 10Gbps: guess."""
    origin_egress: PositiveRate = 1.25e9
    """The artifact origin's uplink, shared by all pulling hosts (Kurose-Ross u_s). 10Gbps: guess."""
    per_flow: PositiveRate = 6.25e8
    """Ceiling on one TCP flow (AWS: 5 Gb/s outside a placement group; docs/sources.md)."""
    host_download: PositiveRate = 1.25e8
    """Each host's download rate (Kurose-Ross d_min). 1Gbps: guess."""
    zone_link: PositiveRates | None = None
    """Each zone's link to the origin and the deploy host, shared by the zone's pulls (and its cache's
    fill) or pushes, with every flow's rate max-min fair across the links it crosses (docs/zones.md).
    One rate for every zone, or a list with one per zone (`fleet.zones` of them). Default: no limit.
    p2p: every byte entering a zone from the seeders or another zone's hosts (docs/p2p.md)."""
    flow_share_p95: float = Field(1.0, ge=1.0, le=100.0)
    """Flows through one bottleneck do not share it evenly (TCP is not perfectly fair): each host's flow
    is weighted by W, lognormal with median 1 whose 95th percentile is this, and rates are weighted
    max-min fair under the per-flow cap, so some hosts finish well before others while the last still
    ends when the link has carried every byte (docs/bench.md, "Unequal shares"). Default 1: equal shares.
    Push and pull through one bottleneck (not with zone links, zone caches or zone waves). It costs
    O(flows in flight) per event: about N^2 / 2 steps for N hosts pulling at once."""

    def zone_links(self, zones: int) -> list[float]:
        """Each zone's link capacity (inf: no limit)."""
        if self.zone_link is None:
            return [math.inf] * zones
        return list(self.zone_link) if len(self.zone_link) > 1 else self.zone_link * zones


class Faults(Section):
    """Hosts that are down, fail transiently or straggle; failed attempts are retried with back-off."""

    down: Share = 0.0
    """Share of hosts unreachable for the whole deploy (every attempt fails)."""
    flaky: Share = 0.0
    """Probability that any one attempt fails transiently."""
    straggle: Share = 0.0
    """Share of hosts whose per-host work (connect, scan, verify, activation) is slow."""
    straggle_factor: float = Field(4.0, ge=1.0, le=1000.0)
    """How many times slower a straggler's per-host work is."""
    attempt_timeout: NonNegativeDuration = 10.0
    """Time a failed attempt costs before it is noticed (ssh connect timeout). Guess."""
    retries: int = Field(3, ge=0, le=100)
    """Retries after the first failed attempt before giving up on a host."""
    backoff: NonNegativeDuration = 5.0
    """Wait before the first retry (consul watch backs off 5 s x failures^2; docs/sources.md)."""
    backoff_factor: float = Field(2.0, ge=1.0, le=100.0)
    """Each further retry waits this many times longer."""

    def backoff_delays(self) -> np.ndarray:
        """Wait before retry r (r = 1..retries), as an array indexed r-1 (read-only, computed once)."""
        return _backoff_delays(self.backoff, self.backoff_factor, self.retries)


@functools.lru_cache(maxsize=64)
def _backoff_delays(backoff: float, factor: float, retries: int) -> np.ndarray:
    delays = backoff * factor ** np.arange(retries, dtype=float)
    delays.flags.writeable = False
    return delays


def _ssh_connect() -> LogNormal:
    return LogNormal(dist="lognormal", median=1.1, p95=1.7)


class PushStrategy(Section):
    """A deploy host runs rsync to each server: serially (`parallel: 1`) or k at a time."""

    kind: Literal["push"]
    parallel: int = Field(1, ge=1, le=MAX_HOSTS)
    """rsyncs in flight at once (pdsh 32, Etsy 30, Ansible 5; docs/sources.md)."""
    connect: Distribution = Field(default_factory=_ssh_connect)
    """Connection set-up per host (fresh ssh 1.1-1.7 s; docs/sources.md)."""
    scan_per_file: NonNegativeDuration = 30e-6
    """rsync's file-list scan and checksum cost per file. Guess."""
    delta: Share = 1.0
    """Share of the build's bytes rsync must send (100%: a fresh directory per release)."""
    activation: Distribution = Field(default_factory=lambda: LogNormal(dist="lognormal", median=2.0, p95=6.0))
    """Drain, switch the symlink to the cold directory, undrain. Guess."""
    connection_cpu: float = Field(0.0, ge=0.0, le=64.0)
    """Cores one connection keeps busy on the deploy host (ssh handshake and cipher, rsync's checksums).
    With c connections open at once (`parallel`, or the fleet when smaller) on `deploy_cores` cores, each
    host's connect, scan and activation take max(1, c x connection_cpu / deploy_cores) times as long: past
    the cores, a wider fan-out slows every connection. Default 0: the deploy host's CPU never binds. The
    bench measured about 0.8 on its 2 cores, both ends of each connection on the same machine
    (bench/recorded/2026-12-02, fan-outs 1-16)."""
    deploy_cores: int = Field(8, ge=1, le=4096)
    """The deploy host's CPU cores (used with `connection_cpu`). Guess."""


class PullStrategy(Section):
    """The deploy host writes a release key; every host's agent wakes and pulls from the origin."""

    kind: Literal["pull"]
    publish: Distribution = Field(default_factory=lambda: Constant(dist="constant", value=0.0))
    """Upload the build to the origin and wait until it is readable, before the key write. Default 0."""
    key_write: Distribution = Field(default_factory=lambda: LogNormal(dist="lognormal", median=0.010, p95=0.025))
    """Raft commit of the release key (about 10 ms, 7-25 ms measured; docs/sources.md)."""
    wakeup: Distribution = Field(default_factory=lambda: LogNormal(dist="lognormal", median=0.050, p95=0.200))
    """Key change to agent awake (blocking query return; 60 agents: p50 40-70 ms; docs/sources.md)."""
    verify_rate: PositiveRate = 5e8
    """SHA-256 verification speed on a host. Guess (500 MB/s)."""
    activation: Distribution = Field(default_factory=lambda: LogNormal(dist="lognormal", median=2.0, p95=6.0))
    """Unpack is overlapped with download; drain, switch, undrain. Guess."""
    zone_cache: PositiveRate | None = None
    """Pull through a regional cache in every zone, with this egress: the zone's first pull fills it once
    from the origin (across the zone's link, capped by `network.per_flow`), the zone's pulls wait for the
    fill and then download from the cache (docs/zones.md). Default: no caches, every pull from the origin."""
    by_zone: bool = False
    """Deploy zone by zone: the key is written for one zone at a time, the next zone's once every host of
    the previous one is done or has given up (each later write costs the same key write)."""


class PeerStrategy(Section):
    """Signalled like pull (a release key), distributed like Kraken, Murder or BitTorrent: the build in
    pieces, hosts downloading from the origin seeders and from each other (docs/p2p.md)."""

    kind: Literal["p2p"]
    publish: Distribution = Field(default_factory=lambda: Constant(dist="constant", value=0.0))
    """Upload the build to the origin seeders (and extra seeders) before the key write. Default 0."""
    key_write: Distribution = Field(default_factory=lambda: LogNormal(dist="lognormal", median=0.010, p95=0.025))
    """Raft commit of the release key (about 10 ms, 7-25 ms measured; docs/sources.md)."""
    wakeup: Distribution = Field(default_factory=lambda: LogNormal(dist="lognormal", median=0.050, p95=0.200))
    """Key change to agent awake, as for pull (60 agents: p50 40-70 ms; docs/sources.md)."""
    verify_rate: PositiveRate = 5e8
    """SHA-256 verification speed on a host. Guess (500 MB/s), as for pull."""
    activation: Distribution = Field(default_factory=lambda: LogNormal(dist="lognormal", median=2.0, p95=6.0))
    """Drain, switch, undrain. Guess, as for pull."""
    piece_size: Annotated[PositiveSize, Field(le=1e9)] = 4e6
    """Bytes per piece; a host uploads only pieces it holds whole (Kraken and BitTorrent: 4 MB; docs/sources.md)."""
    seeders: int = Field(1, ge=1, le=1000)
    """Origin seeders holding the build at the key write, each with `network.origin_egress` (Kraken's
    origin cluster; default 1: the origin alone). Their uploads are the origin bytes served."""
    extra_seeders: int = Field(0, ge=0, le=100_000)
    """Seed boxes outside the fleet that get the build with the publish step (not origin bytes)."""
    extra_seeder_egress: PositiveRate | None = None
    """Upload of each extra seeder. Default: `network.deploy_egress` (the deploy host as a seed box)."""
    upload: PositiveRate | None = None
    """Each host's upload limit. Default: equal to `download` (symmetric NICs; Kraken's example
    agent config caps upload at 2/3 of download, 200 vs 300 MB/s; docs/sources.md)."""
    download: PositiveRate | None = None
    """Each host's download limit. Default: `network.host_download` (Kurose-Ross d_min)."""
    download_p99_slowdown: float = Field(1.0, ge=1.0, le=100.0)
    """Hosts do not all reach their limit (disks, CPU, busy neighbours): each host downloads at
    `download / max(1, X)`, X lognormal with median 1 whose 99th percentile is this, so half the hosts
    run at the limit and the slowest 1% at most 1/this of it. Default 1: every host at its limit.
    Kraken's benchmark p99/p50, 18 s / 10 s, gives about 1.8 (docs/p2p.md)."""
    connections: int = Field(10, ge=1, le=1000)
    """Connections a host (seeders too) keeps open per build, for uploads and for downloads each
    (Kraken `max_open_conn`: 10; docs/sources.md). One flow is capped at `network.per_flow`."""
    piece_selection: Literal["rarest_first", "random"] = "rarest_first"
    """Which missing piece a host asks for: the rarest in the swarm (BitTorrent, Kraken) or any at random."""
    peers: Literal["tracker_random", "zone_first"] = "tracker_random"
    """How a host finds peers: a tracker's random peer set (Kraken), or a scheduler that fills the set with
    hosts of the host's own zone first (`zone_first`), so fewer bytes cross zones (`cross_zone_bytes`)."""
    seed_time: NonNegativeDuration = 300.0
    """How long a host keeps seeding after its download (Kraken `seeder_tti`: 5 min; Murder: 30 s;
    docs/sources.md)."""
    drop_out: Share = 0.0
    """Share of hosts whose agent fails part-way through the download (a crash or a reset): at a point
    drawn uniformly over its pieces it drops every connection, stops serving, and after
    `faults.attempt_timeout` and its next back-off joins again with the pieces it holds (BitTorrent and
    Kraken keep verified pieces on disk). The drop is one failed attempt: a host out of retries is given
    up on. Default 0."""


Strategy = Annotated[Union[PushStrategy, PullStrategy, PeerStrategy], Field(discriminator="kind")]


class Output(Section):
    """What the results folder keeps."""

    host_rows: Literal["first", "all", "none"] = "first"
    """Per-host rows: of the first replication only, of all, or none (many large fleets are millions)."""


class Bench(Section):
    """What each host of a real bench run may use (runc containers only; the simulator ignores it)."""

    host_cpu: float | None = Field(None, gt=0, le=1024)
    """CPU per host in cores (`0.5` = half a core: a cgroup CPU quota). Default: no limit."""
    host_memory: Annotated[Size, Field(ge=16e6, le=1e15)] | None = None
    """Memory per host (`256MB`: a cgroup memory limit; at least 16MB, a Consul agent needs more).
    Default: no limit."""


def _default_strategies() -> dict:
    return {
        "rsync-serial": PushStrategy(kind="push", parallel=1),
        "rsync-parallel-32": PushStrategy(kind="push", parallel=32),
        "consul-pull": PullStrategy(kind="pull"),
    }


DEFAULT_STRATEGIES = tuple(_default_strategies())


def _line_errors(error: ValidationError) -> list[InitErrorDetails]:
    """The errors of `error`, as they can be raised again together with others."""
    return [{"type": PydanticCustomError(e["type"], e["msg"], e.get("ctx")), "loc": e["loc"], "input": e["input"]}
            for e in error.errors(include_url=False)]


class Scenario(Section):
    """One scenario file."""

    version: Literal[1]
    """Format version of the scenario file."""
    name: str = Field(..., pattern=NAME_PATTERN, max_length=80)
    """Short name, used in results (lower case, digits, - _ .)."""
    description: str = ""
    seed: int | None = Field(None, ge=0, lt=2**128)
    """Root seed; omitted: drawn from the OS, printed and recorded."""
    replications: int = Field(1, ge=1, le=1_000_000)
    """Independent repetitions of every (strategy, fleet size)."""
    fleet: Fleet = Fleet()
    artifact: Artifact = Artifact()
    network: Network = Network()
    faults: Faults = Faults()
    strategies: dict[str, Strategy] = Field(default_factory=_default_strategies)
    """Deploy strategies to compare, by name."""
    output: Output = Output()
    bench: Bench | None = None
    """Limits on each host of a real bench run (`deploysim bench`); none: hosts share the machine."""
    rollout: Rollout | None = None
    """The release pipeline; when present, `run` simulates releases through it. Its `strategy` must name
    one of `strategies`."""
    gates: dict[str, Policy] = Field(default_factory=dict)
    """Rollback policies by name, used by rollout steps (`analysis.gates`, `background_gates`): every gate
    the rollout names must be here (with an `evaluation:` section, in every policy instead)."""
    traffic: Traffic = Traffic()
    build: Build = Build()
    incidents: Incidents = Incidents()
    commander: Commander = Commander()
    schedule: Schedule = Schedule()
    evaluation: Evaluation | None = None
    """Policies to compare on many releases (`deploysim evaluate`)."""
    metrics: dict[str, MappedMetric] = Field(default_factory=dict)
    """The measure each metric of an imported controller object is simulated as, by metric name (its
    query is not run): `success-rate: success_rate`, or with the query's unit `{measure: success_rate,
    scale: 100}` for a percentage. Measures: error_rate, success_rate, error_rate_ratio (new / old),
    latency (mean, seconds), latency_ratio, latency_p50, latency_p95, latency_p99 (see
    `sim.policies.measures`). Flagger's built-in metrics map
    themselves."""

    @model_serializer(mode="wrap")
    def _bench_only_when_set(self, handler):
        """Leave `bench` out of the effective scenario unless the file sets it, so the digest (and every
        recorded output) of a scenario without it is what it was before the section existed."""
        data = handler(self)
        if self.bench is None and isinstance(data, dict):
            data.pop("bench", None)
        return data

    @field_validator("strategies")
    @classmethod
    def _named(cls, strategies: dict) -> dict:
        if not strategies:
            raise ValueError("at least one strategy is needed")
        for name in strategies:
            if not re.match(NAME_PATTERN, name):
                raise ValueError(f"strategy name {name!r} must match {NAME_PATTERN}")
        return strategies

    @model_validator(mode="after")
    def _tiers_fit(self) -> "Scenario":
        tiers = self.fleet.tiers
        if tiers.staging + tiers.dogfood >= min(self.fleet_sizes()):
            raise located("Scenario", [(("fleet", "tiers"), tiers.model_dump(), (
                f"staging + dogfood ({tiers.staging + tiers.dogfood}) must leave production hosts in the "
                f"smallest fleet ({min(self.fleet_sizes())})"))])
        return self

    @model_validator(mode="after")
    def _a_link_per_zone(self) -> "Scenario":
        links = self.network.zone_link
        if links is not None and len(links) not in (1, self.fleet.zones):
            raise located("Scenario", [(("network", "zone_link"), links, (
                f"give one link per zone: fleet.zones is {self.fleet.zones}, the list has {len(links)} "
                "(or give one rate for every zone)"))])
        return self

    @model_validator(mode="after")
    def _unequal_shares_through_one_bottleneck(self) -> "Scenario":
        zoned = [f"strategies.{name}" for name, spec in self.strategies.items()
                 if isinstance(spec, PullStrategy) and (spec.zone_cache is not None or spec.by_zone)]
        if self.network.zone_link is not None:
            zoned.insert(0, "network.zone_link")
        if self.network.flow_share_p95 > 1.0 and zoned:
            raise located("Scenario", [(("network", "flow_share_p95"), self.network.flow_share_p95, (
                f"unequal shares are modelled through one bottleneck only, and {zoned[0]} adds zone links, "
                "caches or zone waves (allowed: 1 with those, or remove them)"))])
        return self

    @model_validator(mode="after")
    def _canary_gates_count_checks(self) -> "Scenario":
        """A canary step's gates are Flagger gates: the step counts their failed checks (`sim.rollout.canary`)."""
        if self.rollout is None:
            return self
        pipelines = [(("rollout",), self.rollout, "gates", self.gates)] if self.evaluation is None else [
            (("evaluation", "rollouts", name) if name in self.evaluation.rollouts else ("rollout",),
             self.evaluation.rollouts.get(name, self.rollout), f"evaluation.policies.{name}", gates)
            for name, gates in self.evaluation.policies.items()]
        problems = [((*at, "steps", i, "canary", "gates", j), name,
                     f"a canary step's gates need semantics: flagger ({name} is {spec.semantics} in {where})")
                    for at, pipeline, where, gates in pipelines
                    for i, step in enumerate(pipeline.steps) if isinstance(step, CanaryStep)
                    for j, name in enumerate(step.canary.gates)
                    if (spec := gates.get(name)) is not None and spec.semantics != "flagger"]
        if problems:
            raise located("Scenario", problems[:1])
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _references(cls, data, handler) -> "Scenario":
        """Names used across sections (`sim.spec.references`), checked on the data as written and reported
        together with every other problem, each at the reference itself."""
        if not isinstance(data, dict):
            return handler(data)
        bad = [line_error(b) for b in renamed_keys(data) + bad_references(data, DEFAULT_STRATEGIES)]
        try:
            scenario = handler(without_renamed(data))
        except ValidationError as error:
            raise ValidationError.from_exception_data(cls.__name__, [*_line_errors(error), *bad]) from None
        if bad:
            raise ValidationError.from_exception_data(cls.__name__, bad)
        return scenario

    def fleet_sizes(self) -> list[int]:
        """The fleet sizes a run simulates, ascending."""
        if self.fleet.sizes is not None:
            return sorted(set(self.fleet.sizes))
        if self.fleet.growth is not None:
            return self.fleet.growth.sizes()
        return [self.fleet.hosts]
