"""Billing webhooks: the event of an accepted call, its envelope and signature, a workspace's
receiver with its signing secrets, and the delivery policy (G-webhooks, D-webhook-ref).

Pure: the delivery engine (`web/delivery.py`) does the sending, on a thread of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from simulator.core.clock import DAY_SECONDS, rfc3339_ms

EVENT_TYPE = "API_BILLING_USAGE"
SIGNATURE_HEADER = "X-Baseten-Signature"
REQUEST_ID_HEADER = "X-Baseten-Request-ID"
SIGNATURE_PREFIX = "v1="
ROTATION_GRACE_SECONDS = DAY_SECONDS  # old and new secrets both sign for 24 hours
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

# Delivery states (WEBHOOK-RETRY, WEBHOOK-4XX-TERMINAL, WEBHOOK-DLQ).
PENDING, DELIVERED, FAILED, DEAD_LETTERED = "pending", "delivered", "failed", "dead_lettered"
STATES = (PENDING, DELIVERED, FAILED, DEAD_LETTERED)


@dataclass(frozen=True, slots=True)
class BillingEvent:
    """One accepted call, as billed (WEBHOOK-FIELDS, WEBHOOK-TOKENS)."""

    workspace: str  # whose receiver gets it; not part of the event itself
    idempotency_key: str
    timestamp: float  # the simulator clock when the call was admitted
    request_id: str
    model_slug: str
    external_entity_id: str
    api_key_prefix: str
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int = 0  # the simulator caches nothing

    def json(self) -> dict[str, Any]:
        """The event as documented (WEBHOOK-ENVELOPE): every field, `requestMetadata` {}."""
        return {
            "idempotencyKey": self.idempotency_key,
            "timestamp": rfc3339_ms(self.timestamp),
            "requestId": self.request_id,
            "requestMetadata": {},
            "modelSlug": self.model_slug,
            "externalEntityId": self.external_entity_id,
            "apiKeyPrefix": self.api_key_prefix,
            "tokens": {
                "inputTokens": self.input_tokens,
                "outputTokens": self.output_tokens,
                "cachedInputTokens": self.cached_input_tokens,
            },
        }


class BillingSink(Protocol):
    """Where the inference side hands the events of accepted calls."""

    def wants(self, workspace: str) -> bool:
        """True when the workspace has a receiver: no event is built for one without."""
        ...

    def bill(self, event: BillingEvent) -> None:
        """Takes the event without blocking on the network and without raising."""
        ...


def envelope(events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """`{"type": "API_BILLING_USAGE", "data": {"events": [...]}}` (WEBHOOK-ENVELOPE)."""
    return {"type": EVENT_TYPE, "data": {"events": list(events)}}


def envelope_bytes(events: Iterable[dict[str, Any]]) -> bytes:
    """The raw body of a delivery: the bytes that are signed and sent, never re-serialised."""
    return json.dumps(envelope(events), separators=(",", ":")).encode()


def sign(body: bytes, secret: str) -> str:
    """The hex HMAC-SHA256 of the raw body with one signing secret (WEBHOOK-SIGNATURE)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_header(body: bytes, secrets: Sequence[str]) -> str:
    """`v1=<hex>`, or during a rotation `v1=<new>,<old>` (WEBHOOK-ROTATION): the form
    Baseten's sample verifier reads (strip `v1=`, split on `,`)."""
    return SIGNATURE_PREFIX + ",".join(sign(body, secret) for secret in secrets)


def verify_signature(body: bytes, header: str | None, secrets: str | Iterable[str]) -> bool:
    """True when one of the header's signatures is the HMAC of `body` with one of `secrets`.

    The documented way: strip `v1=`, split on `,`, compare each in constant time
    (`hmac.compare_digest`). `body` must be the raw bytes received, not re-serialised JSON.
    """
    if not header:
        return False
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    expected = [sign(body, secret) for secret in keys]
    found = False
    for candidate in header.strip().removeprefix(SIGNATURE_PREFIX).split(","):
        given = candidate.strip().removeprefix(SIGNATURE_PREFIX)
        for wanted in expected:  # no early exit: the time doesn't tell which one matched
            found |= hmac.compare_digest(given.encode(), wanted.encode())
    return found


