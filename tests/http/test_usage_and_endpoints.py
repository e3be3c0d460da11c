"""Group usage (USAGE-RESPONSE) and endpoints (EP-*)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.builders import MANAGE, OTHER

DAILY = [
    {"type": "TOKEN", "unit": "DAY", "threshold": 10},
    {"type": "REQUEST", "unit": "DAY", "threshold": 5},
]
BASETEN = {"provider": "BASETEN", "model_id": "3kZ9xqd", "environment_name": "staging"}
UNSET = {"secret_id": None, "target_model": None, "base_url": None, "vertex_config": None}


def usage(client: FlaskClient, group: dict[str, Any]) -> Any:
    response = client.get(f"/v1/gateway/groups/{group['id']}/usage", headers=MANAGE)
    assert response.status_code == 200
    return response.json


def test_usage_lists_effective_usage_limits_with_null_usage(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """USAGE-RESPONSE: customer_id is the external id; slugs with effective usage limits only."""
    root = make_group("cust_42", models=[{"slug": "a/b", "usage_limits": DAILY}, {"slug": "c/d"}])
    assert usage(client, root) == {
        "customer_id": "cust_42",
        "usage": {"a/b": [{**limit, "current_usage": None, "reset_at": None} for limit in DAILY]},
    }
    child = make_group("child", parent=root["id"], models=[{"slug": "a/b"}])
    assert usage(client, child)["usage"]["a/b"][0]["threshold"] == 10  # inherited
    assert usage(client, make_group("bare"))["usage"] == {}


def test_usage_shows_one_entry_per_type_in_cascading_trees(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """USAGE-RESPONSE: the closest declaring group's threshold, once per (type, unit)."""
    root = make_group("root", mode="CASCADING", models=[{"slug": "a/b", "usage_limits": DAILY[:1]}])
    low = [{"type": "TOKEN", "unit": "DAY", "threshold": 4}]
    child = make_group(
        "child", mode="CASCADING", parent=root["id"], models=[{"slug": "a/b", "usage_limits": low}]
    )
    assert [e["threshold"] for e in usage(client, child)["usage"]["a/b"]] == [4]


def create_endpoint(
    client: FlaskClient, body: dict[str, Any], headers: dict[str, str] = MANAGE
) -> Any:
    return client.post("/v1/gateway/endpoints", json=body, headers=headers)


def test_endpoint_lifecycle(client: FlaskClient) -> None:
    """EP-RESPONSE, EP-LIST, EP-PATCH, EP-DELETE: create, read, list, rename, retarget, delete."""
    created = create_endpoint(client, {"slug": "my-org/glm-5.2", "targets": [BASETEN]})
    assert created.status_code == 200
    endpoint = created.json
    assert set(endpoint) == {"id", "slug", "targets", "region", "created_at", "updated_at"}
    assert endpoint["targets"] == [{**BASETEN, **UNSET}]
    path = f"/v1/gateway/endpoints/{endpoint['id']}"
    assert client.get(path, headers=MANAGE).json == endpoint
    assert client.get("/v1/gateway/endpoints", headers=MANAGE).json["items"] == [endpoint]
    renamed = client.patch(path, json={"slug": "acme/glm"}, headers=MANAGE).json
    assert (renamed["slug"], renamed["targets"]) == ("acme/glm", [{**BASETEN, **UNSET}])
    openai = {"provider": "OPENAI", "secret_id": "s1", "target_model": "gpt"}
    unset = {"model_id": None, "environment_name": None, "base_url": None, "vertex_config": None}
    assert client.patch(path, json={"targets": [openai]}, headers=MANAGE).json["targets"] == [
        {**openai, **unset}
    ]
    assert client.delete(path, headers=MANAGE).json == {"id": endpoint["id"], "slug": "acme/glm"}
    response = client.get(path, headers=MANAGE)
    assert (response.status_code, response.headers["X-Frontier-Rule"]) == (404, "EP-NOT-FOUND")


