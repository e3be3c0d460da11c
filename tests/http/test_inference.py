"""POST /v1/chat/completions through the Flask test client: keys, bodies, limits, streams,
usage, configuration and faults."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from simulator import create_app
from simulator.core.config import config_from_mapping
from simulator.harness.seed import seed_from_mapping
from simulator.web.control import harness
from tests.builders import GROUPS, MANAGE, MANAGE_KEY, SLUG, VIEW_KEY, auth, group_body

COMPLETIONS = "/v1/chat/completions"
RULE = "X-Frontier-Rule"


def chat(**fields: Any) -> dict[str, Any]:
    return {"model": SLUG, "messages": [{"role": "user", "content": "Say hello."}], **fields}


def limited(*rate: tuple[str, str, int], daily: tuple[tuple[str, int], ...] = ()) -> list[Any]:
    return [
        {
            "slug": SLUG,
            "rate_limits": [{"type": t, "unit": u, "threshold": n} for t, u, n in rate],
            "usage_limits": [{"type": t, "unit": "DAY", "threshold": n} for t, n in daily],
        }
    ]


@pytest.fixture
def member(client: FlaskClient) -> Callable[..., tuple[str, str]]:
    """Creates a group and mints a key: (group id, key)."""

    def make(external_id: str = "cust", **kwargs: Any) -> tuple[str, str]:
        created = client.post(
            GROUPS,
            json=group_body(external_id, **{"models": [{"slug": SLUG}], **kwargs}),
            headers=MANAGE,
        )
        assert created.status_code == 200, created.json
        group_id = created.json["id"]
        minted = client.post(f"/v1/gateway/groups/{group_id}/api_keys", json={}, headers=MANAGE)
        return group_id, minted.json["api_key"]

    return make


def call(client: FlaskClient, key: str | None, body: Any = None, **headers: str) -> Any:
    sent = dict(auth(key) if key else {}, **headers)
    return client.post(COMPLETIONS, json=chat() if body is None else body, headers=sent)


def usage_of(client: FlaskClient, group_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = client.get(f"/v1/gateway/groups/{group_id}/usage", headers=MANAGE).json
    return answer


def test_completion_answers_the_documented_shape(client: FlaskClient, member: Any) -> None:
    """INF-ROUTE: 200 with a chat.completion for a slug of the key's group."""
    _, key = member()
    response = call(client, key)
    assert response.status_code == 200
    answer = response.json
    assert (answer["object"], answer["model"]) == ("chat.completion", SLUG)
    assert answer["id"].startswith("chatcmpl-")
    assert answer["usage"] == {"prompt_tokens": 2, "completion_tokens": 9, "total_tokens": 11}


@pytest.mark.parametrize(
    ("authorization", "rule"),
    [
        (None, "INF-AUTH-KEY"),
        ("Api-Key nope.nope", "INF-AUTH-KEY"),
        ("Basic abc", "INF-AUTH-KEY"),
        ("Api-Key " + MANAGE_KEY, "INF-WORKSPACE-KEY"),
        ("Api-Key " + VIEW_KEY, "INF-WORKSPACE-KEY"),
        ("Bearer " + MANAGE_KEY, "INF-AUTH-SCHEME"),
    ],
)
def test_keys_that_are_not_live_group_keys_get_401(
    client: FlaskClient, authorization: str | None, rule: str
) -> None:
    """INF-AUTH-KEY, INF-WORKSPACE-KEY, INF-AUTH-SCHEME: 401 {"error"} naming the rule."""
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post(COMPLETIONS, json=chat(), headers=headers)
    assert response.status_code == 401
    assert set(response.json) == {"error"}
    assert response.headers[RULE] == rule


def test_a_group_key_sent_as_bearer_is_rejected(client: FlaskClient, member: Any) -> None:
    """INF-AUTH-SCHEME: the documented rejection of Bearer, for a key that works as Api-Key."""
    _, key = member()
    assert call(client, key).status_code == 200
    response = client.post(COMPLETIONS, json=chat(), headers=auth(key, "Bearer"))
    assert (response.status_code, response.headers[RULE]) == (401, "INF-AUTH-SCHEME")
    assert "Bearer" in response.json["error"]


def test_revoked_keys_and_keys_of_deleted_groups_stop_at_once(
    client: FlaskClient, member: Any
) -> None:
    """INF-AUTH-KEY: the next call after a revoke or a delete gets 401."""
    group_id, key = member("a")
    prefix = key.split(".")[0]
    assert (
        client.delete(
            f"/v1/gateway/groups/{group_id}/api_keys/{prefix}", headers=MANAGE
        ).status_code
        == 200
    )
    assert call(client, key).status_code == 401
    parent, _ = member("parent")
    _, child_key = member("child", parent=parent)
    assert call(client, child_key).status_code == 200
    assert client.delete(f"/v1/gateway/groups/{parent}", headers=MANAGE).status_code == 200
    assert call(client, child_key).status_code == 401


