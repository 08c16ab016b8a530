"""Reading recorded bench runs, calibrating simulator parameters from them, validating the model.

Needs neither root nor namespaces: imports neither `bench.harness` nor `bench.deploy`.
"""
