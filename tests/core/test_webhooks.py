"""Billing webhooks without a network: the event of a call, the envelope, signatures with
rotation, the delivery policy's schedule, and the management API's rate limit."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

import pytest

from simulator.core.access import KeyRing
from simulator.core.clock import Clock, parse_rfc3339
from simulator.core.completions import CompletionRequest, ModelProfiles
from simulator.core.config import ConfigError, config_from_mapping
from simulator.core.errors import LimitExceeded, ManagementRateLimited
from simulator.core.inference import Inference
from simulator.core.keys import digest
from simulator.core.model import INDEPENDENT, Limit, ModelConfig, NewGroup
from simulator.core.ratelimit import ManagementRateLimit
from simulator.core.store import IdGenerator, Store
from simulator.core.webhooks import (
    DEAD_LETTERED,
    DELIVERED,
    FAILED,
    PENDING,
    ROTATION_GRACE_SECONDS,
    BillingEvent,
    DeliveryPolicy,
    Receiver,
    envelope_bytes,
    new_idempotency_key,
    outcome_of,
    sample_event,
    sign,
    signature_header,
    verify_signature,
)

T0 = parse_rfc3339("2026-05-13T12:00:00Z")
SLUG = "your-org/your-model"
ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def event(**fields: object) -> BillingEvent:
    values: dict[str, object] = {
        "workspace": "acme",
        "idempotency_key": "01J9X7Y0Z3K4M5N6P7Q8R9S0T1",
        "timestamp": T0 + 0.905,
        "request_id": "5e4a8c1a-2b3c-4d5e-9f0a-1b2c3d4e5f6a",
        "model_slug": SLUG,
        "external_entity_id": "cust_42",
        "api_key_prefix": "sky_sCqhBwEy4kPd",
        "input_tokens": 100,
        "output_tokens": 200,
    }
    return BillingEvent(**(values | fields))  # type: ignore[arg-type]


def test_event_json_is_the_documented_sample() -> None:
    """WEBHOOK-ENVELOPE: every documented field, the timestamp with milliseconds."""
    body = json.loads(envelope_bytes([event().json()]))
    assert body == {
        "type": "API_BILLING_USAGE",
        "data": {
            "events": [
                {
                    "idempotencyKey": "01J9X7Y0Z3K4M5N6P7Q8R9S0T1",
                    "timestamp": "2026-05-13T12:00:00.905Z",
                    "requestId": "5e4a8c1a-2b3c-4d5e-9f0a-1b2c3d4e5f6a",
                    "requestMetadata": {},
                    "modelSlug": SLUG,
                    "externalEntityId": "cust_42",
                    "apiKeyPrefix": "sky_sCqhBwEy4kPd",
                    "tokens": {"inputTokens": 100, "outputTokens": 200, "cachedInputTokens": 0},
                }
            ]
        },
    }


def test_signature_is_hex_hmac_sha256_of_the_raw_body() -> None:
    """WEBHOOK-SIGNATURE: `v1=` and the hex HMAC-SHA256 of the exact bytes."""
    body = envelope_bytes([event().json()])
    expected = hmac.new(b"whsec", body, hashlib.sha256).hexdigest()
    assert signature_header(body, ["whsec"]) == f"v1={expected}"
    assert verify_signature(body, f"v1={expected}", "whsec")


@pytest.mark.parametrize(
    ("header", "secrets", "valid"),
    [
        ("v1={new},{old}", ["new"], True),
        ("v1={new},{old}", ["old"], True),
        ("v1={old}", ["new", "old"], True),
        ("v1={new},v1={old}", ["old"], True),
        ("v1={new}", ["old"], False),
        ("{new}", ["new"], True),
        ("v1=", ["new"], False),
        ("", ["new"], False),
    ],
)
def test_verify_signature_accepts_any_of_several(
    header: str, secrets: list[str], valid: bool
) -> None:
    """WEBHOOK-ROTATION: strip `v1=`, split on `,`, any signature with any secret passes."""
    body = b'{"type":"API_BILLING_USAGE","data":{"events":[]}}'
    filled = header.format(new=sign(body, "new"), old=sign(body, "old"))
    assert verify_signature(body, filled, secrets) is valid


def test_verify_signature_refuses_reserialised_json() -> None:
    """WEBHOOK-SIGNATURE: the signature covers the raw bytes, not the parsed JSON."""
    body = envelope_bytes([event().json()])
    header = signature_header(body, ["s"])
    assert not verify_signature(json.dumps(json.loads(body)).encode(), header, "s")


def test_rotation_signs_with_both_for_24_hours_of_the_clock() -> None:
    """WEBHOOK-ROTATION: after a rotation both secrets sign, the new one first, for 24 h."""
    receiver = Receiver("http://127.0.0.1:9/h", "old").rotated("new", T0)
    assert receiver.secrets(T0) == ("new", "old")
    assert receiver.secrets(T0 + ROTATION_GRACE_SECONDS - 0.001) == ("new", "old")
    assert receiver.secrets(T0 + ROTATION_GRACE_SECONDS) == ("new",)
    assert receiver.json(T0 + ROTATION_GRACE_SECONDS)["previous_secret"] is None
    with pytest.raises(ValueError, match="current one"):
        receiver.rotated("new", T0)


def test_policy_schedule_is_0_1_3_7_12_then_dead_letter() -> None:
    """WEBHOOK-RETRY and WEBHOOK-DLQ: backoff 1, 2, 4, 5 s; no attempt after 15 s."""
    policy, at, tries = DeliveryPolicy(), [0.0], 1
    while (due := policy.next_attempt(0.0, tries, at[-1])) is not None:
        at.append(due)
        tries += 1
    assert at == [0.0, 1.0, 3.0, 7.0, 12.0]
    assert [policy.backoff(n) for n in range(1, 7)] == [1, 2, 4, 5, 5, 5]
    assert policy.attempt_timeout == 10.0


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        *[(200, DELIVERED), (204, DELIVERED), (400, FAILED), (404, FAILED), (429, FAILED)],
        *[(500, PENDING), (503, PENDING), (302, PENDING), (101, PENDING)],
    ],
)
def test_outcome_of_an_answer(status: int, outcome: str) -> None:
    """WEBHOOK-4XX-TERMINAL: 4xx is final; 5xx and anything not 2xx is retried."""
    assert outcome_of(status) == outcome
    assert DEAD_LETTERED not in {outcome_of(s) for s in range(100, 600)}


def test_idempotency_key_is_a_ulid_of_the_time() -> None:
    """A ULID as the documentation's sample; later keys sort after earlier ones."""
    first, second = new_idempotency_key(T0), new_idempotency_key(T0 + 0.002)
    assert ULID.match(first)
    assert ULID.match(second)
    assert first < second
    assert first != new_idempotency_key(T0)


