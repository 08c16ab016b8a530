"""Root-only machinery of a bench run: namespaces, processes, Consul, daemons, the artifact server, faults.

Imports neither `bench.deploy` nor `bench.analysis`. Keep this file free of imports: every host's
deploy agent loads it (for `bench.harness.kv`).
"""
