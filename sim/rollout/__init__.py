"""Rollouts: one release travelling through the pipeline while a deploy commander watches it.

spec.py (what a scenario says), clock.py (wall clock, business hours), traffic.py (per-interval
counts per cohort), exposure.py (which hosts run which build when), pipeline.py (the SimPy process
of the steps, gates and actions), commander.py (people), records.py (what happened),
release.py (one replication end to end), summary.py (tables and outcome distributions);
before any run, nominal.py (the pipeline on paper), levels.py (requests per gate check) and
warnings.py (gate settings that cannot work with the scenario's traffic).
"""
