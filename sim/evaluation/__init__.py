"""Policy evaluation: many simulated releases (good and bad builds), several policies judged on the SAME
releases (common random numbers), rates and times with confidence intervals, and acceptance criteria.

engine.py (jobs: one release under one policy), estimates.py (per-policy estimates with intervals and
populations), acceptance.py (criteria -> pass/fail/uncertain), sweep.py (grids, Pareto front). The
`evaluation:` section's models are in `sim.spec.evaluation`.
"""