def new_idempotency_key(now: float) -> str:
    """A ULID (as the documentation's sample): 48 bits of milliseconds, 80 random bits."""
    value = (int(now * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def sample_event(now: float, **fields: Any) -> dict[str, Any]:
    """A synthetic event, as an accepted call would make, with `fields` in place of the
    defaults (unknown fields are kept: payloads may carry undocumented ones)."""
    event = BillingEvent(
        workspace="",
        idempotency_key=new_idempotency_key(now),
        timestamp=now,
        request_id=str(uuid.uuid4()),
        model_slug="your-org/your-model",
        external_entity_id="cust_42",
        api_key_prefix="sky_sCqhBwEy4kPd",
        input_tokens=100,
        output_tokens=200,
    ).json()
    return event | fields


def check_url(url: str) -> str:
    """An http(s) URL with a host; ValueError naming the problem otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} isn't an http or https URL with a host")
    try:
        parts.port  # noqa: B018  # parsing the port raises on a bad one
    except ValueError as error:
        raise ValueError(f"{url!r}: {error}") from None
    return url


@dataclass(frozen=True, slots=True)
class Receiver:
    """A workspace's webhook receiver: where events go and the secrets that sign them.

    After a rotation the previous secret keeps signing, beside the new one, until
    `previous_expires_at` on the simulator clock (WEBHOOK-ROTATION).
    """

    url: str
    secret: str
    previous_secret: str | None = None
    previous_expires_at: float | None = None

    def secrets(self, now: float) -> tuple[str, ...]:
        """The secrets that sign a delivery now, the newest first."""
        old, until = self.previous_secret, self.previous_expires_at
        if old is not None and until is not None and now < until:
            return (self.secret, old)
        return (self.secret,)

    def rotated(self, secret: str, now: float) -> Receiver:
        """The receiver after a rotation to `secret`: the current one stays valid 24 h."""
        if secret == self.secret:
            raise ValueError("the new secret is the current one; rotate to another")
        return Receiver(self.url, secret, self.secret, now + ROTATION_GRACE_SECONDS)

    def json(self, now: float) -> dict[str, Any]:
        valid = len(self.secrets(now)) == 2
        return {
            "url": self.url,
            "secret": self.secret,
            "previous_secret": self.previous_secret if valid else None,
            "previous_secret_expires_at": (
                rfc3339_ms(self.previous_expires_at or 0.0) if valid else None
            ),
        }


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """When to try again (WEBHOOK-RETRY): 10 s per attempt; exponential backoff from 1 s,
    capped at 5 s; no attempt starts more than 15 s after the first (then WEBHOOK-DLQ).

    Times are on the simulator clock (WEBHOOK-CLOCK), except `attempt_timeout`, a socket's.
    """

    attempt_timeout: float = 10.0
    initial_backoff: float = 1.0
    max_backoff: float = 5.0
    max_elapsed: float = 15.0

    def backoff(self, failures: int) -> float:
        """The wait after the `failures`-th failed attempt: 1, 2, 4, 5, 5, ... seconds."""
        return min(self.initial_backoff * 2.0 ** (failures - 1), self.max_backoff)

    def next_attempt(self, first: float, failures: int, now: float) -> float | None:
        """When to try again after `failures` failed attempts; None: give up (dead-letter).

        As exponential backoff with a maximum elapsed time: the retry that would start more
        than `max_elapsed` after the first attempt isn't made. Attempts at 0, 1, 3, 7, 12 s.
        """
        due = now + self.backoff(failures)
        return None if due - first > self.max_elapsed else due


def outcome_of(status: int) -> str:
    """What an answer means: 2xx delivered; 4xx terminal (WEBHOOK-4XX-TERMINAL); anything
    else (5xx, 1xx, 3xx) is retried like a network error (WEBHOOK-RETRY)."""
    if 200 <= status < 300:
        return DELIVERED
    if 400 <= status < 500:
        return FAILED
    return PENDING


@dataclass(slots=True)
class Attempt:
    at: float  # simulator clock
    status: int | None  # the receiver's answer; None when there was none
    error: str | None
    duration_ms: float

    def json(self) -> dict[str, Any]:
        return {
            "at": rfc3339_ms(self.at),
            "status": self.status,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 3),
        }


@dataclass(slots=True)
class Delivery:
    """One delivery of one envelope to one receiver, with every attempt made."""

    request_id: str  # X-Baseten-Request-ID, the same on every retry
    workspace: str
    receiver: Receiver  # as configured when the delivery was made
    body: bytes
    idempotency_keys: tuple[str, ...]
    created_at: float
    origin: str = "call"  # call, duplicate (a fault), redrive, test
    state: str = PENDING
    attempts: list[Attempt] = field(default_factory=list)
    next_attempt_at: float | None = None
    reason: str | None = None  # why it failed or was dead-lettered

    def json(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "workspace": self.workspace,
            "url": self.receiver.url,
            "state": self.state,
            "origin": self.origin,
            "idempotency_keys": list(self.idempotency_keys),
            "created_at": rfc3339_ms(self.created_at),
            "attempts": [a.json() for a in self.attempts],
            "next_attempt_at": (
                None if self.next_attempt_at is None else rfc3339_ms(self.next_attempt_at)
            ),
            "reason": self.reason,
            "body": json.loads(self.body),
        }
