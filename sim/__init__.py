"""deploysim: simulate and benchmark how builds reach a fleet.

The simulator (this package) owns the scenario model, the deploy engine, records, results and the
command line. The bench package drives real Consul agents and rsync and imports from here; nothing
here imports from ``bench``.
"""

__version__ = "0.1.0"
