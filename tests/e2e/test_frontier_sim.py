"""`frontier-sim` over a real loopback socket: the documented example, refusals, a race on one
external id, and a configuration file.

One default server is shared by the module; the lifecycle test starts its own from a
configuration file with `python -m simulator` and stops it as Ctrl-C in a terminal does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.builders import (
    GROUPS,
    MANAGE,
    auth,
    documented_request,
    expected_documented_response,
    group_body,
)
from tests.servers import FrontierSim, start_frontier_sim

pytestmark = pytest.mark.e2e
THREADS = 32


@pytest.fixture(scope="module")
def server() -> Iterator[FrontierSim]:
    """The installed `frontier-sim` with its defaults; SIGINT stops it with exit code 0 (Ctrl-C
    to the whole process group is the configuration file's test)."""
    running = start_frontier_sim()
    yield running
    assert running.stop() == 0, running.stderr()
    assert running.stdout().rstrip().endswith("frontier-sim: stopped.")


def test_e2e_answers_the_documented_example(server: FrontierSim) -> None:
    """OK-200 and READ-BACK over a socket: the documented request, then GET of the result."""
    response = requests.post(
        server.url + GROUPS, json=documented_request(), headers=MANAGE, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body == expected_documented_response(body["id"], body["created_at"])
    again = requests.get(f"{server.url}{GROUPS}/{body['id']}", headers=MANAGE, timeout=10)
    assert again.json() == body


def test_e2e_refusals_keep_the_error_shape(server: FrontierSim) -> None:
    """ERR-BODY and AUTH-MISSING over a socket, with the rule header; 413 for a huge body."""
    unauthenticated = requests.post(server.url + GROUPS, json=group_body("e2e"), timeout=10)
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["X-Frontier-Rule"] == "AUTH-MISSING"
    assert set(unauthenticated.json()) == {"error"}
    huge = requests.post(
        server.url + GROUPS,
        data=b" " * (10 * 1024 * 1024),
        headers={**MANAGE, "Content-Type": "application/json"},
        timeout=30,
    )
    assert huge.status_code == 413
    assert set(huge.json()) == {"error"}


def test_e2e_concurrent_creates_of_one_external_entity_id_admit_one(server: FrontierSim) -> None:
    """EXTID-UNIQUE under concurrency: of 32 simultaneous creates exactly one wins, no 5xx."""
    barrier = threading.Barrier(THREADS)
    results: list[Any] = []
    lock = threading.Lock()

    def create(n: int) -> None:
        body = group_body("race", name=f"thread {n}")
        barrier.wait(timeout=30)
        try:
            response = requests.post(server.url + GROUPS, json=body, headers=MANAGE, timeout=30)
            outcome: Any = (response.status_code, response.headers.get("X-Frontier-Rule"))
        except requests.RequestException as error:  # recorded, so the assertion shows it
            outcome = (None, repr(error))
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = sorted(status or 0 for status, _ in results)
    assert len(results) == THREADS
    assert statuses.count(200) == 1, results
    assert statuses.count(400) == THREADS - 1, results
    assert {rule for status, rule in results if status == 400} == {"EXTID-UNIQUE"}
    listed = requests.get(
        f"{server.url}{GROUPS}?external_entity_id=race", headers=MANAGE, timeout=10
    )
    assert len(listed.json()["items"]) == 1


def test_e2e_serves_a_config_file_and_stops_cleanly(tmp_path: Path) -> None:
    """`python -m simulator --config FILE`: banner, keys honoured, SIGINT exits 0."""
    path = tmp_path / "sim.yaml"
    path.write_text(
        "workspaces:\n"
        "  umbrella:\n"
        "    keys: {u-manage: management, u-view: view}\n"
        "  hooli:\n"
        "    onboarded: false\n"
        "    keys: {h-manage: management}\n",
        encoding="utf-8",
    )
    running = start_frontier_sim("--config", str(path), module=True)
    try:
        url = running.url + GROUPS
        assert (
            requests.post(url, json=group_body(), headers=auth("u-manage"), timeout=10).status_code
            == 200
        )
        assert (
            requests.post(url, json=group_body(), headers=auth("u-view"), timeout=10).status_code
            == 403
        )
        assert (
            requests.post(url, json=group_body(), headers=auth("h-manage"), timeout=10).status_code
            == 403
        )
        assert requests.post(url, json=group_body(), headers=MANAGE, timeout=10).status_code == 401
    finally:
        code = running.stop(group=True)
    out, err = running.stdout(), running.stderr()
    assert code == 0, err
    assert "Traceback" not in err
    assert "WARNING" not in err  # bound to loopback
    lines = [line.split() for line in out.splitlines()]
    assert any(running.url in line for line in out.splitlines())
    for key, role in (("u-manage", "management"), ("u-view", "view"), ("h-manage", "management,")):
        assert any(line[:2] == [key, role] for line in lines), out
    assert out.rstrip().endswith("frontier-sim: stopped.")
