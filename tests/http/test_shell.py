"""The WSGI-over-ASGI shell, driven in process: the ASGI messages it sends for the app's
answers, its body reads and their timeout, the dropped and cut answers of faults."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from simulator import create_app
from simulator.core.completions import ModelProfile, ModelProfiles
from simulator.harness.faults import FaultBook
from simulator.web.interceptor import answered_without_waiting
from simulator.web.shell import WsgiOverAsgi, announces_body, wsgi_environ
from tests.builders import GROUPS, MANAGE, SLUG, auth, group_body

NEVER = object()  # a body piece that never arrives


@pytest.fixture
def shell(app: Flask) -> Iterator[WsgiOverAsgi]:
    served = WsgiOverAsgi(app, threads=4, body_timeout=0.2)
    yield served
    served.pool.shutdown()


def scope(method: str, path: str, headers: dict[str, str], query: bytes = b"") -> dict[str, Any]:
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }


def serve(
    shell: WsgiOverAsgi,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    pieces: Sequence[object] = (b"",),
    query: bytes = b"",
) -> tuple[list[dict[str, Any]], BaseException | None]:
    """The messages the shell sent for one request whose body comes in `pieces`, and the
    exception it ended with (a server cuts the connection there)."""
    sent: list[dict[str, Any]] = []
    incoming = list(pieces)

    async def receive() -> dict[str, Any]:
        piece = incoming.pop(0) if incoming else NEVER
        if piece is NEVER:
            await asyncio.Event().wait()
        assert isinstance(piece, bytes)
        return {"type": "http.request", "body": piece, "more_body": bool(incoming)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> BaseException | None:
        try:
            await shell(scope(method, path, {"Host": "127.0.0.1", **(headers or {})}, query),
                        receive, send)  # fmt: skip
        except Exception as error:
            return error
        return None

    failed = asyncio.run(run())
    return sent, failed


def status_headers_body(sent: list[dict[str, Any]]) -> tuple[int, dict[str, str], bytes]:
    start, *parts = sent
    assert start["type"] == "http.response.start"
    assert [p["type"] for p in parts] == ["http.response.body"] * len(parts)
    assert not parts[-1].get("more_body")  # the body was ended
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, b"".join(p["body"] for p in parts)


def test_an_answer_through_the_shell_is_the_apps(shell: WsgiOverAsgi, client: FlaskClient) -> None:
    """A create sent in three pieces is read whole; its answer, status, headers and body,
    is what the app answers in one message."""
    data = json.dumps(group_body("shell")).encode()
    headers = {**MANAGE, "Content-Type": "application/json", "Content-Length": str(len(data))}
    sent, failed = serve(
        shell, "POST", GROUPS, headers=headers, pieces=[data[:5], data[5:9], data[9:]]
    )
    assert failed is None
    assert len(sent) == 2  # sized: one start, one body
    status, answer_headers, body = status_headers_body(sent)
    assert status == 200
    assert answer_headers["content-type"] == "application/json"
    created = json.loads(body)
    assert created["metadata"]["external_entity_id"] == "shell"
    assert "connection" not in answer_headers
    read = client.get(f"{GROUPS}/{created['id']}", headers=MANAGE)
    assert read.json == created


def test_the_query_string_and_repeated_headers_reach_the_app(shell: WsgiOverAsgi) -> None:
    sent, _ = serve(shell, "GET", GROUPS, headers=MANAGE, query=b"limit=1")
    assert status_headers_body(sent)[0] == 200
    sent, _ = serve(shell, "GET", GROUPS, headers=MANAGE, query=b"limit=0")
    assert status_headers_body(sent)[0] == 400


def test_a_body_that_stops_arriving_gets_408_and_connection_close(shell: WsgiOverAsgi) -> None:
    """The body's first piece comes, the rest never does: 408 in the error shape once the
    body timeout passes, and the connection is not reused."""
    headers = {**MANAGE, "Content-Type": "application/json", "Content-Length": "100"}
    sent, failed = serve(shell, "POST", GROUPS, headers=headers, pieces=[b"{", NEVER])
    assert failed is None
    status, answer_headers, body = status_headers_body(sent)
    assert status == 408
    assert answer_headers["connection"] == "close"
    assert json.loads(body) == {"error": "The request body did not arrive within 0.2 s."}


@pytest.mark.parametrize("control_api", [True, False], ids=["control-api", "no-control-api"])
@pytest.mark.parametrize(
    ("path", "authorization", "status"),
    [
        (GROUPS, None, 401),
        (GROUPS, "Api-Key sim-view-acme", 403),
        ("/v1/chat/completions", None, 401),
    ],
)
def test_a_refusal_from_the_headers_never_waits_for_the_body(
    control_api: bool, path: str, authorization: str | None, status: int
) -> None:
    """Refused from its headers: the answer comes at once, though the body never does (the
    key comes before the body), and says `Connection: close`: the body is still on the wire.
    With or without the control API's journal in front."""
    served = WsgiOverAsgi(create_app(control_api=control_api), threads=2)
    headers = {"Content-Type": "application/json", "Content-Length": "100"}
    if authorization is not None:
        headers["Authorization"] = authorization
    try:
        sent, _ = serve(served, "POST", path, headers=headers, pieces=[b"{", NEVER])
    finally:
        served.pool.shutdown()
    status_, answer_headers, _ = status_headers_body(sent)
    assert (status_, answer_headers["connection"]) == (status, "close")


