"""Policy evaluation: exact false-rollback rates, the same releases for every policy, executors, exit codes."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from sim.cli import app
from sim.commands.evaluate import evaluate
from sim.deploy.experiment import make_executor
from sim.evaluation.engine import plan_eval_jobs, run_eval_job
from sim.load.loader import LoadedScenario
from sim.rollout.simulate import release_setup
from sim.spec.scenario import Scenario
from sim.stats.intervals import wilson

PULL = {"kind": "pull", "publish": 0, "key_write": "10ms", "wakeup": "50ms", "verify_rate": "1000MB/s", "activation": "1s"}


def scenario(policies, steps=None, **extra) -> LoadedScenario:
    data = {
        "version": 1, "name": "eval-test", "seed": 5,
        "fleet": {"hosts": 50, "tiers": {"canary": 0}},
        "artifact": {"size": "10MB", "files": 10},
        "strategies": {"pull": PULL},
        "rollout": {"strategy": "pull", "steps": steps or [{"set_weight": 100}, {"pause": "5m"},
                                                           {"analysis": {"gates": ["g"]}}]},
        "traffic": {"dispersion": 0, "diurnal": {"amplitude": 0}, "requests_per_host": 0.5, "error_rate": "1.2%"},
        "build": {"build_time": 0, "bad": {"onset": 0}},
        "schedule": {"start": "Tue 10:00"},
        "evaluation": {"releases": 300, "bad_share": 0, "policies": policies},
    }
    for key, value in extra.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    model = Scenario.model_validate(data)
    return LoadedScenario(scenario=model, source="<test>", overrides=())


ONE_CHECK = {"g": {"semantics": "threshold", "metric": "error_rate", "max": "1.5%", "count": 1}}


def test_false_rollback_rate_of_a_single_threshold_check_matches_the_exact_value():
    # Good builds only. The one check sees one full interval: 50 hosts x 0.5 req/s x 60 s, so
    # requests ~ Poisson(1500) and errors ~ Binomial(requests, 1.2%); it fails when errors/requests > 1.5%.
    loaded = scenario({"one-check": ONE_CHECK}, evaluation={"releases": 1500, "bad_share": 0,
                                                            "policies": {"one-check": ONE_CHECK}})
    run = evaluate(loaded, 5, workers=2, err=None)
    n = np.arange(1100, 1900)
    exact = float(np.sum(stats.poisson.pmf(n, 1500) * stats.binom.sf(np.floor(0.015 * n), n, 0.012)))
    k = int(run.rows.false_rollback.sum())
    low, high = wilson(k, len(run.rows), 0.999)
    assert low <= exact <= high, (k / len(run.rows), exact)
    assert 0.01 < exact < 0.2


def test_every_policy_sees_the_same_releases():
    policies = {"a": ONE_CHECK, "b": {"g": {**ONE_CHECK["g"], "max": "2%"}}, "a-again": ONE_CHECK}
    run = evaluate(scenario(policies, evaluation={"releases": 60, "bad_share": "50%", "policies": policies}), 9, 1, None)
    by = {p: g.reset_index(drop=True) for p, g in run.rows.groupby("policy")}
    for p in ("b", "a-again"):
        pd.testing.assert_series_equal(by["a"].bad_build, by[p].bad_build)
        pd.testing.assert_series_equal(by["a"].spike, by[p].spike)
    pd.testing.assert_frame_equal(by["a"].drop(columns="policy"), by["a-again"].drop(columns="policy"))
    # a looser threshold never rolls back a release that the tighter one kept (same draws)
    assert not (by["b"].rollbacks > by["a"].rollbacks).any()


def test_rows_do_not_depend_on_how_releases_are_chunked():
    """Jobs batch releases together; a release's row must not depend on its neighbours."""
    policies = {"a": ONE_CHECK, "b": {"g": {**ONE_CHECK["g"], "max": "2%"}}}
    loaded = scenario(policies, evaluation={"releases": 12, "bad_share": "50%", "policies": policies})
    rows = {chunk: pd.DataFrame([row for job in plan_eval_jobs(loaded.scenario, 4, 0, 12, chunk=chunk)
                                 for row in run_eval_job(release_setup(loaded.scenario), job)]) for chunk in (1, 5, 12)}
    pd.testing.assert_frame_equal(rows[1], rows[5])
    pd.testing.assert_frame_equal(rows[1], rows[12])


def test_local_and_dask_executors_give_identical_tables():
    distributed = pytest.importorskip("distributed")
    loaded = scenario({"p": ONE_CHECK}, evaluation={"releases": 40, "bad_share": "50%", "policies": {"p": ONE_CHECK}})
    local = evaluate(loaded, 3, workers=2, err=None)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        executor = make_executor("dask", cluster.scheduler_address)
        remote = evaluate(loaded, 3, workers=2, err=None, executor=executor)
        executor._client.close()
    pd.testing.assert_frame_equal(local.rows, remote.rows)
    pd.testing.assert_frame_equal(local.estimates, remote.estimates)


