"""Test tooling for billing-webhook handlers: a local receiver, the documented signature
check, and synthetic signed events to send to a handler without an inference call.

    from simulator.webhooks import WebhookReceiver, signed_event, verify_signature

Nothing here needs a running simulator but `WebhookReceiver` as the target of one.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict

from simulator.core.webhooks import (
    REQUEST_ID_HEADER,
    SIGNATURE_HEADER,
    envelope_bytes,
    sample_event,
    signature_header,
    verify_signature,
)

__all__ = [
    "REQUEST_ID_HEADER",
    "SIGNATURE_HEADER",
    "ReceivedDelivery",
    "WebhookReceiver",
    "send_test_event",
    "signed_event",
    "verify_signature",
]


def signed_event(
    secret: str | Sequence[str],
    events: Sequence[Mapping[str, Any]] | None = None,
    *,
    request_id: str | None = None,
    **fields: Any,
) -> tuple[bytes, dict[str, str]]:
    """(raw body, headers) of a delivery as the simulator sends it, to post to a handler
    with any client (a Flask or Django test client too).

    `events` are each completed with the defaults of an accepted call (see `sample_event`);
    without them, one event with `fields` in place of the defaults. Several secrets sign
    with each, as during a rotation (`v1=<hex>,<hex>`).
    """
    now = time.time()
    listed = [sample_event(now, **e) for e in events] if events else [sample_event(now, **fields)]
    body = envelope_bytes(listed)
    secrets = [secret] if isinstance(secret, str) else list(secret)
    return body, {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature_header(body, secrets),
        REQUEST_ID_HEADER: request_id or str(uuid.uuid4()),
    }


def send_test_event(
    url: str,
    secret: str | Sequence[str],
    events: Sequence[Mapping[str, Any]] | None = None,
    *,
    timeout: float = 10.0,
    **fields: Any,
) -> requests.Response:
    """Posts one signed synthetic delivery to `url` (once, no retries) and returns the
    answer. For retries, faults and a delivery log, send through a simulator instead:
    `SimulatorClient.send_webhook_event`."""
    body, headers = signed_event(secret, events, **fields)
    return requests.post(url, data=body, headers=headers, timeout=timeout)


@dataclass(frozen=True)
class ReceivedDelivery:
    """One request the receiver got, and the status it answered."""

    headers: Mapping[str, str]
    body: bytes
    status: int
    path: str

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def events(self) -> list[dict[str, Any]]:
        body = self.json
        try:
            return list(body["data"]["events"])
        except (TypeError, KeyError):
            return []

    @property
    def request_id(self) -> str | None:
        return self.headers.get(REQUEST_ID_HEADER)

    @property
    def signature(self) -> str | None:
        return self.headers.get(SIGNATURE_HEADER)

    def verified(self, secret: str | Sequence[str]) -> bool:
        """True when the signature is valid for the raw body with one of the secrets."""
        return verify_signature(self.body, self.signature, secret)


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that records every delivery; a context manager.

    It answers `default` (200), or the statuses queued with `answer_next` first, one per
    request: `answer_next(503)` makes the next delivery's first attempt fail once.
    """

    def __init__(self, secret: str = "whsec_frontier_sim_test", *, default: int = 200) -> None:
        self.secret = secret
        self.default = default
        self._queued: list[int] = []
        self._received: list[ReceivedDelivery] = []
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the receiver isn't running; call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/billing"

    def start(self) -> WebhookReceiver:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="webhook-receiver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def answer_next(self, *statuses: int) -> None:
        """The next requests get these statuses, in order; then `default` again."""
        with self._cond:
            self._queued.extend(statuses)

    @property
    def received(self) -> list[ReceivedDelivery]:
        """Every request so far (retries and duplicates included), oldest first."""
        with self._cond:
            return list(self._received)

    @property
    def events(self) -> list[dict[str, Any]]:
        """The events of every request answered 2xx, in order (duplicates included: dedupe
        on `idempotencyKey` as a handler must)."""
        return [e for d in self.received if 200 <= d.status < 300 for e in d.events]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedDelivery]:
        """Waits until at least `count` requests came; TimeoutError naming what did."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    got = [(d.status, d.request_id) for d in self._received]
                    raise TimeoutError(f"wanted {count} deliveries in {timeout} s, got {got}")
                self._cond.wait(left)
            return list(self._received)

    def clear(self) -> None:
        with self._cond:
            self._received.clear()
            self._queued.clear()

    def _answer(self, headers: Mapping[str, str], body: bytes, path: str) -> int:
        with self._cond:
            status = self._queued.pop(0) if self._queued else self.default
            delivery = ReceivedDelivery(CaseInsensitiveDict(headers), body, status, path)
            self._received.append(delivery)
            self._cond.notify_all()
            return status

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            status = receiver._answer(dict(self.headers.items()), body, self.path)
            answer = json.dumps({"received": 200 <= status < 300}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            return None  # quiet test output

    return Handler
