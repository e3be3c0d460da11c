"""Billing webhooks (opt-in: --webhook-listen HOST:PORT, with --inference-url).

The target delivers its workspace's billing webhooks to the receiver the run listens with
(`conformance.webhooks`). Each check makes its own groups and calls, and looks only at the
events of those groups; it waits at most EVENT_WAIT seconds for an event, and QUIET seconds
(longer than the documented first backoff of 1 s) for a delivery that must not come.

Source: https://docs.baseten.co/reference/gateway/billing-webhooks
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from conformance.bodies import CASCADING, INDEPENDENT, SLUG
from conformance.inference import (
    Member,
    call,
    completion_body,
    costs,
    expect,
    member,
    request_limits,
)
from conformance.registry import CheckFailed, check
from conformance.session import Session
from conformance.webhooks import (
    EVENT_TYPE,
    EVENT_WAIT,
    QUIET,
    REQUEST_ID,
    SIGNATURE,
    Delivery,
    Receiver,
    listening,
    signed_by,
)

WEBHOOKS = ("inference", "webhooks")
MILLISECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# The documented event: each field and the JSON type it has.
FIELDS: dict[str, type | tuple[type, ...]] = {
    "idempotencyKey": str,
    "timestamp": str,
    "requestId": str,
    "requestMetadata": dict,
    "modelSlug": str,
    "externalEntityId": str,
    "apiKeyPrefix": str,
    "tokens": dict,
}
TOKENS = ("inputTokens", "outputTokens", "cachedInputTokens")
LONG_PROMPT = "one two three four five six seven eight nine ten eleven twelve"


@contextmanager
def receiving(s: Session) -> Iterator[Receiver]:
    listen = s.run.options.webhook_listen
    assert listen is not None  # the check needs --webhook-listen
    with listening(listen) as receiver:
        yield receiver


def own_events(receiver: Receiver, members: list[Member]) -> list[dict[str, Any]]:
    """The events of `members`' groups, each once (a redelivery repeats its idempotencyKey)."""
    entities = {m.external_id for m in members}
    found: dict[str, dict[str, Any]] = {}
    for delivery in receiver.of(entities):
        for event in delivery.events:
            if isinstance(event, dict) and event.get("externalEntityId") in entities:
                found.setdefault(str(event.get("idempotencyKey", len(found))), event)
    return list(found.values())


def wait_for_events(receiver: Receiver, members: list[Member], count: int) -> list[dict[str, Any]]:
    """The `count` events of `members`' groups, waited for; CheckFailed if they don't come."""
    if not receiver.wait(lambda: len(own_events(receiver, members)) >= count, EVENT_WAIT):
        got = len(own_events(receiver, members))
        raise CheckFailed(
            f"Received: {got} billing event(s) in {EVENT_WAIT:.0f} s for {count} accepted "
            f"call(s) / Documented: one event per accepted call, delivered within 15 s"
        )
    return own_events(receiver, members)


def _ok(s: Session, caller: Member, body: Any = None) -> dict[str, Any]:
    answer = expect(s, call(s, caller.key, body), 200, "for a call within every limit")
    if not isinstance(answer, dict):
        raise CheckFailed(f"Received: {answer!r} / Documented: a chat.completion object")
    return answer


@check("WEBHOOK-ENVELOPE", needs=WEBHOOKS)
@costs(2)
def deliveries_are_the_documented_envelope(s: Session) -> None:
    """WEBHOOK-ENVELOPE: each delivery is {"type": "API_BILLING_USAGE", "data": {"events":
    [...]}}, every event with idempotencyKey, a millisecond UTC timestamp, requestId,
    requestMetadata, modelSlug, externalEntityId, apiKeyPrefix and tokens {inputTokens,
    outputTokens, cachedInputTokens}.

    Source: https://docs.baseten.co/reference/gateway/billing-webhooks
    """
    with receiving(s) as receiver:
        caller = member(s, label="envelope")
        _ok(s, caller), _ok(s, caller)
        wait_for_events(receiver, [caller], 2)
        for delivery in receiver.of([caller.external_id]):
            _check_envelope(delivery)


def _check_envelope(delivery: Delivery) -> None:
    envelope = delivery.envelope
    data = envelope.get("data") if isinstance(envelope, dict) else None
    if not (
        isinstance(envelope, dict)
        and envelope.get("type") == EVENT_TYPE
        and isinstance(data, dict)
        and isinstance(data.get("events"), list)
    ):
        raise CheckFailed(
            f"Received: {delivery.describe()} / Documented: "
            f'{{"type": "{EVENT_TYPE}", "data": {{"events": [...]}}}}'
        )
    for event in delivery.events:
        wrong = [
            name
            for name, kind in FIELDS.items()
            if not isinstance(event, dict) or not isinstance(event.get(name), kind)
        ]
        tokens = event.get("tokens") if isinstance(event, dict) else None
        if isinstance(tokens, dict):
            wrong += [
                f"tokens.{name}"
                for name in TOKENS
                if type(tokens.get(name)) is not int or tokens[name] < 0
            ]
        if isinstance(event, dict) and not MILLISECONDS.match(str(event.get("timestamp"))):
            wrong.append("timestamp (RFC 3339 UTC with milliseconds)")
        if wrong:
            raise CheckFailed(
                f"Received: an event {json.dumps(event)[:300]} with {', '.join(wrong)} missing "
                "or mistyped / Documented: idempotencyKey, timestamp (e.g. "
                "2025-07-07T23:40:35.905Z), requestId, requestMetadata {}, modelSlug, "
                "externalEntityId, apiKeyPrefix and tokens {inputTokens, outputTokens, "
                "cachedInputTokens} as integers"
            )


