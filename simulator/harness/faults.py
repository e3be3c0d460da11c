"""Fault injection: rules that force a status, add latency or drop the connection.

Pure Python: rules come from the control API (`FaultRule` in control-openapi.yaml) or from
one request's `X-Sim-Fault` header; the WSGI interceptor applies what `FaultBook.match` finds.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from http import HTTPStatus
from itertools import count
from typing import Any

from simulator.harness.control_schema import ControlInputError, check

FAULT_HEADER = "X-Sim-Fault"
DEFAULT_RETRY_AFTER = 1  # seconds; short, so a client's retry is quick in a test
# The management API's documented 429 body (gateway facts, M-ratelimit).
RATE_LIMIT_MESSAGE = "Rate limit exceeded. Please try again later."
_HEADER_NAMES = {
    "status": "status",
    "retry_after": "retry_after",
    "latency_ms": "latency_ms",
    "latency": "latency_ms",
    "drop": "drop",
    "cut": "cut",
}


@dataclass(frozen=True, slots=True)
class Fault:
    """What happens to one matched request."""

    status: int | None = None
    retry_after: int | None = None
    latency_ms: int = 0
    drop: str | None = None  # "before" or "after" the request is carried out
    cut: int | None = None  # the body ends after this many chunks (INF-STREAM-CUT)
    source: str = "header"  # a rule id, or "header"

    def json(self) -> dict[str, Any]:
        fields = {
            "status": self.status,
            "retry_after": self.retry_after,
            "latency_ms": self.latency_ms or None,
            "drop": self.drop,
            "cut": self.cut,
        }
        return {"source": self.source, **{k: v for k, v in fields.items() if v is not None}}


@dataclass(slots=True)
class FaultRule:
    id: str
    fault: Fault
    method: str = "*"
    path: str = "*"
    key: str | None = None
    remaining: int | None = None  # None: applies to every matching request
    hits: int = 0

    def matches(self, method: str, path: str, key: str | None) -> bool:
        return (
            self.method in ("*", method.upper())
            and fnmatchcase(path, self.path)
            and self.key in (None, key)
        )

    def json(self) -> dict[str, Any]:
        effect = {k: v for k, v in self.fault.json().items() if k != "source"}
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "key": self.key,
            **effect,
            "remaining": self.remaining,
            "hits": self.hits,
        }


def forced_response(status: int, retry_after: int | None) -> tuple[dict[str, str], dict[str, Any]]:
    """(headers, body) of a forced status; 429 has the management API's documented shape."""
    if status == 429 and retry_after is None:
        retry_after = DEFAULT_RETRY_AFTER
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    if status == 429:
        return headers, {"error": RATE_LIMIT_MESSAGE, "retry_after": retry_after}
    return headers, {"error": reason_phrase(status)}


def fault_from_json(effect: Mapping[str, Any], source: str) -> Fault:
    """A Fault from a body that fits `FaultEffect`; the combination rules come first."""
    if not {"status", "latency_ms", "drop", "cut"} & effect.keys():
        raise ControlInputError("a fault needs at least one of status, latency_ms, drop and cut")
    if "status" in effect and "drop" in effect:
        raise ControlInputError("status and drop can't be combined: a dropped request has none")
    if "cut" in effect and effect.keys() & {"status", "drop"}:
        raise ControlInputError("cut can't be combined with status or drop: it cuts a real answer")
    check("FaultEffect", effect)
    return Fault(
        status=effect.get("status"),
        retry_after=effect.get("retry_after"),
        latency_ms=effect.get("latency_ms", 0),
        drop=effect.get("drop"),
        cut=effect.get("cut"),
        source=source,
    )


def parse_fault_header(value: str) -> Fault:
    """`status=429; retry_after=2`, `latency_ms=250` (or `latency=250ms`), `drop`, `drop=after`,
    `cut=3`."""
    effect: dict[str, Any] = {}
    for part in value.replace(",", ";").split(";"):
        name, sep, raw = (p.strip() for p in part.partition("="))
        if not name:
            continue
        field = _HEADER_NAMES.get(name.lower().replace("-", "_"))
        if field is None:
            raise ControlInputError(
                f"{FAULT_HEADER}: unknown directive {name!r}; use status, retry_after, "
                "latency_ms, drop and cut, e.g. 'status=429; retry_after=1'"
            )
        effect[field] = _header_value(field, raw if sep else None)
    try:
        return fault_from_json(effect, "header")
    except ControlInputError as error:
        raise ControlInputError(f"{FAULT_HEADER}: {error}") from None


def _header_value(field: str, raw: str | None) -> Any:
    if field == "drop":
        return raw or "before"
    text = (raw or "").lower().removesuffix("ms").strip()
    try:
        return int(text)
    except ValueError:
        raise ControlInputError(f"{FAULT_HEADER}: {field} needs a whole number") from None


class FaultBook:
    """The active rules, tried in the order they were added; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = count(1)

    def __bool__(self) -> bool:
        """True while any rule is set: without one, a request skips matching altogether."""
        return bool(self._rules)

    def add(self, body: dict[str, Any]) -> FaultRule:
        """A rule from a body that fits `FaultRule` in control-openapi.yaml."""
        effect: dict[str, Any] = {
            k: body[k] for k in ("status", "retry_after", "latency_ms", "drop", "cut") if k in body
        }
        fault = fault_from_json(effect, "")
        check("FaultRule", body)
        with self._lock:
            rule_id = f"f{next(self._ids)}"
            rule = FaultRule(
                id=rule_id,
                fault=replace(fault, source=rule_id),
                method=body.get("method", "*").upper(),
                path=body.get("path", "*"),
                key=body.get("key"),
                remaining=body.get("times"),
            )
            self._rules.append(rule)
            return replace(rule)

    def match(self, method: str, path: str, key: str | None) -> Fault | None:
        """The first matching rule's fault, counting it as applied once."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path, key):
                    rule.hits += 1
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining == 0:
                            self._rules.remove(rule)
                    return rule.fault
            return None

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return [replace(rule) for rule in self._rules]

    def remove(self, rule_id: str) -> FaultRule | None:
        with self._lock:
            found = next((r for r in self._rules if r.id == rule_id), None)
            if found is not None:
                self._rules.remove(found)
            return found

    def clear(self) -> int:
        with self._lock:
            removed = len(self._rules)
            self._rules.clear()
            return removed


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