def test_a_stream_is_sent_chunk_by_chunk_and_ended(app: Flask, shell: WsgiOverAsgi) -> None:
    key = minted_key(app)
    data = json.dumps(chat(stream=True)).encode()
    headers = {**auth(key), "Content-Type": "application/json", "Content-Length": str(len(data))}
    sent, failed = serve(shell, "POST", "/v1/chat/completions", headers=headers, pieces=[data])
    assert failed is None
    status, answer_headers, body = status_headers_body(sent)
    assert (status, answer_headers["content-type"]) == (200, "text/event-stream; charset=utf-8")
    assert len(sent) > 3  # a message per event, then the end
    assert body.rstrip().endswith(b"data: [DONE]")


def test_a_cut_stream_ends_in_an_exception_without_the_end(app: Flask, shell: WsgiOverAsgi) -> None:
    """`cut=1`: the headers and one event go out, then the exception that makes the server
    cut the connection; the body is never ended."""
    key = minted_key(app)
    data = json.dumps(chat(stream=True)).encode()
    headers = {**auth(key), "Content-Type": "application/json", "Content-Length": str(len(data)),
               "X-Sim-Fault": "cut=1"}  # fmt: skip
    sent, failed = serve(shell, "POST", "/v1/chat/completions", headers=headers, pieces=[data])
    assert isinstance(failed, ConnectionAbortedError)
    assert sent[0]["status"] == 200
    assert [m.get("more_body") for m in sent[1:]] == [True]


def test_a_dropped_answer_ends_in_an_exception_after_the_headers(shell: WsgiOverAsgi) -> None:
    """`drop`: no byte of a body goes out; the exception makes the server cut the connection."""
    sent, failed = serve(shell, "GET", GROUPS, headers={**MANAGE, "X-Sim-Fault": "drop"})
    assert isinstance(failed, ConnectionAbortedError)
    assert [m.get("body", b"") for m in sent[1:]] == [b""]
    assert sent[-1]["more_body"] is True


def test_lifespan_startup_and_shutdown_are_acknowledged(shell: WsgiOverAsgi) -> None:
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(shell({"type": "lifespan"}, receive, send))
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_the_environ_follows_pep_3333() -> None:
    """A decoded path as latin-1 text, the raw query, repeated headers joined, the two
    headers without an HTTP_ prefix."""
    headers = {"Content-Type": "application/json", "Content-Length": "2"}
    raw = scope("POST", "/v1/caf\u00e9", headers, b"a=%20b")
    raw["headers"] += [(b"x-multi", b"1"), (b"x-multi", b"2")]
    environ = wsgi_environ(raw)
    assert environ["PATH_INFO"] == "/v1/caf\u00c3\u00a9"  # UTF-8 bytes, one character each
    assert environ["QUERY_STRING"] == "a=%20b"
    assert (environ["CONTENT_TYPE"], environ["CONTENT_LENGTH"]) == ("application/json", "2")
    assert environ["HTTP_X_MULTI"] == "1,2"
    assert (environ["REMOTE_ADDR"], environ["SERVER_PORT"]) == ("127.0.0.1", "8080")
    assert announces_body(environ)
    assert not announces_body(wsgi_environ(scope("GET", "/", {})))
    assert announces_body(wsgi_environ(scope("POST", "/", {"Transfer-Encoding": "chunked"})))


