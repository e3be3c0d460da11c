"""Create throughput of `frontier-sim` against a reference server under the same wrk load.

Both servers run side by side for the whole comparison; the rounds alternate which one
is loaded first, so drift of a shared machine hits both alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.load import SCRIPT, Load, LoadResult, median_result, run_wrk
from benchmarks.servers import Server, cpu_seconds, simulator_argv, start, stop
from simulator.web.server import free_port

WARM_UP = 1  # seconds of load on each server before the measured rounds


@dataclass(frozen=True)
class Pair:
    reference: str
    simulator: LoadResult
    other: LoadResult

    @property
    def ratio(self) -> float:
        return self.simulator.requests_per_s / self.other.requests_per_s


def measure(
    server: Server, load: Load, prefix: str, *, script: Path = SCRIPT, args: Sequence[str] = ()
) -> LoadResult:
    """One wrk run against `server`, with the CPU time its processes spent per request."""
    before = cpu_seconds(server)
    result = run_wrk(server.url, load, prefix, script=script, args=args)
    spent = cpu_seconds(server) - before
    return replace(result, cpu_us=spent / max(1, result.requests) * 1e6)


def compare(
    reference: str, reference_argv: Callable[[int], list[str]], load: Load, rounds: int
) -> Pair:
    """Medians over `rounds` alternating wrk runs on the simulator and the reference."""
    sim_port, ref_port = free_port(), free_port()
    servers = [start("frontier-sim", simulator_argv(sim_port), sim_port)]
    try:
        servers.append(start(reference, reference_argv(ref_port), ref_port))
        return _rounds(reference, servers[0], servers[1], load, rounds)
    finally:
        for server in servers:
            stop(server)


def _rounds(reference: str, sim: Server, ref: Server, load: Load, rounds: int) -> Pair:
    warm = Load(load.threads, load.connections, WARM_UP)
    run_wrk(sim.url, warm, "warm")
    run_wrk(ref.url, warm, "warm")
    results: dict[str, list[LoadResult]] = {sim.name: [], ref.name: []}
    for i in range(rounds):
        order = (sim, ref) if i % 2 == 0 else (ref, sim)
        for server in order:
            results[server.name].append(measure(server, load, f"round{i}"))
    return Pair(reference, median_result(results[sim.name]), median_result(results[ref.name]))


def thread_sweep(counts: list[int], load: Load, rounds: int) -> dict[int, LoadResult]:
    """`frontier-sim --threads N` for each N, all running, loaded in turn round after round."""
    servers: list[Server] = []
    try:
        for count in counts:
            port = free_port()
            servers.append(
                start(f"threads={count}", simulator_argv(port, "--threads", str(count)), port)
            )
        results: dict[str, list[LoadResult]] = {s.name: [] for s in servers}
        for server in servers:
            run_wrk(server.url, Load(load.threads, load.connections, WARM_UP), "warm")
        for i in range(rounds):
            for server in servers if i % 2 == 0 else servers[::-1]:
                results[server.name].append(measure(server, load, f"round{i}"))
    finally:
        for server in servers:
            stop(server)
    return {c: median_result(results[f"threads={c}"]) for c in counts}
