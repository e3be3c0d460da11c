"""The pytest plugin's webhook tooling from a user's side: the `frontier_webhooks` receiver,
the signature helper, and synthetic signed events sent to a handler of one's own."""

from __future__ import annotations

import hashlib
import hmac

import requests

from simulator.testing import (
    SimulatorClient,
    WebhookReceiver,
    send_test_event,
    signed_event,
    verify_signature,
)


def test_fixture_receiver_gets_the_events_of_calls(
    frontier_gateway: SimulatorClient, frontier_webhooks: WebhookReceiver
) -> None:
    """WEBHOOK-ONE-PER-CALL: the fixture's receiver is the workspace's; two calls, two events."""
    client = frontier_gateway.openai_client()
    for _ in range(2):
        client.chat.completions.create(
            model="your-org/your-model", messages=[{"role": "user", "content": "hi"}]
        )
    got = frontier_webhooks.wait_for(2)
    assert all(d.verified(frontier_webhooks.secret) for d in got)
    assert len({e["idempotencyKey"] for e in frontier_webhooks.events}) == 2


def test_fixture_receiver_dedupe_demo_with_a_duplicate_fault(
    frontier_gateway: SimulatorClient, frontier_webhooks: WebhookReceiver
) -> None:
    """A `duplicate` fault: the handler sees one event twice under two request ids, and
    dedupes on idempotencyKey (WEBHOOK-AT-LEAST-ONCE)."""
    frontier_gateway.add_webhook_fault({"duplicate": True, "times": 1})
    frontier_gateway.send_webhook_event({"externalEntityId": "cust_9"})
    got = frontier_webhooks.wait_for(2)
    assert len({d.request_id for d in got}) == 2
    billed = {e["idempotencyKey"]: e for e in frontier_webhooks.events}  # a handler's dedupe
    assert [e["externalEntityId"] for e in billed.values()] == ["cust_9"]


def test_each_test_starts_with_no_receiver(frontier_gateway: SimulatorClient) -> None:
    """The fixture's reset leaves only the configured receivers (none by default)."""
    assert frontier_gateway.webhook_receivers() == []
    assert frontier_gateway.webhook_deliveries() == []


def test_verify_signature_is_the_documented_check() -> None:
    """WEBHOOK-SIGNATURE: `v1=` + hex HMAC-SHA256 of the raw body; several secrets, several
    signatures (WEBHOOK-ROTATION)."""
    body, headers = signed_event(["new", "old"], modelSlug="acme/m")
    header = headers["X-Baseten-Signature"]
    digest = hmac.new(b"old", body, hashlib.sha256).hexdigest()
    assert header.endswith("," + digest)
    assert verify_signature(body, header, "new")
    assert verify_signature(body, header, ["other", "old"])
    assert not verify_signature(body, header, "other")
    assert not verify_signature(body + b" ", header, "new")


def test_send_test_event_reaches_a_handler_without_a_simulator() -> None:
    """A synthetic signed delivery to one's own handler: one POST, its answer returned."""
    with WebhookReceiver("whsec_mine") as handler:
        handler.answer_next(503)
        answer = send_test_event(handler.url, "whsec_mine", [{"apiKeyPrefix": "sky_a"}, {}])
        assert answer.status_code == 503
        (got,) = handler.received
        assert got.verified("whsec_mine")
        assert [e["apiKeyPrefix"] for e in got.events] == ["sky_a", "sky_sCqhBwEy4kPd"]
        assert requests.post(handler.url, data=b"{}", timeout=5).status_code == 200
        assert not handler.received[-1].verified("whsec_mine")
