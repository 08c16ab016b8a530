"""The fast p2p engine: a swarm of many hosts moved forward in rounds, counting pieces, not naming them.

A round lasts the time one connection takes to move one piece when a host's upload is shared by its
`connections` (tau = piece / min(per_flow, upload / connections)). In each round:

- the origin seeders send at most their egress worth of pieces and the extra seed boxes theirs; every
  host holding at least one whole piece sends up to one piece per connection (so a host must hold a
  piece a round before it passes it on: store and forward, which gives the log2 N ramp);
- every host in the swarm takes at most its download rate worth of pieces (and one piece per
  connection); hosts served in one round are at most `connections` per sender (seeders included);
- no host holds more distinct pieces than the seeders have sent so far (with `random` piece
  selection, the distinct pieces sent grow like a coupon collector's; with rarest-first, every piece a
  seeder sends is new until all are out);
- a host whose agent drops out (at `drop_at` pieces) leaves at the end of that round with those pieces
  and comes back `rejoin` seconds later (rounded like a join);
- when senders cannot serve every request, the hosts with the fewest pieces are served first (ties by a
  per-host random rank): rarest-first and a random peer set spread pieces about evenly.

So no round moves more bytes than the swarm's upload, no host downloads faster than its limit, and the
first copy of every piece leaves a seeder: the engine never beats the Kurose-Ross bound
max(F/u_s, F/d_min, N*F/(u_s + sum u_i)). A host's times are round boundaries (its join rounded up, its
last piece at the end of a round). Each round costs O(hosts in the swarm); a deploy takes about
pieces/connections + log_(connections+1)(N) rounds. `sim.deploy.swarm_reference` is the piece-level
SimPy model this is held to (docs/p2p.md).
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from sim.deploy.swarm_links import ZoneLinks
from sim.deploy.swarm_plan import SwarmPlan, SwarmTimes, peer_set_outside


def round_length(plan: SwarmPlan) -> float:
    """Seconds one connection takes to move one piece when a host's upload is shared by all its connections."""
    return plan.piece / min(plan.flow_cap, plan.upload / plan.connections)