@check("WEBHOOK-FIELDS", needs=WEBHOOKS)
@costs(3)
def events_name_the_call_that_made_them(s: Session) -> None:
    """WEBHOOK-FIELDS: an event carries the called slug as modelSlug, the calling key's prefix
    as apiKeyPrefix, and the external_entity_id of the key's own group (a child, not its
    parent) as externalEntityId.

    Source: https://docs.baseten.co/frontier-gateway/billing-webhooks
    """
    with receiving(s) as receiver:
        parent = member(s, request_limits(10), mode=INDEPENDENT, label="parent")
        children = [member(s, None, parent=parent, label="child") for _ in range(2)]
        callers = [parent, *children]
        for caller in callers:
            _ok(s, caller)
        events = wait_for_events(receiver, callers, len(callers))
        for caller in callers:
            wanted = {
                "modelSlug": SLUG,
                "externalEntityId": caller.external_id,
                "apiKeyPrefix": caller.prefix,
            }
            matching = [e for e in events if all(e.get(k) == v for k, v in wanted.items())]
            if len(matching) != 1:
                raise CheckFailed(
                    f"Received: events {_fields(events, wanted)} after one call by each of "
                    f"{len(callers)} groups / Documented: one event with {wanted}: the slug "
                    "called, the key's prefix and its own group's external_entity_id"
                )


def _fields(events: list[dict[str, Any]], wanted: dict[str, Any]) -> str:
    return json.dumps([{k: e.get(k) for k in wanted} for e in events])[:400]


@check("WEBHOOK-TOKENS", needs=WEBHOOKS)
@costs(2)
def event_tokens_are_the_calls_usage(s: Session) -> None:
    """WEBHOOK-TOKENS: an event's tokens.inputTokens and tokens.outputTokens are its call's
    prompt_tokens and completion_tokens.

    Source: https://docs.baseten.co/frontier-gateway/billing-webhooks
    """
    with receiving(s) as receiver:
        caller = member(s, label="tokens")
        usages = [
            _ok(s, caller, completion_body(prompt=prompt)).get("usage") or {}
            for prompt in ("Say hello.", LONG_PROMPT)
        ]
        wanted = sorted((u.get("prompt_tokens"), u.get("completion_tokens")) for u in usages)
        events = wait_for_events(receiver, [caller], 2)
        got = sorted(
            (t.get("inputTokens"), t.get("outputTokens"))
            for e in events
            if isinstance(t := e.get("tokens"), dict)
        )
        if got != wanted:
            raise CheckFailed(
                f"Received: (inputTokens, outputTokens) {got} / Documented: the calls' "
                f"(prompt_tokens, completion_tokens) {wanted}"
            )


@check("WEBHOOK-ONE-PER-CALL", needs=WEBHOOKS)
@costs(5)
def one_event_per_accepted_call_and_none_for_refused(s: Session) -> None:
    """WEBHOOK-ONE-PER-CALL: in a CASCADING tree, two accepted calls of a child make exactly
    two events (not one per debited group), each with its own idempotencyKey; its refused
    calls (429 at the parent's REQUEST/MINUTE 2, 400) make none.

    Source: https://baseten-preview.mintlify.app/frontier-gateway/rate-limits.md
    """
    with receiving(s) as receiver:
        parent = member(s, request_limits(2), mode=CASCADING, label="pool")
        child = member(s, None, mode=CASCADING, parent=parent, label="spender")
        _ok(s, child), _ok(s, child)
        expect(s, call(s, child.key), 429, "past the parent's REQUEST/MINUTE 2")
        expect(s, call(s, child.key, {"model": SLUG}), 400, "for a body without messages")
        tree = [parent, child]
        wait_for_events(receiver, tree, 2)
        receiver.wait(lambda: len(own_events(receiver, tree)) > 2, QUIET)
        events = own_events(receiver, tree)
        if len(events) != 2:
            keys = [e.get("idempotencyKey") for e in events]
            raise CheckFailed(
                f"Received: {len(events)} events (idempotency keys {keys}) for 2 accepted and "
                "2 refused calls / Documented: one event per accepted call; rejected calls "
                "produce no usage and no billing event"
            )


