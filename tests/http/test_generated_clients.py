"""Requests as a client generated from Baseten's machine spec builds them.

Such clients (pydantic `model_dump()` without `exclude_none`, many C# and TypeScript
generators) send `null` for every optional field they were not given. The simulator takes
each such null as the field left out (NULL-AS-OMITTED) on every route, and takes the
machine spec's endpoint fields: the six providers, `base_url`, `vertex_config`, `region`.
Where the create-group page is stricter than the machine spec, the page still wins.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient

from simulator import create_app
from simulator.core.config import DEMO_SIGNING_KEY
from simulator.core.spec import load_spec
from simulator.core.store import IdGenerator, Store
from tests.builders import ENDPOINTS, GROUPS, MANAGE

SCHEMAS = load_spec()["components"]["schemas"]
OPENAI_COMPATIBLE = {
    "provider": "OPENAI_COMPATIBLE",
    "secret_id": "sec_1",
    "target_model": "llama-4",
    "base_url": "https://llm.example.com/v1",
}
VERTEX = {
    "provider": "VERTEX",
    "secret_id": "sec_2",
    "target_model": "gemini-2.5-pro",
    "vertex_config": {"project_id": "acme-prod", "location": "europe-west4"},
}
MODEL_API = {"provider": "BASETEN_MODEL_API", "target_model": "deepseek-ai/DeepSeek-V3.1"}
BASETEN = {"provider": "BASETEN", "model_id": "3kZ9xqd"}


def with_nulls(body: Any, schema: dict[str, Any]) -> Any:
    """`body` as a generated client sends it: every absent optional property whose schema
    admits null is there as null, at every level."""
    schema = _resolve(schema)
    if isinstance(body, list):
        return [with_nulls(item, schema.get("items", {})) for item in body]
    if not isinstance(body, dict):
        return body
    filled = {key: with_nulls(value, schema.get("properties", {}).get(key, {}))
              for key, value in body.items()}  # fmt: skip
    for name, node in schema.get("properties", {}).items():
        if name not in filled and "null" in _types(_resolve(node)):
            filled[name] = None
    return filled


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = SCHEMAS[node["$ref"].rsplit("/", 1)[1]]
    return node


def _types(node: dict[str, Any]) -> list[Any]:
    types = node.get("type", [])
    return types if isinstance(types, list) else [types]


def nulls_in(body: Any) -> Iterator[str]:
    if isinstance(body, dict):
        for key, value in body.items():
            yield from ([key] if value is None else (f"{key}.{n}" for n in nulls_in(value)))
    elif isinstance(body, list):
        for item in body:
            yield from nulls_in(item)


def seeded_app() -> Flask:
    """Ids and timestamps repeat from one such app to the next."""
    return create_app(store=Store(clock=lambda: "2026-11-30T12:00:00Z", new_id=IdGenerator(5)))


def test_with_nulls_fills_every_optional_nullable_field() -> None:
    """The helper's nulls are the machine spec's optional fields: name, parent, targets'."""
    body = with_nulls(
        {"slug": "acme/a", "targets": [dict(BASETEN)]}, SCHEMAS["CreateEndpointRequest"]
    )
    assert sorted(nulls_in(body)) == [
        "region", "targets.base_url", "targets.environment_name", "targets.secret_id",
        "targets.target_model", "targets.vertex_config",
    ]  # fmt: skip


