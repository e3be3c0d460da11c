"""`python -m simulator` is `frontier-sim`."""

import sys

from simulator.cli import main

sys.exit(main())
