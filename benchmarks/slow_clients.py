"""Other clients' latency beside slow uploads: `python -m benchmarks.slow_clients`.

Starts `frontier-sim` with its defaults. A probe client sends documented creates and lists,
one at a time, and its latencies are taken in alternating rounds: alone, and beside
64 slow-upload connections (headers of a create with `Content-Length: 100000`, then one
byte, left open). The slow connections are made without a key, as an attacker would; the
last row makes them with the public default key, which lets them reach the body read.
Prints the probes' p50 and p99 for each and the ratio of the p99s (target: within 2x).
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack

from benchmarks.servers import API_KEY, CREATE_PATH, documented_body, simulator_argv, start, stop
from simulator.web.server import free_port

SLOW = 64
HEADERS = {"Authorization": f"Api-Key {API_KEY}", "Content-Type": "application/json"}
PROBE_TIMEOUT = 5.0
GIVE_UP = 3  # failed probes after which a round stops


def slow_upload(port: int, key: str | None) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    head = [f"POST {CREATE_PATH} HTTP/1.1", "Host: 127.0.0.1", "Content-Length: 100000"]
    head += ["Content-Type: application/json"]
    if key is not None:
        head.append(f"Authorization: Api-Key {key}")
    sock.sendall(("\r\n".join(head) + "\r\n\r\n{").encode())
    return sock


def probe(port: int, count: int, label: str) -> tuple[list[float], int]:
    """Latencies (ms) of `count` create-then-list pairs, one request at a time; and how many
    requests failed or timed out."""
    latencies, failed = [], 0
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT)
    try:
        for i in range(count):
            body = json.dumps(documented_body(f"{label}-{time.monotonic_ns()}-{i}"))
            for method, path, data in (("POST", CREATE_PATH, body), ("GET", CREATE_PATH, None)):
                started = time.perf_counter()
                try:
                    connection.request(method, path, data, HEADERS)
                    response = connection.getresponse()
                    response.read()
                    ok = response.status == 200
                except OSError:
                    ok = False
                    connection.close()
                    connection = http.client.HTTPConnection(
                        "127.0.0.1", port, timeout=PROBE_TIMEOUT
                    )
                latencies.append((time.perf_counter() - started) * 1000)
                failed += not ok
            if failed >= GIVE_UP:  # the server is stalled: say so rather than wait it out
                break
    finally:
        connection.close()
    return latencies, failed


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else values[0]


def measure(
    rounds: int, count: int, key: str | None, threads: int | None = None
) -> dict[str, float]:
    port = free_port()
    extra = () if threads is None else ("--threads", str(threads))
    server = start("frontier-sim", simulator_argv(port, *extra), port)
    alone: list[float] = []
    beside: list[float] = []
    failed = {"alone": 0, "beside": 0}
    try:
        probe(port, 50, "warm")
        for i in range(rounds):
            for slow in (False, True) if i % 2 == 0 else (True, False):
                with ExitStack() as stack:
                    if slow:
                        for _ in range(SLOW):
                            stack.enter_context(slow_upload(port, key))
                        time.sleep(0.2)
                    latencies, bad = probe(port, count, f"r{i}")
                (beside if slow else alone).extend(latencies)
                failed["beside" if slow else "alone"] += bad
    finally:
        stop(server)
    return {
        "alone_p50_ms": statistics.median(alone),
        "alone_p99_ms": p99(alone),
        "beside_p50_ms": statistics.median(beside),
        "beside_p99_ms": p99(beside),
        "ratio_p99": p99(beside) / p99(alone),
        "failed_alone": failed["alone"],
        "failed_beside": failed["beside"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.slow_clients", description=__doc__)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--requests", type=int, default=100, help="create+list pairs per round")
    parser.add_argument(
        "--threads", type=int, nargs="*", default=[],
        help="also measure the slow uploads with a key at each of these --threads",
    )  # fmt: skip
    args = parser.parse_args(argv)
    results = {}
    cases: list[tuple[str, str | None, int | None]] = [
        ("keyless", None, None),
        ("with the default key", API_KEY, None),
    ]
    cases += [(f"with the default key, --threads {n}", API_KEY, n) for n in args.threads]
    for label, key, threads in cases:
        result = measure(args.rounds, args.requests, key, threads)
        results[label] = result
        verdict = "met" if result["ratio_p99"] <= 2 and not result["failed_beside"] else "MISSED"
        print(
            f"{SLOW} slow uploads {label}: probes p50/p99 alone "
            f"{result['alone_p50_ms']:.1f}/{result['alone_p99_ms']:.1f} ms, beside "
            f"{result['beside_p50_ms']:.1f}/{result['beside_p99_ms']:.1f} ms; p99 ratio "
            f"{result['ratio_p99']:.2f} (target <= 2: {verdict}); failed "
            f"{result['failed_alone']} alone, {result['failed_beside']} beside",
            flush=True,
        )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
