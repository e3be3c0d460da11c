"""Billing webhooks and the management rate limit against a real `frontier-sim`, over
sockets: signed events to a receiver in this process, a retry after a 503 with the same
request id, the dead-letter queue after 15 s of the simulator's clock, and the documented
429 that a client honouring retry_after gets through."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from simulator.core.config import default_config
from simulator.testing import Keys, SimulatorClient
from simulator.webhooks import WebhookReceiver, verify_signature
from tests.builders import GROUPS, MANAGE, SLUG
from tests.servers import FrontierSim, start_frontier_sim

pytestmark = pytest.mark.e2e
SECRET = "whsec_e2e"


@pytest.fixture(scope="module")
def sim() -> Iterator[FrontierSim]:
    """`frontier-sim` with its defaults: the management rate limit on."""
    running = start_frontier_sim("--threads", "4")
    yield running
    assert running.stop() == 0


@pytest.fixture
def gateway(sim: FrontierSim) -> Iterator[SimulatorClient]:
    client = SimulatorClient(sim.url, Keys.from_config(default_config()), workspace="acme")
    client.reset()
    yield client
    client.reset()
    client.close()


@pytest.fixture
def receiver(gateway: SimulatorClient) -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as running:
        gateway.set_webhook(running.url, SECRET)
        yield running


def calls(gateway: SimulatorClient, count: int) -> tuple[str, list[dict[str, object]]]:
    group = gateway.create_group(external_entity_id="cust_42")
    key = gateway.group_key(group["id"])
    body = {"model": SLUG, "messages": [{"role": "user", "content": "Hello there"}]}
    answers = [
        requests.post(
            f"{gateway.url}/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Api-Key {key}"},
            timeout=10,
        )
        for _ in range(count)
    ]
    assert [a.status_code for a in answers] == [200] * count
    return key, [a.json() for a in answers]


def test_three_calls_send_three_verifiable_events(
    gateway: SimulatorClient, receiver: WebhookReceiver
) -> None:
    """WEBHOOK-ONE-PER-CALL, WEBHOOK-SIGNATURE, WEBHOOK-FIELDS over sockets."""
    key, answers = calls(gateway, 3)
    got = receiver.wait_for(3)
    assert all(verify_signature(d.body, d.signature, SECRET) for d in got)
    events = [d.events[0] for d in got]
    assert len({e["idempotencyKey"] for e in events}) == 3
    assert {(e["externalEntityId"], e["apiKeyPrefix"], e["modelSlug"]) for e in events} == {
        ("cust_42", key.partition(".")[0], SLUG)
    }
    usage = answers[0]["usage"]
    assert isinstance(usage, dict)
    assert events[0]["tokens"] == {
        "inputTokens": usage["prompt_tokens"],
        "outputTokens": usage["completion_tokens"],
        "cachedInputTokens": 0,
    }
    assert len(gateway.wait_for_deliveries(3, state="delivered")) == 3


def test_a_503_then_200_is_retried_with_the_same_request_id_and_event(
    gateway: SimulatorClient, receiver: WebhookReceiver
) -> None:
    """WEBHOOK-RETRY: the retry (1 s later, real time here) repeats request id and events."""
    receiver.answer_next(503)
    calls(gateway, 1)
    first, retry = receiver.wait_for(2, timeout=10)
    assert (first.status, retry.status) == (503, 200)
    assert retry.request_id == first.request_id
    assert retry.events[0]["idempotencyKey"] == first.events[0]["idempotencyKey"]
    assert retry.verified(SECRET)


def test_always_500_goes_to_the_dead_letter_queue_after_15_s_of_the_clock(
    gateway: SimulatorClient, receiver: WebhookReceiver
) -> None:
    """WEBHOOK-DLQ, WEBHOOK-CLOCK: with the clock frozen, retries wait for it; 15 s of it
    later the event is a dead letter, then re-driven to a receiver that answers 200."""
    receiver.default = 500
    gateway.set_time("2026-05-13T12:00:00Z")
    calls(gateway, 1)
    gateway.wait_for_deliveries(1, attempts=1)
    for step, attempts in ((1, 2), (2, 3), (4, 4), (5, 5)):
        gateway.advance(step)
        gateway.wait_for_deliveries(1, attempts=attempts)
    gateway.advance(3)  # 15 s in all
    dead = gateway.dead_letters()
    assert [d["state"] for d in dead] == ["dead_lettered"]
    assert len({d.request_id for d in receiver.received}) == 1
    receiver.default = 200
    (again,) = gateway.redrive()
    last = receiver.wait_for(6)[-1]
    assert (last.status, last.request_id) == (200, again["request_id"])
    assert last.events[0]["idempotencyKey"] == dead[0]["idempotency_keys"][0]


def test_the_configuration_file_sets_a_receiver(tmp_path: Path) -> None:
    """`workspaces.acme.webhook` in `--config`: events flow with no control call."""
    with WebhookReceiver(SECRET) as receiver:
        config = tmp_path / "sim.yaml"
        config.write_text(
            "workspaces:\n"
            "  acme:\n"
            "    keys: {sim-manage-acme: management}\n"
            f"    webhook: {{url: '{receiver.url}', secret: {SECRET}}}\n"
        )
        running = start_frontier_sim("--config", str(config), "--threads", "2")
        try:
            assert f"Billing webhooks of acme: {receiver.url}" in running.banner()
            keys = Keys(manage="sim-manage-acme")
            client = SimulatorClient(running.url, keys, workspace="acme")
            calls(client, 1)
            (got,) = receiver.wait_for(1)
            assert got.verified(SECRET)
            client.close()
        finally:
            assert running.stop() == 0


def burst(url: str, count: int = 150, threads: int = 6) -> list[tuple[int, dict[str, str], bytes]]:
    """`count` list-groups requests on the manage key from `threads` keep-alive connections
    released together: (status, headers in lower case, body) of each."""
    host, port = url.removeprefix("http://").split(":")
    answers: list[tuple[int, dict[str, str], bytes]] = []
    lock, gate = threading.Lock(), threading.Barrier(threads, timeout=30)

    def send(share: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        gate.wait()
        try:
            for _ in range(share):
                connection.request("GET", GROUPS, headers=MANAGE)
                answer = connection.getresponse()
                headers = {k.lower(): v for k, v in answer.getheaders()}
                got = (answer.status, headers, answer.read())
                with lock:
                    answers.append(got)
        finally:
            connection.close()

    shares = [count // threads + (i < count % threads) for i in range(threads)]
    pool = [threading.Thread(target=send, args=(share,)) for share in shares]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(60)
    assert len(answers) == count
    return answers


def test_150_fast_management_requests_get_documented_429s(gateway: SimulatorClient) -> None:
    """MGMT-RATE-LIMIT on frontier-sim's defaults: a burst of 150 on one key gets the
    documented 429s, and a client honouring retry_after then gets through."""
    for _ in range(3):  # bounded: a busy machine may send a burst slower than 100 a second
        answers = burst(gateway.url)
        refused = [a for a in answers if a[0] == 429]
        if refused:
            break
        time.sleep(1)
    statuses = Counter(a[0] for a in answers)
    assert refused, statuses
    assert set(statuses) == {200, 429}
    assert statuses[200] >= 100  # never below the documented 100 a second
    _, headers, body = refused[0]
    assert json.loads(body) == {
        "error": "Rate limit exceeded. Please try again later.",
        "retry_after": 1,
    }
    assert headers["retry-after"] == "1"
    assert headers["x-frontier-rule"] == "MGMT-RATE-LIMIT"
    with requests.Session() as session:  # a client that honours retry_after
        answer = session.get(gateway.url + GROUPS, headers=MANAGE, timeout=10)
        for _ in range(5):  # bounded
            if answer.status_code != 429:
                break
            time.sleep(answer.json()["retry_after"])
            answer = session.get(gateway.url + GROUPS, headers=MANAGE, timeout=10)
    assert answer.status_code == 200


def test_the_rate_limit_can_be_turned_off() -> None:
    """`--management-rate-limit 0`: 150 fast requests all pass."""
    running = start_frontier_sim("--management-rate-limit", "0", "--threads", "2")
    try:
        with requests.Session() as session:
            statuses = Counter(
                session.get(running.url + GROUPS, headers=MANAGE, timeout=10).status_code
                for _ in range(150)
            )
        assert statuses == {200: 150}
        assert "Management rate limit" not in running.banner()
    finally:
        assert running.stop() == 0
