"""Policy evaluation: many simulated releases (good and bad builds), several policies judged on the SAME
releases (common random numbers), rates and times with confidence intervals, and acceptance criteria.

spec.py (the `evaluation:` section), engine.py (jobs: one release under one policy), stats.py
(per-policy estimates with intervals), acceptance.py (criteria -> pass/fail).
"""
