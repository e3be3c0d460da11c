"""The simulator's clock: real time by default, or set, frozen and advanced by a test.

Everything that reads the time (timestamps, rate windows, daily windows, the journal) reads
it here, so a test can cross a minute window or midnight UTC in microseconds. Sleeps (the
fake model's latency, injected latency) always take real time.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

DAY_SECONDS = 86_400


@dataclass(frozen=True, slots=True)
class ClockState:
    """Where the clock stands: frozen at `time`, or real time moved by `offset` seconds."""

    frozen: bool = False
    time: float | None = None  # the frozen instant (Unix seconds); None when not frozen
    offset: float = 0.0  # added to real time when not frozen

    @property
    def is_real(self) -> bool:
        return not self.frozen and self.offset == 0.0

    def json(self) -> dict[str, Any]:
        if self.frozen:
            return {"frozen": True, "time": rfc3339_ms(self.time or 0.0)}
        return {"frozen": False, "offset_seconds": self.offset}


class Clock:
    """Unix seconds, thread-safe. `real` is the time source (a test may give its own)."""

    def __init__(self, real: Callable[[], float] = time.time) -> None:
        self._real = real
        self._lock = threading.Lock()
        self._state = ClockState()
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Calls `listener` after every change (webhook retries wait on this clock)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    def now(self) -> float:
        state = self._state  # one read: a concurrent change is seen whole or not at all
        if state.frozen and state.time is not None:
            return state.time
        return self._real() + state.offset

    def state(self) -> ClockState:
        return self._state

    def set(self, instant: float, *, frozen: bool = True) -> None:
        """Jumps to `instant`; frozen, it stays there until set or advanced again."""
        with self._lock:
            if frozen:
                self._state = ClockState(frozen=True, time=instant)
            else:
                self._state = ClockState(offset=instant - self._real())
        self._changed()

    def advance(self, seconds: float) -> float:
        """Moves the clock forward (never back) and returns the new time."""
        if seconds < 0:
            raise ValueError("the clock only advances; use set() to go back")
        with self._lock:
            state = self._state
            if state.frozen and state.time is not None:
                self._state = ClockState(frozen=True, time=state.time + seconds)
            else:
                self._state = ClockState(offset=state.offset + seconds)
        self._changed()
        return self.now()

    def restore(self, state: ClockState) -> None:
        with self._lock:
            self._state = state
        self._changed()

    def real_time(self) -> None:
        """Back to the real time."""
        self.restore(ClockState())

    def timestamp(self) -> str:
        """RFC 3339 UTC with whole seconds, as the documentation's examples show."""
        return rfc3339(self.now())


def clock_state_from_json(data: Mapping[str, Any]) -> ClockState:
    """A `ClockSetting` (control-openapi.yaml), already checked against its schema."""
    if data.get("frozen", True) and "time" in data:
        return ClockState(frozen=True, time=parse_rfc3339(str(data["time"])))
    return ClockState(offset=float(data.get("offset_seconds", 0.0)))


def rfc3339(instant: float) -> str:
    """`2026-05-13T12:00:00Z`: whole seconds (the last second's text is reused)."""
    global _last_second  # a one-entry cache; a tuple swap is atomic
    second = math.floor(instant)
    cached = _last_second
    if cached[0] == second:
        return cached[1]
    text = _utc(second).strftime("%Y-%m-%dT%H:%M:%SZ")
    _last_second = (second, text)
    return text


_last_second: tuple[float, str] = (math.nan, "")


def rfc3339_ms(instant: float) -> str:
    """`2026-05-13T12:00:00.123Z`: milliseconds, for the journal and the clock itself."""
    return _utc(instant).isoformat(timespec="milliseconds")[:-6] + "Z"


def parse_rfc3339(text: str) -> float:
    """Unix seconds of an RFC 3339 timestamp with `Z` or an offset; ValueError otherwise."""
    parsed = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone; add Z for UTC")
    return parsed.timestamp()


def day_of(instant: float) -> int:
    """The UTC day an instant falls in, as days since 1970-01-01 (daily windows)."""
    return int(instant // DAY_SECONDS)


def next_midnight(instant: float) -> float:
    """The first midnight UTC after `instant`: when its daily window resets."""
    return (day_of(instant) + 1) * DAY_SECONDS


def _utc(instant: float) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=instant)