def test_endpoint_slugs_are_unique_and_freed_on_delete(client: FlaskClient) -> None:
    """EP-SLUG-UNIQUE: a taken slug is 400, across renames; delete frees it."""
    first = create_endpoint(client, {"slug": "acme/m", "targets": [BASETEN]}).json
    second = create_endpoint(client, {"slug": "acme/n", "targets": [BASETEN]}).json
    for response in (
        create_endpoint(client, {"slug": "acme/m", "targets": [BASETEN]}),
        client.patch(
            f"/v1/gateway/endpoints/{second['id']}", json={"slug": "acme/m"}, headers=MANAGE
        ),
    ):
        assert (response.status_code, response.headers["X-Frontier-Rule"]) == (
            400,
            "EP-SLUG-UNIQUE",
        )
    client.delete(f"/v1/gateway/endpoints/{first['id']}", headers=MANAGE)
    assert create_endpoint(client, {"slug": "acme/m", "targets": [BASETEN]}).status_code == 200


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ({"slug": "globex/m", "targets": [BASETEN]}, "EP-SLUG-PREFIX"),
        ({"slug": "acme", "targets": [BASETEN]}, "EP-SLUG-PREFIX"),
        ({"slug": "acme/m", "targets": []}, "EP-ONE-TARGET"),
        ({"slug": "acme/m", "targets": [BASETEN, BASETEN]}, "EP-ONE-TARGET"),
        ({"slug": "acme/m", "targets": [{"provider": "BASETEN"}]}, "EP-MODEL-ID"),
        (
            {"slug": "acme/m", "targets": [{"provider": "ANTHROPIC", "secret_id": "s"}]},
            "EP-TARGET-MODEL",
        ),
        (
            {
                "slug": "acme/m",
                "targets": [
                    {
                        "provider": "OPENAI",
                        "secret_id": "s",
                        "target_model": "t",
                        "environment_name": "production",
                    }
                ],
            },
            "EP-ENVIRONMENT-BASETEN",
        ),
        (
            {"slug": "acme/m", "targets": [{"provider": "VERTEX", "model_id": "x"}]},
            "EP-SECRET-ID",
        ),
        (
            {"slug": "acme/m", "targets": [{**BASETEN, "environment_name": ""}]},
            "EP-ENVIRONMENT",
        ),
        ({"slug": "acme/m", "targets": [{**BASETEN, "model_id": ""}]}, "EP-TARGET-NONEMPTY"),
        ({"targets": [BASETEN]}, "PAYLOAD-JSON"),
    ],
)
def test_endpoint_create_refuses_invalid_bodies(
    client: FlaskClient, body: dict[str, Any], rule: str
) -> None:
    """Each documented endpoint 400, one rule at a time; nothing is created."""
    response = create_endpoint(client, body)
    assert (response.status_code, response.headers["X-Frontier-Rule"]) == (400, rule)
    assert client.get("/v1/gateway/endpoints", headers=MANAGE).json["items"] == []


def test_endpoint_update_with_an_empty_body_changes_nothing(client: FlaskClient) -> None:
    """EP-PATCH, EP-PATCH-EMPTY: `{}` is valid in the machine spec; it answers 200 and changes
    nothing."""
    endpoint = create_endpoint(client, {"slug": "acme/m", "targets": [BASETEN]}).json
    response = client.patch(f"/v1/gateway/endpoints/{endpoint['id']}", json={}, headers=MANAGE)
    assert (response.status_code, response.json) == (200, endpoint)


def test_endpoints_are_per_workspace_but_slugs_are_global(client: FlaskClient) -> None:
    """EP-LIST shows the workspace's own; EP-SLUG-UNIQUE spans workspaces."""
    create_endpoint(client, {"slug": "acme/m", "targets": [BASETEN]})
    assert client.get("/v1/gateway/endpoints", headers=OTHER).json["items"] == []