def test_sample_event_takes_fields_and_keeps_unknown_ones() -> None:
    """A synthetic event: the defaults of a call, given fields in their place."""
    made = sample_event(T0, externalEntityId="cust_7", extra="kept")
    assert made["externalEntityId"] == "cust_7"
    assert made["extra"] == "kept"
    assert set(made) >= {"idempotencyKey", "timestamp", "requestId", "tokens", "apiKeyPrefix"}


class Sink:
    """A BillingSink that keeps what it gets."""

    def __init__(self, workspaces: set[str]) -> None:
        self.workspaces = workspaces
        self.events: list[BillingEvent] = []

    def wants(self, workspace: str) -> bool:
        return workspace in self.workspaces

    def bill(self, event: BillingEvent) -> None:
        self.events.append(event)


def inference_with(sink: Sink, rate: int = 2) -> tuple[Inference, bytes, str]:
    clock = Clock()
    clock.set(T0)
    store = Store(clock=clock.timestamp, new_id=IdGenerator(1))
    limits = (Limit("REQUEST", "MINUTE", rate),)
    new = NewGroup("cust_42", "Acme", (ModelConfig(SLUG, limits, ()),), INDEPENDENT, None)
    group = store.create_group("acme", new)
    minted = store.mint_key("acme", group.id, None)
    profiles = ModelProfiles()
    inference = Inference(store, KeyRing(()), profiles, clock, billing=sink)
    return inference, digest(minted.plaintext), minted.record.prefix


