"""The sequential gate under per-cohort over-dispersion: `variance: binomial` loses its level,
`variance: baseline` keeps it and still catches regressions.

Windows come from the project's own traffic model (`sim.rollout.traffic.draw_many` with the noise of
`IntervalNoise.draw`), so the counts carry exactly the simulator's over-dispersion: gamma noise with
coefficient of variation `traffic.dispersion` on each cohort's request rate and error rate, drawn
independently per cohort and interval. Rates are judged against Wilson 95% intervals, so each
assertion says how far the measured rate is from alpha, not only that one seed fell on the right side.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from sim.policies import check, parse_policy, start
from sim.policies.sequential import t_mixture
from sim.policies.window import window_of
from sim.rollout.traffic import IntervalNoise, draw_many
from sim.spec.rollout import Traffic
from sim.stats.intervals import wilson
from tests.rollout.helpers import release_scenario
from tests.rollout.test_batch import check_engines_agree

ALPHA = 0.05
LOOKS = 60            # a one-hour analysis checked every minute
TEN_AM = 10 * 3600.0  # wall clock of the first interval (diurnal load about 1.19x the mean)
HALF = (500, 500)     # hosts per cohort: ~1,800 errors per cohort per minute at 0.1%, 50 req/s per host
CANARY = (100, 4900)  # a 2% canary on 5,000 hosts: ~360 errors per minute in the new cohort
BASELINE = {"semantics": "sequential", "alpha": ALPHA, "variance": "baseline"}
BINOMIAL = {"semantics": "sequential", "alpha": ALPHA}


def cohort_counts(traffic: Traffic, rng: np.random.Generator, hosts=HALF, looks: int = LOOKS,
                  error_multiplier: float = 1.0, added_error_rate: float = 0.0,
                  incident: np.ndarray | None = None,
                  incident_multiplier: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Requests and errors [interval, cohort 0=new 1=old] as the simulator draws them; a bad build
    (multiplier or added rate) affects all of the new cohort's requests from the first interval, an
    incident multiplies both cohorts' error rates in the intervals it marks."""
    noise = IntervalNoise.draw(traffic, rng, looks)
    wall_mid = TEN_AM + 60.0 * (np.arange(looks) + 0.5)
    host_seconds = np.tile(60.0 * np.asarray(hosts, float), (looks, 1))
    bad = float(error_multiplier != 1.0 or added_error_rate > 0)
    incident = np.zeros(looks, bool) if incident is None else incident
    counts = draw_many(traffic, noise, wall_mid, host_seconds, np.full(looks, bad), incident, incident_multiplier,
                       error_multiplier, added_error_rate, 0.0)
    return counts.requests, counts.errors


def first_rejection(spec_data: dict, requests: np.ndarray, errors: np.ndarray) -> int | None:
    """The check (from 1) at which the gate fails, one check per interval; None if it never does."""
    spec = parse_policy(spec_data)
    state = start(spec)
    for t in range(len(requests)):
        window = window_of(60.0 * (t + 1), new=([requests[t, 0]], [errors[t, 0]]),
                           old=([requests[t, 1]], [errors[t, 1]]))
        state, verdict = check(spec, state, window)
        if verdict.outcome == "fail":
            return t + 1
    return None


def false_rollbacks(spec_data: dict, traffic: Traffic, seed: int, reps: int, hosts=HALF) -> int:
    rng = np.random.default_rng(seed)
    return sum(first_rejection(spec_data, *cohort_counts(traffic, rng, hosts)) is not None for _ in range(reps))


def test_at_the_default_dispersion_only_the_baseline_variance_keeps_its_level():
    """A/A at the default dispersion 0.05. Gamma noise of 5% per cohort adds 2 x 0.05^2 = 0.005 to the
    variance of an interval's log ratio, ~4.5x the binomial 2 / 1,800 at ~1,800 errors per cohort and
    ~9x at ~3,600. Baseline (~1,800 errors): the Wilson 95% upper bound of its false-rollback rate is
    below alpha (measured 0.5%). Binomial (~3,600 errors, a 2,000-host fleet at 50%): the lower bound
    is above alpha (measured 26%)."""
    traffic = Traffic()
    assert traffic.dispersion == 0.05  # the default the user reported
    n_base, n_bin = 400, 200
    base = false_rollbacks(BASELINE, traffic, 20261201, n_base)
    binomial = false_rollbacks(BINOMIAL, traffic, 20261202, n_bin, hosts=(1000, 1000))
    print(f"baseline {base}/{n_base}, binomial {binomial}/{n_bin} false rollbacks in {LOOKS} checks")
    assert wilson(base, n_base, 0.95)[1] < ALPHA, base
    assert wilson(binomial, n_bin, 0.95)[0] > ALPHA, binomial