@check("WEBHOOK-SIGNATURE", needs=(*WEBHOOKS, "webhook_secret"))
@costs(1)
def deliveries_are_signed_over_the_raw_body(s: Session) -> None:
    """WEBHOOK-SIGNATURE: X-Baseten-Signature is `v1=<hex HMAC-SHA256 of the raw body>` with
    the workspace's signing secret (--webhook-secret); during a rotation one of several
    comma-separated signatures.

    Source: https://docs.baseten.co/reference/gateway/billing-webhooks
    """
    secret = s.run.options.webhook_secret or ""
    with receiving(s) as receiver:
        caller = member(s, label="signed")
        _ok(s, caller)
        wait_for_events(receiver, [caller], 1)
        for delivery in receiver.of([caller.external_id]):
            header = delivery.header(SIGNATURE)
            if not signed_by(header, secret, delivery.body):
                raise CheckFailed(
                    f"Received: {SIGNATURE}: {header!r} over the body {delivery.describe(160)} "
                    "/ Documented: v1=<hex HMAC-SHA256 of the raw body bytes, with the signing "
                    "secret>"
                )


@check("WEBHOOK-RETRY", needs=WEBHOOKS)
@costs(1)
def a_5xx_is_retried_with_the_same_request_id(s: Session) -> None:
    """WEBHOOK-RETRY: a delivery answered 503 is delivered again, with the same
    X-Baseten-Request-ID (a UUID) and the same events (idempotencyKey). Another delivery of
    the same events with its own request id is a duplicate (delivery is at least once), not
    the retry.

    Source: https://docs.baseten.co/reference/gateway/billing-webhooks
    """
    with receiving(s) as receiver:
        caller = member(s, label="retried")
        receiver.answer(caller.external_id, 503)
        _ok(s, caller)
        refused = _first_answered(receiver, caller, 503)
        request_id = refused.header(REQUEST_ID)
        if request_id is None or not _is_uuid(request_id):
            raise CheckFailed(
                f"Received: {REQUEST_ID} {request_id!r} / Documented: a UUID per delivery"
            )

        def retries() -> list[Delivery]:
            return _attempts_after(receiver, caller, refused)

        if not receiver.wait(lambda: bool(retries()), EVENT_WAIT):
            others = [d.header(REQUEST_ID) for d in receiver.of([caller.external_id])]
            raise CheckFailed(
                f"Received: deliveries with request ids {others} in {EVENT_WAIT:.0f} s after "
                f"answering 503 to {request_id} / Documented: 5xx is retried (from 1 s on) "
                f"with the same {REQUEST_ID}"
            )
        keys = [[e.get("idempotencyKey") for e in d.events] for d in (refused, retries()[0])]
        if keys[0] != keys[1]:
            raise CheckFailed(
                f"Received: idempotency keys {keys[0]}, then {keys[1]} on the retry / "
                "Documented: a retry delivers the same events"
            )


def _attempts_after(receiver: Receiver, caller: Member, first: Delivery) -> list[Delivery]:
    """The later deliveries with `first`'s request id: its retries."""
    later = receiver.of([caller.external_id])
    request_id = first.header(REQUEST_ID)
    return [d for d in later[later.index(first) + 1 :] if d.header(REQUEST_ID) == request_id]


def _first_answered(receiver: Receiver, caller: Member, status: int) -> Delivery:
    """The delivery of `caller`'s events the receiver answered with `status`, waited for."""

    def answered() -> list[Delivery]:
        return [d for d in receiver.of([caller.external_id]) if d.answered == status]

    if not receiver.wait(lambda: bool(answered()), EVENT_WAIT):
        raise CheckFailed(
            f"Received: no delivery in {EVENT_WAIT:.0f} s for an accepted call / Documented: "
            "one billing event per accepted call, delivered within 15 s"
        )
    return answered()[0]


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


@check("WEBHOOK-4XX-TERMINAL", needs=WEBHOOKS)
@costs(1)
def a_4xx_is_not_retried(s: Session) -> None:
    """WEBHOOK-4XX-TERMINAL: a delivery answered 400 is not tried again: no delivery with
    its X-Baseten-Request-ID within 3 s, longer than the first backoff (1 s).

    Source: https://docs.baseten.co/reference/gateway/billing-webhooks
    """
    with receiving(s) as receiver:
        caller = member(s, label="refused")
        receiver.answer(caller.external_id, 400)
        _ok(s, caller)
        refused = _first_answered(receiver, caller, 400)
        request_id = refused.header(REQUEST_ID)

        def retries() -> list[Delivery]:
            return _attempts_after(receiver, caller, refused)

        if receiver.wait(lambda: bool(retries()), QUIET):
            raise CheckFailed(
                f"Received: {len(retries())} more attempt(s) of delivery {request_id} after "
                f"answering it 400 / Documented: 4xx responses are terminal, never retried"
            )
