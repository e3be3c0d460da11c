"""Every success answer of every management route validates against openapi.yaml.

openapi.yaml carries the machine spec's response shapes (an endpoint's required `region`,
its nullable target fields), so an answer that validates here is one a client generated
from the machine spec can read. A walk through every route collects the answers.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from simulator import create_app
from simulator.core.config import DEMO_SIGNING_KEY
from simulator.core.spec import load_spec, operations
from tests.builders import ENDPOINTS, GROUPS, MANAGE, VIEW

BASE = "urn:frontier-gateway:openapi"
JSON = "application/json"
GATEWAY_OPERATIONS = [op for op in operations() if op.path.startswith("/v1/gateway/")]
TARGETS = [
    {"provider": "BASETEN", "model_id": "3kZ9xqd", "environment_name": "staging"},
    {"provider": "BASETEN_MODEL_API", "target_model": "deepseek-ai/DeepSeek-V3.1"},
    {"provider": "ANTHROPIC", "secret_id": "s", "target_model": "claude-opus-4"},
    {"provider": "OPENAI", "secret_id": "s", "target_model": "gpt-5"},
    {"provider": "VERTEX", "secret_id": "s", "target_model": "gemini-2.5-pro",
     "vertex_config": {"project_id": "p", "location": "europe-west4"}},
    {"provider": "OPENAI_COMPATIBLE", "secret_id": "s", "target_model": "llama-4",
     "base_url": "https://llm.example.com/v1"},
]  # fmt: skip


def validator(operation_id: str) -> Draft202012Validator:
    """The operation's 200 schema, its $refs resolved within openapi.yaml."""
    op = next(o for o in operations() if o.operation_id == operation_id)
    pointer = "/".join(
        part.replace("~", "~0").replace("/", "~1")
        for part in ("paths", op.path, op.method.lower(), "responses", "200", "content",
                     "application/json", "schema")
    )  # fmt: skip
    registry: Registry[Any] = Registry().with_resource(
        BASE, Resource.from_contents(load_spec(), default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"{BASE}#/{pointer}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def walk(client: FlaskClient) -> dict[str, list[Any]]:
    """Calls every management route with valid requests; the 200 answers by operation."""
    answers: dict[str, list[Any]] = defaultdict(list)

    def call(op_id: str, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        headers = kw.pop("headers", MANAGE)
        response = client.open(path, method=method, json=body, headers=headers, **kw)
        assert response.status_code == 200, (op_id, path, response.json)
        answers[op_id].append(response.json)
        return response.json

    root = call("createGroup", "POST", GROUPS, {
        "metadata": {"name": "Acme prod", "external_entity_id": "cust_42"},
        "models": [{"slug": "your-org/your-model",
                    "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": 10}],
                    "usage_limits": [{"type": "TOKEN", "unit": "DAY", "threshold": 100}]}],
        "hierarchy": {"limit_enforcement": "CASCADING", "parent_group_id": None},
    })  # fmt: skip
    group = f"{GROUPS}/{root['id']}"
    call("createGroup", "POST", GROUPS, {
        "metadata": {"external_entity_id": "child", "name": None},
        "models": [{"slug": "your-org/your-model"}],
        "hierarchy": {"limit_enforcement": "CASCADING", "parent_group_id": root["id"]},
    })  # fmt: skip
    call("listGroups", "GET", GROUPS, headers=VIEW)
    call("listGroups", "GET", f"{GROUPS}?limit=1&external_entity_id=cust_42")
    call("getGroup", "GET", group)
    call("updateGroup", "PATCH", group, {"metadata": {"name": None}, "models": None})
    call("updateGroup", "PATCH", group, {"models": [{"slug": "your-org/your-model"}]})
    call("getGroupUsage", "GET", f"{group}/usage")
    minted = call("createApiKey", "POST", f"{group}/api_keys", {"name": None})
    call("createApiKey", "POST", f"{group}/api_keys")
    raw = json.dumps({"key": "Kq8zR2vLmT4xWn7pYb3cHd9fJg6sAe5u", "name": "mine"}).encode()
    signer = Ed25519PrivateKey.from_private_bytes(base64.b64decode(DEMO_SIGNING_KEY))
    signed = {**MANAGE, "X-Baseten-Signature": base64.b64encode(signer.sign(raw)).decode()}
    register = f"{group}/api_keys/register"
    call("registerApiKey", "POST", register, data=raw, headers=signed, content_type=JSON)
    call("listApiKeys", "GET", f"{group}/api_keys")
    call("getApiKey", "GET", f"{group}/api_keys/{minted['prefix']}")
    call("revokeApiKey", "DELETE", f"{group}/api_keys/{minted['prefix']}")
    for i, target in enumerate(TARGETS):
        body = {"slug": f"acme/m{i}", "targets": [target], "region": ("EU", None)[i % 2]}
        endpoint = call("createEndpoint", "POST", ENDPOINTS, body)
        path = f"{ENDPOINTS}/{endpoint['id']}"
        call("getEndpoint", "GET", path)
        call("updateEndpoint", "PATCH", path, {})
        call("updateEndpoint", "PATCH", path, {"targets": [TARGETS[-1 - i]], "slug": None})
    call("listEndpoints", "GET", ENDPOINTS)
    call("deleteEndpoint", "DELETE", path)
    call("deleteGroup", "DELETE", group)
    return answers


def test_the_walk_calls_every_management_operation() -> None:
    """Each /v1/gateway operation of openapi.yaml answered 200 at least once."""
    assert set(walk(create_app().test_client())) == {op.operation_id for op in GATEWAY_OPERATIONS}


@pytest.mark.parametrize("operation_id", [op.operation_id for op in GATEWAY_OPERATIONS])
def test_every_success_answer_validates_against_openapi_yaml(operation_id: str) -> None:
    """EP-RESPONSE, EP-REGION, RESP-ECHO, KEY-MINT, USAGE-RESPONSE…: the operation's 200
    answers match its response schema (required fields, nullable ones, formats)."""
    schema = validator(operation_id)
    for answer in walk(create_app().test_client())[operation_id]:
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in schema.iter_errors(answer)]
        assert errors == [], answer


def test_the_response_schemas_refuse_what_a_generated_client_cannot_read() -> None:
    """The check is not vacuous: an endpoint without region, or with an unknown provider in
    a target, fails the response schema."""
    endpoint = walk(create_app().test_client())["createEndpoint"][0]
    schema = validator("createEndpoint")
    assert schema.is_valid(endpoint)
    assert not schema.is_valid({k: v for k, v in endpoint.items() if k != "region"})
    broken = {**endpoint, "targets": [{**endpoint["targets"][0], "provider": "MISTRAL"}]}
    assert not schema.is_valid(broken)
