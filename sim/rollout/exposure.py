"""Which hosts serve which build, when: the facts from which each interval's cohorts are computed.

Times are seconds since the branch cut; a host that will never go live has start = inf. Builds go live host by host at times the wave kernel computed (future times are known when a wave
starts); a rollback or a cancelled wave cuts them short. Each host carries a request weight
(production 1, dogfood a fraction, staging 0: no public traffic).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Segment:
    """Hosts of one build: live from `start` until `end` (inf: still live); `onset` after start the
    bad effect shows (inf: never)."""

    build: int
    hosts: np.ndarray
    start: np.ndarray
    end: np.ndarray
    onset: np.ndarray
    weight: np.ndarray  # each host's request weight


@dataclass
class FleetExposure:
    """Mutable record of go-live and roll-back times, owned by one release simulation."""

    weight: np.ndarray
    segments: list[Segment] = field(default_factory=list)
    version: int = 0  # bumped by every change, so computations ahead of time know when to redo


    def go_live(self, build: int, hosts: np.ndarray, start: np.ndarray, onset: np.ndarray) -> None:
        self.version += 1
        ok = ~np.isnan(start)
        if ok.all():  # (fancy indexing copies; so does this, once)
            hosts, start, onset = hosts.copy(), start.copy(), np.array(onset, dtype=float)
        else:
            hosts, start, onset = hosts[ok], start[ok], np.asarray(onset, dtype=float)[ok]
        self.segments.append(Segment(build, hosts, start, np.full(len(hosts), np.inf), onset, self.weight[hosts]))

    def cancel_pending(self, now: float) -> int:
        """Hosts that had not gone live yet never will (the wave was stopped). Returns how many."""
        self.version += 1
        cancelled = 0
        for seg in self.segments:
            pending = (seg.start > now) & np.isfinite(seg.start)
            cancelled += int(pending.sum())
            seg.start[pending] = np.inf  # never live
            seg.end[pending] = np.inf
        return cancelled

    def live_hosts(self, build: int, now: float) -> np.ndarray:
        """Host indices serving `build` at `now`."""
        found = [s.hosts[(s.start <= now) & (s.end > now)] for s in self.segments if s.build == build]
        return np.concatenate(found) if found else np.empty(0, dtype=np.int64)

    def live_count(self, build: int, now: float, among: np.ndarray) -> int:
        """How many hosts of the mask `among` serve `build` at `now`."""
        return int(self.live_counts(build, np.array([now]), among)[0])

    def live_counts(self, build: int, times: np.ndarray, among: np.ndarray) -> np.ndarray:
        """How many hosts of the mask `among` serve `build` at each of `times`: those live by then
        (start <= t) less those whose end has come (end <= t; a host ends only after it starts)."""
        found = [(s.start[among[s.hosts]], s.end[among[s.hosts]]) for s in self.segments if s.build == build]
        if not found:
            return np.zeros(len(times), dtype=np.int64)
        starts = np.sort(np.concatenate([f[0] for f in found]))
        ends = np.sort(np.concatenate([f[1] for f in found]))
        return np.searchsorted(starts, times, side="right") - np.searchsorted(ends, times, side="right")

    def peak_share(self, builds: set[int], until: float) -> float:
        """The largest share of the fleet's request weight served by `builds` at any instant up to `until`.

        A host's share changes only when it starts or ends, so the peak is read at those instants (and
        at `until`), each from the hosts live then: start <= t < end."""
        chosen = [s for s in self.segments if s.build in builds]
        total = float(self.weight.sum())
        if not chosen or total <= 0:
            return 0.0
        start = np.concatenate([s.start for s in chosen])
        end = np.concatenate([s.end for s in chosen])
        weight = np.concatenate([s.weight for s in chosen])
        instants = np.concatenate([start[start <= until], end[end <= until], [until]])
        live = _weight_by(start, weight, instants) - _weight_by(end, weight, instants)  # (an end follows its start)
        return float(live.max()) / total

    def end(self, build: int, hosts: np.ndarray, at: np.ndarray) -> None:
        """These hosts stop serving `build` at the given times (NaN: they could not be rolled back)."""
        self.version += 1
        if not len(hosts):
            return
        when = np.full(len(self.weight), np.nan)  # by host: its end time, NaN where it does not end now
        when[hosts] = at  # (a host appears once in a wave)
        for seg in self.segments:
            if seg.build != build:
                continue
            new_end = when[seg.hosts]
            change = ~np.isnan(new_end) & (seg.end == np.inf)
            seg.end[change] = new_end[change]

    def host_seconds_many(self, a: np.ndarray, b: np.ndarray, builds: set[int] | None = None,
                          after_onset: bool = False) -> np.ndarray:
        """Weighted host-seconds in each interval [a_k, b_k] served by the given builds (default: all).

        Each host serves from its start (plus its onset, with `after_onset`) to its end, so the
        host-seconds up to x are the integral of a step function, read from sorted prefix sums in
        O((hosts + intervals) log hosts); an interval no host overlaps is exactly 0."""
        chosen = [s for s in self.segments if builds is None or s.build in builds]
        if not chosen:
            return np.zeros(len(a))
        by_weight: dict[float | None, list] = {}  # most waves move hosts of one tier (one weight)
        for seg in chosen:
            w = seg.weight
            key = float(w[0]) if len(w) and (w == w[0]).all() else None
            by_weight.setdefault(key, []).append(seg)
        parts = []
        for key, segs in by_weight.items():
            if key == 0.0:
                continue  # hosts that serve no requests (staging)
            start = np.concatenate([s.start + s.onset if after_onset else s.start for s in segs])
            end = np.concatenate([s.end for s in segs])
            weight = np.concatenate([s.weight for s in segs])
            keep = (start < end) & (weight > 0)
            parts.append((start[keep], end[keep], key if key is not None else weight[keep]))
        return served_between(parts, np.asarray(a, float), np.asarray(b, float))


def _weight_by(times: np.ndarray, weight: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Total weight of the entries whose time is <= each of `at`."""
    order = np.argsort(times, kind="stable")
    cumulative = np.concatenate([[0.0], np.cumsum(weight[order])])
    return cumulative[np.searchsorted(times[order], at, side="right")]