def test_a_canary_with_fewer_errors_keeps_the_level_too():
    """The 2% canary: ~360 new-cohort errors a minute against ~17,500 old, so the binomial variance
    (~1/360) is closer to the over-dispersion's 0.005. A looser bound with fewer runs (measured 2%)."""
    base = false_rollbacks(BASELINE, Traffic(), 20261203, 150, hosts=CANARY)
    assert wilson(base, 150, 0.95)[1] < 2 * ALPHA, base


@pytest.mark.parametrize("hosts", [HALF, CANARY], ids=["half", "canary"])
def test_a_bad_build_with_two_percent_more_errors_is_caught_in_three_checks(hosts):
    """+2% errors on a 0.1% baseline: log ratio ~3 against a noise sd ~0.1. A scale-free t-test needs
    three intervals (two give a t with one degree of freedom); the binomial test needs one."""
    rng = np.random.default_rng(7)
    delays = {name: [] for name in ("baseline", "binomial")}
    for _ in range(20):
        counts = cohort_counts(Traffic(), rng, hosts, looks=10, added_error_rate=0.02)
        delays["baseline"].append(first_rejection(BASELINE, *counts))
        delays["binomial"].append(first_rejection(BINOMIAL, *counts))
    assert set(delays["baseline"]) == {3}, delays
    assert set(delays["binomial"]) == {1}, delays


def test_a_fifty_percent_regression_is_caught_within_ten_checks():
    rng = np.random.default_rng(8)
    delays = [first_rejection(BASELINE, *cohort_counts(Traffic(), rng, looks=30, error_multiplier=1.5))
              for _ in range(20)]
    assert None not in delays and max(delays) <= 10, delays


def test_without_dispersion_both_variants_hold_alpha_and_stay_close():
    """Dispersion 0: the binomial test is exact (conservative: Ville's bound is not attained) and the
    log ratio is still Gaussian enough; both rates sit well under alpha and within a few points of each
    other (measured: binomial 0.5%, baseline 1%, in 60 checks)."""
    traffic, reps = Traffic(dispersion=0), 200
    base = false_rollbacks(BASELINE, traffic, 20261204, reps)
    binomial = false_rollbacks(BINOMIAL, traffic, 20261204, reps)  # the same data
    print(f"dispersion 0: baseline {base}/{reps}, binomial {binomial}/{reps}")
    assert wilson(base, reps, 0.95)[1] < ALPHA and wilson(binomial, reps, 0.95)[1] < ALPHA, (base, binomial)
    assert abs(base - binomial) / reps < 0.03, (base, binomial)


def test_few_errors_per_interval_are_pooled_before_the_t_test():
    """A cohort of 0.2 hosts (~0.7 errors a minute): log ratios of single intervals with 0, 1 or 2
    errors are far from Gaussian and biased upwards by the 1/2 correction, and the t-test rolls back
    most good builds; blocks of ten expected errors per cohort remove the bias."""
    tiny = (0.2, 199.8)
    unpooled = false_rollbacks({**BASELINE, "block_errors": 1e-9}, Traffic(), 20261205, 100, hosts=tiny)
    pooled = false_rollbacks(BASELINE, Traffic(), 20261205, 100, hosts=tiny)  # the same data
    assert unpooled >= 40 and wilson(pooled, 100, 0.95)[1] < 2 * ALPHA, (unpooled, pooled)


def test_incidents_on_both_cohorts_do_not_cause_rejections():
    """A 20x incident on both cohorts of the canary for ten minutes: the shared rate cancels in the log
    ratio; the binomial part of its variance shrinks 20x meanwhile (unequal variances, which the
    t-test tolerates here)."""
    rng = np.random.default_rng(9)
    incident = np.zeros(LOOKS, bool)
    incident[20:30] = True
    hits = sum(first_rejection(BASELINE, *cohort_counts(Traffic(), rng, CANARY, incident=incident,
                                                        incident_multiplier=20.0)) is not None for _ in range(100))
    assert wilson(hits, 100, 0.95)[1] < 2 * ALPHA, hits


