"""`python -m benchmarks.mutation` prints the conformance suite's kill rate and survivors."""

import sys

from benchmarks.mutation.run import main

sys.exit(main())
