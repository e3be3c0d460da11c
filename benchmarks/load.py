"""Load over loopback with wrk and `create.lua`: each request a documented create, ids unique."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.servers import API_KEY

SCRIPT = Path(__file__).with_name("create.lua")
WRK_MISSING = (
    "wrk is not installed. Install it with: apt-get update && apt-get install -y wrk "
    "(Debian/Ubuntu), or brew install wrk (macOS)."
)


@dataclass(frozen=True)
class Load:
    threads: int
    connections: int
    seconds: int

    def describe(self) -> str:
        return f"wrk -t{self.threads} -c{self.connections} -d{self.seconds}s"


@dataclass(frozen=True)
class LoadResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    failed: int  # non-2xx answers and socket errors: a run with any is not a clean figure
    # The server's own CPU time per request: unlike req/s, it hardly moves when other
    # work shares the machine, so it is the steadier figure of the server's cost.
    cpu_us: float = 0.0


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    url: str, load: Load, prefix: str, *, script: Path = SCRIPT, args: Sequence[str] = ()
) -> LoadResult:
    """One wrk run of `script` (documented creates by default); `prefix` keeps this run's
    external_entity_ids apart from every other's, `args` replace the script's arguments."""
    argv = [
        "wrk",
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{load.seconds}s",
        "-s",
        str(script),
        url,
        "--",
        *(args or (API_KEY, prefix)),
    ]
    done = subprocess.run(
        argv, capture_output=True, text=True, check=True, timeout=load.seconds + 60
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK_RESULT "))
    raw = json.loads(line.removeprefix("WRK_RESULT "))
    return LoadResult(
        requests_per_s=raw["requests"] / (raw["duration_us"] / 1e6),
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        requests=raw["requests"],
        failed=raw["non_2xx"] + raw["socket_errors"],
    )


def median_result(results: Sequence[LoadResult]) -> LoadResult:
    """Each figure's median over the rounds (requests and failures are summed)."""
    return LoadResult(
        requests_per_s=statistics.median(r.requests_per_s for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        requests=sum(r.requests for r in results),
        failed=sum(r.failed for r in results),
        cpu_us=statistics.median(r.cpu_us for r in results),
    )
