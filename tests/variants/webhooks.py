"""Simulators whose billing webhooks are deliberately broken, or differ only where the
documentation allows: each overrides one piece of the events, their signing or their
delivery. The webhook checks of the conformance suite must fail each broken one on exactly
the rules it names, and pass each valid one.

Built like the variants of `broken.py`: inside a `pytest.MonkeyPatch` context, returning a
fresh `create_app()`, patching public names only.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

import simulator.core.inference as inference
import simulator.core.webhooks as webhooks
import simulator.web.delivery as delivery
from simulator import create_app
from simulator.core.clock import rfc3339
from simulator.core.completions import CompletionRequest
from simulator.core.errors import LimitExceeded
from simulator.core.model import CASCADING, Group
from simulator.core.webhooks import (
    REQUEST_ID_HEADER,
    BillingEvent,
    DeliveryPolicy,
    new_idempotency_key,
)
from simulator.web.app import EXTENSION
from tests.variants.broken import Build, Variant

WEBHOOK_BROKEN: list[Variant] = []
WEBHOOK_VALID: list[Variant] = []
_original_billing_event = inference.billing_event
_original_signature_header = delivery.signature_header
_original_outcome_of = delivery.outcome_of
_original_admit = inference.admit
_original_envelope_bytes = delivery.envelope_bytes


def broken(*rules: str) -> Callable[[Build], Build]:
    def register(build: Build) -> Build:
        WEBHOOK_BROKEN.append(Variant(build.__name__, frozenset(rules), build, build.__doc__ or ""))
        return build

    return register


def valid(build: Build) -> Build:
    WEBHOOK_VALID.append(Variant(build.__name__, frozenset(), build, build.__doc__ or ""))
    return build


def _events_with(
    mp: pytest.MonkeyPatch, change: Callable[[BillingEvent, Group], BillingEvent]
) -> Flask:
    """Every billing event passed through `change(event, calling group)`."""

    def billing_event(
        group: Group, prefix: str, request: CompletionRequest, tokens: int, now: float
    ) -> BillingEvent:
        return change(_original_billing_event(group, prefix, request, tokens, now), group)

    mp.setattr(inference, "billing_event", billing_event)
    return create_app()


# Broken.


@broken("WEBHOOK-ENVELOPE")
def timestamp_in_whole_seconds(mp: pytest.MonkeyPatch) -> Flask:
    """An event's timestamp has whole seconds (`2025-07-07T23:40:35Z`), not milliseconds."""
    mp.setattr(webhooks, "rfc3339_ms", rfc3339)
    return create_app()


@broken("WEBHOOK-FIELDS")
def external_entity_id_of_the_root(mp: pytest.MonkeyPatch) -> Flask:
    """externalEntityId is the root group's, not that of the calling key's own group."""

    def change(event: BillingEvent, group: Group) -> BillingEvent:
        root = list(group.lineage())[-1]
        return dataclasses.replace(event, external_entity_id=root.external_entity_id)

    return _events_with(mp, change)


@broken("WEBHOOK-TOKENS")
def input_and_output_tokens_swapped(mp: pytest.MonkeyPatch) -> Flask:
    """inputTokens carries the completion's tokens and outputTokens the prompt's."""

    def change(event: BillingEvent, group: Group) -> BillingEvent:
        return dataclasses.replace(
            event, input_tokens=event.output_tokens, output_tokens=event.input_tokens
        )

    return _events_with(mp, change)


@broken("WEBHOOK-ONE-PER-CALL")
def event_for_a_rejected_call(mp: pytest.MonkeyPatch) -> Flask:
    """A call refused with 429 is billed too."""
    app = create_app()
    engine = app.extensions[EXTENSION].webhooks

    def admit(group: Group, slug: str, tokens: int, now: float) -> None:
        try:
            _original_admit(group, slug, tokens, now)
        except LimitExceeded:
            prefix = next(iter(group.keys), "sky_unknown00000")
            engine.bill(
                BillingEvent(
                    workspace=group.workspace,
                    idempotency_key=new_idempotency_key(now),
                    timestamp=now,
                    request_id=str(uuid.uuid4()),
                    model_slug=slug,
                    external_entity_id=group.external_entity_id,
                    api_key_prefix=prefix,
                    input_tokens=tokens,
                    output_tokens=0,
                )
            )
            raise

    mp.setattr(inference, "admit", admit)
    return app


