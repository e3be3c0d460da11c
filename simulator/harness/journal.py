"""The request journal: a ring buffer of recent Gateway requests, holding no secrets,
bounded both in entries and in bytes.

An entry names the caller by workspace and scope, never by key, and redacts body fields
that carry key plaintexts (`key` on register, `api_key` anywhere). It keeps the body as far
as the Gateway read it, up to `body_bytes`: a request refused before its body was read (an
unknown key, an unknown route) leaves none, and the journal never reads a body itself.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from itertools import count
from typing import Any

from simulator.core.clock import rfc3339_ms

DEFAULT_SIZE = 1000
DEFAULT_MAX_BYTES = 8 * 2**20  # what all entries together may hold
DEFAULT_BODY_BYTES = 16 * 2**10  # what one entry keeps of its body
ENTRY_BYTES = 512  # an entry's own cost beyond its strings: the object, its fields, the deque slot
REDACTED = "[redacted]"
_SECRET_FIELDS = frozenset({"key", "api_key"})


@dataclass(slots=True)
class JournalEntry:
    time: str | float  # RFC 3339, or a clock instant formatted when the journal is read
    method: str
    path: str
    query: str
    caller: dict[str, str] | None
    body: Any
    status: int | None = None  # None: the connection was dropped
    rule: str | None = None
    fault: dict[str, Any] | None = None
    duration_ms: float = 0.0
    id: int = field(default=0)
    # The first bytes of the request's body, parsed and redacted into `body` only when the
    # journal is read: a request doesn't pay for a second JSON parse.
    raw_body: bytes | None = field(default=None, repr=False)
    body_size: int = 0  # the bytes of the body the Gateway read, kept or not
    cost: int = field(default=0, repr=False)  # what it counts against the journal's bytes

    @property
    def truncated(self) -> bool:
        return self.raw_body is not None and len(self.raw_body) < self.body_size

    def json(self) -> dict[str, Any]:
        body = self.body
        if self.raw_body is not None:
            body = None if self.truncated else body_for_journal(self.raw_body)
        return {
            "id": self.id,
            "time": self.time if isinstance(self.time, str) else rfc3339_ms(self.time),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "caller": self.caller,
            "body": body,
            "body_bytes": self.body_size,
            "body_truncated": self.truncated,
            "status": self.status,
            "rule": self.rule,
            "fault": self.fault,
            "duration_ms": round(self.duration_ms, 3),
        }


class Journal:
    """The most recent entries, oldest first, at most `size` of them and `max_bytes` in all;
    each keeps at most `body_bytes` of its body. Thread-safe."""

    def __init__(
        self,
        size: int = DEFAULT_SIZE,
        max_bytes: int = DEFAULT_MAX_BYTES,
        body_bytes: int = DEFAULT_BODY_BYTES,
    ) -> None:
        self.size, self.max_bytes, self.body_bytes = size, max_bytes, body_bytes
        self._lock = threading.Lock()
        self._entries: deque[JournalEntry] = deque()
        self._bytes = 0
        self._ids = count(1)

    @property
    def bytes(self) -> int:
        """What the entries held now count, by the journal's own accounting."""
        return self._bytes

    def record(self, entry: JournalEntry) -> None:
        if entry.raw_body is not None and len(entry.raw_body) > self.body_bytes:
            entry.raw_body = entry.raw_body[: self.body_bytes]
        entry.cost = ENTRY_BYTES + len(entry.path) + len(entry.query) + len(entry.raw_body or b"")
        with self._lock:
            entry.id = next(self._ids)
            self._entries.append(entry)
            self._bytes += entry.cost
            while len(self._entries) > 1 and (
                len(self._entries) > self.size or self._bytes > self.max_bytes
            ):
                self._bytes -= self._entries.popleft().cost

    def entries(
        self, limit: int | None = None, method: str | None = None, path: str | None = None
    ) -> list[dict[str, Any]]:
        with self._lock:
            found = [
                e
                for e in self._entries
                if (method is None or e.method == method.upper())
                and (path is None or fnmatchcase(e.path, path))
            ]
        return [e.json() for e in (found[-limit:] if limit else found)]

    def clear(self, *, release: bool = True) -> int:
        """Empties the journal; `release` hands the freed memory back to the system at once
        (a reset does that itself, once everything else is back in place)."""
        with self._lock:
            removed = len(self._entries)
            self._entries = deque()
            self._bytes = 0
        if release:
            release_free_memory()
        return removed


def release_free_memory() -> None:
    """Hands the C allocator's free pages back to the system (glibc; nothing elsewhere), so
    the memory of a cleared journal leaves the process, not just the journal."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _libc()


def body_for_journal(raw: bytes) -> Any:
    """The JSON body with its secret fields redacted; None when empty or not JSON."""
    if not raw.strip():
        return None
    try:
        return redact(json.loads(raw, parse_constant=_refuse_constant))
    except (ValueError, RecursionError):
        return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN would make the journal itself invalid JSON


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if k in _SECRET_FIELDS else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value
