"""The management API's own rate limit (MGMT-RATE-LIMIT) through Flask's test client: the
documented 429, per key, only on the management routes, and off unless configured."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from simulator import create_app
from simulator.core.config import default_config
from tests.builders import GROUPS, MANAGE, OTHER, SLUG, VIEW

DOCUMENTED = {"error": "Rate limit exceeded. Please try again later.", "retry_after": 1}


@pytest.fixture
def limited() -> Flask:
    return create_app(replace(default_config(), management_rate_limit=100))


def burst(client: FlaskClient, count: int = 150, headers: dict[str, str] = MANAGE) -> Counter[int]:
    return Counter(client.get(GROUPS, headers=headers).status_code for _ in range(count))


def test_150_fast_requests_get_the_documented_429(limited: Flask) -> None:
    """MGMT-RATE-LIMIT: 100 in the second pass, the rest get exactly the documented body."""
    client = limited.test_client()
    answers = [client.get(GROUPS, headers=MANAGE) for _ in range(150)]
    assert Counter(a.status_code for a in answers) == {200: 100, 429: 50}
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.get_json() == DOCUMENTED
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["X-Frontier-Rule"] == "MGMT-RATE-LIMIT"
    assert refused.mimetype == "application/json"


def test_a_client_honouring_retry_after_gets_through(limited: Flask) -> None:
    """MGMT-RATE-LIMIT: wait `retry_after`, send again: all 150 creates land."""
    client = limited.test_client()
    created, waits = 0, 0
    for i in range(150):
        body = {
            "metadata": {"external_entity_id": f"bulk-{i}"},
            "models": [{"slug": SLUG}],
            "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": None},
        }
        for _ in range(5):  # bounded
            answer = client.post(GROUPS, json=body, headers=MANAGE)
            if answer.status_code != 429:
                break
            waits += 1
            time.sleep(answer.get_json()["retry_after"])
        assert answer.status_code == 200, answer.get_data(as_text=True)
        created += 1
    assert created == 150
    assert waits >= 1
    assert (
        len(client.get(GROUPS, query_string={"limit": 1000}, headers=MANAGE).json["items"]) == 150
    )


def test_the_limit_is_per_key(limited: Flask) -> None:
    """Another key (same workspace or another) has a second of its own."""
    client = limited.test_client()
    assert burst(client)[429] == 50
    assert burst(client, 100, VIEW) == {200: 100}
    assert burst(client, 100, OTHER) == {200: 100}


def test_unknown_keys_get_401_and_other_routes_are_not_limited(limited: Flask) -> None:
    """The limit counts authenticated management requests only: an unknown key gets its 401,
    and `/`, `/_sim/` and the inference route are never limited by it."""
    client = limited.test_client()
    burst(client)
    unknown = client.get(GROUPS, headers={"Authorization": "Api-Key nope"})
    assert unknown.status_code == 401
    assert client.get("/").status_code == 200
    assert client.get("/_sim/clock").status_code == 200
    inference = client.post(
        "/v1/chat/completions",
        json={"model": SLUG, "messages": [{"role": "user", "content": "hi"}]},
        headers=MANAGE,
    )
    assert inference.headers.get("X-Frontier-Rule") == "INF-WORKSPACE-KEY"


def test_off_in_create_app_unless_configured(client: FlaskClient) -> None:
    """create_app() (and the pytest fixture) have no management rate limit by default."""
    assert burst(client, 150) == {200: 150}


def test_config_file_turns_it_on_and_0_keeps_it_off() -> None:
    """`management_rate_limit: N` in the configuration; 0 is off."""
    off = create_app(replace(default_config(), management_rate_limit=0)).test_client()
    assert burst(off, 150) == {200: 150}
    on = create_app(replace(default_config(), management_rate_limit=10)).test_client()
    assert burst(on, 20) == {200: 10, 429: 10}
