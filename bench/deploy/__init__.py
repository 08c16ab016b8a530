"""Deploy protocols on a running bench fleet: the per-host pull and p2p agents, pull, push, p2p, staged rollouts.

Imports the harness (`bench.harness`), never `bench.analysis`. Keep this file free of imports: every
host's agent runs as `python -m bench.deploy.agent` and loads it.
"""
