"""Soak with hostile input: `python -m benchmarks.soak [--cases N] [--url URL]`.

Starts `frontier-sim` (or uses the one at --url), sends at least N schemathesis cases over
every operation of openapi.yaml, and prints the count of 5xx answers and of answers that
break the spec. Exit code 1 if there is any. Not part of CI: the default run takes minutes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from benchmarks.fuzz import fuzz, report
from benchmarks.servers import simulator_argv, start, stop
from simulator.web.server import free_port


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000, help="at least this many cases")
    parser.add_argument("--url", help="a running server (default: start frontier-sim)")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed of the first pass")
    args = parser.parse_args(argv)
    server = None
    if args.url is None:
        port = free_port()
        server = start("frontier-sim", simulator_argv(port), port)
    url = args.url or (server.url if server else "")
    started = time.perf_counter()
    try:
        tally = fuzz(url, args.cases, base_seed=args.seed)
    finally:
        if server is not None:
            stop(server)
    print(f"schemathesis soak against {url}: {time.perf_counter() - started:.0f} s")
    print(report(tally))
    return 1 if tally.server_errors or tally.spec_breaking or tally.transport_errors else 0


if __name__ == "__main__":
    sys.exit(main())