def run_swarm(plan: SwarmPlan, start: float) -> SwarmTimes:
    """Run the swarm from the key's commit at `start`; per-host times are absolute (seconds from the deploy's start)."""
    n, pieces, k = plan.hosts, plan.pieces, plan.connections
    tau = round_length(plan)
    per_round = tau / plan.piece  # pieces one byte per second moves in a round
    # pieces each host can take in a round (the same for all unless their download rates spread)
    spread = plan.download_share is not None
    takes = np.minimum(float(k), np.minimum(plan.host_download(), k * plan.flow_cap) * per_round)
    flow_pieces = plan.flow_cap * per_round
    seeder_pieces = min(plan.seeder_rate, k * plan.flow_cap) * per_round
    extra_pieces = min(plan.extra_rate, k * plan.flow_cap) * per_round
    fixed = plan.seeders + plan.extra_seeders
    rank = np.random.default_rng(plan.seed).permutation(n)
    # hosts in join order; a host joining inside a round takes the rest of that round's share
    joins = np.flatnonzero(~np.isnan(plan.join))
    at = plan.join[joins] / tau
    join_round = np.floor(at + 1e-9).astype(np.int64)
    by_join = np.argsort(at, kind="stable")
    joins, join_round, late = joins[by_join], join_round[by_join], (at - join_round)[by_join]
    end = np.full(n, np.nan)  # in rounds since the key's commit
    seed_rounds = plan.seed_time / tau
    ids, held, credit, offset, take = np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0)
    leave_at: list[float] = []  # rounds at which finished hosts stop seeding, in the order they finished
    distinct, o_credit, x_credit, p_credit, origin_pieces = 0.0, 0.0, 0.0, 0.0, 0.0
    from_extras, received = 0.0, 0  # pieces the seed boxes sent, and pieces hosts got, so far
    drop_at = None if plan.drop_at is None else plan.drop_at.copy()  # -1 once a host has dropped out
    links = ZoneLinks.of(plan, tau)
    zone = np.zeros(n, np.int64) if plan.zone is None else plan.zone
    returning: list[tuple[float, int, int]] = []  # heap of (round it joins again, host, pieces it holds)
    next_join, r, left = 0, 0, 0
    while True:
        if next_join < len(joins) and join_round[next_join] <= r:  # hosts joining this round
            stop = int(np.searchsorted(join_round, r, side="right"))
            ids = np.concatenate((ids, joins[next_join:stop]))
            held = np.concatenate((held, np.zeros(stop - next_join, np.int64)))
            take = np.concatenate((take, takes[joins[next_join:stop]]))
            credit = np.concatenate((credit, -late[next_join:stop] * take[len(credit):]))
            offset = np.concatenate((offset, late[next_join:stop]))
            next_join = stop
        while returning and math.floor(returning[0][0] + 1e-9) <= r:  # hosts back after dropping out
            at_round, host, holding = heapq.heappop(returning)
            back = at_round - math.floor(at_round + 1e-9)
            ids, held = np.append(ids, host), np.append(held, holding)
            take = np.append(take, takes[host])
            credit, offset = np.append(credit, -back * takes[host]), np.append(offset, back)
        if not len(ids):
            upcoming = [float(join_round[next_join])] if next_join < len(joins) else []
            upcoming += [math.floor(returning[0][0] + 1e-9)] if returning else []
            if not upcoming:
                break
            r = int(min(upcoming))
            continue
        while left < len(leave_at) and leave_at[left] <= r:
            left += 1
        downloading, seeding = int(np.count_nonzero(held)), len(leave_at) - left
        holders = downloading + seeding
        # each requesting host splits its download over its open connections (none to itself): a
        # sender's connection to it carries that share, so a fast seeder among many peers sends about
        # what a peer sends
        senders = fixed + holders
        per_host = min(float(k), float(fixed + seeding + max(downloading - 1, 0)), k * senders / len(ids))
        typical = float(take.mean()) if spread else float(takes[0])  # a receiving host's pieces per round
        per_conn = min(flow_pieces, typical / max(1.0, per_host))
        reach = min(k, len(ids)) * per_conn
        o_credit += plan.seeders * min(seeder_pieces, reach)
        x_credit += plan.extra_seeders * min(extra_pieces, reach)
        p_credit += (seeding * min(float(k), reach)
                     + downloading * min(float(k), min(k, len(ids) - 1) * per_conn))
        # whole pieces only; the origin's and the seed boxes' credits are floored together, so splitting
        # the same seeding rate over more senders never loses a piece to rounding
        from_origin = math.floor(o_credit + 1e-9)
        from_extra = math.floor(o_credit + x_credit + 1e-9) - from_origin
        from_peers = math.floor(p_credit + 1e-9)
        supply = from_origin + from_extra + from_peers
        reachable = _reachable(distinct, from_origin + from_extra, pieces, plan.piece_selection)
        credit += take
        whole = np.floor(credit + 1e-9)
        most = reachable
        if links is not None:
            zone_of = zone[ids]
            links.start_round(zone_of, offset)
            most = np.minimum(reachable, links.most(zone_of))
        caps = np.minimum(whole.astype(np.int64), most - held).clip(0)
        waiting_new = bool(np.any(reachable - held < whole))
        got = allocate(caps, held, rank[ids], supply, k * senders)
        if links is not None:
            got = links.trim(got, held, rank[ids], zone_of, from_origin + from_extra, from_peers, allocate)
        delivered = int(got.sum())
        received += delivered
        credit = np.minimum(credit - got, credit - whole)  # only the fraction of a piece carries over
        o_credit, x_credit, p_credit = o_credit - from_origin, x_credit - from_extra, p_credit - from_peers
        used = delivered / supply if supply else 0.0  # every sender is used alike ...
        held += got
        link_time = None if links is None else links.end_round(zone_of, got, held, from_origin + from_extra, from_peers)
        seeded = from_origin + from_extra
        # ... but the seeders sent at least what made the pieces no host had before this round
        sent = min(float(seeded), max(seeded * used, _sends_for(distinct, float(held.max(initial=0)), pieces,
                                                                 plan.piece_selection)))
        # hosts waiting for pieces no host has: the seeders send all they can (with random selection,
        # some are copies of pieces already out, which is what the distinct count allows for)
        advance = float(seeded) if waiting_new else sent
        origin_pieces += sent * from_origin / seeded if seeded else 0.0
        from_extras += sent * from_extra / seeded if seeded else 0.0
        # the seeders send this round's new pieces at their pace: a host needing them waits for them
        wait_new = _sends_for(distinct, float(pieces), pieces, plan.piece_selection) / seeded if seeded else 0.0
        distinct = _distinct_after(distinct, advance, pieces, plan.piece_selection)
        if drop_at is not None and plan.rejoin is not None:
            # agents failing part-way: gone at the end of the round with the pieces they held when they
            # failed (what they got past that point is lost), back after the time to notice and their
            # back-off if they have an attempt left
            dropping = (drop_at[ids] >= 0) & (held >= drop_at[ids])
            if dropping.any():
                gone = ids[dropping]
                kept_pieces = drop_at[gone]
                received -= int((held[dropping] - kept_pieces).sum())
                drop_at[gone] = -1
                for host, kept in zip(gone.tolist(), kept_pieces.tolist()):
                    if not np.isnan(plan.rejoin[host]):
                        heapq.heappush(returning, (r + 1 + plan.rejoin[host] / tau, host, kept))
                keep = ~dropping
                ids, held, credit, offset, take = ids[keep], held[keep], credit[keep], offset[keep], take[keep]
                got = got[keep]
        complete = held >= pieces
        if complete.any():
            # the last pieces land when the host's download, the senders' round (when they ran short) and
            # the seeders' new pieces (when the last ones went out this round) have all moved them
            share = np.maximum(offset[complete] + got[complete] / take[complete], max(used, wait_new))
            done_ids = ids[complete]
            if link_time is not None:  # ... and their zone's link has carried its part of the round
                share = np.maximum(share, link_time[zone[done_ids]])
            end[done_ids] = r + np.minimum(share, 1.0)
            leave_at.extend((end[done_ids] + seed_rounds).tolist())
            leave_at.sort()
            keep = ~complete
            ids, held, credit, offset, take = ids[keep], held[keep], credit[keep], offset[keep], take[keep]
        offset[:] = 0.0
        r += 1
    peer_pieces = max(0.0, received - origin_pieces - from_extras)
    across = peer_pieces * cross_zone_share(plan)
    if plan.peers == "zone_first":  # each piece enters a zone once: what the seeders did not bring in
        across = min(across, max(0.0, zones_joined(plan) * pieces - origin_pieces - from_extras))
    return _times(plan, start, tau, end, origin_pieces * plan.piece, across * plan.piece)


