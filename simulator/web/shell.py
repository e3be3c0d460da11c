"""The simulator's WSGI app served over granian's ASGI interface, for body read timeouts.

granian's own WSGI interface has a header read timeout but none for a request body: the
request thread reads the body, and a client that stops sending holds that thread for as
long as it stays connected (granian declines a body timeout). Over ASGI the body arrives
on granian's event loop, where a wait can time out. `WsgiOverAsgi` serves the unchanged
WSGI app:

- The loop first takes what of the body has arrived: usually all of it, sent with the
  headers. A request whose body is complete and whose work is small and bounded (`inline`:
  a small create or model call without faults) runs on the loop itself, with no thread
  hand-off. Any other runs on one of a pool of request threads.
- A body that hasn't fully arrived is read by the app, after it has accepted the key in the
  headers; each wait for more of it ends at the body deadline with a 408 (werkzeug's
  RequestTimeout, which the app answers in its error shape, with `Connection: close`: the
  rest of the body is still on the wire).
- Answers with a Content-Length are collected and sent in one piece. Any other (a stream
  of server-sent events) is sent chunk by chunk as the app yields it, on a request thread;
  an app iterator that fails midway cuts the connection, without the end of the body.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import ClientDisconnected, RequestTimeout

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BODY_TIMEOUT = 30.0  # seconds for the rest of a body, from the app's first read that waits
# How long the loop waits for a body to arrive before the app runs. A body sent with its
# headers is there at once; one that isn't is left to the app, which reads it on a request
# thread after checking the key (a refused request never waits for its body).
PREFETCH_WAIT = 0.05
_END = object()  # what `next` answers at the end of an app iterator


class LoopBody:
    """A request body as `wsgi.input`, received on the event loop.

    Before the app runs, the loop takes what of the body has already arrived (`prefetch`):
    usually all of it, as it came with the headers, and then the app may run on the loop
    itself. Any read the buffer can't satisfy (on a request thread) waits for the next piece,
    never past the deadline: `timeout` seconds from the app's first such read. A read past it
    raises RequestTimeout; a client gone midway, ClientDisconnected.
    """

    __slots__ = (
        "_buffer", "_deadline", "_gone", "_loop", "_more", "_pending", "_receive", "_timeout",
    )  # fmt: skip

    def __init__(
        self, receive: Receive, loop: asyncio.AbstractEventLoop, timeout: float, *, more: bool
    ) -> None:
        self._receive, self._loop, self._timeout = receive, loop, timeout
        self._deadline: float | None = None  # set on the app's first read that must wait
        self._buffer = bytearray()
        self._more = more  # False: no body was announced, or all of it is in the buffer
        self._gone = False  # the client went away before the end of the body
        self._pending: asyncio.Future[Message] | None = None  # a receive still waiting

    @property
    def complete(self) -> bool:
        """True once the whole body is in the buffer (or there is none)."""
        return not self._more

    async def prefetch(self, wait: float) -> None:
        """Takes the pieces of the body that arrive within `wait` seconds (on the loop)."""
        deadline = self._loop.time() + wait
        while self._more:
            task = self._pending or asyncio.ensure_future(self._receive())
            done, _ = await asyncio.wait({task}, timeout=max(0.0, deadline - self._loop.time()))
            if not done:
                self._pending = task  # the request thread waits on it, within the deadline
                return
            self._pending = None
            self._take(task.result())

    def close(self) -> None:
        """Stops waiting for a body the answer didn't need (on the loop)."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def _take(self, message: Message) -> None:
        if message["type"] != "http.request":  # http.disconnect: the client went away
            self._more, self._gone = False, True
            return
        self._buffer += message.get("body", b"")
        self._more = bool(message.get("more_body"))

    async def _next(self) -> Message:
        if self._deadline is None:
            self._deadline = self._loop.time() + self._timeout
        remaining = self._deadline - self._loop.time()
        task, self._pending = self._pending, None
        if remaining <= 0:
            if task is not None:
                task.cancel()
            raise TimeoutError
        return await asyncio.wait_for(task or self._receive(), remaining)

    def _fill(self) -> None:
        """Waits (on a request thread) for the next piece of the body and appends it."""
        if not self._gone:
            try:
                message = asyncio.run_coroutine_threadsafe(self._next(), self._loop).result()
            except TimeoutError:  # the rest stays unread: the answer closes the connection
                raise RequestTimeout(
                    f"The request body did not arrive within {self._timeout:g} s."
                ) from None
            self._take(message)
        if self._gone:
            raise ClientDisconnected()

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            while self._more:
                self._fill()
            size = len(self._buffer)
        else:
            while self._more and len(self._buffer) < size:
                self._fill()
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def readline(self, size: int | None = -1) -> bytes:
        limit = None if size is None or size < 0 else size
        while self._more and b"\n" not in self._buffer:
            if limit is not None and len(self._buffer) >= limit:
                break
            self._fill()
        end = self._buffer.find(b"\n") + 1 or len(self._buffer)
        return self.read(end if limit is None else min(end, limit))

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        return list(self)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


