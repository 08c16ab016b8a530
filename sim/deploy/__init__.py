"""Deploying one build to a fleet: plan.py (what each host does), strategies/ (push and pull planners),
faults.py and fleet.py (draws and layout), wave.py (the O(N log N) engine), engine.py (one job),
reference.py (the plain SimPy model it is held to), experiment.py (jobs over sizes and replications)."""