def served_between(parts: list[tuple], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum_i weight_i * overlap([start_i, end_i), [a_k, b_k]) for every k, over parts (start, end,
    weight) whose weight is one number or one per host (start < end; end may be inf).

    With I(x) = sum_i w_i (x - s_i)+ - sum_i w_i (x - e_i)+ the overlap is I(b) - I(a); the sums come
    from prefix sums over the sorted starts and the sorted finite ends (a plain sort where the weight
    is one number). An interval no host overlaps is exactly 0."""
    total = np.zeros(len(a))
    overlapping = np.zeros(len(a), dtype=np.int64)
    for start, end, weight in parts:
        s_sorted, s_weight, s_moment = _prefix(start, weight)
        j_b, j_a = np.searchsorted(s_sorted, b, side="left"), np.searchsorted(s_sorted, a, side="left")
        total += (b * s_weight[j_b] - s_moment[j_b]) - (a * s_weight[j_a] - s_moment[j_a])
        overlapping += j_b  # hosts started before b ...
        finite = np.isfinite(end)
        if finite.any():  # ... less those that ended by a (most hosts never end within a release)
            ended_weight = weight[finite] if isinstance(weight, np.ndarray) else weight
            e_sorted, e_weight, e_moment = _prefix(end[finite], ended_weight)
            m_b, m_a = np.searchsorted(e_sorted, b, side="left"), np.searchsorted(e_sorted, a, side="left")
            total -= (b * e_weight[m_b] - e_moment[m_b]) - (a * e_weight[m_a] - e_moment[m_a])
            overlapping -= np.searchsorted(e_sorted, a, side="right")
    return np.where(overlapping > 0, np.maximum(total, 0.0), 0.0)


def _prefix(times: np.ndarray, weight: float | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted times, and the prefix sums of their weights and of weight x time (from 0)."""
    if not isinstance(weight, np.ndarray):  # one weight for all (numpy's `isscalar` stubs narrow a float away)
        ordered = np.sort(times)
        return (ordered, weight * np.arange(len(ordered) + 1, dtype=float),
                np.concatenate([[0.0], np.cumsum(weight * ordered)]))
    order = np.argsort(times)
    ordered, w = times[order], weight[order]
    return ordered, np.concatenate([[0.0], np.cumsum(w)]), np.concatenate([[0.0], np.cumsum(w * ordered)])