@dataclass
class Answer:
    """What the app answered, as `_call` hands it to the loop to send."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes | None  # None: streamed, from `chunks`
    chunks: Iterator[bytes] | None = None
    close: Callable[[], None] | None = None
    failed: BaseException | None = None  # the app's body failed: cut after the headers


class WsgiOverAsgi:
    """An ASGI app that serves `app` (WSGI) from a pool of `threads` request threads."""

    def __init__(
        self,
        app: WSGIApplication,
        *,
        threads: int,
        body_timeout: float = BODY_TIMEOUT,
        inline: Callable[[WSGIEnvironment], bool] = lambda environ: False,
    ) -> None:
        self.app = app
        self.body_timeout = body_timeout
        self.inline = inline  # requests the app answers without blocking: run on the loop
        self.pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="request")

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.pool.shutdown(wait=False, cancel_futures=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Message, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        environ = wsgi_environ(scope)
        body = LoopBody(receive, loop, self.body_timeout, more=announces_body(environ))
        environ["wsgi.input"] = body
        try:
            await body.prefetch(PREFETCH_WAIT)
            if body.complete and self.inline(environ):  # nothing to wait for: no thread
                answer = self._call(environ)
            else:
                answer = await loop.run_in_executor(self.pool, self._call, environ)
        finally:
            body.close()
        if not body.complete and all(name != b"connection" for name, _ in answer.headers):
            # The app answered before the whole body came (a refused key, a body over the
            # cap, a timeout). The rest of it is still on the wire, so granian closes the
            # connection after the answer; said in the answer, a client sends its next
            # request on a new connection instead of losing it on this one.
            answer.headers.append((b"connection", b"close"))
        start = {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
        if answer.failed is not None:  # the headers go out, then the connection is cut
            await send(start)
            await send({"type": "http.response.body", "body": b"", "more_body": True})
            raise answer.failed
        if answer.body is not None:
            await send(start)
            await send({"type": "http.response.body", "body": answer.body})
            return
        await self._stream(loop, start, answer, send)

    async def _stream(
        self, loop: asyncio.AbstractEventLoop, start: Message, answer: Answer, send: Send
    ) -> None:
        chunks = answer.chunks
        assert chunks is not None
        try:
            await send(start)
            while (chunk := await loop.run_in_executor(self.pool, next, chunks, _END)) is not _END:
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            if answer.close is not None:
                await loop.run_in_executor(self.pool, answer.close)

    def _call(self, environ: WSGIEnvironment) -> Answer:
        """Runs the app here (a request thread, or the loop for an inline request); a sized
        answer's body is collected here too."""
        started: list[Any] = []
        written: list[bytes] = []  # what the app gave start_response's write callable

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            started[:] = (status, headers)
            return written.append

        result = self.app(environ, start_response)
        chunks = iter(result)
        close: Callable[[], None] | None = getattr(result, "close", None)
        first: bytes | None = None
        if not started:  # PEP 3333: start_response may come with the first chunk
            first = next(chunks, b"")
        status, headers = started
        sized = any(name.lower() == "content-length" for name, _ in headers)
        encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        answer = Answer(int(status[:3]), encoded, None)
        if not sized:  # streamed: the loop pulls the chunks as it sends them
            answer.chunks = _prepend(written, first, chunks)
            answer.close = close
            return answer
        try:
            answer.body = b"".join(_prepend(written, first, chunks))
        except Exception as error:  # the app's body failed after its status (a dropped answer)
            answer.failed = error
        finally:
            if close is not None:
                close()
        return answer


def _prepend(written: list[bytes], first: bytes | None, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield from written
    if first:
        yield first
    yield from rest


def announces_body(environ: WSGIEnvironment) -> bool:
    """True when the request's headers announce a body (a length above 0, or chunks)."""
    return environ.get("CONTENT_LENGTH", "0") not in ("", "0") or (
        "HTTP_TRANSFER_ENCODING" in environ
    )


def wsgi_environ(scope: Message) -> dict[str, Any]:
    """The PEP 3333 environ of an ASGI HTTP scope."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]) if server[1] is not None else "80",
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": None,  # the caller's body
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,  # the body stream ends where the body does
    }
    if client:
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = str(client[0]), str(client[1])
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = "HTTP_" + name
        if name in environ:  # a repeated header: one value, comma-separated (RFC 9110 5.3)
            value = f"{environ[name]},{value}"
        environ[name] = value
    return environ