def test_an_accepted_call_bills_one_event_and_a_refused_one_none() -> None:
    """WEBHOOK-ONE-PER-CALL, WEBHOOK-FIELDS, WEBHOOK-TOKENS: one event per accepted call,
    with the key's group's external id, the key's prefix and the call's tokens."""
    sink = Sink({"acme"})
    inference, key, prefix = inference_with(sink, rate=2)
    request = CompletionRequest(SLUG, 3, None, False, False)
    answers = [inference.call(key, request) for _ in range(2)]
    with pytest.raises(LimitExceeded):
        inference.call(key, request)
    assert len(sink.events) == 2
    first = sink.events[0]
    assert (first.workspace, first.external_entity_id, first.api_key_prefix) == (
        "acme",
        "cust_42",
        prefix,
    )
    assert (first.input_tokens, first.output_tokens) == (3, answers[0].completion_tokens)
    assert first.timestamp == T0
    assert sink.events[0].idempotency_key != sink.events[1].idempotency_key
    assert sink.events[0].request_id != sink.events[1].request_id


def test_a_workspace_without_a_receiver_builds_no_event() -> None:
    """No receiver, no event: the inference path pays nothing for webhooks."""
    sink = Sink(set())
    inference, key, _ = inference_with(sink)
    inference.call(key, CompletionRequest(SLUG, 1, None, False, False))
    assert sink.events == []


def test_config_reads_a_workspace_webhook_and_the_rate_limit() -> None:
    """`workspaces.<name>.webhook` and `management_rate_limit` in the configuration file."""
    config = config_from_mapping(
        {
            "workspaces": {
                "acme": {
                    "keys": {"k": "management"},
                    "webhook": {"url": "http://127.0.0.1:9000/hooks", "secret": "s"},
                }
            },
            "management_rate_limit": 100,
        }
    )
    assert config.webhooks == {"acme": Receiver("http://127.0.0.1:9000/hooks", "s")}
    assert config.management_rate_limit == 100


@pytest.mark.parametrize(
    ("webhook", "place"),
    [
        ({"url": "ftp://x/y", "secret": "s"}, "workspaces.acme.webhook.url"),
        ({"url": "http://:80/", "secret": "s"}, "workspaces.acme.webhook.url"),
        ({"url": "http://h/"}, "workspaces.acme.webhook"),
        ({"url": "http://h/", "secret": ""}, "workspaces.acme.webhook.secret"),
    ],
)
def test_config_refuses_a_bad_webhook(webhook: dict[str, str], place: str) -> None:
    """A receiver without an http(s) URL with a host, or without a secret, is refused."""
    data = {"workspaces": {"acme": {"keys": {"k": "management"}, "webhook": webhook}}}
    with pytest.raises(ConfigError, match=re.escape(place)):
        config_from_mapping(data)


def test_rate_limit_admits_100_in_any_second_then_refuses() -> None:
    """MGMT-RATE-LIMIT: 100 requests in a rolling second per key; refusals don't count."""
    limit = ManagementRateLimit(100)
    for i in range(100):
        limit.admit("k", 10.0 + i * 0.001)
    with pytest.raises(ManagementRateLimited) as refused:
        limit.admit("k", 10.5)
    assert refused.value.fields() == {"retry_after": 1}
    assert refused.value.headers() == {"Retry-After": "1"}
    assert refused.value.message == "Rate limit exceeded. Please try again later."
    limit.admit("other", 10.5)  # per key
    limit.admit("k", 11.0001)  # the first request has aged out
    with pytest.raises(ManagementRateLimited):
        limit.admit("k", 11.0002)