def test_registered_keys_call_models(client: FlaskClient, app: Flask) -> None:
    """INF-AUTH-KEY: a caller-made key (here seeded) calls like a minted one."""
    key = "sky_registeredKey1.Q2x3Vb8nR4tYp6LmZ9kW1sD5fG7hJ0aE"
    seed = {
        "workspaces": {
            "acme": {
                "groups": [
                    {
                        "external_entity_id": "registered",
                        "models": [{"slug": SLUG}],
                        "api_keys": [{"key": key}],
                    }
                ]
            }
        }
    }
    seeded = harness(app).load_seed(seed_from_mapping(seed))
    assert seeded[0].api_key == key
    assert call(client, key).status_code == 200


def test_slug_outside_the_model_set_gets_404(client: FlaskClient, member: Any) -> None:
    """INF-MODEL-SET: 404 {"error"} for a slug the group doesn't list."""
    _, key = member()
    response = call(client, key, chat(model="org/other"))
    assert (response.status_code, response.headers[RULE]) == (404, "INF-MODEL-SET")
    assert "org/other" in response.json["error"]


@pytest.mark.parametrize(
    "body",
    [
        {"model": SLUG},
        {"model": SLUG, "messages": []},
        {"messages": [{"role": "user", "content": "x"}]},
        chat(max_tokens=0),
        chat(max_tokens=2**40),
        chat(temperature=2.5),
        chat(stream="yes"),
        chat(stream_options={"include_usage": True}),
        chat(tools=[{"type": "function"}]),
        chat(response_format={"type": "yaml"}),
        {"model": SLUG, "messages": [{"role": "robot", "content": "x"}]},
        [chat()],
    ],
)
def test_malformed_bodies_get_400_and_count_nothing(
    client: FlaskClient, member: Any, body: Any
) -> None:
    """INF-PAYLOAD, LIMIT-REJECTED-FREE: 400 INF-PAYLOAD, and the day's usage stays null."""
    group_id, key = member(models=limited(daily=(("REQUEST", 9),)))
    response = call(client, key, body)
    assert (response.status_code, response.headers[RULE]) == (400, "INF-PAYLOAD")
    assert usage_of(client, group_id)["usage"][SLUG][0]["current_usage"] is None


def test_a_body_that_is_not_json_gets_400(client: FlaskClient, member: Any) -> None:
    """INF-PAYLOAD: not JSON, or not sent as JSON, is 400 in the error shape (INF-ERR-BODY)."""
    _, key = member()
    for data, kind in (
        (b"{nope", "application/json"),
        (b"{}", "text/plain"),
        (b"", "application/json"),
    ):
        response = client.post(COMPLETIONS, data=data, content_type=kind, headers=auth(key))
        assert (response.status_code, response.headers[RULE]) == (400, "INF-PAYLOAD")
        assert response.mimetype == "application/json"
        assert list(response.get_json()) == ["error"]


def test_unknown_fields_follow_the_extra_fields_setting(member: Any) -> None:
    """EXTRA-FIELDS: ignored by default, refused with strict_fields."""
    for strict, status in ((False, 200), (True, 400)):
        config = config_from_mapping(
            {"workspaces": {"acme": {"keys": {MANAGE_KEY: "management"}}}, "strict_fields": strict}
        )
        client = create_app(config).test_client()
        body = group_body("x", models=[{"slug": SLUG}])
        created = client.post(GROUPS, json=body, headers=MANAGE).json
        key = client.post(
            f"/v1/gateway/groups/{created['id']}/api_keys", json={}, headers=MANAGE
        ).json["api_key"]
        response = call(client, key, chat(seed=7, tool_choice="auto"))
        assert response.status_code == status
        if strict:
            assert response.headers[RULE] == "EXTRA-FIELDS"


def test_the_limit_429_names_the_limit_and_counts_nothing(client: FlaskClient, member: Any) -> None:
    """LIMIT-ENFORCED, LIMIT-429-BODY, LIMIT-REJECTED-FREE: the third call of REQUEST/MINUTE 2
    gets 429 naming the limit with Retry-After; refusals don't move the daily count."""
    group_id, key = member(models=limited(("REQUEST", "MINUTE", 2), daily=(("REQUEST", 50),)))
    assert [call(client, key).status_code for _ in range(2)] == [200, 200]
    for _ in range(3):
        refused = call(client, key)
        assert (refused.status_code, refused.headers[RULE]) == (429, "LIMIT-ENFORCED")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    for part in (SLUG, "REQUEST/MINUTE", "threshold 2", f"source_group {group_id}"):
        assert part in refused.json["error"]
    assert usage_of(client, group_id)["usage"][SLUG][0]["current_usage"] == 2


