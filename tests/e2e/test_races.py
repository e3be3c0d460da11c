"""Races against the real threaded server: many clients at once must never break a rule.

Each loop is bounded; nothing here measures time. The store takes one lock per
operation, so these tests check that no rule is decided outside it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
import requests

from tests.builders import GROUPS, group_body, unique
from tests.servers import FrontierSim, start_frontier_sim

pytestmark = pytest.mark.e2e
T = TypeVar("T")
THREADS = 32
RULE = "X-Frontier-Rule"


@pytest.fixture(scope="module")
def sim() -> Iterator[FrontierSim]:
    """`frontier-sim` without the management rate limit (MGMT-RATE-LIMIT): the races send
    hundreds of requests a second on one key, and are about the store's rules, not it."""
    running = start_frontier_sim("--management-rate-limit", "0")
    yield running
    assert running.stop() == 0


def race(threads: int, work: Callable[[int], T]) -> list[T]:
    """Runs `work(i)` in `threads` threads released together; results in thread order."""
    barrier = threading.Barrier(threads, timeout=60)
    results: list[Any] = [None] * threads

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as error:  # surfaced below, in the test's own thread
            results[i] = error

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(120)
    assert not [t for t in pool if t.is_alive()], "a racing thread didn't finish"
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
    return results


def chain(sim: FrontierSim, levels: int, mode: str = "INDEPENDENT") -> list[str]:
    """A root and its descendants, one per level; their ids, root first."""
    ids: list[str] = []
    for _ in range(levels):
        response = sim.create(group_body(unique("level"), ids[-1] if ids else None, mode))
        assert response.status_code == 200, response.text
        ids.append(response.json()["id"])
    return ids


def test_delete_of_a_parent_racing_child_creates_leaves_no_orphan(sim: FrontierSim) -> None:
    """DELETE-RECURSIVE under concurrency: every child that got a 200 is 404 afterwards."""
    for _ in range(3):
        parent = chain(sim, 1)[0]
        created, statuses, some_exist = _create_under_while_deleting(sim, parent)
        assert statuses.keys() <= {200, 404}, statuses  # nothing else, no 5xx
        assert created, "no child was created before the delete"
        for group_id in created:
            gone = sim.call("GET", f"{GROUPS}/{group_id}")
            assert gone.status_code == 404, (group_id, gone.text)
            assert gone.headers[RULE] == "GROUP-NOT-FOUND"
        assert some_exist


def _create_under_while_deleting(
    sim: FrontierSim, parent: str
) -> tuple[list[str], Counter[int], bool]:
    """16 threads create children (and a grandchild under each) while the parent is deleted."""
    created: list[str] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    enough = threading.Event()  # a few children exist: the delete lands mid-run

    def record(response: requests.Response) -> str | None:
        with lock:
            statuses[response.status_code] += 1
            if response.status_code != 200:
                assert response.headers[RULE] == "PARENT-EXISTS", response.text
                return None
            created.append(response.json()["id"])
            if len(created) >= 16:
                enough.set()
            return str(response.json()["id"])

    def work(_: int) -> None:
        for _ in range(20):
            child = record(sim.create(group_body(unique("child"), parent)))
            if child is not None:
                record(sim.create(group_body(unique("grandchild"), child)))

    failures: list[BaseException] = []
    workers = threading.Thread(target=_catching, args=(failures, race, 16, work))
    workers.start()
    some_exist = enough.wait(60)
    deleted = sim.call("DELETE", f"{GROUPS}/{parent}")
    workers.join(180)
    assert not workers.is_alive(), "the creating threads didn't finish"
    if failures:
        raise failures[0]
    assert deleted.status_code == 200, deleted.text
    return created, statuses, some_exist


def _catching(failures: list[BaseException], work: Callable[..., Any], *args: Any) -> None:
    """Runs `work` in a thread, keeping what it raised for the test's own thread."""
    try:
        work(*args)
    except BaseException as error:
        failures.append(error)


def test_children_of_a_level_5_group_are_all_refused(sim: FrontierSim) -> None:
    """DEPTH-MAX under concurrency: 32 simultaneous creates under level 5 all get 400."""
    level_5 = chain(sim, 5)[-1]
    answers = race(THREADS, lambda _: sim.create(group_body(unique("level-6"), level_5)))
    assert [a.status_code for a in answers] == [400] * THREADS
    assert {a.headers[RULE] for a in answers} == {"DEPTH-MAX"}


def test_racing_level_5_creates_never_allow_a_sixth_level(sim: FrontierSim) -> None:
    """DEPTH-MAX: groups made level 5 a moment ago refuse children, whoever asks first."""
    level_4 = chain(sim, 4, "CASCADING")[-1]
    level_5: list[str] = []
    lock = threading.Lock()

    def work(_: int) -> list[requests.Response]:
        made = sim.create(group_body(unique("level-5"), level_4, "CASCADING"))
        assert made.status_code == 200, made.text
        with lock:
            level_5.append(made.json()["id"])
            targets = level_5[-4:]  # its own and the latest of the others
        return [sim.create(group_body(unique("level-6"), t, "CASCADING")) for t in targets]

    attempts = [a for answers in race(16, work) for a in answers]
    assert {a.status_code for a in attempts} == {400}
    assert {a.headers[RULE] for a in attempts} == {"DEPTH-MAX"}


def test_duplicate_external_entity_ids_have_one_winner_per_round(sim: FrontierSim) -> None:
    """EXTID-UNIQUE and EXTID-REUSE: 32 racing creates of one id admit one, round after round."""
    external_entity_id = unique("duplicate")
    for _ in range(4):
        answers = race(THREADS, lambda _: sim.create(group_body(external_entity_id)))
        winners = [a for a in answers if a.status_code == 200]
        losers = [a for a in answers if a.status_code != 200]
        assert len(winners) == 1, Counter(a.status_code for a in answers)
        assert {(a.status_code, a.headers[RULE]) for a in losers} == {(400, "EXTID-UNIQUE")}
        deleted = sim.call("DELETE", f"{GROUPS}/{winners[0].json()['id']}")
        assert deleted.status_code == 200, deleted.text
