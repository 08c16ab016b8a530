"""The sequential gate (`variance: binomial`) against references that do not reuse its code.

1. Its likelihood ratios and decisions on a small stream of counts, computed here by hand from the
   model in `sim/policies/sequential.py`'s docstring: given m errors in an interval, the new cohort's
   share x is Binomial(m, s) under H0 and Binomial(m, theta) if its error rate is rho times the old's.
2. Its false-rejection rate on good builds in a regime where Ville's bound is nearly attained, so the
   rate sits close enough to alpha that a gate rejecting at 2 alpha is caught.
3. Its decisions and reasons: alpha as a strict threshold, the count, the action on failure, the rule
   text; intervals that carry no evidence; the stable mixture.
4. `variance: baseline`: blocks, log ratios and the t-mixture on a small stream, worked out from the
   module docstring's closed form in S1 and sum D^2 (not the running mean the module keeps), and the
   t-mixture's scale invariance.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.policies import check, parse_policy, start
from sim.policies.sequential import interval_log_lr, mixture, t_mixture
from sim.policies.window import window_of

# A three-point mixture over rho = 1.5, 3, 6 (log-evenly spaced: 3 is the geometric mean of 1.5 and 6).
SMALL = {"semantics": "sequential", "alpha": 0.05, "min_ratio": 1.5, "max_ratio": 6.0, "points": 3}
RHOS = (1.5, 3.0, 6.0)
N_NEW, N_OLD = 1000, 3000  # requests per interval: the new cohort serves s = 1/4 of them

# (new requests, new errors, old requests, old errors) per interval, one list per check.
STREAM = [
    [(N_NEW, 10, N_OLD, 9)],   # M = 15.0: p = 0.0665, between alpha and 2 alpha -> continue
    [(N_NEW, 1, N_OLD, 8)],    # evidence the other way: M falls to 1.8, the p-value keeps its best
    [(N_NEW, 5, N_OLD, 0),     # M = 28.9: p = 0.0346 < alpha -> fail
     (N_NEW, 30, 0, 0),        # no old cohort in this interval: skipped (nothing to compare with)
     (N_NEW, 0, N_OLD, 0)],    # no errors: x | m = 0 says nothing
]


def binomial_log_pmf(x: int, m: int, q: float) -> float:
    return math.log(math.comb(m, x)) + x * math.log(q) + (m - x) * math.log(1 - q)


def log_lr_by_hand(n1: int, x: int, n0: int, y: int, rho: float) -> float:
    """log P(x | m, rate ratio rho) / P(x | m, equal rates), m = x + y: the new cohort's share of the
    expected errors is n1 / (n1 + n0) under H0 and rho n1 / (rho n1 + n0) under rho."""
    m = x + y
    if n1 == 0 or n0 == 0 or m == 0:
        return 0.0
    s, theta = n1 / (n1 + n0), rho * n1 / (rho * n1 + n0)
    return binomial_log_pmf(x, m, theta) - binomial_log_pmf(x, m, s)


def window(t: int, intervals: list[tuple]) -> object:
    n1, x, n0, y = zip(*intervals)
    return window_of(60.0 * (t + 1), new=(list(n1), list(x)), old=(list(n0), list(y)))


def test_likelihood_ratios_p_values_and_decisions_match_a_hand_computation():
    spec = parse_policy(SMALL)
    assert spec.ratios() == pytest.approx(RHOS, rel=1e-12)
    state, cumulative, best = start(spec), [0.0] * len(RHOS), 1.0
    expected_outcomes = ["continue", "continue", "fail"]
    for t, intervals in enumerate(STREAM):
        step = [sum(log_lr_by_hand(*counts, rho) for counts in intervals) for rho in RHOS]
        cumulative = [c + d for c, d in zip(cumulative, step)]
        mixture = sum(math.exp(c) for c in cumulative) / len(RHOS)  # equal weights over the grid
        best = max(best, mixture)
        p = min(1.0, 1.0 / best)
        w = window(t, intervals)
        assert interval_log_lr(spec.ratios(), w) == pytest.approx(step, rel=1e-12, abs=1e-12)
        state, verdict = check(spec, state, w)
        assert state.log_lr == pytest.approx(cumulative, rel=1e-12, abs=1e-12)
        assert state.best == pytest.approx(best, rel=1e-12)
        assert verdict.value == pytest.approx(p, rel=1e-12)
        assert verdict.outcome == ("fail" if p < spec.alpha else "continue") == expected_outcomes[t], (t, p)
    # The stream is chosen so the first check's p-value lies between alpha and 2 alpha: a gate rejecting
    # at a doubled (or otherwise loosened) threshold fails the first check instead of the third.
    assert spec.alpha < 1 / 15.0 < 2 * spec.alpha and state.checks == 3
    assert state.new_errors == 10 + 1 + 5 + 30 and state.old_errors == 9 + 8
    again, repeat = check(spec, state, window(3, [(N_NEW, 0, N_OLD, 50)]))
    assert repeat == verdict and again == state  # a decided gate keeps its decision


# False rejections of good builds. With the default mixture the gate is very conservative (about alpha/10
# in tests/policies/test_sequential.py), so a doubled threshold still stays far under alpha and no rate
# test could notice it. Here Ville's bound is nearly attained: one ratio (a plain SPRT martingale), ~5
# expected errors per cohort per check (small steps: log-LR sd 0.64 per check), and 40 checks (total
# variance ~17, long enough for nearly every path that will ever cross 1/alpha to have crossed). For a
# random walk that is a likelihood ratio, Siegmund's overshoot correction gives
# P(cross 1/alpha) ~ alpha exp(-0.583 sd) = 0.69 alpha: 0.137 at alpha 0.2 (measured 0.133 in 20,000
# streams of a vectorised copy of the test), and ~0.27 at the doubled threshold (measured: this seed gives
# 39/300 here, 76/300 with the threshold doubled). Alpha 0.2 keeps the number of streams small.
ALPHA = 0.2
SPRT = {"semantics": "sequential", "alpha": ALPHA, "min_ratio": 1.5, "max_ratio": 1.5, "points": 1}
STREAMS, CHECKS, REQUESTS, RATE = 300, 40, 1000, 0.005  # per cohort per check: 1,000 requests at 0.5%
# Test: pass if at most alpha x STREAMS = 60 streams reject, and more than a third of that.
# At the rate expected here (0.137) P(more than 60) = stats.binom.sf(60, 300, 0.137) = 0.001;
# a gate rejecting at p < 2 alpha (rate ~0.27) passes with probability stats.binom.cdf(60, 300, 0.27)
# = 0.003 (power 99.7%; 98% even at 0.253); at a true rate of exactly 2 alpha, with probability 1e-13.
# P(at most 20 | 0.137) = 9e-5: a gate that (almost) never rejects fails too.


def test_false_rejection_rate_on_good_builds_is_held_to_alpha_where_the_bound_is_nearly_tight():
    spec = parse_policy(SPRT)
    rng = np.random.default_rng(20261130)
    new_errors = rng.binomial(REQUESTS, RATE, (STREAMS, CHECKS))
    old_errors = rng.binomial(REQUESTS, RATE, (STREAMS, CHECKS))
    rejected = 0
    for r in range(STREAMS):
        state = start(spec)
        for t in range(CHECKS):
            state, verdict = check(spec, state, window(t, [(REQUESTS, new_errors[r, t], REQUESTS, old_errors[r, t])]))
            if verdict.outcome == "fail":
                rejected += 1
                break
    print(f"SPRT at alpha {ALPHA}: {rejected}/{STREAMS} good builds rejected in {CHECKS} checks")
    assert ALPHA * STREAMS / 3 < rejected <= ALPHA * STREAMS, rejected
    assert stats.binom.sf(ALPHA * STREAMS, STREAMS, 2 * ALPHA) > 1 - 1e-9  # 2 alpha would be caught


def test_alpha_is_a_strict_threshold_and_a_rejection_takes_the_gates_action():
    """The gate fails when p drops below alpha: at alpha equal to the p-value it keeps measuring."""
    first = window(0, STREAM[0])
    p = check(parse_policy(SMALL), start(parse_policy(SMALL)), first)[1].value  # 1 / 15.03
    at = parse_policy({**SMALL, "alpha": p})
    assert check(at, start(at), first)[1].outcome == "continue"
    above = parse_policy({**SMALL, "alpha": 0.07, "action_on_fail": "pause"})
    state, verdict = check(above, start(above), first)
    assert (verdict.outcome, verdict.action, verdict.metric, verdict.measurement) == ("fail", "pause", "error_rate",
                                                                                        "failure")
    assert verdict.rule == ("reject: new error rate higher; always-valid p 0.06653 vs alpha 0.07 "
                            "(mixture LR 15.03; errors new 10, old 9)")
    assert state.final == verdict and check(above, state, window(1, STREAM[1])) == (state, verdict)


def test_the_count_passes_at_exactly_that_check_and_says_so():
    spec = parse_policy({**SMALL, "count": 2})
    state, first = check(spec, start(spec), window(0, STREAM[0]))
    assert (first.outcome, first.action, first.metric, first.measurement) == ("continue", "none", "error_rate",
                                                                              "inconclusive")
    assert first.rule == "always-valid p 0.06653 vs alpha 0.05 (mixture LR 15.03; errors new 10, old 9)"
    state, second = check(spec, state, window(1, STREAM[1]))
    assert (second.outcome, second.action, second.metric, second.measurement) == ("pass", "none", "error_rate",
                                                                                    "inconclusive")
    assert second.value == first.value  # the p-value keeps its best
    assert second.rule == ("count 2 reached without rejecting; always-valid p 0.06653 vs alpha 0.05 "
                           "(mixture LR 15.03; errors new 11, old 17)")
    assert state.checks == 2 and check(spec, state, window(2, STREAM[2])) == (state, second)  # decided: stays


@pytest.mark.parametrize("variance", ["binomial", "baseline"])
def test_intervals_without_both_cohorts_or_without_errors_carry_no_evidence(variance):
    """x | m compares the cohorts: an interval where one of them served nothing (whatever its errors),
    or with no errors at all, leaves every log likelihood ratio and the open block as they were."""
    spec = parse_policy({"semantics": "sequential", "variance": variance, "points": 3})
    useful = [(N_NEW, 4, N_OLD, 8)]
    empty = [(0, 0, N_OLD, 7), (N_NEW, 30, 0, 0), (0, 0, 0, 0), (N_NEW, 0, N_OLD, 0)]
    assert interval_log_lr(spec.ratios(), window(0, empty)).tolist() == [0.0, 0.0, 0.0]
    plain, _ = check(spec, start(spec), window(0, useful))
    padded, _ = check(spec, start(spec), window(0, empty[:2] + useful + empty[2:]))
    assert padded.log_lr == plain.log_lr and padded.pending == plain.pending and padded.best == plain.best
    assert (padded.new_errors, padded.old_errors) == (4 + 30, 8 + 7)  # every error is reported, used or not


def test_an_interval_with_a_single_request_or_a_single_error_still_counts():
    """A cohort that served one request is a cohort, and one error is evidence: x | m = 1 is Bernoulli(s)."""
    tiny = [(1, 1, 3, 0),  # s = 1/4 and the new cohort's only request failed: log(theta / s) per rho
            (3, 0, 1, 1)]  # s = 3/4 and the old cohort's only request failed: log((1 - theta) / (1 - s))
    spec = parse_policy(SMALL)
    expected = []
    for rho in RHOS:
        first, second = rho / (rho + 3), 3 * rho / (3 * rho + 1)  # theta = rho s / (rho s + 1 - s)
        expected.append(math.log(first / 0.25) + math.log((1 - second) / 0.25))
        assert expected[-1] == pytest.approx(log_lr_by_hand(*tiny[0], rho) + log_lr_by_hand(*tiny[1], rho))
    assert interval_log_lr(spec.ratios(), window(0, tiny)) == pytest.approx(expected, rel=1e-12)
    base = parse_policy(BASE)
    state, _ = check(base, start(base), window(0, tiny))
    assert state.pending == (1, 1, 1.0, 1.0)  # e1 = 1/4 + 3/4 and e0 = 3/4 + 1/4: the block stays open


# ---- `variance: baseline` -------------------------------------------------------------------------------
# The t-mixture over three prior scales 0.3, 0.9, 2.7 (log-evenly spaced), blocks closed at 5 expected errors
# per cohort. With s = 1/4 (1,000 new and 3,000 old requests), a block holds m errors with e1 = m/4 and
# e0 = 3m/4, so it closes once m reaches 20, and its log ratio is D = log((x + 1/2) / (y + 1/2)) + log 3.
BASE = {"semantics": "sequential", "variance": "baseline", "alpha": 0.05, "min_effect": 0.3, "max_effect": 2.7,
        "points": 3, "block_errors": 5}
EFFECTS = (0.3, 0.9, 2.7)
L3 = math.log(3)
BASE_STREAM = [  # (intervals of the check, blocks it closes, the open block after it: x, y, e1, e0)
    ([(N_NEW, 4, N_OLD, 8),       # m = 12: e1 = 3, e0 = 9, not yet
      (0, 0, N_OLD, 7),           # no new cohort: skipped
      (N_NEW, 30, 0, 0),          # no old cohort: skipped
      (N_NEW, 3, N_OLD, 5),       # m = 20 in all: e1 = 5 exactly, closes with x = 7, y = 13
      (N_NEW, 0, N_OLD, 0),       # no errors: skipped
      (N_NEW, 6, N_OLD, 6)],      # opens the next block
     [math.log(7.5 / 13.5) + L3], (6, 6, 3.0, 9.0)),
    ([(N_NEW, 5, N_OLD, 3)], [math.log(11.5 / 9.5) + L3], (0, 0, 0.0, 0.0)),  # x = 11, y = 9
    ([(N_NEW, 9, N_OLD, 11), (N_NEW, 10, N_OLD, 10), (N_NEW, 8, N_OLD, 12)],
     [math.log(9.5 / 11.5) + L3, L3, math.log(8.5 / 12.5) + L3], (0, 0, 0.0, 0.0)),
    ([(N_NEW, 10, N_OLD, 10)], [L3], (0, 0, 0.0, 0.0)),
]


def t_mixture_by_hand(d: list[float], effects=EFFECTS) -> float:
    """M_n from the module docstring's closed form in S1 and sum D^2 (no running mean): the average over
    g = effect^2 of (1 + n g)^((n-1)/2) (1 + n g (1 - Q))^(-n/2), Q = S1^2 / (n sum D^2); 1 for n < 2."""
    n, s1, s2 = len(d), sum(d), sum(v * v for v in d)
    if n < 2:
        return 1.0
    q = s1 * s1 / (n * s2)
    return sum((1 + n * g * g) ** ((n - 1) / 2) * (1 + n * g * g * (1 - q)) ** (-n / 2) for g in effects) / len(effects)


def test_baseline_blocks_log_ratios_and_t_mixture_match_a_hand_computation():
    spec = parse_policy(BASE)
    assert spec.effects() == pytest.approx(EFFECTS, rel=1e-12)
    state, blocks, best = start(spec), [], 1.0
    outcomes, rules = [], []
    for t, (intervals, closed, pending) in enumerate(BASE_STREAM):
        blocks += closed
        best = max(best, t_mixture_by_hand(blocks) if sum(blocks) > 0 else 1.0)
        state, verdict = check(spec, state, window(t, intervals))
        assert (state.blocks, state.pending) == (len(blocks), pending), t
        assert state.mean == pytest.approx(np.mean(blocks), rel=1e-12)
        assert state.squares == pytest.approx(np.var(blocks) * len(blocks), rel=1e-9, abs=1e-15)
        assert state.best == pytest.approx(best, rel=1e-12)
        assert verdict.value == pytest.approx(min(1.0, 1 / best), rel=1e-12)
        outcomes.append(verdict.outcome)
        rules.append(verdict.rule)
    assert outcomes == ["continue", "continue", "continue", "fail"]
    # the values, worked out from the blocks listed above: p = 1 / M (one block: no evidence yet);
    # after 5 blocks M = 18.57, p = 0.0539 lies between alpha and 2 alpha (the grid is not symmetric
    # under g -> 1/g: with 1/0.3, 1/0.9, 1/2.7 the gate would fail here, at p = 0.0487)
    assert rules == [
        "always-valid p 1 vs alpha 0.05 (t-mixture 1; 1 blocks, log ratio mean +0.511 sd nan; errors new 43, old 26)",
        "always-valid p 0.8469 vs alpha 0.05 (t-mixture 1.181; 2 blocks, log ratio mean +0.9 sd 0.551; "
        "errors new 48, old 29)",
        "always-valid p 0.05385 vs alpha 0.05 (t-mixture 18.57; 5 blocks, log ratio mean +0.904 sd 0.307; "
        "errors new 75, old 62)",
        "reject: new error rate higher; always-valid p 0.01347 vs alpha 0.05 (t-mixture 74.22; 6 blocks, "
        "log ratio mean +0.936 sd 0.286; errors new 85, old 72)",
    ]


def test_baseline_counts_no_evidence_while_the_new_build_looks_no_worse():
    """The mixture is counted only while S1 > 0: blocks favouring the new build leave p at exactly 1."""
    spec = parse_policy(BASE)
    state = start(spec)
    for t, (x, y) in enumerate([(2, 18), (3, 17), (4, 16)]):  # D = log(2.5/17.5) + log 3 < 0, and so on
        state, verdict = check(spec, state, window(t, [(N_NEW, x, N_OLD, y)]))
        assert verdict.value == 1.0 and state.best == 1.0 and verdict.outcome == "continue"
    assert state.blocks == 3 and state.mean < 0


@pytest.mark.parametrize("n", [2, 3, 7])
def test_the_t_mixture_depends_on_the_data_only_through_t(n):
    """Scale invariance: multiplying every log ratio by c leaves the evidence unchanged (c^2 on the
    squares); a sample of zeros carries the evidence of t = 0, below 1."""
    effects = np.array(EFFECTS)
    rng = np.random.default_rng(n)
    d = rng.normal(0.4, 1.0, n)
    reference = t_mixture_by_hand(list(d))
    for c in (1e-4, 0.05, 1.0, 30.0):
        mean, squares = c * d.mean(), c * c * float(np.sum((d - d.mean()) ** 2))
        assert t_mixture(effects, n, mean, squares) == pytest.approx(reference, rel=1e-9)
    at_zero = float(np.mean((1 + n * effects**2) ** -0.5))  # Q = 0: (1 + ng)^((n-1)/2 - n/2)
    assert t_mixture(effects, n, 0.0, 1.0) == pytest.approx(at_zero, rel=1e-12)
    assert t_mixture(effects, n, 0.0, 0.0) == pytest.approx(at_zero, rel=1e-12)
    assert t_mixture(effects, 1, 5.0, 0.0) == 1.0 and t_mixture(effects, 0, 0.0, 0.0) == 1.0


def test_mixture_is_the_average_of_likelihood_ratios_even_beyond_floating_point_range():
    assert mixture(np.array([0.0, math.log(3.0), math.log(8.0)])) == pytest.approx(4.0, rel=1e-12)
    assert mixture(np.array([-1.0, -3.0])) == pytest.approx((math.exp(-1) + math.exp(-3)) / 2, rel=1e-12)
    # A log likelihood ratio of 700 or more (close to where exp overflows a double, at 709.78) is reported
    # as an infinite ratio, p = 0, rather than overflowing inside the average
    assert mixture(np.array([700.0])) == math.inf and mixture(np.array([700.5, 0.0])) == math.inf
    assert mixture(np.array([1e4, 0.0])) == math.inf
    assert mixture(np.array([699.0])) == pytest.approx(math.exp(699), rel=1e-12)
    # large but representable: e^600 (1 + e^-1) / 2, not lost to overflow of a naive exp sum
    assert mixture(np.array([600.0, 599.0])) == pytest.approx(math.exp(600) * (1 + math.exp(-1)) / 2, rel=1e-12)
