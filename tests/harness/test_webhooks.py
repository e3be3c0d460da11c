"""Billing webhooks through the control API and Flask's test client, delivered to a receiver on
127.0.0.1: the delivery policy on a frozen clock, the dead-letter queue and re-drive,
rotation, receiver faults, synthetic events, reset, and the engine's threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from simulator import create_app
from simulator.core.clock import parse_rfc3339
from simulator.core.config import DEFAULT_CONFIG, config_from_mapping
from simulator.core.webhooks import BillingEvent, Receiver
from simulator.web.app import close, gateway_of
from simulator.web.delivery import DeliveryEngine
from simulator.webhooks import WebhookReceiver, verify_signature
from tests.builders import MANAGE, SLUG, control_client, create_group

T0 = "2026-05-13T12:00:00Z"
HOOKS = "/_sim/webhooks"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver("whsec_test") as running:
        yield running


@pytest.fixture
def hooked(app: Flask, client: FlaskClient, receiver: WebhookReceiver) -> Iterator[FlaskClient]:
    """The app's acme workspace sends to `receiver`; the clock is frozen at T0."""
    assert client.put(f"{HOOKS}/receivers/acme", json=body_of(receiver)).status_code == 200
    assert client.put("/_sim/clock", json={"time": T0}).status_code == 200
    yield client
    close(app)


def body_of(receiver: WebhookReceiver) -> dict[str, str]:
    return {"url": receiver.url, "secret": receiver.secret}


def group_key(client: FlaskClient, external_id: str = "cust_42", threshold: int = 1000) -> str:
    group = create_group(client, external_id, threshold=threshold)
    minted = client.post(f"/v1/gateway/groups/{group['id']}/api_keys", json={}, headers=MANAGE)
    key: str = minted.get_json()["api_key"]
    return key


def call(client: FlaskClient, key: str) -> int:
    body = {"model": SLUG, "messages": [{"role": "user", "content": "Hello there"}]}
    status: int = client.post(
        "/v1/chat/completions", json=body, headers={"Authorization": f"Api-Key {key}"}
    ).status_code
    return status


def settle(app: Flask) -> None:
    assert gateway_of(app).webhooks.wait_idle(10)


def advance(client: FlaskClient, app: Flask, seconds: float) -> None:
    assert client.post("/_sim/clock/advance", json={"seconds": seconds}).status_code == 200
    settle(app)