def test_an_improvement_never_rejects():
    """The new build fails a third less often (the old cohort drawn as a 1.5x 'bad build', then the
    cohorts swapped): H0 holds with delta < 0, where the one-sided rule is valid too."""
    rng = np.random.default_rng(10)
    for _ in range(20):
        requests, errors = cohort_counts(Traffic(), rng, looks=30, error_multiplier=1.5)
        assert first_rejection(BASELINE, requests[:, ::-1], errors[:, ::-1]) is None


@pytest.mark.parametrize("n, t, effect", [(2, 1.5, 1.0), (3, 4.0, 0.3), (5, 2.0, 3.0), (12, -1.0, 1.0),
                                          (30, 6.0, 10.0)])
def test_the_closed_form_equals_the_normal_mixture_of_noncentral_t_likelihood_ratios(n, t, effect):
    """Independent reference: by Wijsman's theorem the invariant likelihood ratio at eta is
    nct.pdf(t; n-1, eta sqrt(n)) / t.pdf(t; n-1); integrating it against N(0, effect^2) numerically
    must give the module's closed form (data with that t: mean t / sqrt(n), sd 1)."""
    mean, squares = t / np.sqrt(n), n - 1.0
    ratio = lambda eta: (stats.norm.pdf(eta, 0, effect) * stats.nct.pdf(t, n - 1, eta * np.sqrt(n))
                         / stats.t.pdf(t, n - 1))
    expected = integrate.quad(ratio, -np.inf, np.inf, epsabs=0, epsrel=1e-10, limit=200)[0]
    assert t_mixture(np.array([effect]), n, mean, squares) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("n", [2, 3, 8, 40])
def test_the_default_mixture_has_mean_one_under_the_null(n):
    """E[M_n] = 1 when eta = 0: M_n depends on the data only through t, which is then Student's t with
    n - 1 degrees of freedom (any sigma), so the expectation is a one-dimensional integral."""
    effects = parse_policy(BASELINE).effects()
    mixture_at = lambda t: t_mixture(effects, n, t / np.sqrt(n), n - 1.0) * stats.t.pdf(t, n - 1)
    total = sum(integrate.quad(mixture_at, a, b, epsabs=0, epsrel=1e-9, limit=500)[0]
                for a, b in ((-np.inf, -50), (-50, 0), (0, 50), (50, np.inf)))
    assert total == pytest.approx(1.0, rel=1e-6)


def test_the_batched_engine_gives_the_same_releases():
    """The batched engine caches each check's (state, verdict) by window digest; with the baseline
    variance it must still replay the per-check model exactly (good and bad builds)."""
    steps = [{"stage": "dogfood"}, {"set_weight": 5}, {"analysis": {"gates": ["watch"], "duration": "10m"}},
             {"set_weight": 50}, {"pause": "10m"}, {"set_weight": 100}, {"pause": "5m"}]
    items = []
    for r in range(4):
        scenario = release_scenario(
            steps, gates={"watch": BASELINE, "background": {**BASELINE, "interval": "2m"}}, background=["background"],
            build={"bad_probability": 1.0 if r % 2 else 0.0, "bad": {"added_error_rate": f"{0.2 * (r + 1)}%"}},
            traffic={"dispersion": 0.05, "error_rate": "0.3%"}, schedule={"start": None, "deploys_per_day": 12},
            fleet={"tiers": {"canary": "5%", "dogfood": 10}})
        items.append((scenario, r))
    expected = check_engines_agree(items)
    assert any(release.decisions for release in expected)


def test_each_variant_refuses_the_other_variants_fields_and_keeps_a_hashable_state():
    with pytest.raises(ValueError, match="min_ratio: only for variance binomial"):
        parse_policy({**BASELINE, "min_ratio": 1.5})
    with pytest.raises(ValueError, match="block_errors: only for variance baseline"):
        parse_policy({**BINOMIAL, "block_errors": 20})
    spec = parse_policy(BASELINE)
    state, verdict = check(spec, start(spec), window_of(60.0, new=([1000], [6]), old=([1000], [4])))
    assert state.pending == (6, 4, 5.0, 5.0) and state.blocks == 0  # 5 expected errors each: block still open
    state, verdict = check(spec, state, window_of(60.0, new=([1000], [7]), old=([1000], [5])))
    assert state.pending == (0, 0, 0.0, 0.0) and state.blocks == 1 and verdict.outcome == "continue"
    assert state.mean == pytest.approx(np.log(13.5 / 9.5)) and hash(state) is not None
