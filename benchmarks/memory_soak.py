"""Memory over a long run: `python -m benchmarks.memory_soak [--cycles N]`.

Starts `frontier-sim` with its defaults, runs N create-and-delete cycles of the documented
group over loopback (four clients, keep-alive), and prints the server's RSS at the start,
every tenth of the way, and at the end. The store is empty after each cycle, so the RSS
should stay flat. Not part of CI.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from benchmarks.servers import (
    API_KEY,
    CREATE_PATH,
    documented_body,
    rss_bytes,
    simulator_argv,
    start,
    stop,
)
from simulator.web.server import free_port

CLIENTS = 4
WARM_UP = 2000  # cycles before the first reading: caches and the request journal fill up
HEADERS = {"Authorization": f"Api-Key {API_KEY}", "Content-Type": "application/json"}


def cycle(connection: http.client.HTTPConnection, external_entity_id: str) -> None:
    """One documented create, then the delete of what it made."""
    connection.request(
        "POST", CREATE_PATH, json.dumps(documented_body(external_entity_id)), HEADERS
    )
    created = connection.getresponse()
    payload = json.loads(created.read())
    if created.status != 200:
        raise RuntimeError(f"create answered {created.status}: {payload}")
    connection.request("DELETE", f"{CREATE_PATH}/{payload['id']}", headers=HEADERS)
    deleted = connection.getresponse()
    deleted.read()
    if deleted.status != 200:
        raise RuntimeError(f"delete answered {deleted.status}")


def run_cycles(port: int, cycles: int, label: str) -> None:
    """`cycles` cycles spread over CLIENTS threads, each with its own connection."""
    errors: list[BaseException] = []

    def client(n: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for i in range(n, cycles, CLIENTS):
                cycle(connection, f"{label}-{i}")
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory_soak", description=__doc__)
    parser.add_argument("--cycles", type=int, default=100_000)
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").exists():
        print("memory_soak reads RSS from /proc: Linux only")
        return 2
    port = free_port()
    server = start("frontier-sim", simulator_argv(port), port)
    try:
        run_cycles(port, WARM_UP, "warm")
        first = rss_bytes(server)
        print(f"RSS after {WARM_UP:,} warm-up cycles: {first / 2**20:.1f} MiB", flush=True)
        step = max(1, args.cycles // 10)
        for done in range(step, args.cycles + 1, step):
            run_cycles(port, step, f"soak{done}")
            print(f"  after {done:>7,} cycles: {rss_bytes(server) / 2**20:.1f} MiB", flush=True)
        last = rss_bytes(server)
    finally:
        stop(server)
    growth = last - first
    mib = [f"{x / 2**20:.1f} MiB" for x in (first, last)]
    print(f"start {mib[0]}, end {mib[1]}, growth {growth / 2**20:+.1f} MiB")
    print(f"= {growth / args.cycles:+.1f} bytes per create-and-delete cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