def test_adaptive_precision_stops_at_the_first_batch_whose_interval_is_narrow_enough():
    """Good builds only, so the false-rollback rate is the one rate with a population. Its 95% Wilson
    interval is recomputed from the release rows with scipy (the same score interval, no continuity
    correction, as sim.evaluation.estimates.wilson) after each batch of 50: the run must stop at the first
    batch where it is at most 10% wide, neither earlier nor later (a rate near 14% needs ~190 releases)."""
    policies = {"p": ONE_CHECK}
    precision, batch = 0.10, 50
    loaded = scenario(policies, evaluation={"releases": 5000, "bad_share": 0, "policies": policies,
                                            "precision": "10%", "batch": batch})
    run = evaluate(loaded, 3, workers=1, err=None)
    rows = run.rows.sort_values("replication")
    assert not rows.bad_build.any() and rows.replication.tolist() == list(range(len(rows)))

    def width(releases: int) -> float:
        ci = stats.binomtest(int(rows.false_rollback.iloc[:releases].sum()), releases).proportion_ci(
            confidence_level=0.95, method="wilson")
        return ci.high - ci.low

    widths = {n: width(n) for n in range(batch, len(rows) + 1, batch)}
    assert len(rows) % batch == 0 and len(rows) >= 3 * batch, widths  # stopped at a batch boundary, not the first
    assert widths[len(rows)] <= precision, widths  # narrow enough where it stopped
    assert all(w > precision for n, w in widths.items() if n < len(rows)), widths  # and not at any earlier batch


def test_acceptance_criteria_drive_the_exit_code(tmp_path, root):
    base = ["evaluate", str(root / "scenarios/threshold_policies.yaml"), "--releases", "12", "--workers", "1",
            "--format", "json"]
    lenient = CliRunner().invoke(app, base + ["--set", "evaluation.acceptance={max_false_rollback_rate: 100%, "
                                                       "max_blocked_rate: 100%}"])
    assert lenient.exit_code == 0, lenient.output
    assert json.loads(lenient.stdout)["results"]["passed"] is True
    # 12 releases cannot show a blocked rate below 5% (the default bound): uncertain, exit code 3
    unsure = CliRunner().invoke(app, base + ["--set", "evaluation.acceptance={max_false_rollback_rate: 100%}"])
    assert unsure.exit_code == 3, unsure.output
    assert json.loads(unsure.stdout)["results"]["status"] == "uncertain"
    strict = CliRunner().invoke(app, base + ["--set", "evaluation.acceptance={caught_before_exposure: 100%, "
                                                      "exposure_limit: 0%}"])
    assert strict.exit_code == 1, strict.output
    assert json.loads(strict.stdout)["results"]["passed"] is False
    bad = CliRunner().invoke(app, base + ["--set", "evaluation.acceptance={max_false_rollbacks: 1%}"])
    assert bad.exit_code == 2 and "did you mean 'max_false_rollback_rate'?" in bad.output


def test_peeking_mann_whitney_rolls_back_good_builds_far_above_its_level_the_sequential_test_does_not():
    """Netflix's observation, through `evaluate`: a fixed-horizon Mann-Whitney test repeated at every
    check of a 60-minute analysis (Kayenta semantics, 95% confidence, no tolerance, a check every 2
    minutes on the growing series of per-minute error rates) rolls back many more good builds than
    5%; the anytime-valid sequential test at alpha 5% stays at or below 5%."""
    alpha = 0.05
    policies = {
        "peeking-mann-whitney": {"g": {"semantics": "kayenta", "metric": "error_rate", "confidence": 1 - alpha,
                                       "tolerance": 0, "interval": "2m", "count": 30, "marginal": 50, "pass": 95}},
        "sequential": {"g": {"semantics": "sequential", "alpha": alpha}},
    }
    steps = [{"set_weight": 50}, {"analysis": {"gates": ["g"], "duration": "60m"}}, {"set_weight": 100}]
    loaded = scenario(policies, steps=steps,
                      evaluation={"releases": 100, "bad_share": 0, "policies": policies})
    run = evaluate(loaded, 11, workers=2, err=None)
    rolled_back = run.rows.groupby("policy").false_rollback.agg(["sum", "count"])
    peeking, sequential = rolled_back.loc["peeking-mann-whitney"], rolled_back.loc["sequential"]
    low, high = wilson(int(peeking["sum"]), int(peeking["count"]), 0.99)
    assert alpha < low and peeking["sum"] > 2 * alpha * peeking["count"], peeking.to_dict()
    assert high < 0.9, peeking.to_dict()  # far above its level, yet not a gate that fails everything
    # were the sequential test's true rate alpha, this many false rollbacks or more would be rarer than 1%
    assert stats.binom.sf(int(sequential["sum"]) - 1, int(sequential["count"]), alpha) > 0.01, sequential.to_dict()


