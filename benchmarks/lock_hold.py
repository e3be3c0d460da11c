"""How long one request holds the store's lock: `python -m benchmarks.lock_hold [--rounds N]`.

At the documented caps (MODELS-MAX: 1,000 model entries per group, each with a rate and a
usage limit), in-process through the Flask test client, it builds a five-level CASCADING
tree of such groups plus 100 such roots, and times every outermost hold of the lock while it
creates, reads, updates, lists (a page of 100 groups of 1,000 slugs) and deletes them. It
prints the longest hold per operation and the request's whole time, in milliseconds. The
target: no request at these caps holds the lock longer than 50 ms. Not part of CI.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from simulator.web.app import create_app, gateway

KEY = {"Authorization": "Api-Key sim-manage-acme"}
GROUPS = "/v1/gateway/groups"
SLUGS = 1000  # MODELS-MAX
TARGET_MS = 50.0


class TimedLock:
    """A reentrant lock that records how long each outermost hold lasted."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._since = 0.0
        self.holds: list[float] = []

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = self._lock.acquire(blocking, timeout)
        if got:
            self._depth += 1
            if self._depth == 1:
                self._since = time.perf_counter()
        return got

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.holds.append((time.perf_counter() - self._since) * 1000)
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()


def body(external_id: str, parent: str | None, threshold: int) -> dict[str, Any]:
    models = [
        {
            "slug": f"your-org/model-{i}",
            "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": threshold}],
            "usage_limits": [{"type": "TOKEN", "unit": "DAY", "threshold": threshold}],
        }
        for i in range(SLUGS)
    ]
    return {
        "metadata": {"name": external_id, "external_entity_id": external_id},
        "models": models,
        "hierarchy": {"limit_enforcement": "CASCADING", "parent_group_id": parent},
    }


def measure(rounds: int) -> dict[str, tuple[float, float]]:
    """operation -> (longest lock hold, median whole request), in ms, over `rounds` rounds."""
    found: dict[str, list[tuple[float, float]]] = {}
    for round_ in range(rounds):
        for operation, figures in one_round(round_).items():
            found.setdefault(operation, []).append(figures)
    return {
        operation: (max(hold for hold, _ in runs), statistics.median(whole for _, whole in runs))
        for operation, runs in found.items()
    }


def one_round(round_: int) -> dict[str, tuple[float, float]]:
    """One fresh app: operation -> (longest lock hold, whole request), in ms."""
    app = create_app()
    lock = TimedLock()
    with app.app_context():
        gateway().store.lock = lock  # type: ignore[assignment]  # the same protocol, timed
    client = app.test_client()
    found: dict[str, tuple[float, float]] = {}

    @contextmanager
    def timed(operation: str) -> Iterator[None]:
        lock.holds.clear()
        started = time.perf_counter()
        yield
        whole = (time.perf_counter() - started) * 1000
        found[operation] = (max(lock.holds, default=0.0), whole)

    def call(method: str, path: str, **kwargs: Any) -> Any:
        reply = client.open(path, method=method, headers=KEY, **kwargs)
        if reply.status_code != 200:
            raise RuntimeError(f"{method} {path}: {reply.status_code} {reply.get_data()!r}")
        return reply.get_json()

    parent = None
    for level in range(5):
        with timed(f"create, level {level + 1} of a CASCADING tree"):
            created = call("POST", GROUPS, json=body(f"r{round_}-l{level}", parent, 100 - level))
        parent = created["id"]
    with timed("get a level-5 group"):
        call("GET", f"{GROUPS}/{parent}")
    update = {"models": body("x", None, 90)["models"]}
    with timed("update a level-5 group"):
        call("PATCH", f"{GROUPS}/{parent}", json=update)
    for index in range(95):
        call("POST", GROUPS, json=body(f"r{round_}-root{index}", None, 10))
    with timed("list a page of 100 groups"):
        call("GET", GROUPS, query_string={"limit": 100})
    root = call("GET", GROUPS, query_string={"limit": 1})["items"][0]["id"]
    with timed("delete the five-level tree"):
        call("DELETE", f"{GROUPS}/{root}")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lock_hold", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each on a fresh app")
    args = parser.parse_args(argv)
    figures = measure(args.rounds)
    print(f"groups of {SLUGS} slugs, each with a rate and a usage limit; {args.rounds} rounds")
    print(f"{'operation':<42} {'longest lock hold, ms':>22} {'request (median), ms':>22}")
    for operation, (hold, whole) in figures.items():
        print(f"{operation:<42} {hold:>22.1f} {whole:>22.1f}")
    worst = max(hold for hold, _ in figures.values())
    verdict = "met" if worst <= TARGET_MS else "missed"
    print(f"longest hold {worst:.1f} ms against a target of {TARGET_MS:.0f} ms: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
