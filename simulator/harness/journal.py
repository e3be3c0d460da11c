"""The request journal: a bounded ring buffer of recent Gateway requests, holding no secrets.

An entry names the caller by workspace and scope, never by key, and redacts body fields
that carry key plaintexts (`key` on register, `api_key` anywhere).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from itertools import count
from typing import Any

DEFAULT_SIZE = 1000
REDACTED = "[redacted]"
_SECRET_FIELDS = frozenset({"key", "api_key"})


@dataclass(slots=True)
class JournalEntry:
    time: str
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
    # The request's bytes, parsed and redacted into `body` only when the journal is read:
    # a request doesn't pay for a second JSON parse.
    raw_body: bytes | None = field(default=None, repr=False)

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "caller": self.caller,
            "body": self.body if self.raw_body is None else body_for_journal(self.raw_body),
            "status": self.status,
            "rule": self.rule,
            "fault": self.fault,
            "duration_ms": round(self.duration_ms, 3),
        }


class Journal:
    """The most recent `size` entries, oldest first; thread-safe."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._lock = threading.Lock()
        self._entries: deque[JournalEntry] = deque(maxlen=size)
        self._ids = count(1)

    def record(self, entry: JournalEntry) -> None:
        with self._lock:
            entry.id = next(self._ids)
            self._entries.append(entry)

    def entries(
        self, limit: int | None = None, method: str | None = None, path: str | None = None
    ) -> list[dict[str, Any]]:
        with self._lock:
            found = [
                e.json()
                for e in self._entries
                if (method is None or e.method == method.upper())
                and (path is None or fnmatchcase(e.path, path))
            ]
        return found[-limit:] if limit else found

    def clear(self) -> int:
        with self._lock:
            removed = len(self._entries)
            self._entries.clear()
            return removed


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
