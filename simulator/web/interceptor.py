"""WSGI middleware in front of the Gateway routes: injected faults and the request journal.

It reads (and removes) the `X-Sim-Fault` header, applies the first matching fault rule,
and records every request outside `/_sim/` in the journal, timed by the simulator's clock.
While no fault rule is set and a request has no `X-Sim-Fault` header, the request goes
straight through: the journal entry is filled from what the Gateway did anyway (the key it
authenticated, the body bytes it read), so the layer parses, hashes and reads nothing.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from simulator.core.access import ApiKey, KeyRing
from simulator.core.clock import Clock
from simulator.core.errors import Unauthenticated
from simulator.harness.control_schema import ControlInputError
from simulator.harness.faults import (
    Fault,
    FaultBook,
    forced_response,
    parse_fault_header,
    reason_phrase,
)
from simulator.harness.journal import Journal, JournalEntry
from simulator.web.guard import ControlGuard, Refusal

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

CONTROL_PREFIX = "/_sim"
HEADER_KEY = "HTTP_X_SIM_FAULT"  # X-Sim-Fault as it appears in a WSGI environ
INJECTED_HEADER = "X-Sim-Fault-Injected"  # names the rule (or "header") behind a forced answer
RULE_HEADER = "x-frontier-rule"
# Where the Gateway leaves the ApiKey it authenticated, so the journal names the caller
# without hashing the key a second time.
AUTHENTICATED = "frontier_gateway.api_key"
_NO_BODY = (None, "", "0")


class ControlRefused(Exception):
    """An `X-Sim-Fault` header that guard.py's rules refuse."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


