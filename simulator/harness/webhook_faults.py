"""Faults on the way to a webhook receiver (`WebhookFault` in control-openapi.yaml).

- `drop: before`: an attempt is lost before it reaches the receiver (a network error, retried);
- `drop: after`: the receiver gets the attempt but its answer is lost (retried: the receiver
  sees the same delivery twice, with the same X-Baseten-Request-ID);
- `delay_ms`: an attempt waits that long, in real time, before it is sent;
- `duplicate`: a new delivery goes out twice, the copy with a request id of its own, so a
  handler must dedupe on `idempotencyKey` (WEBHOOK-AT-LEAST-ONCE).
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import Any

from simulator.harness.control_schema import check

ATTEMPT, DELIVERY = "attempt", "delivery"  # when a rule is consulted


@dataclass
class WebhookFault:
    id: str
    workspace: str | None
    drop: str | None = None
    delay_ms: int | None = None
    duplicate: bool = False
    remaining: int | None = None
    hits: int = 0

    @property
    def stage(self) -> str:
        return DELIVERY if self.duplicate else ATTEMPT

    def json(self) -> dict[str, Any]:
        effect: dict[str, Any] = {
            "drop": self.drop,
            "delay_ms": self.delay_ms,
            "duplicate": self.duplicate or None,
        }
        return {
            "id": self.id,
            "workspace": self.workspace,
            **{name: value for name, value in effect.items() if value is not None},
            "remaining": self.remaining,
            "hits": self.hits,
        }


class WebhookFaultBook:
    """The active rules, tried in the order they were added; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[WebhookFault] = []
        self._ids = itertools.count(1)

    def add(self, body: Any) -> WebhookFault:
        check("WebhookFault", body)
        with self._lock:
            rule = WebhookFault(
                id=f"w{next(self._ids)}",
                workspace=body.get("workspace"),
                drop=body.get("drop"),
                delay_ms=body.get("delay_ms"),
                duplicate=body.get("duplicate", False),
                remaining=body.get("times"),
            )
            self._rules.append(rule)
            return rule

    def take(self, workspace: str, stage: str) -> WebhookFault | None:
        """The first rule for `workspace` at `stage`, counted as applied once."""
        with self._lock:
            for rule in self._rules:
                if rule.stage == stage and rule.workspace in (None, workspace):
                    rule.hits += 1
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining == 0:
                            self._rules.remove(rule)
                    return rule
        return None

    def rules(self) -> list[WebhookFault]:
        with self._lock:
            return list(self._rules)

    def remove(self, rule_id: str) -> WebhookFault | None:
        with self._lock:
            for rule in self._rules:
                if rule.id == rule_id:
                    self._rules.remove(rule)
                    return rule
        return None

    def clear(self) -> int:
        with self._lock:
            count = len(self._rules)
            self._rules.clear()
            return count
