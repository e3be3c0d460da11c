"""The request journal under a flood of large bodies: `python -m benchmarks.journal_flood`.

Starts `frontier-sim` with its defaults and sends 1,200 POSTs of 1 MiB each over loopback,
then clears the journal, printing the server's RSS (all its processes) at each step:

- keyless, to an unknown path: nothing reads these bodies, so nothing keeps them;
- with a key, as creates padded with white space to 1 MiB: the Gateway reads each one and
  the journal keeps its first bytes only (`Journal.body_bytes`), within its byte budget.

Each request goes on its own connection. Prints one JSON line last; not part of CI.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.servers import (
    API_KEY,
    CREATE_PATH,
    Server,
    documented_body,
    rss_bytes,
    simulator_argv,
    start,
    stop,
)
from simulator.web.server import free_port

MIB = 2**20
UNKNOWN_PATH = "/v1/unknown/route"


def post(port: int, path: str, body: bytes, headers: dict[str, str]) -> str:
    """The status of one POST, or "closed" when the server answered (or hung up) before
    taking the whole body, and the answer was lost with the connection."""
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    head += ["Content-Type: application/json", "Connection: close"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        with contextlib.suppress(OSError):  # refused before the body was read: the answer
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)  # may be there
        try:
            line = sock.recv(64).split(b"\r\n", 1)[0].decode("latin-1")
        except OSError:
            return "closed"
    return line.split(" ")[1] if line.startswith("HTTP/") else "closed"


def flood(port: int, count: int, keyed: bool) -> dict[str, int]:
    """`count` POSTs of 1 MiB; the statuses they got, counted."""
    statuses: dict[str, int] = {}
    for i in range(count):
        if keyed:
            text = json.dumps(documented_body(f"flood-{time.monotonic_ns()}-{i}")).encode()
            body, path = text + b" " * (MIB - len(text)), CREATE_PATH
            headers = {"Authorization": f"Api-Key {API_KEY}"}
        else:
            body, path, headers = b"x" * MIB, UNKNOWN_PATH, {}
        status = post(port, path, body, headers)
        statuses[status] = statuses.get(status, 0) + 1
    return statuses


def clear_journal(port: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("DELETE", "/_sim/journal")
        connection.getresponse().read()
    finally:
        connection.close()


def journal_size(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", "/_sim/journal")
        entries: list[object] = json.loads(connection.getresponse().read())["entries"]
        return len(entries)
    finally:
        connection.close()


def measure(count: int, keyed: bool) -> dict[str, object]:
    port = free_port()
    server: Server = start("frontier-sim", simulator_argv(port), port)
    try:
        before = rss_bytes(server)
        statuses = flood(port, count, keyed)
        flooded = rss_bytes(server)
        entries = journal_size(port)
        clear_journal(port)
        time.sleep(0.5)
        cleared = rss_bytes(server)
    finally:
        stop(server)
    return {
        "keyed": keyed,
        "requests": count,
        "statuses": statuses,
        "journal_entries": entries,
        "rss_start_mib": round(before / MIB, 1),
        "rss_after_flood_mib": round(flooded / MIB, 1),
        "rss_after_clear_mib": round(cleared / MIB, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.journal_flood", description=__doc__)
    parser.add_argument("--requests", type=int, default=1200)
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").exists():
        print("journal_flood reads RSS from /proc: Linux only")
        return 2
    results = []
    for keyed in (False, True):
        result = measure(args.requests, keyed)
        label = "with a key, as creates" if keyed else "keyless, to an unknown path"
        print(
            f"{args.requests:,} x 1 MiB POSTs {label}: statuses {result['statuses']}, "
            f"{result['journal_entries']} journal entries; RSS {result['rss_start_mib']} -> "
            f"{result['rss_after_flood_mib']} MiB, "
            f"after clearing {result['rss_after_clear_mib']} MiB",
            flush=True,
        )
        results.append(result)
    print(json.dumps({"floods": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