def zones_joined(plan: SwarmPlan) -> int:
    """Zones with at least one host that joins the swarm."""
    if plan.zone is None:
        return 1
    return len(np.unique(plan.zone[~np.isnan(plan.join)]))


def cross_zone_share(plan: SwarmPlan) -> float:
    """The share of the bytes hosts get from peers that cross zones, estimated as the share of a host's
    peer set in other zones, averaged over the hosts that join: with a tracker's random set, (J - n_z) /
    (J - 1) for a host of zone z (J hosts join, n_z of them in z); with `zone_first`, the part of the
    set (PEER_SET, or every other host when fewer) its own zone cannot fill."""
    if plan.zone is None:
        return 0.0
    joining = plan.zone[~np.isnan(plan.join)]
    hosts = len(joining)
    if hosts < 2:
        return 0.0
    counts = np.bincount(joining)
    counts = counts[counts > 0]
    return float((counts * peer_set_outside(counts, plan.peers)).sum() / hosts)


def _reachable(distinct: float, from_seeders: float, pieces: int, selection: str) -> int:
    """The most pieces any host can hold at the end of this round: those the seeders had sent, plus theirs now."""
    return int(math.floor(_distinct_after(distinct, from_seeders, pieces, selection) + 1e-9))


def _distinct_after(distinct: float, sent: float, pieces: int, selection: str) -> float:
    """Distinct pieces in the swarm after the seeders send `sent` more: rarest-first sends new pieces
    while any is missing; random selection draws pieces uniformly (expected distinct, a coupon collector's)."""
    if selection == "rarest_first":
        return float(min(pieces, distinct + sent))
    missing = (pieces - distinct) * (1.0 - 1.0 / pieces) ** sent if pieces > 1 else (0.0 if sent else pieces - distinct)
    return pieces - missing if missing >= 0.5 else float(pieces)


def _sends_for(distinct: float, target: float, pieces: int, selection: str) -> float:
    """Pieces the seeders must send to take the swarm from `distinct` to `target` distinct pieces."""
    if target <= distinct:
        return 0.0
    if selection == "rarest_first" or pieces == 1:
        return target - distinct
    if target >= pieces:
        target = pieces - 0.5  # `_distinct_after` rounds the last half piece up
    return math.log((pieces - target) / (pieces - distinct)) / math.log(1.0 - 1.0 / pieces)


def allocate(caps: np.ndarray, held: np.ndarray, rank: np.ndarray, supply: int, served: int) -> np.ndarray:
    """Pieces each requesting host gets this round: at most its cap, at most `supply` in all, at most
    `served` hosts; water-filled level by level (everyone one piece, then two, ...), the hosts with the
    fewest pieces (then the lowest rank) first when a level cannot be filled for everyone."""
    wanting = caps > 0
    if int(caps.sum()) <= supply and int(wanting.sum()) <= served:
        return caps
    got = np.zeros_like(caps)
    idx = np.flatnonzero(wanting)
    if not len(idx) or supply <= 0 or served <= 0:
        return got
    order = idx[np.lexsort((rank[idx], held[idx]))]
    order = order[:served]
    want = caps[order]
    counts = np.bincount(want)
    values = np.arange(len(counts))
    below = np.concatenate(([0], np.cumsum(values * counts)))[:-1]  # sum of caps under each level
    at_least = np.cumsum(counts[::-1])[::-1]  # hosts whose cap is at least each level
    filled = below + values * at_least  # pieces handed out if every host gets min(cap, level)
    level = int(np.searchsorted(filled, supply, side="right")) - 1
    share = np.minimum(want, level)
    extra = supply - int(share.sum())
    if extra > 0:
        more = np.flatnonzero(want > level)[:extra]
        share[more] += 1
    got[order] = share
    return got


def _times(plan: SwarmPlan, start: float, tau: float, end: np.ndarray, origin_bytes: float,
           cross_zone_bytes: float) -> SwarmTimes:
    transfer_end = start + end * tau
    return SwarmTimes(signal=start + plan.join, transfer_start=start + plan.join, transfer_end=transfer_end,
                      done=transfer_end + plan.post, attempts=plan.attempts, origin_bytes=origin_bytes,
                      cross_zone_bytes=cross_zone_bytes)
