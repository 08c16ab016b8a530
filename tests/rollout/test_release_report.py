"""What a release scenario prints and writes, from hand-built outcomes whose answers are worked out by hand:
the story of one release (`report`), the outcome distribution table (`distribution`: shares with Wilson
intervals checked against scipy's own Wilson interval, times' p5/p50/p95 by linear interpolation worked out
in the comments), the records tables (`records_table`) and the horizon line (`horizon_text`)."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from sim.rollout.records import Decision, ReleaseOutcome, StageChange
from sim.rollout.release import ReleaseResult
from sim.rollout.summary import distribution, horizon_text, outcome_table, records_table, report
from tests.rollout.helpers import release_scenario

NAN = math.nan


def outcome(**fields) -> ReleaseOutcome:
    """A good build promoted without incident, with `fields` changed."""
    base = dict(replication=0, start="Tue 10:00", bad_build=False, outcome="promoted", rollback_stage="",
                blocked_reason="", horizon=7200.0, ended=3600.0, detected=False, detected_by="",
                detection_stage="", detection_time=NAN, detection_delay=NAN, exposure_at_detection=NAN,
                decision_time=NAN, mitigated_time=NAN, time_to_mitigate=NAN, served_traffic=True,
                bad_serving_at_horizon=False, peak_bad_share=0.0, bad_requests=0.0, lead_time=3000.0,
                false_rollback=False, rollbacks=0, hosts_not_rolled_back=0)
    return ReleaseOutcome(**{**base, **fields})


def decision(time: float, outcome: str, action: str, gate="canary-errors", rule="error rate 3.1% > 2%") -> Decision:
    return Decision(time=time, gate=gate, stage="canary", outcome=outcome, action=action, metric="errors",
                    value=0.031, rule=rule, measurement="failure" if outcome == "fail" else "success")


def result(o: ReleaseOutcome, decisions=(), changes=()) -> ReleaseResult:
    return ReleaseResult(outcome=o, changes=list(changes), metrics=None, decisions=list(decisions), exposure=None,
                         production=None)


# ---- the story of one release ---------------------------------------------------------------------------

STORIES = {
    # A bad build caught at canary: the first decision that is not a pass is the one told (the pass at 20m
    # is not). 5400 s = 1h30m, 600 s = 10m00s, 5410 s = 90 min 10 s -> 1h30m, 300 s = 5m00s, horizon 9000 s
    # = 2h30m; 25% of the fleet at the peak; 12,345.6 bad requests rounds to 12,346; never reached 100%.
    "bad build rolled back": (
        result(outcome(bad_build=True, outcome="rolled_back", rollback_stage="canary", horizon=9000.0,
                       detected=True, detected_by="canary-errors", detection_stage="canary", detection_time=5400.0,
                       detection_delay=600.0, time_to_mitigate=300.0, peak_bad_share=0.25, bad_requests=12345.6,
                       lead_time=NAN, rollbacks=1, hosts_not_rolled_back=3),
               [decision(1200.0, "pass", "none", gate="smoke", rule="error rate 0.1% <= 2%"),
                decision(5410.0, "fail", "rollback"), decision(5500.0, "fail", "rollback", gate="later")]),
        ["branch cut Tue 10:00; the build was BAD",
         "outcome: rolled_back at canary (read at the horizon, 2h30m after the branch cut)",
         "detected by canary-errors at stage canary, at 1h30m, 10m00s after it first served traffic",
         "decision at 1h30m: rollback by gate canary-errors (error rate 3.1% > 2%)",
         "mitigated 5m00s after detection",
         "peak share of the fleet on a bad build: 25.0%; bad requests served until the horizon: 12,346",
         "lead time, branch cut to 100%: never reached",
         "3 hosts could not be rolled back"]),
    # A good build promoted: only passing decisions, so no decision line; 3000 s = 50m00s; 7200 s = 2h00m.
    "good build promoted": (
        result(outcome(start="Wed 14:30"), [decision(600.0, "pass", "none"), decision(1800.0, "pass", "none")]),
        ["branch cut Wed 14:30; the build was good",
         "outcome: promoted (read at the horizon, 2h00m after the branch cut)",
         "peak share of the fleet on a bad build: 0.0%; bad requests served until the horizon: 0",
         "lead time, branch cut to 100%: 50m00s"]),
    # A good build rolled back by a noisy gate: a false rollback, no detection (there was nothing to detect).
    "false rollback": (
        result(outcome(outcome="rolled_back", rollback_stage="production 10%", false_rollback=True, lead_time=NAN,
                       rollbacks=1),
               [decision(2400.0, "fail", "rollback", gate="latency", rule="p99 latency 812ms > 500ms")]),
        ["branch cut Tue 10:00; the build was good",
         "outcome: rolled_back at production 10% (read at the horizon, 2h00m after the branch cut)",
         "decision at 40m00s: rollback by gate latency (p99 latency 812ms > 500ms)",
         "a GOOD build was rolled back (false rollback)",
         "peak share of the fleet on a bad build: 0.0%; bad requests served until the horizon: 0",
         "lead time, branch cut to 100%: never reached"]),
    # A bad build nobody noticed, held at an approval until the horizon (48 h = 172800 s = 48h00m) while it
    # served 7.5% of the traffic: a miss. The inconclusive pause is the decision told.
    "bad build blocked and missed": (
        result(outcome(bad_build=True, outcome="blocked", blocked_reason="awaiting approval at production 5%",
                       horizon=172800.0, ended=NAN, bad_serving_at_horizon=True, peak_bad_share=0.075,
                       bad_requests=1999.5, lead_time=NAN),
               [decision(900.0, "inconclusive", "pause", rule="not enough requests (12 < 100)")]),
        ["branch cut Tue 10:00; the build was BAD",
         "outcome: blocked: awaiting approval at production 5% (read at the horizon, 48h00m after the branch cut)",
         "the bad build was NOT detected",
         "decision at 15m00s: pause by gate canary-errors (not enough requests (12 < 100))",
         "the bad build was STILL SERVING users at the horizon (a miss)",
         "peak share of the fleet on a bad build: 7.5%; bad requests served until the horizon: 2,000",
         "lead time, branch cut to 100%: never reached"]),
    # A bad build stopped by staging's smoke tests before it served anyone: no delay since first traffic
    # (NaN), and the hotfix shipped: hotfixed has no detail after the outcome. 1200 s = 20m00s; 45 s = 45.0s;
    # lead time 5430 s = 90 min 30 s -> 1h30m.
    "bad build caught in staging, then hotfixed": (
        result(outcome(bad_build=True, outcome="hotfixed", detected=True, detected_by="smoke test",
                       detection_stage="staging", detection_time=1200.0, served_traffic=False,
                       time_to_mitigate=45.0, lead_time=5430.0)),
        ["branch cut Tue 10:00; the build was BAD",
         "outcome: hotfixed (read at the horizon, 2h00m after the branch cut)",
         "detected by smoke test at stage staging, at 20m00s",
         "mitigated 45.0s after detection",
         "peak share of the fleet on a bad build: 0.0%; bad requests served until the horizon: 0",
         "lead time, branch cut to 100%: 1h30m"]),
}


@pytest.mark.parametrize("story", list(STORIES))
def test_report_tells_one_release_story(story):
    given, lines = STORIES[story]
    assert report(given) == lines


# ---- the outcome distribution ---------------------------------------------------------------------------

def ten_releases() -> list[ReleaseResult]:
    """6 good builds (5 promoted, 1 falsely rolled back) and 4 bad ones (2 rolled back and 1 hotfixed after
    detection, 1 never detected and still serving at the horizon)."""
    good = [outcome(replication=i, lead_time=lead) for i, lead in enumerate([1000.0, 2000.0, 3000.0, 4000.0, 5000.0])]
    good.append(outcome(replication=5, outcome="rolled_back", rollback_stage="canary", false_rollback=True,
                        lead_time=NAN))
    bad = [
        outcome(replication=6, bad_build=True, outcome="rolled_back", rollback_stage="canary", detected=True,
                detection_delay=60.0, time_to_mitigate=600.0, peak_bad_share=0.05, bad_requests=100.0, lead_time=NAN),
        outcome(replication=7, bad_build=True, outcome="rolled_back", rollback_stage="production 10%", detected=True,
                detection_delay=120.0, time_to_mitigate=NAN, peak_bad_share=0.10, bad_requests=200.0, lead_time=NAN),
        outcome(replication=8, bad_build=True, outcome="hotfixed", detected=True, detection_delay=300.0,
                time_to_mitigate=900.0, peak_bad_share=0.25, bad_requests=400.0, lead_time=6000.0),
        outcome(replication=9, bad_build=True, outcome="blocked", blocked_reason="awaiting approval at canary",
                bad_serving_at_horizon=True, peak_bad_share=0.45, bad_requests=1000.0, lead_time=NAN),
    ]
    return [result(o) for o in good + bad]


def scipy_wilson(k: int, n: int) -> tuple[float, float]:
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return ci.low, ci.high


def test_distribution_shares_and_times_of_ten_releases():
    table = distribution(outcome_table(ten_releases()))
    assert list(table.columns) == ["measure", "value", "low", "high", "kind", "count", "population"]
    rows = table.set_index("measure")

    # shares: k of n over each population, with a Wilson 95% interval (scipy's, computed its own way)
    shares = {"outcome: promoted": (5, 10, "all releases"), "outcome: hotfixed": (1, 10, "all releases"),
              "outcome: rolled_back": (3, 10, "all releases"), "outcome: blocked": (1, 10, "all releases"),
              "false_rollback": (1, 6, "good builds"), "detected": (3, 4, "bad builds"),
              "bad_serving_at_horizon": (1, 4, "bad builds")}
    for measure, (k, n, population) in shares.items():
        row = rows.loc[measure]
        assert (row.kind, row["count"], row.population) == ("share", n, population), measure
        assert row.value == pytest.approx(k / n)
        assert (row.low, row.high) == pytest.approx(scipy_wilson(k, n), abs=1e-12), measure

    # times: p50 in `value`, p5/p95 in low/high, numpy's default linear interpolation worked out by hand:
    # the p-th percentile of n sorted values sits at position (n - 1) p / 100.
    times = {
        # 3 detected bad builds that served traffic: 60, 120, 300; positions 0.1, 1, 1.9
        "detection_delay": (60 + 0.1 * 60, 120.0, 120 + 0.9 * 180, 3, "detected bad builds that served traffic"),
        # the same 3, one still unmitigated (NaN, left out): 600, 900; positions 0.05, 0.5, 0.95
        "time_to_mitigate": (600 + 0.05 * 300, 750.0, 600 + 0.95 * 300, 2, "detected bad builds that served traffic"),
        # 6 releases shipped: 1000..5000 and 6000 (hotfixed); positions 0.25, 2.5, 4.75
        "lead_time": (1250.0, 3500.0, 5750.0, 6, "releases that shipped"),
        # 4 bad builds: 0.05, 0.10, 0.25, 0.45; positions 0.15, 1.5, 2.85
        "peak_bad_share": (0.05 + 0.15 * 0.05, 0.175, 0.25 + 0.85 * 0.20, 4, "bad builds"),
        "bad_requests": (100 + 0.15 * 100, 300.0, 400 + 0.85 * 600, 4, "bad builds"),
    }
    for measure, (p5, p50, p95, count, population) in times.items():
        row = rows.loc[measure]
        assert (row.kind, row["count"], row.population) == ("p50 (p5-p95)", count, population), measure
        assert (row.low, row.value, row.high) == pytest.approx((p5, p50, p95), rel=1e-12), measure
    assert list(rows.index) == [*shares, *times]


def test_distribution_of_good_builds_only_has_no_bad_build_numbers():
    # No bad build: the bad-build shares have an empty population (NaN, count 0, no interval), and the
    # times measured over bad builds have no row at all. 3 of 3 promoted: Wilson's upper end is exactly 1.
    table = distribution(outcome_table([result(outcome(replication=i, lead_time=600.0 * (i + 1))) for i in range(3)]))
    rows = table.set_index("measure")
    for measure in ("detected", "bad_serving_at_horizon"):
        row = rows.loc[measure]
        assert row["count"] == 0 and row.population == "bad builds" and row.kind == "share"
        assert math.isnan(row.value) and math.isnan(row.low) and math.isnan(row.high)
    promoted = rows.loc["outcome: promoted"]
    assert (promoted.value, promoted.high, promoted["count"]) == (1.0, 1.0, 3)
    assert promoted.low == pytest.approx(scipy_wilson(3, 3)[0], abs=1e-12)
    assert rows.loc["outcome: blocked"].low == 0.0 and rows.loc["outcome: blocked"].value == 0.0
    # 600, 1200, 1800: p5 at position 0.1 -> 660; p95 at 1.9 -> 1740
    lead = rows.loc["lead_time"]
    assert (lead.low, lead.value, lead.high, lead["count"]) == pytest.approx((660.0, 1200.0, 1740.0, 3))
    assert [m for m in rows.index if rows.loc[m].kind != "share"] == ["lead_time"]


# ---- records tables: one row per record, with the replication it belongs to ------------------------------

def test_records_tables_carry_each_records_replication():
    first = result(outcome(replication=4), decisions=[decision(60.0, "pass", "none")],
                   changes=[StageChange(0.0, 1, 0, "canary", "start", 0.0), StageChange(90.0, 1, 0, "canary", "reached", 0.05)])
    second = result(outcome(replication=7), decisions=[decision(30.0, "fail", "rollback"), decision(45.0, "pass", "none")])
    decisions = records_table([first, second], "decisions")
    assert list(decisions.columns) == ["replication", "time", "gate", "stage", "outcome", "action", "metric", "value",
                                       "rule", "measurement"]
    assert decisions.replication.tolist() == [4, 7, 7]
    assert decisions.time.tolist() == [60.0, 30.0, 45.0]
    stages = records_table([first, second], "stages")
    assert stages.replication.tolist() == [4, 4]
    assert stages[["event", "share"]].values.tolist() == [["start", 0.0], ["reached", 0.05]]
    assert outcome_table([first, second]).replication.tolist() == [4, 7]


# ---- the horizon line -------------------------------------------------------------------------------------

@pytest.mark.parametrize("rollout, text", [
    ({}, "outcomes read 1h00m after the pipeline's last step (rollout.watch); a pipeline not ended 48h00m after "
         "the branch cut is blocked (rollout.horizon)"),
    ({"watch": "90m", "horizon": "6h"}, "outcomes read 1h30m after the pipeline's last step (rollout.watch); a "
                                        "pipeline not ended 6h00m after the branch cut is blocked (rollout.horizon)"),
])
def test_horizon_text_states_watch_and_horizon(rollout, text):
    scenario = release_scenario([{"set_weight": 100}], rollout=rollout)
    assert horizon_text(scenario) == text