def scenario(client: FlaskClient, nulls: bool) -> list[Any]:
    """Every route with a body, once; with `nulls`, each body as a generated client sends it.
    Returns the answers, minted secrets left out."""

    def send(method: str, path: str, body: Any, schema: str) -> Any:
        sent = with_nulls(body, SCHEMAS[schema]) if nulls else body
        response = client.open(path, method=method, json=sent, headers=MANAGE)
        assert response.status_code == 200, (path, sent, response.json)
        answer = copy.deepcopy(response.json)
        if isinstance(answer, dict) and "api_key" in answer:
            answer["api_key"] = answer["api_key"].partition(".")[0]
        return answer

    group_body = {
        "metadata": {"external_entity_id": "cust_42"},
        "models": [{"slug": "your-org/your-model"}],
        "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": None},
    }
    group = send("POST", GROUPS, group_body, "CreateGroupRequest")
    path = f"{GROUPS}/{group['id']}"
    new_models = [{"slug": "your-org/other-model"}]
    answers = [
        group,
        send("PATCH", path, {"models": new_models}, "UpdateGroupRequest"),
        send("PATCH", path, {"metadata": {"name": "Acme"}}, "UpdateGroupRequest"),
        send("PATCH", path, {"metadata": {}, "models": new_models}, "UpdateGroupRequest"),
        send("POST", f"{path}/api_keys", {}, "CreateApiKeyRequest"),
    ]
    for target, region in ((BASETEN, None), (OPENAI_COMPATIBLE, "EU"), (VERTEX, None)):
        body = {"slug": f"acme/{target['provider'].lower()}", "targets": [target]}
        endpoint = send("POST", ENDPOINTS, {**body, **({"region": region} if region else {})},
                        "CreateEndpointRequest")  # fmt: skip
        endpoint_path = f"{ENDPOINTS}/{endpoint['id']}"
        answers += [
            endpoint,
            send("PATCH", endpoint_path, {}, "UpdateEndpointRequest"),
            send("PATCH", endpoint_path, {"targets": [MODEL_API]}, "UpdateEndpointRequest"),
        ]
    return answers


def test_every_optional_field_null_means_the_same_as_left_out() -> None:
    """NULL-AS-OMITTED: each route answers a body full of nulls exactly as the same body
    without them (groups, updates, keys, endpoints and their updates)."""
    assert scenario(seeded_app().test_client(), nulls=True) == scenario(
        seeded_app().test_client(), nulls=False
    )


def test_null_name_on_update_keeps_the_name(client: FlaskClient) -> None:
    """NULL-AS-OMITTED: `metadata.name: null` on PATCH leaves the name as it was."""
    body = {
        "metadata": {"name": "Acme prod", "external_entity_id": "cust_42"},
        "models": [{"slug": "your-org/your-model"}],
        "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": None},
    }
    group = client.post(GROUPS, json=body, headers=MANAGE).json
    update = {"metadata": {"name": None}, "models": None}
    response = client.patch(f"{GROUPS}/{group['id']}", json=update, headers=MANAGE)
    assert (response.status_code, response.json["metadata"]["name"]) == (200, "Acme prod")


def test_registered_key_with_a_null_name(client: FlaskClient) -> None:
    """NULL-AS-OMITTED: register with `name: null` registers a key without a name."""
    body = {
        "metadata": {"external_entity_id": "cust_42"},
        "models": [{"slug": "your-org/your-model"}],
        "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": None},
    }
    group = client.post(GROUPS, json=body, headers=MANAGE).json
    key = "Kq8zR2vLmT4xWn7pYb3cHd9fJg6sAe5u"
    raw = json.dumps(with_nulls({"key": key}, SCHEMAS["RegisterApiKeyRequest"])).encode()
    signer = Ed25519PrivateKey.from_private_bytes(base64.b64decode(DEMO_SIGNING_KEY))
    headers = {**MANAGE, "X-Baseten-Signature": base64.b64encode(signer.sign(raw)).decode()}
    keys = f"{GROUPS}/{group['id']}/api_keys"
    response = client.post(f"{keys}/register", data=raw, headers=headers,
                           content_type="application/json")  # fmt: skip
    assert (response.status_code, response.json) == (200, {"ok": True})
    read = client.get(f"{keys}/{key[:16]}", headers=MANAGE)
    assert read.json == {"prefix": key[:16], "name": None}


