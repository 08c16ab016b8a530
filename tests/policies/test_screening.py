"""The bulk screens the batched engine uses agree with judging each measurement in turn."""


import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import policies
from sim.policies import threshold
from sim.policies.rules import classify, measure_totals

RESULTS = st.lists(st.sampled_from(["success", "breach", "low", "none"]), max_size=40)


def measurements(spec, results):
    """Totals that measure to the given results under `spec` (max 1%, min_requests 100)."""
    table = {"success": (1000, 5, 1000, 5), "breach": (1000, 50, 1000, 5), "low": (10, 0, 1000, 5),
             "none": (0, 0, 1000, 5)}
    rows = np.array([table[r] for r in results], dtype=np.int64).reshape(-1, 4)
    requests, errors, old_requests, old_errors = rows.T
    new = np.divide(errors, requests, out=np.full(len(rows), np.nan), where=requests > 0)
    old = old_errors / old_requests
    return requests, new, old


@settings(max_examples=300, deadline=None)
@given(results=RESULTS, consecutive=st.integers(1, 4))
def test_classify_and_may_fail_agree_with_judging_one_by_one(results, consecutive):
    spec = policies.parse_policy({"semantics": "threshold", "metric": "error_rate", "max": "1%",
                                  "consecutive": consecutive, "min_requests": 100})
    requests, new, old = measurements(spec, results)
    success, breach = classify(spec, requests, new, old)
    state, final = threshold.start(spec), False
    for i in range(len(results)):
        m = measure_totals(spec, int(requests[i]), float(new[i]), float(old[i]))
        assert success[i] == (m.result == "success") and breach[i] == (m.result == "breach")
        state, verdict = threshold.judge(spec, state, m)
        final = final or verdict.final
    assert threshold.may_fail(spec, breach, success) == final  # exact: it fails iff the streak is reached