NEVER_ENOUGH_DATA = {"g": {"semantics": "argo", "metric": "error_rate", "max": "5%", "min_requests": 10**9}}


def test_a_policy_that_blocks_every_build_fails_on_its_blocked_rate_not_passes_on_its_false_rollbacks():
    policies = {"blocks-everything": NEVER_ENOUGH_DATA, "one-check": ONE_CHECK}
    steps = [{"set_weight": 50}, {"analysis": {"gates": ["g"]}}, {"set_weight": 100}]
    loaded = scenario(policies, steps=steps, rollout={"horizon": "3h"},
                      commander={"reaction_business_hours": 60, "investigate": 60},
                      evaluation={"releases": 40, "bad_share": 0, "policies": policies,
                                  "acceptance": {"max_false_rollback_rate": "50%", "max_blocked_rate": "10%"}})
    run = evaluate(loaded, 5, workers=1, err=None)
    blocked = run.rows[run.rows.policy == "blocks-everything"]
    assert (blocked.outcome == "blocked").all() and not blocked.false_rollback.any()
    assert blocked.blocked_reason.str.startswith("not enough data: gate g at 50%").all()
    verdicts = {(v.policy, v.criterion): v.status for v in run.verdicts}
    assert verdicts[("blocks-everything", "false_rollback_rate")] == "pass"  # what used to hide it
    assert verdicts[("blocks-everything", "blocked_rate")] == "fail"
    assert verdicts[("one-check", "blocked_rate")] == "pass"
    assert run.status == "fail" and run.exit_code == 1
    est = run.estimates.set_index(["policy", "measure"])
    assert est.loc[("blocks-everything", "blocked_rate"), "value"] == 1.0
    assert est.loc[("blocks-everything", "lead_time_good_p50"), "n"] == 0  # nothing shipped, nothing timed


def test_every_release_is_accounted_for_in_exactly_one_outcome_and_every_measure_names_its_population():
    policies = {"a": ONE_CHECK, "b": {"g": {**ONE_CHECK["g"], "max": "2%"}}}
    run = evaluate(scenario(policies, evaluation={"releases": 80, "bad_share": "50%", "policies": policies}), 9, 1,
                   None)
    assert run.rows.outcome.isin(["promoted", "hotfixed", "rolled_back", "blocked"]).all()
    for policy, g in run.rows.groupby("policy"):
        assert len(g) == 80 and g.replication.is_unique
    est = run.estimates
    assert est.population.notna().all() and (est.population != "").all()
    good = int((~run.rows[run.rows.policy == "a"].bad_build).sum())
    assert (est[est.measure.isin(["false_rollback_rate", "blocked_rate"])].n == good).all()
    # the measures over good builds partition them: shipped + rolled back + blocked = all good builds
    for policy, g in run.rows[~run.rows.bad_build].groupby("policy"):
        shipped = g.outcome.isin(["promoted", "hotfixed"]).sum()
        assert shipped + g.false_rollback.sum() + (g.outcome == "blocked").sum() == len(g)


def test_the_shipped_backtest_example_shows_the_argo_policy_blocked_and_failing(root):
    """The shipped history has too little traffic for argo-absolute-1pct's min_requests at the canary:
    every good build ends blocked (not perfect, as a false-rollback rate alone would say)."""
    argo_only = "evaluation.policies={argo: {errors: {semantics: argo, metric: error_rate, max: 1%, failure_limit: 2, " \
                "min_requests: 1000}, canary-errors: {semantics: argo, metric: error_rate, max: 1%, failure_limit: 0, " \
                "min_requests: 500}}}"
    result = CliRunner().invoke(app, ["evaluate", str(root / "scenarios/threshold_policies.yaml"), "--releases", "16",
                                      "--workers", "1", "--format", "json", "--set", argo_only, "--set",
                                      "evaluation.sweep=null", "--metrics",
                                      str(root / "scenarios/data/history_example.csv")])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)["results"]
    blocked = next(e for e in data["estimates"] if e["measure"] == "blocked_rate")
    assert blocked["value"] == 1.0 and blocked["population"] == "good builds" and blocked["n"] > 0
    verdict = next(v for v in data["acceptance"] if v["criterion"] == "blocked_rate")
    assert verdict["status"] == "fail"
    assert "min_requests: warning:" in result.stderr  # said before the run