@broken("WEBHOOK-ONE-PER-CALL")
def an_event_per_debited_group(mp: pytest.MonkeyPatch) -> Flask:
    """A CASCADING call is billed once per group it debits: the caller and each ancestor."""
    app = create_app()
    engine = app.extensions[EXTENSION].webhooks

    def change(event: BillingEvent, group: Group) -> BillingEvent:
        if group.mode == CASCADING:
            for ancestor in list(group.lineage())[1:]:
                engine.bill(
                    dataclasses.replace(
                        event,
                        idempotency_key=new_idempotency_key(event.timestamp),
                        external_entity_id=ancestor.external_entity_id,
                    )
                )
        return event

    _events_with(mp, change)
    return app


@broken("WEBHOOK-SIGNATURE")
def signature_over_reserialised_json(mp: pytest.MonkeyPatch) -> Flask:
    """The signature is computed over the body parsed and serialised again (with Python's
    default separators), not over the raw bytes sent."""

    def signature_header(body: bytes, secrets: Sequence[str]) -> str:
        return _original_signature_header(json.dumps(json.loads(body)).encode(), secrets)

    mp.setattr(delivery, "signature_header", signature_header)
    return create_app()


@broken("WEBHOOK-RETRY")
def new_request_id_per_retry(mp: pytest.MonkeyPatch) -> Flask:
    """Each attempt of a delivery carries a fresh X-Baseten-Request-ID."""

    class FreshIds(http.client.HTTPConnection):
        def request(  # type: ignore[override]  # the headers are always given here
            self, method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
        ) -> None:
            fresh = {**(headers or {}), REQUEST_ID_HEADER: str(uuid.uuid4())}
            super().request(method, url, body=body, headers=fresh)

    client = SimpleNamespace(
        HTTPConnection=FreshIds,
        HTTPSConnection=http.client.HTTPSConnection,
        HTTPException=http.client.HTTPException,
    )
    mp.setattr(delivery, "http", SimpleNamespace(client=client))
    return create_app()


@broken("WEBHOOK-RETRY")
def a_5xx_is_never_retried(mp: pytest.MonkeyPatch) -> Flask:
    """A failed attempt goes straight to the dead-letter queue: no retry."""
    mp.setattr(DeliveryPolicy, "next_attempt", lambda self, first, failures, now: None)
    return create_app()


@broken("WEBHOOK-4XX-TERMINAL")
def a_4xx_is_retried(mp: pytest.MonkeyPatch) -> Flask:
    """A 4xx answer is retried like a 5xx."""

    def outcome_of(status: int) -> str:
        return webhooks.PENDING if 400 <= status < 500 else _original_outcome_of(status)

    mp.setattr(delivery, "outcome_of", outcome_of)
    return create_app()


# Valid: what the documentation allows.


@valid
def every_delivery_sent_twice(mp: pytest.MonkeyPatch) -> Flask:
    """At-least-once delivery: every envelope is delivered twice (the same events, the same
    idempotency keys, another request id)."""
    app = create_app()
    engine = app.extensions[EXTENSION].webhooks
    original = engine.bill

    def bill(event: BillingEvent) -> None:
        original(event)
        original(event)

    mp.setattr(engine, "bill", bill)
    return app


@valid
def events_carry_undocumented_fields(mp: pytest.MonkeyPatch) -> Flask:
    """Each event and the envelope carry fields the docs don't list: receivers ignore them."""

    def envelope_bytes(events: Iterable[dict[str, Any]]) -> bytes:
        extra = [{**event, "region": "us-east-1"} for event in events]
        raw = json.loads(_original_envelope_bytes(extra))
        return json.dumps({**raw, "version": 2}, separators=(",", ":")).encode()

    mp.setattr(delivery, "envelope_bytes", envelope_bytes)
    return create_app()


@valid
def signed_during_a_rotation(mp: pytest.MonkeyPatch) -> Flask:
    """The signature header carries a second signature, by another secret, as during a
    rotation (`v1=<new>,<old>`)."""

    def signature_header(body: bytes, secrets: Sequence[str]) -> str:
        return _original_signature_header(body, [*secrets, "whsec-retired"])

    mp.setattr(delivery, "signature_header", signature_header)
    return create_app()
