"""Evaluation rows and acceptance verdicts against hand counts and the definitions in docs/verdicts.md.

1. Jobs: the chunks of replications an evaluation is split into cover every release exactly once.
2. Draws: replication r's build comes from its stream "evaluation.mix" (checked against numpy's own
   SeedSequence, not the project's fast copy of it): bad with probability `bad_share`, its spike
   log-uniform between `spike.min` and `spike.max`; the same build for every policy.
3. Rows: one per release and policy, with the outcome's fields, `missed`, and error-budget minutes
   counted by hand on a small metric series.
4. Verdicts: pass / fail / uncertain at and around each bound, the bound's text, and the exit codes.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.evaluation.acceptance import Verdict, exit_code, judge, judge_one, rules, status_of
from sim.evaluation.engine import (
    OUTCOME_FIELDS,
    EvalJob,
    ReleaseDraw,
    build_of,
    draw_mix,
    plan_eval_jobs,
    row,
    run_eval_job,
    variant,
)
from sim.rollout.records import ReleaseOutcome
from sim.rollout.simulate import release_setup
from sim.spec.evaluation import Acceptance
from sim.streams import name_key
from tests.conftest import make_scenario

POLICIES = {"strict": {"g": {"semantics": "threshold", "metric": "error_rate", "max": "1.5%", "count": 1}},
            "loose": {"g": {"semantics": "threshold", "metric": "error_rate", "max": "3%", "count": 1}}}


def mix_scenario(**evaluation):
    return make_scenario(evaluation={"policies": POLICIES, **evaluation})


# ---- jobs -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("first", "count", "chunk", "expected"), [
    (0, 120, 50, [(0, 50), (50, 50), (100, 20)]),  # the last chunk holds the 20 left over
    (10, 100, 50, [(10, 50), (60, 50)]),  # a batch that starts at release 10 (adaptive precision)
    (7, 3, 50, [(7, 3)]),  # fewer releases than a chunk
    (5, 4, 1, [(5, 1), (6, 1), (7, 1), (8, 1)]),
    (0, 1, 50, [(0, 1)]),
])
def test_jobs_cover_every_release_exactly_once_in_chunks(first, count, chunk, expected):
    jobs = plan_eval_jobs(mix_scenario(), 99, first, count, chunk=chunk)
    assert jobs == [EvalJob(f, c, 99) for f, c in expected]
    covered = [r for job in jobs for r in range(job.first, job.first + job.count)]
    assert covered == list(range(first, first + count))


def test_jobs_use_chunks_of_fifty_by_default():
    assert [(j.first, j.count) for j in plan_eval_jobs(mix_scenario(), 1, 0, 101)] == [(0, 50), (50, 50), (100, 1)]


# ---- draws of good and bad builds ------------------------------------------------------------------------

def numpy_mix_stream(entropy: int, replication: int) -> np.random.Generator:
    """The stream "evaluation.mix" of replication r, as sim/streams.py defines it, built by numpy itself."""
    seq = np.random.SeedSequence(entropy, spawn_key=(replication, name_key("evaluation.mix")))
    return np.random.Generator(np.random.PCG64(seq))


@pytest.mark.parametrize("replication", [0, 1, 17, 4000])
def test_a_releases_build_comes_from_its_own_evaluation_mix_stream(replication):
    # bad if the stream's first uniform is below bad_share; the spike exp(uniform(log min, log max)) next
    scenario = mix_scenario(bad_share=0.5, spike={"min": "0.5%", "max": "8%"})
    rng = numpy_mix_stream(2026, replication)
    bad = rng.random() < 0.5
    spike = math.exp(rng.uniform(math.log(0.005), math.log(0.08)))
    assert draw_mix(scenario, 2026, replication) == ReleaseDraw(bad=bad, spike=pytest.approx(spike, rel=1e-12)
                                                                if bad else 0.0)


def test_bad_share_and_log_uniform_spikes_over_many_releases():
    scenario = mix_scenario(bad_share=0.3, spike={"min": "0.2%", "max": "10%"})
    draws = [draw_mix(scenario, 7, r) for r in range(3000)]
    bad = [d for d in draws if d.bad]
    # 3000 releases at 30%: P(outside 900 +- 4 sd (4 x 25.1)) < 1e-4
    assert abs(len(bad) - 900) < 4 * math.sqrt(3000 * 0.3 * 0.7), len(bad)
    assert all(d.spike == 0.0 for d in draws if not d.bad)  # a good build adds no errors
    logs = np.log([d.spike for d in bad])
    assert logs.min() >= math.log(0.002) and logs.max() <= math.log(0.10)
    # log spike uniform on [log 0.2%, log 10%]: Kolmogorov-Smirnov against that law (not against 0.2%..10%)
    assert stats.kstest(logs, stats.uniform(math.log(0.002), math.log(50)).cdf).pvalue > 1e-3


@pytest.mark.parametrize(("share", "all_bad"), [(0.0, False), (1.0, True)])
def test_bad_share_zero_and_one_give_only_good_or_only_bad_builds(share, all_bad):
    scenario = mix_scenario(bad_share=share, spike={"min": "2%", "max": "2%"})
    draws = [draw_mix(scenario, 3, r) for r in range(200)]
    assert all(d.bad == all_bad for d in draws)
    assert all(d.spike == (pytest.approx(0.02, rel=1e-12) if all_bad else 0.0) for d in draws)


def test_the_release_seen_by_a_policy_has_the_drawn_build_and_the_policys_gates():
    scenario = make_scenario(build={"bad": {"added_error_rate": "4%", "error_multiplier": 3}},
                             evaluation={"policies": POLICIES})
    bad = build_of(scenario, ReleaseDraw(bad=True, spike=0.0125))
    assert bad.bad_probability == 1.0 and bad.bad.added_error_rate == 0.0125
    assert bad.bad.error_multiplier == 3  # the rest of the bad build as the scenario sets it
    good = build_of(scenario, ReleaseDraw(bad=False, spike=0.0))
    assert good.bad_probability == 0.0 and good.bad.added_error_rate == 0.04  # unchanged (never applied)
    assert good.build_time == scenario.build.build_time
    draw = ReleaseDraw(bad=True, spike=0.03)
    for policy, gates in scenario.evaluation.policies.items():
        seen = variant(scenario, policy, draw)  # without `build`: drawn here
        assert seen.gates == gates and seen.build == build_of(scenario, draw)
        assert seen.build.bad_probability == 1.0 and seen.build.bad.added_error_rate == 0.03
        assert variant(scenario, policy, draw, build_of(scenario, draw)) == seen
        assert seen.fleet == scenario.fleet and seen.rollout == scenario.rollout


# ---- rows ------------------------------------------------------------------------------------------------

def outcome(**fields) -> ReleaseOutcome:
    base = dict(replication=4, start="Tue 10:00", bad_build=True, outcome="promoted", rollback_stage="",
                blocked_reason="", horizon=9000.0, ended=240.0, detected=False, detected_by="", detection_stage="",
                detection_time=math.nan, detection_delay=math.nan, exposure_at_detection=math.nan,
                decision_time=math.nan, mitigated_time=math.nan, time_to_mitigate=math.nan, served_traffic=True,
                bad_serving_at_horizon=True, peak_bad_share=1.0, bad_requests=123.5, lead_time=1800.0,
                false_rollback=False, rollbacks=0, hosts_not_rolled_back=0)
    return ReleaseOutcome(**{**base, **fields})


# Intervals of 30 s (time = end of each), both cohorts serving; the error budget rate is 1%.
#   t:          30    60    90   120   150   180   210   240 | 270   300
#   requests:  400   600  1000     0  1000     1   900   800 |1000  1000   (new + old)
#   errors:     20     6    10     0    11     1     8    16 |  50    50
#   rate:       5%    1%    1%     -  1.1%  100%  0.9%    2% |  5%    5%
#   burns:      y     n(=1%) n     n(no requests) y  y    n    y |  (after the pipeline's end)
# -> 4 intervals of 30 s to the end at 240 s: 2.0 minutes; 6 (3.0 minutes) if it never ended.
NEW_REQ = [100, 300, 500, 0, 500, 1, 450, 400, 500, 500]
OLD_REQ = [300, 300, 500, 0, 500, 0, 450, 400, 500, 500]
NEW_ERR = [5, 3, 5, 0, 6, 1, 4, 8, 25, 25]
OLD_ERR = [15, 3, 5, 0, 5, 0, 4, 8, 25, 25]


def result_of(o: ReleaseOutcome) -> SimpleNamespace:
    metrics = SimpleNamespace(time=30.0 * np.arange(1, 11), interval=30.0,
                              new_requests=np.array(NEW_REQ), old_requests=np.array(OLD_REQ),
                              new_errors=np.array(NEW_ERR), old_errors=np.array(OLD_ERR))
    return SimpleNamespace(outcome=o, metrics=metrics)


def row_scenario():
    return make_scenario(traffic={"metric_interval": "30s"}, evaluation={"policies": POLICIES,
                                                                        "error_budget_rate": "1%"})


@pytest.mark.parametrize(("ended", "minutes"), [
    (240.0, 2.0),  # intervals ending at or before the pipeline's end
    (239.5, 1.5),  # the interval ending at 240 s is not over when the pipeline ends: not counted
    (math.nan, 3.0),  # blocked (never ended): every interval of the release
])
def test_error_budget_minutes_count_intervals_over_the_budget_rate_to_the_pipelines_end(ended, minutes):
    o = outcome(ended=ended)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an interval without requests is skipped, not divided by zero
        r = row(row_scenario(), "strict", 4, ReleaseDraw(bad=True, spike=0.03), result_of(o))
    assert r["error_budget_minutes"] == minutes


def test_a_row_holds_the_release_its_outcome_and_whether_a_bad_build_was_missed():
    o = outcome()
    r = row(row_scenario(), "loose", 4, ReleaseDraw(bad=True, spike=0.03), result_of(o))
    assert list(r) == ["policy", "replication", "spike", *OUTCOME_FIELDS, "missed", "error_budget_minutes"]
    assert "replication" not in OUTCOME_FIELDS and len(OUTCOME_FIELDS) == len(dataclasses.fields(o)) - 1
    assert (r["policy"], r["replication"], r["spike"]) == ("loose", 4, 0.03)
    assert all(r[name] == getattr(o, name) or (r[name] != r[name]) for name in OUTCOME_FIELDS)  # NaN != NaN
    assert r["bad_requests"] == 123.5 and r["outcome"] == "promoted" and r["start"] == "Tue 10:00"
    assert r["missed"] is True


@pytest.mark.parametrize(("bad_build", "serving", "missed"), [
    (True, True, True), (True, False, False), (False, True, False), (False, False, False)])
def test_missed_means_a_bad_build_still_serving_at_the_horizon(bad_build, serving, missed):
    o = outcome(bad_build=bad_build, bad_serving_at_horizon=serving)
    r = row(row_scenario(), "strict", 4, ReleaseDraw(bad=bad_build, spike=0.03 if bad_build else 0.0), result_of(o))
    assert bool(r["missed"]) is missed


def test_an_evaluation_job_gives_one_row_per_release_and_policy_in_order():
    scenario = make_scenario(
        fleet={"hosts": 20, "tiers": {"canary": 0}}, artifact={"size": "10MB", "files": 10},
        strategies={"pull": {"kind": "pull", "publish": 0, "key_write": "10ms", "wakeup": "50ms",
                             "verify_rate": "1000MB/s", "activation": "1s"}},
        rollout={"strategy": "pull", "steps": [{"set_weight": 100}, {"pause": "2m"}, {"analysis": {"gates": ["g"]}}]},
        traffic={"dispersion": 0, "diurnal": {"amplitude": 0}, "requests_per_host": 0.5, "error_rate": "1%"},
        build={"build_time": 0, "bad": {"onset": 0}}, schedule={"start": "Tue 10:00"},
        evaluation={"policies": POLICIES, "bad_share": "50%"})
    rows = run_eval_job(release_setup(scenario), EvalJob(first=3, count=4, entropy=11))
    assert [(r["replication"], r["policy"]) for r in rows] == [(r, p) for r in (3, 4, 5, 6) for p in ("strict", "loose")]
    for r in rows:
        draw = draw_mix(scenario, 11, r["replication"])
        assert r["bad_build"] == draw.bad and r["spike"] == draw.spike
        assert r["missed"] == (r["bad_build"] and r["bad_serving_at_horizon"])
    assert {r["bad_build"] for r in rows} == {True, False}  # this seed draws both kinds


# ---- acceptance verdicts ---------------------------------------------------------------------------------

def test_rules_list_every_criterion_set_in_order_with_mitigation_judged_on_its_share():
    every = Acceptance(max_false_rollback_rate=0.01, max_blocked_rate=0.02, max_miss_rate=0.03,
                       caught_before_exposure=0.8, mitigated_within=600.0, mitigated_share=0.9)
    assert rules(every) == [("false_rollback_rate", "<=", 0.01), ("blocked_rate", "<=", 0.02),
                            ("miss_rate", "<=", 0.03), ("caught_before_exposure", ">=", 0.8),
                            ("mitigated_within", ">=", 0.9)]
    assert rules(Acceptance()) == [("blocked_rate", "<=", 0.05)]  # on by default
    assert rules(Acceptance(max_blocked_rate=None)) == []


def estimate(value, low, high, n, population="good builds") -> pd.Series:
    return pd.Series({"value": value, "low": low, "high": high, "n": n, "population": population})


@pytest.mark.parametrize(("op", "bound", "value", "low", "high", "n", "status"), [
    ("<=", 0.05, 0.03, 0.01, 0.05, 200, "pass"),  # the whole interval meets the bound (its end on it)
    ("<=", 0.05, 0.03, 0.01, 0.0501, 200, "uncertain"),  # the interval reaches past it
    ("<=", 0.05, 0.05, 0.03, 0.08, 200, "uncertain"),  # the estimate on the bound meets it
    ("<=", 0.05, 0.0501, 0.049, 0.06, 200, "fail"),  # the estimate misses it
    ("<=", 0.05, 0.0, 0.0, 0.01, 1, "pass"),  # one release is a population too
    (">=", 0.9, 0.95, 0.9, 0.98, 300, "pass"),
    (">=", 0.9, 0.95, 0.8999, 0.98, 300, "uncertain"),
    (">=", 0.9, 0.9, 0.85, 0.95, 300, "uncertain"),
    (">=", 0.9, 0.8999, 0.85, 0.95, 300, "fail"),
    (">=", 0.9, 1.0, 0.95, 1.0, 1, "pass"),
    ("<=", 0.05, math.nan, math.nan, math.nan, 0, "uncertain"),  # an empty population
    (">=", 0.9, math.nan, math.nan, math.nan, 0, "uncertain"),
    ("<=", 0.05, math.nan, math.nan, math.nan, 12, "uncertain"),  # no estimate at all
])
def test_each_criterion_passes_fails_or_is_uncertain_as_documented(op, bound, value, low, high, n, status):
    v = judge_one("p", "some_rate", op, bound, estimate(value, low, high, n))
    assert v.status == status
    assert (v.op, v.limit, v.n) == (op, bound, n)


def test_a_verdict_carries_the_estimate_its_interval_population_and_bound_text():
    v = judge_one("canary-1pct", "miss_rate", "<=", 1 / 3, estimate(0.25, 0.1, 0.5, 40, "bad builds"))
    assert v == Verdict("canary-1pct", "miss_rate", "<= 0.3333", 0.25, 0.1, 0.5, 40, "bad builds", "uncertain",
                        "<=", 1 / 3)
    v = judge_one("p", "mitigated_within", ">=", 0.95, estimate(0.0, 0.0, 0.2, 7, "detected bad builds"))
    assert (v.bound, v.status, v.population) == (">= 0.95", "fail", "detected bad builds")


def estimates_table() -> pd.DataFrame:
    """Two policies (listed 'zeta' first) with the measures the default and a miss bound judge."""
    rows = []
    for policy, blocked, miss in [("zeta", (0.01, 0.0, 0.04, 100), (0.1, 0.05, 0.2, 30)),
                                  ("alpha", (0.2, 0.1, 0.3, 100), (0.0, 0.0, 0.1, 30))]:
        for measure, (value, low, high, n) in [("blocked_rate", blocked), ("miss_rate", miss),
                                               ("false_rollback_rate", (0.0, 0.0, 0.04, 100))]:
            rows.append({"policy": policy, "measure": measure, "value": value, "low": low, "high": high, "n": n,
                         "population": "bad builds" if measure == "miss_rate" else "good builds", "unit": "share"})
    return pd.DataFrame(rows)


def test_judge_gives_every_policy_every_criterion_in_the_order_of_the_estimates():
    acceptance = Acceptance(max_miss_rate=0.15)
    verdicts = judge(estimates_table(), acceptance)
    assert [(v.policy, v.criterion, v.bound, v.status, v.population, v.estimate, v.n) for v in verdicts] == [
        ("zeta", "blocked_rate", "<= 0.05", "pass", "good builds", 0.01, 100),
        ("zeta", "miss_rate", "<= 0.15", "uncertain", "bad builds", 0.1, 30),
        ("alpha", "blocked_rate", "<= 0.05", "fail", "good builds", 0.2, 100),
        ("alpha", "miss_rate", "<= 0.15", "pass", "bad builds", 0.0, 30),
    ]
    assert exit_code(verdicts) == 1 and status_of(verdicts[:2]) == "uncertain"


def verdicts_with(*statuses: str) -> list[Verdict]:
    return [Verdict("p", f"m{i}", "<= 0.1", 0.0, 0.0, 0.0, 10, "good builds", s, "<=", 0.1)
            for i, s in enumerate(statuses)]


@pytest.mark.parametrize(("statuses", "word", "code"), [
    ((), "pass", 0),  # nothing to judge: nothing failed
    (("pass",), "pass", 0),
    (("pass", "pass"), "pass", 0),
    (("pass", "uncertain", "pass"), "uncertain", 3),
    (("uncertain",), "uncertain", 3),
    (("uncertain", "fail"), "fail", 1),
    (("pass", "fail", "pass"), "fail", 1),
    (("fail",), "fail", 1),
])
def test_status_and_exit_code_of_a_set_of_verdicts(statuses, word, code):
    verdicts = verdicts_with(*statuses)
    assert status_of(verdicts) == word
    assert exit_code(verdicts) == code
