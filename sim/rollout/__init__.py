"""Rollouts: one release travelling through the pipeline while a deploy commander watches it.

simulate.py (the entry: one release or many), release.py (the per-check SimPy model and the outcome),
batch.py (the batched engine, identical results), setup.py (what every release of a scenario shares,
built once), context.py (what one release is, and its state as it runs), facts.py (what happened),
pipeline.py (steps, gates, actions), commander.py (people), exposure.py (which hosts run which build
when), series.py and traffic.py (per-interval counts per cohort), clock.py (wall clock, business hours),
records.py (outcomes, decisions, stage changes), populations.py (what each measure is taken over),
summary.py and timeline.py (tables and plots); before any run, nominal.py (the pipeline on paper),
levels.py (requests per gate check) and warnings.py (gate settings that cannot work with the scenario's
traffic). The scenario's rollout models are in `sim.spec.rollout`.
"""
