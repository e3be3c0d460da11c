"""The implementation under test, reached over HTTP or in-process through a WSGI app.

Both transports answer with the same `Reply`. Every request backs off on 429 as the
answer's `Retry-After` header or `retry_after` body field says (M-ratelimit), a bounded
number of times.
"""

from __future__ import annotations

import email.utils
import json
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from werkzeug.datastructures import Headers
from werkzeug.test import Client as WsgiClient

MAX_RETRIES = 5  # attempts after the first one, on 429 only
MAX_WAIT = 60.0  # seconds; a longer Retry-After is capped so a run always ends
TIMEOUT = 30.0  # seconds per HTTP request
# A kept-alive connection idle this long is not reused. Servers close idle connections when
# they like (the simulator after 30 s, gunicorn after 2 s), and a request sent just as the
# close arrives is lost, which would read as the target's failure.
IDLE_REUSE = 1.0  # seconds


# Set by the run's SIGINT/SIGTERM handler. The next request raises KeyboardInterrupt there,
# between two requests, where the runner stops cleanly, rather than wherever the signal lands.
STOP = threading.Event()


class TargetUnreachable(Exception):
    """Nothing answers at the base URL (a usage error, exit code 2)."""


@dataclass(frozen=True)
class Reply:
    """One answer: status, headers (case-insensitive), raw text and the parsed JSON if any."""

    status: int
    headers: Headers
    text: str
    raw: Any = field(default=None, repr=False, compare=False)

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def describe(self, limit: int = 240) -> str:
        """`<status> <body>` shortened, for `Received: …` messages."""
        body = " ".join(self.text.split())
        if len(body) > limit:
            body = body[: limit - 3] + "..."
        return f"{self.status} {body}".strip()


@dataclass(frozen=True)
class Streamed:
    """An answer read chunk by chunk: `complete` is False when its body broke off midway."""

    status: int
    headers: Headers
    chunks: list[bytes]
    complete: bool

    @property
    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", "replace")


class Transport(Protocol):
    def send(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None
    ) -> Reply: ...

    def stream(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None
    ) -> Streamed: ...


class HttpTransport:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.idle_reuse = IDLE_REUSE
        self._last = time.monotonic()

    def _fresh(self) -> None:
        """Drop the pooled connections when they have been idle past `idle_reuse`."""
        now = time.monotonic()
        if now - self._last > self.idle_reuse:
            self.session.close()  # the session stays usable; its next request reconnects
        self._last = now

    def send(self, method: str, path: str, headers: Mapping[str, str], body: bytes | None) -> Reply:
        self._fresh()
        try:
            answer = self.session.request(
                method, self.base_url + path, headers=dict(headers), data=body, timeout=TIMEOUT
            )
        except requests.ConnectionError as error:
            raise TargetUnreachable(f"lost the connection to {self.base_url}: {error}") from None
        finally:
            self._last = time.monotonic()
        return Reply(answer.status_code, Headers(list(answer.headers.items())), answer.text, answer)

    def stream(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None
    ) -> Streamed:
        self._fresh()
        try:
            answer = self.session.request(
                method, self.base_url + path, headers=dict(headers), data=body,
                timeout=TIMEOUT, stream=True,
            )  # fmt: skip
        except requests.ConnectionError as error:
            raise TargetUnreachable(f"lost the connection to {self.base_url}: {error}") from None
        chunks: list[bytes] = []
        try:
            chunks.extend(answer.iter_content(chunk_size=None))
            complete = True
        except (requests.RequestException, ConnectionError):
            complete = False
        finally:
            answer.close()
            self._last = time.monotonic()
        headers_ = Headers(list(answer.headers.items()))
        return Streamed(answer.status_code, headers_, chunks, complete)


class WsgiTransport:
    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.client = WsgiClient(app)

    def send(self, method: str, path: str, headers: Mapping[str, str], body: bytes | None) -> Reply:
        answer = self.client.open(path, method=method, headers=list(headers.items()), data=body)
        text = answer.get_data(as_text=True)
        return Reply(answer.status_code, Headers(answer.headers), text, answer)

    def stream(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes | None
    ) -> Streamed:
        answer = self.client.open(
            path, method=method, headers=list(headers.items()), data=body, buffered=False
        )
        chunks: list[bytes] = []
        try:
            chunks.extend(c if isinstance(c, bytes) else c.encode() for c in answer.response)
            complete = True
        except ConnectionError:  # the app cut its body off (a server would close the socket)
            complete = False
        finally:
            answer.close()
        return Streamed(answer.status_code, Headers(answer.headers), chunks, complete)


def send_with_backoff(
    transport: Transport,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes | None = None,
    sleep: Callable[[float], None] = time.sleep,
    interruptible: bool = True,
) -> Reply:
    if interruptible and STOP.is_set():
        raise KeyboardInterrupt
    reply = transport.send(method, path, headers, body)
    for _ in range(MAX_RETRIES):
        if reply.status != 429:
            break
        sleep(retry_delay(reply))
        reply = transport.send(method, path, headers, body)
    return reply


def retry_delay(reply: Reply) -> float:
    """Seconds to wait after a 429: `Retry-After` (seconds or an HTTP date), else `retry_after`."""
    header = reply.headers.get("Retry-After")
    seconds = _header_seconds(header) if header else None
    if seconds is None:
        body = reply.json
        value = body.get("retry_after") if isinstance(body, dict) else None
        seconds = float(value) if isinstance(value, int | float) else 1.0
    return max(0.0, min(seconds, MAX_WAIT))


def _header_seconds(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return (when - datetime.now(UTC)).total_seconds()


def preflight(base_url: str, timeout: float = 5.0) -> None:
    """A TCP connect to the base URL's host and port: a closed port fails fast and clearly."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetUnreachable(f"{base_url!r} is not an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            pass
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise TargetUnreachable(f"cannot connect to {base_url}: {reason}") from None
