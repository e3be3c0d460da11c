"""A group's meters: exact sliding logs for rate windows and a counter per UTC day.

Pure data structures with no rule of their own; `metering.py` decides what to check and
debit. Each group carries its own `Meters`, so they go when the group goes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from simulator.core.clock import day_of

WIDTHS = {"SECOND": 1.0, "MINUTE": 60.0}  # a rate unit's window, in seconds


class SlidingLog:
    """A rolling window kept as an exact log of (time, amount) (LIMIT-SLIDING-LOG).

    An amount counts while `time <= now < time + width`. Amounts landing at the same
    instant are merged, so under a frozen clock a window holds one entry however many calls
    it meters. Amounts after `now` (the clock was set back) haven't happened yet: they are
    forgotten.
    """

    __slots__ = ("_entries", "total", "width")

    def __init__(self, width: float) -> None:
        self.width = width
        self.total = 0
        self._entries: deque[tuple[float, int]] = deque()

    def used(self, now: float) -> int:
        """What the window holds at `now`, dropping what has aged out."""
        entries, horizon = self._entries, now - self.width
        while entries and entries[0][0] <= horizon:
            self.total -= entries.popleft()[1]
        while entries and entries[-1][0] > now:
            self.total -= entries.pop()[1]
        return self.total

    def add(self, now: float, amount: int) -> None:
        entries = self._entries
        self.total += amount
        if entries and entries[-1][0] == now:
            entries[-1] = (now, entries[-1][1] + amount)
        else:
            entries.append((now, amount))

    def wait(self, now: float, allowed: int) -> float | None:
        """Seconds until the window holds at most `allowed`; None if `allowed` < 0 (never)."""
        if allowed < 0:
            return None
        excess = self.used(now) - allowed
        for when, amount in self._entries:
            if excess <= 0:
                break
            excess -= amount
            if excess <= 0:
                return max(when + self.width - now, 0.0)
        return 0.0

    def entries(self) -> list[tuple[float, int]]:
        return list(self._entries)


@dataclass(slots=True)
class DailyCount:
    """A usage counter for one UTC day (LIMIT-DAILY): another day's count reads as zero,
    and a count of a day after `day` (the clock was set back) is forgotten."""

    day: int
    used: int = 0

    def used_on(self, day: int) -> int:
        if day < self.day:
            self.day, self.used = day, 0
        return self.used if day == self.day else 0

    def add(self, now: float, amount: int) -> None:
        today = day_of(now)
        if today != self.day:
            self.day, self.used = today, 0
        self.used += amount


@dataclass(slots=True)
class Meters:
    """One group's counters, shared by all its keys: per (slug, type, unit) rate windows
    and per (slug, type) daily counts."""

    rate: dict[tuple[str, str, str], SlidingLog] = field(default_factory=dict)
    daily: dict[tuple[str, str], DailyCount] = field(default_factory=dict)

    def window(self, slug: str, type_: str, unit: str) -> SlidingLog:
        key = (slug, type_, unit)
        log = self.rate.get(key)
        if log is None:
            log = self.rate[key] = SlidingLog(WIDTHS[unit])
        return log

    def day_count(self, slug: str, type_: str, now: float) -> DailyCount:
        key = (slug, type_)
        count = self.daily.get(key)
        if count is None:
            count = self.daily[key] = DailyCount(day_of(now))
        return count

    def clear(self) -> None:
        self.rate.clear()
        self.daily.clear()
