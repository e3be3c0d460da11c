"""`python -m simulator` is `frontier-sim`."""

import sys

from simulator.web.cli import main

sys.exit(main())
