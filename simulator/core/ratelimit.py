"""The management API's own rate limit (MGMT-RATE-LIMIT): at most N requests in any rolling
second per API key on the `/v1/gateway/*` routes; over it, 429 with the documented body.

The time is the caller's (the app passes a monotonic real-time clock, never the simulator's:
a test that freezes the clock mustn't lock its own management calls out).
"""

from __future__ import annotations

import math
import threading
from collections import deque

from simulator.core.errors import ManagementRateLimited

WINDOW = 1.0  # seconds


class ManagementRateLimit:
    """A sliding log of the last second's admitted requests per key; refusals don't count."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._logs: dict[str, deque[float]] = {}  # keys of the configuration only: bounded
        self._lock = threading.Lock()

    def admit(self, key: str, now: float) -> None:
        """Counts the request, or raises ManagementRateLimited with the whole seconds until
        one would be admitted (at least 1)."""
        with self._lock:
            log = self._logs.setdefault(key, deque())
            while log and log[0] <= now - WINDOW:
                log.popleft()
            if len(log) >= self.per_second:
                wait = log[len(log) - self.per_second] + WINDOW - now
                raise ManagementRateLimited(retry_after=max(1, math.ceil(wait)))
            log.append(now)