def test_every_key_of_a_group_shares_its_counters(client: FlaskClient, member: Any) -> None:
    """USAGE-LIVE: two keys of one group draw on one REQUEST/MINUTE 2 and one daily count."""
    group_id, first = member(models=limited(("REQUEST", "MINUTE", 2), daily=(("TOKEN", 500),)))
    second = client.post(f"/v1/gateway/groups/{group_id}/api_keys", json={}, headers=MANAGE).json[
        "api_key"
    ]
    assert [call(client, k).status_code for k in (first, second, second)] == [200, 200, 429]
    assert usage_of(client, group_id)["usage"][SLUG][0]["current_usage"] == 22


def test_a_patch_of_limits_applies_to_the_next_call(client: FlaskClient, member: Any) -> None:
    """LIMIT-LIVE: raising the threshold admits the next call; lowering refuses it."""
    group_id, key = member(models=limited(("REQUEST", "MINUTE", 1)))
    assert [call(client, key).status_code for _ in range(2)] == [200, 429]
    for threshold, status in ((3, 200), (2, 429)):
        patched = client.patch(
            f"/v1/gateway/groups/{group_id}",
            json={"models": limited(("REQUEST", "MINUTE", threshold))},
            headers=MANAGE,
        )
        assert patched.status_code == 200
        assert call(client, key).status_code == status


def test_stream_sends_the_openai_event_format(client: FlaskClient, member: Any) -> None:
    """INF-STREAM: chunks as `data:` events, the usage chunk when asked, then [DONE]."""
    _, key = member()
    response = call(
        client, key, chat(stream=True, stream_options={"include_usage": True}, max_tokens=2)
    )
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    events = [e.removeprefix("data: ") for e in response.get_data(as_text=True).split("\n\n") if e]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert (
        "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        == "This is"
    )
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["usage"] == {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}


def test_a_streamed_call_counts_in_full_at_admission(client: FlaskClient, member: Any) -> None:
    """LIMIT-TOKEN-ADMISSION: a stream's tokens are debited before its first byte."""
    group_id, key = member(models=limited(daily=(("TOKEN", 100),)))
    stream = client.post(COMPLETIONS, json=chat(stream=True), headers=auth(key), buffered=False)
    assert usage_of(client, group_id)["usage"][SLUG][0]["current_usage"] == 11
    stream.close()


def test_the_configured_model_answers_its_text(member: Any) -> None:
    """INF-FAKE-MODEL: a slug's text comes from the configuration, the default elsewhere."""
    config = config_from_mapping(
        {
            "workspaces": {"acme": {"keys": {MANAGE_KEY: "management"}}},
            "inference": {
                "default": {"text": "Default words."},
                "models": {SLUG: {"text": "Two words", "inter_token_ms": 1}},
            },
        }
    )
    client = create_app(config).test_client()
    models = [{"slug": SLUG}, {"slug": "org/other"}]
    created = client.post(GROUPS, json=group_body("x", models=models), headers=MANAGE).json
    key = client.post(f"/v1/gateway/groups/{created['id']}/api_keys", json={}, headers=MANAGE).json[
        "api_key"
    ]
    assert call(client, key).json["choices"][0]["message"]["content"] == "Two words"
    assert call(client, key, chat(model="org/other")).json["usage"]["completion_tokens"] == 2


@pytest.mark.parametrize(
    ("fault", "status"),
    [("status=429; retry_after=2", 429), ("status=503", 503), ("latency_ms=1", 200)],
)
def test_faults_apply_to_the_inference_route(
    client: FlaskClient, member: Any, fault: str, status: int
) -> None:
    """Fault injection: a forced status answers in place of the model and counts nothing."""
    group_id, key = member(models=limited(daily=(("REQUEST", 9),)))
    response = call(client, key, **{"X-Sim-Fault": fault})
    assert response.status_code == status
    used = usage_of(client, group_id)["usage"][SLUG][0]["current_usage"]
    assert used == (1 if status == 200 else None)


def test_a_cut_fault_ends_the_stream_early(client: FlaskClient, member: Any) -> None:
    """INF-STREAM-CUT: 200, then two events and the body breaks off; the call counted."""
    group_id, key = member(models=limited(daily=(("REQUEST", 9),)))
    response = client.post(
        COMPLETIONS,
        json=chat(stream=True),
        headers={**auth(key), "X-Sim-Fault": "cut=2"},
        buffered=False,
    )
    assert response.status_code == 200
    received = []
    with pytest.raises(ConnectionAbortedError):
        received.extend(response.response)
    response.close()
    assert len(received) == 2
    assert usage_of(client, group_id)["usage"][SLUG][0]["current_usage"] == 1