class Interceptor:
    def __init__(
        self,
        app: WSGIApplication,
        faults: FaultBook,
        journal: Journal,
        keyring: KeyRing,
        max_body_bytes: int,
        clock: Clock,
        guard: ControlGuard,
    ) -> None:
        self.app, self.faults, self.journal = app, faults, journal
        self.keyring, self.max_body_bytes, self.clock = keyring, max_body_bytes, clock
        self.guard = guard

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            return self.app(environ, start_response)
        if not self.faults and HEADER_KEY not in environ:  # the common case: no fault at all
            return self._journaled(environ, start_response, path)
        started = time.perf_counter()
        entry = self._entry(environ, path)
        try:
            fault = self._fault(environ, entry)
        except ControlInputError as error:
            return self._answer(
                environ, entry, started, start_response, 400, {}, {"error": str(error)}
            )
        except ControlRefused as refused:
            return self._answer(
                environ, entry, started, start_response, 403, {}, refused.refusal.json()
            )
        if fault is None:
            return self._forward(environ, start_response, entry, started)
        entry.fault = fault.json()
        if fault.latency_ms:
            time.sleep(fault.latency_ms / 1000)
        if fault.status is not None:  # answered here: the Gateway never sees the request
            headers, body = forced_response(fault.status, fault.retry_after)
            headers[INJECTED_HEADER] = fault.source
            return self._answer(
                environ, entry, started, start_response, fault.status, headers, body
            )
        if fault.drop == "after":  # carried out, then the answer is lost
            _discard(self._forward(environ, _ignore_start, entry, started))
            return drop_connection(environ, start_response)
        if fault.drop == "before":
            self._record(environ, entry, started)
            return drop_connection(environ, start_response)
        if fault.cut is not None:  # carried out; the answer stops after `cut` chunks
            answer = self._forward(environ, start_response, entry, started)
            return cut_body(answer, fault.cut, environ)
        return self._forward(environ, start_response, entry, started)

    def _journaled(
        self, environ: WSGIEnvironment, start_response: StartResponse, path: str
    ) -> Iterable[bytes]:
        """The request as it is, and its journal entry from what the Gateway did anyway."""
        started = time.perf_counter()
        arrived = self.clock.now()
        tap = self._tap(environ)
        answer: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer[:] = (status, headers)
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        status, headers = answer or (None, ())
        self.journal.record(
            JournalEntry(
                arrived,
                environ.get("REQUEST_METHOD", "GET"),
                path,
                environ.get("QUERY_STRING", ""),
                self._caller(environ),
                None,
                None if status is None else int(status[:3]),
                _rule(headers),
                None,
                (time.perf_counter() - started) * 1000,
                0,
                *(tap.body() if tap is not None else (None, 0)),
            )
        )
        return result

    def _tap(self, environ: WSGIEnvironment) -> BodyTap | None:
        """Notes the body as the Gateway reads it; the journal never reads it itself."""
        if environ.get("CONTENT_LENGTH") in _NO_BODY and "HTTP_TRANSFER_ENCODING" not in environ:
            return None
        tap = BodyTap(environ["wsgi.input"], self.journal.body_bytes)
        environ["wsgi.input"] = tap
        return tap

    def _entry(self, environ: WSGIEnvironment, path: str) -> JournalEntry:
        self._tap(environ)
        return JournalEntry(
            time=self.clock.now(),
            method=environ.get("REQUEST_METHOD", "GET"),
            path=path,
            query=environ.get("QUERY_STRING", ""),
            caller=None,
            body=None,
        )

    def _fault(self, environ: WSGIEnvironment, entry: JournalEntry) -> Fault | None:
        header = environ.pop(HEADER_KEY, None)  # the header never reaches the Gateway
        if header is not None:
            # The header is itself the custom header that makes a browser ask first.
            refusal = self.guard.refusal(environ, changes_state=False)
            if refusal is not None:
                raise ControlRefused(refusal)
            return parse_fault_header(header)
        credential = (environ.get("HTTP_AUTHORIZATION") or "").strip().partition(" ")[2].strip()
        return self.faults.match(entry.method, entry.path, credential or None)

    def _caller(self, environ: WSGIEnvironment) -> dict[str, str] | None:
        """Workspace and scope of the key: the journal never holds the key itself."""
        key: ApiKey | None = environ.get(AUTHENTICATED)
        if key is None:  # the Gateway didn't authenticate it (an unknown route, a fault)
            try:
                key = self.keyring.authenticate(environ.get("HTTP_AUTHORIZATION"))
            except Unauthenticated:
                return None
        return {"workspace": key.workspace.name, "scope": key.scope.value}

    def _forward(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        entry: JournalEntry,
        started: float,
    ) -> Iterable[bytes]:
        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            entry.status = int(status[:3])
            entry.rule = _rule(headers)
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        self._record(environ, entry, started)
        return result

    def _answer(
        self,
        environ: WSGIEnvironment,
        entry: JournalEntry,
        started: float,
        start_response: StartResponse,
        status: int,
        headers: dict[str, str],
        body: dict[str, Any],
    ) -> list[bytes]:
        data = json.dumps(body).encode()
        start_response(
            f"{status} {reason_phrase(status)}",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(data))),
                *headers.items(),
            ],
        )
        entry.status = status
        self._record(environ, entry, started)
        return [data]

    def _record(self, environ: WSGIEnvironment, entry: JournalEntry, started: float) -> None:
        entry.duration_ms = (time.perf_counter() - started) * 1000
        entry.caller = self._caller(environ)
        tap = environ.get("wsgi.input")
        if isinstance(tap, BodyTap):
            entry.raw_body, entry.body_size = tap.body()
        self.journal.record(entry)


GATEWAY_PREFIX = "/v1/gateway/"
COMPLETIONS_PATH = "/v1/chat/completions"
INLINE_BODY_MAX = 16 * 1024  # bytes: a create or a call this small is done in a millisecond


def answered_without_waiting(
    faults: FaultBook | None, *, paced_model: bool
) -> Callable[[WSGIEnvironment], bool]:
    """Which requests `frontier-sim` may serve on its event loop (shell.py) rather than on a
    request thread: those whose work is small and bounded by their own body, so one can't
    hold up the others. That is a POST with a body of at most 16 KiB that creates (a group,
    a key, an endpoint) or, unless a model profile paces its answers (`paced_model`: the
    call would sleep), calls a model; with no fault rule set and no X-Sim-Fault header (a
    fault may add latency). A read, a list, an update or a delete does work that grows with
    what is stored (a list of large groups, a subtree), and the control API may wait: they
    keep to request threads. `faults`: the interceptor's, None without one."""

    def never_waits(environ: WSGIEnvironment) -> bool:
        path = environ.get("PATH_INFO", "")
        length = environ.get("CONTENT_LENGTH", "")
        return (
            environ.get("REQUEST_METHOD") == "POST"
            and (path.startswith(GATEWAY_PREFIX) or (path == COMPLETIONS_PATH and not paced_model))
            and length.isdigit()
            and int(length) <= INLINE_BODY_MAX
            and HEADER_KEY not in environ
            and not faults
        )

    return never_waits