def deliveries(client: FlaskClient, **query: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get(f"{HOOKS}/deliveries", query_string=query).get_json()[
        "deliveries"
    ]
    return found


def test_each_accepted_call_delivers_one_signed_event(
    app: Flask, hooked: FlaskClient, receiver: WebhookReceiver
) -> None:
    """WEBHOOK-ONE-PER-CALL, WEBHOOK-SIGNATURE: three calls, three verifiable deliveries."""
    key = group_key(hooked)
    assert [call(hooked, key) for _ in range(3)] == [200, 200, 200]
    got = receiver.wait_for(3)
    assert all(verify_signature(d.body, d.signature, "whsec_test") for d in got)
    events = [d.events[0] for d in got]
    assert len({e["idempotencyKey"] for e in events}) == 3
    assert {e["externalEntityId"] for e in events} == {"cust_42"}
    assert {e["apiKeyPrefix"] for e in events} == {key.partition(".")[0]}
    assert {e["timestamp"] for e in events} == {"2026-05-13T12:00:00.000Z"}
    settle(app)
    assert [d["state"] for d in deliveries(hooked)] == ["delivered"] * 3


def test_a_refused_call_sends_nothing(
    app: Flask, hooked: FlaskClient, receiver: WebhookReceiver
) -> None:
    """WEBHOOK-ONE-PER-CALL: a 429 (or any refusal) makes no event."""
    key = group_key(hooked, threshold=5)  # TOKEN/MINUTE 5: one call of 2 + 9 tokens is over
    assert call(hooked, key) == 429
    assert call(hooked, "sky_unknown.key") == 401
    settle(app)
    assert receiver.received == []
    assert deliveries(hooked) == []


def test_a_503_is_retried_after_1_s_of_the_clock_with_the_same_request_id(
    app: Flask, hooked: FlaskClient, receiver: WebhookReceiver
) -> None:
    """WEBHOOK-RETRY, WEBHOOK-CLOCK: the retry waits for the clock, then repeats the
    request id and the body."""
    receiver.answer_next(503)
    call(hooked, group_key(hooked))
    settle(app)
    assert [d.status for d in receiver.received] == [503]
    advance(hooked, app, 0.9)
    assert len(receiver.received) == 1
    advance(hooked, app, 0.1)
    first, retry = receiver.wait_for(2)
    assert (retry.status, retry.request_id, retry.body) == (200, first.request_id, first.body)
    log = deliveries(hooked)[0]
    assert [a["status"] for a in log["attempts"]] == [503, 200]
    assert [a["at"] for a in log["attempts"]] == [
        "2026-05-13T12:00:00.000Z",
        "2026-05-13T12:00:01.000Z",
    ]


def test_always_500_is_dead_lettered_within_15_s_and_redriven(
    app: Flask, hooked: FlaskClient, receiver: WebhookReceiver
) -> None:
    """WEBHOOK-RETRY, WEBHOOK-DLQ: attempts at 0, 1, 3, 7 and 12 s, then the dead-letter
    queue; a re-drive is a new delivery of the same events."""
    receiver.default = 500
    call(hooked, group_key(hooked))
    settle(app)
    for step in (1, 2, 4):
        advance(hooked, app, step)
        assert hooked.get(f"{HOOKS}/dead-letters").get_json()["deliveries"] == []
    advance(hooked, app, 5)
    dead = hooked.get(f"{HOOKS}/dead-letters").get_json()["deliveries"]
    assert len(dead) == 1
    assert dead[0]["state"] == "dead_lettered"
    assert len(dead[0]["attempts"]) == 5
    assert len({d.request_id for d in receiver.received}) == 1
    advance(hooked, app, 60)
    assert len(receiver.received) == 5  # nothing more

    receiver.default = 200
    again = hooked.post(f"{HOOKS}/dead-letters/redrive", json={}).get_json()["deliveries"]
    settle(app)
    last = receiver.received[-1]
    assert last.status == 200
    assert last.request_id == again[0]["request_id"] != dead[0]["request_id"]
    assert last.events[0]["idempotencyKey"] == dead[0]["idempotency_keys"][0]
    assert hooked.get(f"{HOOKS}/dead-letters").get_json()["deliveries"] == []
    refused = hooked.post(f"{HOOKS}/dead-letters/redrive", json={"request_ids": ["nope"]})
    assert refused.status_code == 404


def test_a_4xx_is_terminal(app: Flask, hooked: FlaskClient, receiver: WebhookReceiver) -> None:
    """WEBHOOK-4XX-TERMINAL: one attempt, never retried, not dead-lettered."""
    receiver.default = 400
    call(hooked, group_key(hooked))
    settle(app)
    advance(hooked, app, 30)
    assert len(receiver.received) == 1
    (failed,) = deliveries(hooked, state="failed")
    assert "4xx" in failed["reason"]
    assert hooked.get(f"{HOOKS}/dead-letters").get_json()["deliveries"] == []


def test_rotation_signs_with_both_secrets_for_24_hours(
    app: Flask, hooked: FlaskClient, receiver: WebhookReceiver
) -> None:
    """WEBHOOK-ROTATION: `v1=<new>,<old>` until 24 h of the clock have passed."""
    rotated = hooked.post(f"{HOOKS}/receivers/acme/rotate", json={"secret": "whsec_new"})
    assert rotated.get_json()["previous_secret"] == "whsec_test"
    key = group_key(hooked)
    call(hooked, key)
    (during,) = receiver.wait_for(1)
    assert during.signature is not None
    assert during.signature.count(",") == 1
    assert during.verified("whsec_new")
    assert during.verified("whsec_test")
    advance(hooked, app, 24 * 3600)
    call(hooked, key)
    after = receiver.wait_for(2)[1]
    assert after.verified("whsec_new")
    assert not after.verified("whsec_test")
    same = hooked.post(f"{HOOKS}/receivers/acme/rotate", json={"secret": "whsec_new"})
    assert same.status_code == 400


@pytest.mark.parametrize(
    ("rule", "statuses", "same_request_id"),
    [
        ({"drop": "after", "times": 1}, [200, 200], True),
        ({"drop": "before", "times": 1}, [200], True),
        ({"duplicate": True, "times": 1}, [200, 200], False),
        ({"delay_ms": 50, "times": 1}, [200], True),
    ],
    ids=["drop-after", "drop-before", "duplicate", "delay"],
)
def test_receiver_faults(
    app: Flask,
    hooked: FlaskClient,
    receiver: WebhookReceiver,
    rule: dict[str, Any],
    statuses: list[int],
    same_request_id: bool,
) -> None:
    """A lost answer is retried with the same request id; a duplicate is a second delivery
    with its own request id and the same idempotencyKey (WEBHOOK-AT-LEAST-ONCE)."""
    made = hooked.post(f"{HOOKS}/faults", json=rule | {"workspace": "acme"})
    assert made.status_code == 201
    call(hooked, group_key(hooked))
    settle(app)
    advance(hooked, app, 1)  # a dropped attempt's retry
    got = receiver.received
    assert [d.status for d in got] == statuses
    assert len({d.events[0]["idempotencyKey"] for d in got}) == 1
    assert (len({d.request_id for d in got}) == 1) is same_request_id
    assert hooked.get(f"{HOOKS}/faults").get_json()["rules"] == []  # used up


def test_synthetic_event_goes_through_the_engine(
    app: Flask, hooked: FlaskClient, receiver: WebhookReceiver
) -> None:
    """A signed test event without an inference call, with the fields given."""
    answer = hooked.post(
        f"{HOOKS}/receivers/acme/events",
        json={"events": [{"externalEntityId": "cust_7", "undocumented": 1}]},
    )
    assert answer.status_code == 200
    assert answer.get_json()["deliveries"][0]["origin"] == "test"
    (got,) = receiver.wait_for(1)
    assert got.verified("whsec_test")
    assert got.events[0]["externalEntityId"] == "cust_7"
    assert got.events[0]["undocumented"] == 1
    assert got.events[0]["tokens"]["inputTokens"] == 100


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("put", "/receivers/acme", {"url": "ftp://x", "secret": "s"}, 400),
        ("put", "/receivers/acme", {"url": "http://:1/", "secret": "s"}, 400),
        ("put", "/receivers/acme", {"url": "http://h/"}, 400),
        ("put", "/receivers/acme", {"url": "http://h/", "secret": "s", "x": 1}, 400),
        ("put", "/receivers/nowhere", {"url": "http://h/", "secret": "s"}, 404),
        ("delete", "/receivers/acme", None, 404),
        ("post", "/receivers/acme/rotate", {"secret": "s"}, 404),
        ("post", "/receivers/acme/rotate", {}, 400),
        ("post", "/receivers/acme/events", {}, 404),
        ("post", "/receivers/acme/events", {"events": []}, 400),
        ("post", "/faults", {"drop": "sideways"}, 400),
        ("post", "/faults", {"drop": "after", "delay_ms": 1}, 400),
        ("post", "/faults", {}, 400),
        ("delete", "/faults/w99", None, 404),
        ("post", "/dead-letters/redrive", {"request_ids": "x"}, 400),
        ("post", "/dead-letters/redrive", "not an object", 400),
    ],
)
def test_control_routes_refuse_what_doesnt_fit(
    client: FlaskClient, method: str, path: str, body: Any, status: int
) -> None:
    """Bodies are checked against control-openapi.yaml; unknown things are 404."""
    answer = getattr(client, method)(HOOKS + path, json=body)
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert set(answer.get_json()) == {"error"}


