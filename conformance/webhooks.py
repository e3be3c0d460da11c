"""The billing webhook receiver a run listens with (`--webhook-listen HOST:PORT`).

The target is configured, outside the run, to deliver its workspace's billing webhooks to
`http://HOST:PORT/`. A check starts the receiver, tells it what to answer to deliveries
carrying events of the groups it made (`answer(entity, 503)`: 503 once, then 200), makes
calls and waits, for a bounded time, for the deliveries of its own groups' events. Events of
groups the check didn't make are answered 200 and ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SIGNATURE = "X-Baseten-Signature"
REQUEST_ID = "X-Baseten-Request-ID"
EVENT_TYPE = "API_BILLING_USAGE"
MAX_BODY = 1 << 20  # bytes a delivery may carry; a longer one is answered 413
# Seconds to wait for an event: the documented delivery gives up after 15 s in all.
EVENT_WAIT = 20.0
# Seconds to watch for a delivery that must not come: longer than the first backoff (1 s).
QUIET = 3.0


def check_listen(listen: str) -> tuple[str, int]:
    """`HOST:PORT` → (host, port); ValueError if it isn't one, or nothing can listen there."""
    host, _, port_text = listen.rpartition(":")
    if not host or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"expected HOST:PORT with a port from 1 to 65535, not {listen!r}")
    try:
        ThreadingHTTPServer(address(listen), BaseHTTPRequestHandler).server_close()
    except OSError as error:
        raise ValueError(f"cannot listen on {listen}: {error.strerror or error}") from None
    return address(listen)


def signature(secret: str, body: bytes) -> str:
    """The documented signature: the hex HMAC-SHA256 of the raw body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed_by(header: str | None, secret: str, body: bytes) -> bool:
    """Whether `X-Baseten-Signature` (`v1=<hex>`, several comma-separated during a rotation)
    carries the signature of `body` with `secret`, compared in constant time."""
    if not header or not header.startswith("v1="):
        return False
    expected = signature(secret, body)
    candidates = [part.strip().removeprefix("v1=") for part in header[3:].split(",")]
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


@dataclass(frozen=True)
class Delivery:
    """One POST the receiver got: its raw body, its headers and what it answered."""

    body: bytes
    headers: dict[str, str]  # names in lower case
    answered: int

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def envelope(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def events(self) -> list[Any]:
        """`data.events`, or [] when the body isn't the documented envelope."""
        envelope = self.envelope
        data = envelope.get("data") if isinstance(envelope, dict) else None
        events = data.get("events") if isinstance(data, dict) else None
        return events if isinstance(events, list) else []

    def entities(self) -> set[str]:
        return {
            str(event["externalEntityId"])
            for event in self.events
            if isinstance(event, dict) and isinstance(event.get("externalEntityId"), str)
        }

    def describe(self, limit: int = 300) -> str:
        text = self.body.decode("utf-8", "replace")
        return text if len(text) <= limit else text[: limit - 3] + "..."


class Receiver:
    """An HTTP server on `(host, port)` keeping every delivery, in a thread of its own."""

    def __init__(self, host: str, port: int) -> None:
        self._plans: dict[str, list[int]] = {}
        self._deliveries: list[Delivery] = []
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def answer(self, entity: str, *statuses: int) -> None:
        """Answer deliveries carrying `entity`'s events with `statuses` in turn, then 200."""
        with self._changed:
            self._plans[entity] = list(statuses)

    def of(self, entities: Iterable[str]) -> list[Delivery]:
        """The deliveries carrying an event of one of `entities`, in the order they came."""
        wanted = set(entities)
        with self._changed:
            return [d for d in self._deliveries if d.entities() & wanted]

    def wait(self, done: Callable[[], bool], seconds: float) -> bool:
        """Waits until `done()` holds (True) or `seconds` pass (False)."""
        deadline = time.monotonic() + seconds
        with self._changed:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def receive(self, body: bytes, headers: dict[str, str]) -> int:
        """Keeps a delivery; the status to answer it with."""
        with self._changed:
            probe = Delivery(body, headers, 0)
            status = 200
            for entity in sorted(probe.entities()):
                plan = self._plans.get(entity)
                if plan:
                    status = plan.pop(0)
                    break
            self._deliveries.append(Delivery(body, headers, status))
            self._changed.notify_all()
        return status


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._reply(413)
                return
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            self._reply(receiver.receive(body, headers))

        def _reply(self, status: int) -> None:
            payload = b'{"received": true}' if status < 400 else b'{"error": "refused"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the run reports what it received."""

    return Handler


@contextmanager
def listening(listen: str) -> Iterator[Receiver]:
    """A receiver on `listen` (HOST:PORT) for the block."""
    receiver = Receiver(*address(listen))
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.close()


def address(listen: str) -> tuple[str, int]:
    """`HOST:PORT` (checked by `check_listen`) → (host, port)."""
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)