def _rule(headers: Iterable[tuple[str, str]]) -> str | None:
    for name, value in headers:
        if name.lower() == RULE_HEADER:
            return value
    return None


class BodyTap:
    """The request's input stream, passed through; it keeps the first `keep` bytes read (the
    chunks themselves, not copies) and counts them all, for the journal."""

    __slots__ = ("_kept", "_room", "_stream", "size")

    def __init__(self, stream: Any, keep: int) -> None:
        self._stream, self._room = stream, keep
        self._kept: list[bytes] = []
        self.size = 0

    def body(self) -> tuple[bytes | None, int]:
        """The bytes kept (None if none was read) and the size of all that was read."""
        if not self.size:
            return None, 0
        kept = self._kept[0] if len(self._kept) == 1 else b"".join(self._kept)
        return kept, self.size

    def _note(self, data: bytes) -> bytes:
        self.size += len(data)
        if self._room > 0 and data:
            piece = data if len(data) <= self._room else data[: self._room]
            self._kept.append(piece)
            self._room -= len(piece)
        return data

    def read(self, size: int | None = -1) -> bytes:
        stream = self._stream
        return self._note(stream.read() if size is None or size < 0 else stream.read(size))

    def readline(self, size: int | None = -1) -> bytes:
        stream = self._stream
        return self._note(stream.readline() if size is None or size < 0 else stream.readline(size))

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        return [self._note(line) for line in self._stream.readlines()]

    def __iter__(self) -> Iterator[bytes]:
        return (self._note(line) for line in self._stream)


def drop_connection(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Closes the client's connection with no response.

    Werkzeug's server hands the app its socket: shutting it down leaves the client with
    a closed connection and not one byte, and the ConnectionError tells werkzeug to write
    nothing. Servers that don't (granian) get the closest thing a WSGI app can do: a
    response whose body fails, so the connection is cut before the body (the status line
    may or may not reach the client first).
    """
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError("connection dropped by an injected fault")
    start_response("502 Bad Gateway", [("Content-Length", "1"), ("Connection", "close")])
    return _failing_body()


CUT_FLUSH_SECONDS = 0.05


def cut_body(result: Iterable[bytes], chunks: int, environ: WSGIEnvironment) -> Iterator[bytes]:
    """The first `chunks` chunks of a body, then the connection closes mid-answer.

    For a stream of server-sent events (one chunk each) this is the documented failure
    partway through: the 200 and the first events arrive, the end never does
    (INF-STREAM-CUT). A body that ends sooner ends normally.
    """
    cut = False
    try:
        for sent, chunk in enumerate(result):
            if sent >= chunks:
                cut = True
                break
            yield chunk
    finally:
        close: Callable[[], None] | None = getattr(result, "close", None)
        if close is not None:
            close()
    if cut:
        sock = environ.get("werkzeug.socket")
        if sock is not None:  # werkzeug: no end of the chunked body, the socket closes
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        else:
            # granian writes what the body yielded from its own thread: failing at once can
            # abort the answer before the 200 and the first events leave, so they get a
            # moment on the wire first.
            time.sleep(CUT_FLUSH_SECONDS)
        raise ConnectionAbortedError("stream cut by an injected fault")


def _failing_body() -> Iterator[bytes]:
    raise ConnectionAbortedError("connection dropped by an injected fault")
    yield b""  # a generator: the error comes when the server reads the body


def _discard(result: Iterable[bytes]) -> None:
    for _ in result:
        pass
    close: Callable[[], None] | None = getattr(result, "close", None)
    if close is not None:
        close()


def _ignore_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return lambda data: None
