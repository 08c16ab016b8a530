"""`python -m sim` is the same as the `deploysim` command."""

import sys

try:
    from sim.cli import main
except KeyboardInterrupt:  # Ctrl-C while still importing
    sys.exit(130)

main()
