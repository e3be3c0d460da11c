"""Slow clients over the real server: uploads that never finish don't hold the request threads.

Each slow connection sends the headers of a create with `Content-Length: 100000` and then
one byte, and stays open. The key is checked from the headers before any body is read (the
journal reads none either), so a caller without a valid key holds no request thread.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import requests

from tests.builders import CONTROL, GROUPS, MANAGE_KEY, auth, group_body, unique
from tests.servers import FrontierSim, start_frontier_sim

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sim() -> Iterator[FrontierSim]:
    """`frontier-sim` without the management rate limit: the probes come quickly from one
    key, and what is measured here is the request threads, not the limit."""
    running = start_frontier_sim("--management-rate-limit", "0")
    yield running
    assert running.stop() == 0


SLOW_CONNECTIONS = 64  # half the default request threads, eight times the old default
PROBES = 20


def slow_upload(port: int, authorization: str | None = None) -> socket.socket:
    """A connection that announces a 100,000-byte body and sends one byte of it."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    head = [
        f"POST {GROUPS} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        "Content-Length: 100000",
    ]
    if authorization is not None:
        head.append(f"Authorization: {authorization}")
    sock.sendall(("\r\n".join(head) + "\r\n\r\n{").encode())
    return sock


def slow_uploads(
    stack: ExitStack, port: int, authorization: str | None, count: int = SLOW_CONNECTIONS
) -> Iterator[socket.socket]:
    for _ in range(count):
        yield stack.enter_context(slow_upload(port, authorization))


def first_line(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    try:
        return sock.recv(64).split(b"\r\n", 1)[0]
    except TimeoutError:
        return b""


@pytest.mark.parametrize("authorization", [None, "Api-Key not-a-key"], ids=["no-key", "bad-key"])
def test_slow_uploads_without_a_valid_key_leave_other_clients_served(
    sim: FrontierSim, authorization: str | None
) -> None:
    """64 slow uploads without a valid key: each gets its 401 at once, and other clients'
    creates and lists are answered meanwhile."""
    with ExitStack() as stack:
        slow = list(slow_uploads(stack, sim.port, authorization))
        time.sleep(0.2)  # every slow connection has reached the server
        statuses = []
        for _ in range(PROBES):
            made = requests.post(
                sim.url + GROUPS,
                json=group_body(unique("beside-slow")),
                headers={"Authorization": f"Api-Key {MANAGE_KEY}"},
                timeout=5,
            )
            listed = requests.get(
                sim.url + GROUPS, headers={"Authorization": f"Api-Key {MANAGE_KEY}"}, timeout=5
            )
            statuses.append((made.status_code, listed.status_code))
        assert statuses == [(200, 200)] * PROBES
        answered = [first_line(sock, 5) for sock in slow[:8]]
    assert all(line.startswith(b"HTTP/1.1 401") for line in answered), answered


def test_slow_uploads_with_a_valid_key_leave_other_clients_served(sim: FrontierSim) -> None:
    """64 slow uploads with the public default key reach the body read, which holds a
    request thread each (granian has no body read timeout); the default request threads
    are more than that, so other clients' creates and lists are answered meanwhile."""
    with ExitStack() as stack:
        list(slow_uploads(stack, sim.port, f"Api-Key {MANAGE_KEY}"))
        time.sleep(0.2)  # every slow connection has reached the server
        headers = {"Authorization": f"Api-Key {MANAGE_KEY}"}
        statuses = []
        for _ in range(PROBES):
            made = requests.post(
                sim.url + GROUPS, json=group_body(unique("beside")), headers=headers, timeout=5
            )
            listed = requests.get(sim.url + GROUPS, headers=headers, timeout=5)
            statuses.append((made.status_code, listed.status_code))
    assert statuses == [(200, 200)] * PROBES


def test_slow_headers_leave_other_clients_served(sim: FrontierSim) -> None:
    """64 connections that send half a request line and stop hold no request thread:
    granian reads headers in its own runtime (and drops them after its header timeout)."""
    with ExitStack() as stack:
        for _ in range(SLOW_CONNECTIONS):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", sim.port), 5))
            sock.sendall(f"POST {GROUPS} HTTP/1.1\r\nContent-Le".encode())
        time.sleep(0.2)
        statuses = [
            requests.get(
                sim.url + GROUPS, headers={"Authorization": f"Api-Key {MANAGE_KEY}"}, timeout=5
            ).status_code
            for _ in range(PROBES)
        ]
    assert statuses == [200] * PROBES


def test_a_keyless_slow_upload_leaves_no_body_in_the_journal(sim: FrontierSim) -> None:
    """The refused slow upload is journaled with its 401 and no body: nothing waited for it."""
    cleared = requests.delete(sim.url + "/_sim/journal", headers=CONTROL, timeout=5)
    assert cleared.status_code == 200
    with slow_upload(sim.port) as sock:
        assert first_line(sock, 5).startswith(b"HTTP/1.1 401")
    entries = requests.get(sim.url + "/_sim/journal", timeout=5).json()["entries"]
    assert [(e["method"], e["status"], e["body"], e["body_bytes"]) for e in entries] == [
        ("POST", 401, None, 0)
    ]


def test_an_answer_that_leaves_the_body_unread_says_the_connection_closes(
    sim: FrontierSim,
) -> None:
    """The 401 comes before the body, so the connection can't carry another request: the
    answer says `Connection: close`, and a client doesn't send its next request on it."""
    with slow_upload(sim.port) as sock:
        sock.settimeout(5)
        head = sock.recv(4096).split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 401")
    assert b"\r\nconnection: close" in head


def test_stalled_uploads_with_a_valid_key_get_408_and_free_their_threads() -> None:
    """Twice as many stalled keyed uploads as request threads: each gets 408 in the error
    shape, with Connection: close, once its body is a second late; then the server answers
    others again (without a body timeout every thread stayed held)."""
    sim = start_frontier_sim(
        "--management-rate-limit", "0", "--body-timeout", "1", "--threads", "4"
    )
    try:
        with ExitStack() as stack:
            uploads = list(slow_uploads(stack, sim.port, f"Api-Key {MANAGE_KEY}", count=8))
            answers = [answer(sock, 10) for sock in uploads]
        assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 408 Request Timeout"] * 8
        head, _, body = answers[0].partition(b"\r\n\r\n")
        assert b"\r\nconnection: close" in head.lower()
        assert body == b'{"error":"The request body did not arrive within 1 s."}'
        listed = requests.get(sim.url + GROUPS, headers=auth(MANAGE_KEY), timeout=5)
        assert listed.status_code == 200
    finally:
        assert sim.stop() == 0


def answer(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends until it closes the connection (or `timeout` passes)."""
    sock.settimeout(timeout)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except TimeoutError:
        pass
    return received