def chat(**fields: Any) -> dict[str, Any]:
    return {"model": SLUG, "messages": [{"role": "user", "content": "Say hello."}], **fields}


def minted_key(app: Flask) -> str:
    client = app.test_client()
    created = client.post(
        GROUPS, json=group_body("caller", models=[{"slug": SLUG}]), headers=MANAGE
    )
    minted = client.post(f"{GROUPS}/{created.json['id']}/api_keys", json={}, headers=MANAGE)
    return str(minted.json["api_key"])


def test_a_fresh_app_serves_through_its_own_shell() -> None:
    """The shell holds nothing of one app: a second one serves its own store."""
    served = WsgiOverAsgi(create_app(), threads=1)
    try:
        sent, _ = serve(served, "GET", GROUPS, headers=MANAGE)
        assert json.loads(status_headers_body(sent)[2])["items"] == []
    finally:
        served.pool.shutdown()


def where_served(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI app that answers the name of the thread it runs on, after reading a byte."""
    environ["wsgi.input"].read(1)
    name = threading.current_thread().name.encode()
    start_response("200 OK", [("Content-Length", str(len(name)))])
    return [name]


@pytest.mark.parametrize(
    ("inline", "pieces", "thread"),
    [
        (True, [b"ab"], "MainThread"),  # asyncio.run's loop runs on the test's thread
        (True, [b"a", NEVER], "request"),  # the body isn't all there: a request thread waits
        (False, [b"ab"], "request"),
    ],
)
def test_a_complete_request_the_app_answers_at_once_runs_on_the_loop(
    inline: bool, pieces: list[object], thread: str
) -> None:
    served = WsgiOverAsgi(where_served, threads=1, body_timeout=0.2, inline=lambda e: inline)
    try:
        sent, _ = serve(served, "POST", "/", headers={"Content-Length": "2"}, pieces=pieces)
    finally:
        served.pool.shutdown()
    assert status_headers_body(sent)[2].decode().startswith(thread)


def test_only_small_fault_free_creates_and_calls_are_answered_without_waiting() -> None:
    faults = FaultBook()
    never_waits = answered_without_waiting(faults, paced_model=False)
    create = {"REQUEST_METHOD": "POST", "PATH_INFO": GROUPS, "CONTENT_LENGTH": "16384"}
    call = {**create, "PATH_INFO": "/v1/chat/completions"}
    assert never_waits(create)
    assert never_waits(call)
    assert answered_without_waiting(None, paced_model=False)(create)
    assert not answered_without_waiting(None, paced_model=True)(call)  # the call would sleep
    assert not never_waits({**create, "CONTENT_LENGTH": "16385"})
    assert not never_waits({**create, "CONTENT_LENGTH": ""})  # chunked: size unknown
    assert not never_waits({**create, "HTTP_X_SIM_FAULT": "latency_ms=10"})
    assert not never_waits({**create, "PATH_INFO": "/_sim/reset"})
    for method in ("GET", "PATCH", "DELETE"):  # their work grows with what is stored
        assert not never_waits({**create, "REQUEST_METHOD": method})
    faults.add({"latency_ms": 10})
    assert not never_waits(create)
    assert not never_waits(call)


def test_a_profile_with_a_latency_paces_the_model() -> None:
    assert not ModelProfiles().paced
    assert ModelProfiles(by_slug={"a/b": ModelProfile(inter_token_ms=1)}).paced
    assert ModelProfiles(default=ModelProfile(time_to_first_token_ms=5)).paced
