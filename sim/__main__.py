"""`python -m sim` is the same as the `deploysim` command."""

from sim.cli import main

main()