@pytest.mark.parametrize("query", [{"state": "lost"}, {"limit": "0"}, {"limit": "x"}])
def test_delivery_log_query_is_checked(client: FlaskClient, query: dict[str, str]) -> None:
    assert client.get(f"{HOOKS}/deliveries", query_string=query).status_code == 400


def test_reset_returns_to_the_configured_receivers_and_empties_the_logs(
    receiver: WebhookReceiver,
) -> None:
    """A reset: receivers as configured, no delivery waiting, logged or dead, no fault."""
    data = dict(DEFAULT_CONFIG)
    data["workspaces"] = {
        **DEFAULT_CONFIG["workspaces"],
        "globex": {"keys": {"sim-manage-globex": "management"}, "webhook": body_of(receiver)},
    }
    app = create_app(config_from_mapping(data))
    client = control_client(app)
    try:
        client.put(f"{HOOKS}/receivers/acme", json={"url": "http://127.0.0.1:9/", "secret": "s"})
        client.post(f"{HOOKS}/faults", json={"duplicate": True})
        client.put("/_sim/clock", json={"time": T0})
        receiver.default = 500
        client.post(f"{HOOKS}/receivers/globex/events", json={})
        settle(app)
        assert deliveries(client, state="pending")
        assert client.post("/_sim/reset").status_code == 200
        listed = client.get(f"{HOOKS}/receivers").get_json()["receivers"]
        assert [(r["workspace"], r["url"]) for r in listed] == [("globex", receiver.url)]
        assert deliveries(client) == []
        assert client.get(f"{HOOKS}/faults").get_json()["rules"] == []
        client.post("/_sim/clock/advance", json={"seconds": 60})
        settle(app)
        assert len(receiver.received) == 2  # the two first attempts; no retry after reset
    finally:
        close(app)


def test_state_export_holds_no_webhook_configuration(hooked: FlaskClient) -> None:
    """Snapshots are Gateway data: receivers and secrets stay out of them."""
    assert "whsec_test" not in hooked.get("/_sim/state").get_data(as_text=True)


def test_a_full_backlog_dead_letters_at_once(receiver: WebhookReceiver) -> None:
    """The queue is bounded: past `max_pending` a delivery goes to the dead-letter queue."""
    from simulator.core.clock import Clock

    clock = Clock()
    clock.set(parse_rfc3339(T0))
    engine = DeliveryEngine(clock, {"acme": Receiver(receiver.url, "s")}, max_pending=1)
    try:
        receiver.default = 500
        made = [engine.send("acme", [{"idempotencyKey": str(i)}]) for i in range(2)]
        assert engine.wait_idle()
        assert [d.request_id for d in engine.dead_letters()] == [made[1][0].request_id]
        assert "waiting" in (engine.dead_letters()[0].reason or "")
    finally:
        engine.close()


def test_delivery_threads_end_when_idle_and_on_close(receiver: WebhookReceiver) -> None:
    """No thread outlives its work: idle, the scheduler ends; close() ends the rest."""
    from simulator.core.clock import Clock

    engine = DeliveryEngine(Clock(), {"acme": Receiver(receiver.url, "s")})
    event = BillingEvent("acme", "k", 0.0, "r", SLUG, "cust_42", "sky_x", 1, 1)
    engine.bill(event)
    receiver.wait_for(1)
    assert engine.wait_idle()
    engine.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("frontier-sim-webhook")]
