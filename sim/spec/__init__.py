"""Every scenario model, at the bottom of the simulator: scenario.py (fleet, network, strategies, faults,
traffic and the scenario itself), rollout.py (the pipeline, builds, commander, schedule), evaluation.py
(policies under evaluation, acceptance criteria, sweeps), references.py (cross-references located in
the file), reference_doc.py (the reference page and JSON Schema generated from the models). Gate and
policy models live with their judges in `sim.policies`."""
