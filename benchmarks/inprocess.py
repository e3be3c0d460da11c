"""In-process measures: create latency as the store grows and as trees deepen, and memory.

Requests go straight to the WSGI app (no socket, no test client), so the figures are the
simulator's own work. Run as `python -m benchmarks.inprocess scaling|memory|rss`, each in
a fresh process so its peak RSS is its own; it prints one JSON line.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from functools import partial
from itertools import count
from typing import Any

from flask import Flask

from benchmarks.servers import API_KEY, CREATE_PATH, documented_body
from simulator.web.app import create_app

_ids = count()


class Caller:
    """Calls the WSGI app the way a server would, with a prebuilt environ per request."""

    def __init__(self, app: Flask, key: str = API_KEY) -> None:
        self.app = app
        self.key = key

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any, float]:
        """Status, decoded JSON and the seconds the app took (environ building excluded)."""
        environ = _environ(method, path, body, self.key)
        status: list[str] = []

        def start_response(line: str, headers: list[tuple[str, str]], *_: Any) -> Any:
            status.append(line)

        started = time.perf_counter()
        raw = b"".join(self.app(environ, start_response))
        elapsed = time.perf_counter() - started
        return int(status[0][:3]), json.loads(raw), elapsed

    def create(self, body: dict[str, Any]) -> tuple[str, float]:
        status, payload, elapsed = self.call("POST", CREATE_PATH, body)
        if status != 200:
            raise RuntimeError(f"create answered {status}: {payload}")
        return payload["id"], elapsed

    def delete(self, group_id: str) -> None:
        status, payload, _ = self.call("DELETE", f"{CREATE_PATH}/{group_id}")
        if status != 200:
            raise RuntimeError(f"delete answered {status}: {payload}")


def _environ(method: str, path: str, body: Any, key: str) -> dict[str, Any]:
    raw = b"" if body is None else json.dumps(body).encode()
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(raw),
        "wsgi.errors": sys.stderr,
        "CONTENT_LENGTH": str(len(raw)),
        "CONTENT_TYPE": "application/json",
        "HTTP_AUTHORIZATION": f"Api-Key {key}",
    }


def body(mode: str = "INDEPENDENT", parent: str | None = None) -> dict[str, Any]:
    """The documented body with a fresh external_entity_id, placed in the hierarchy."""
    created = documented_body(f"bench-{next(_ids)}")
    created["hierarchy"] = {"limit_enforcement": mode, "parent_group_id": parent}
    return created


def fill(caller: Caller, target: int) -> None:
    """Creates documented groups until the store holds `target`."""
    store = caller.app.extensions["frontier_gateway"].store
    for _ in range(target - store.count()):
        caller.create(body())


def sampled(caller: Caller, make: Callable[[], dict[str, Any]], samples: int) -> float:
    """Median µs of `samples` creates; each is deleted again so the store size holds still."""
    times = []
    for _ in range(samples):
        group_id, elapsed = caller.create(make())
        times.append(elapsed)
        caller.delete(group_id)
    return statistics.median(times) * 1e6


def chain(caller: Caller, mode: str, levels: int) -> str:
    """Creates a chain of `levels` groups and returns the deepest one's id."""
    parent = None
    for _ in range(levels):
        parent, _elapsed = caller.create(body(mode, parent))
    assert parent is not None
    return parent


def scaling(sizes: Sequence[int], samples: int) -> dict[str, Any]:
    """Median µs of a create into stores of each size, and of level-5 against root creates.

    One app per size, filled first, then sampled in turn: drift of the machine during the
    run hits every size alike, so the ratios hold even when the absolute figures wander.
    """
    callers = {size: Caller(create_app()) for size in sizes}
    times: dict[int, list[float]] = {size: [] for size in sizes}
    for size, caller in callers.items():
        sampled(caller, body, 500)  # warm-up: first calls pay for lazy imports and caches
        fill(caller, size)
    for _ in range(samples):
        for size, caller in callers.items():
            times[size].append(sampled(caller, body, 1))
    return {
        "latency_us": {str(size): statistics.median(t) for size, t in times.items()},
        "depth_us": depth(callers[min(sizes)], samples),
    }


def peak_rss(groups: int) -> dict[str, Any]:
    """Peak RSS of a fresh process once its store holds `groups` documented groups."""
    caller = Caller(create_app())
    fill(caller, groups)
    gc.collect()
    return {
        "groups": caller.app.extensions["frontier_gateway"].store.count(),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def depth(caller: Caller, samples: int) -> dict[str, float]:
    """Median µs of a root create against a level-5 create, per enforcement mode.

    The two are sampled in turn so that drift of the machine hits both alike.
    """
    figures = {}
    for mode in ("INDEPENDENT", "CASCADING"):
        leaf_parent = chain(caller, mode, 4)
        roots, leaves = [], []
        for _ in range(samples):
            roots.append(sampled(caller, partial(body, mode), 1))
            leaves.append(sampled(caller, partial(body, mode, leaf_parent), 1))
        figures[f"{mode}:1"] = statistics.median(roots)
        figures[f"{mode}:5"] = statistics.median(leaves)
    return figures


def memory(groups: int) -> dict[str, Any]:
    """Bytes the store grows by per documented group, traced by tracemalloc.

    The warm-up keeps first-use allocations out of the count and fills the bounded request
    journal, so that what is traced is what each stored group costs.
    """
    caller = Caller(create_app())
    sampled(caller, body, 2000)  # creates and deletes: the store is empty again after
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    fill(caller, groups)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return {"groups": groups, "bytes_per_group": (after - before) / groups}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inprocess")
    parser.add_argument("measure", choices=["scaling", "memory", "rss"])
    parser.add_argument("--sizes", default="0,10000,100000", help="store sizes, comma-separated")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--groups", type=int, default=10000, help="groups traced or stored")
    args = parser.parse_args(argv)
    if args.measure == "scaling":
        result = scaling([int(s) for s in args.sizes.split(",")], args.samples)
    elif args.measure == "memory":
        result = memory(args.groups)
    else:
        result = peak_rss(args.groups)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