@pytest.mark.parametrize(
    ("target", "region"),
    [(OPENAI_COMPATIBLE, "UNRESTRICTED"), (VERTEX, "EU"), (MODEL_API, "EU"),
     ({"provider": "ANTHROPIC", "secret_id": "s", "target_model": "claude-opus-4"}, None)],
)  # fmt: skip
def test_machine_spec_providers_and_regions_are_taken_and_answered(
    client: FlaskClient, target: dict[str, Any], region: str | None
) -> None:
    """EP-PROVIDER, EP-BASE-URL, EP-VERTEX-CONFIG, EP-REGION: the target comes back with
    every field (null where unset) and the region on create, get and list."""
    body = with_nulls({"slug": "acme/m", "targets": [target], "region": region},
                      SCHEMAS["CreateEndpointRequest"])  # fmt: skip
    created = client.post(ENDPOINTS, json=body, headers=MANAGE)
    assert created.status_code == 200, created.json
    expected = {**with_nulls(target, SCHEMAS["Target"]), **target}
    assert created.json["targets"] == [expected]
    assert created.json["region"] == (region or "UNRESTRICTED")
    read = client.get(f"{ENDPOINTS}/{created.json['id']}", headers=MANAGE).json
    assert read == created.json
    assert client.get(ENDPOINTS, headers=MANAGE).json["items"] == [created.json]


def test_region_outside_the_enum_is_refused(client: FlaskClient) -> None:
    """EP-REGION: `"MARS"` (and the lower-case `"eu"`) give 400 naming the rule."""
    for region in ("MARS", "eu"):
        body = {"slug": "acme/m", "targets": [BASETEN], "region": region}
        response = client.post(ENDPOINTS, json=body, headers=MANAGE)
        assert (response.status_code, response.headers["X-Frontier-Rule"]) == (400, "EP-REGION")


def test_endpoint_patch_of_nothing_answers_the_endpoint_unchanged(client: FlaskClient) -> None:
    """EP-PATCH: `{}` and `{"targets": null}` answer 200 with the endpoint as it was."""
    endpoint = client.post(ENDPOINTS, json={"slug": "acme/m", "targets": [VERTEX]},
                           headers=MANAGE).json  # fmt: skip
    for body in ({}, {"targets": None}, {"slug": None, "targets": None}):
        response = client.patch(f"{ENDPOINTS}/{endpoint['id']}", json=body, headers=MANAGE)
        assert (response.status_code, response.json) == (200, endpoint)


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (("hierarchy", "limit_enforcement"), "HIER-REQUIRED"),
        (("hierarchy", "parent_group_id"), "HIER-REQUIRED"),
        (("hierarchy",), "HIER-REQUIRED"),
    ],
)
def test_create_group_page_still_wins_where_the_machine_spec_is_looser(
    client: FlaskClient, change: tuple[str, ...], rule: str
) -> None:
    """HIER-REQUIRED: the machine spec lets hierarchy fields default; the create page, which
    wins for create, requires both (a null limit_enforcement is refused too)."""
    body: dict[str, Any] = {
        "metadata": {"external_entity_id": "cust_42"},
        "models": [{"slug": "your-org/your-model"}],
        "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": None},
    }
    node = body
    for step in change[:-1]:
        node = node[step]
    del node[change[-1]]
    response = client.post(GROUPS, json=body, headers=MANAGE)
    assert (response.status_code, response.headers["X-Frontier-Rule"]) == (400, rule)
    body["hierarchy"] = {"limit_enforcement": None, "parent_group_id": None}
    response = client.post(GROUPS, json=body, headers=MANAGE)
    assert (response.status_code, response.headers["X-Frontier-Rule"]) == (400, rule)


@pytest.mark.parametrize(
    ("models", "rule"),
    [
        ([{"slug": "m", "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": 1}]}],
         "SLUG-FORMAT"),
        ([{"slug": "a/b", "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": 0}]}],
         "RATE-SHAPE"),
        ([{"slug": "a/b", "usage_limits": [{"type": "TOKEN", "unit": "DAY", "threshold": 0}]}],
         "USAGE-SHAPE"),
    ],
)  # fmt: skip
def test_seed_rules_hold_against_the_looser_machine_spec(
    client: FlaskClient, models: list[dict[str, Any]], rule: str
) -> None:
    """SLUG-FORMAT, RATE-SHAPE, USAGE-SHAPE: any slug string and threshold 0 are valid in the
    machine spec; the create page's `your-org/your-model` and `threshold >= 1` still hold."""
    body = {
        "metadata": {"external_entity_id": "cust_42"},
        "models": models,
        "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": None},
    }
    response = client.post(GROUPS, json=body, headers=MANAGE)
    assert (response.status_code, response.headers["X-Frontier-Rule"]) == (400, rule)
