"""`python -m benchmarks [--quick]` prints the benchmark table."""

import sys

from benchmarks.run import main

sys.exit(main())
