"""Every route's documented 401/403/404 answers (AUTH-MISSING, ACCESS-*, *-NOT-FOUND)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.builders import MANAGE, NOT_ONBOARDED, OTHER, VIEW, group_body

ENDPOINT = {"slug": "acme/m", "targets": [{"provider": "BASETEN", "model_id": "abc"}]}


@pytest.fixture
def ids(client: FlaskClient) -> dict[str, str]:
    group = client.post("/v1/gateway/groups", json=group_body("g"), headers=MANAGE).json
    key = client.post(f"/v1/gateway/groups/{group['id']}/api_keys", json={}, headers=MANAGE).json
    endpoint = client.post("/v1/gateway/endpoints", json=ENDPOINT, headers=MANAGE).json
    return {"group": group["id"], "prefix": key["prefix"], "endpoint": endpoint["id"]}


def routes(ids: dict[str, str]) -> list[tuple[str, str, Any]]:
    group, prefix, endpoint = ids["group"], ids["prefix"], ids["endpoint"]
    return [
        ("GET", "/v1/gateway/groups", None),
        ("POST", "/v1/gateway/groups", group_body("other")),
        ("GET", f"/v1/gateway/groups/{group}", None),
        ("PATCH", f"/v1/gateway/groups/{group}", {"metadata": {"name": "n"}}),
        ("DELETE", f"/v1/gateway/groups/{group}", None),
        ("GET", f"/v1/gateway/groups/{group}/usage", None),
        ("POST", f"/v1/gateway/groups/{group}/api_keys", {"name": "k"}),
        ("GET", f"/v1/gateway/groups/{group}/api_keys", None),
        ("POST", f"/v1/gateway/groups/{group}/api_keys/register", {"key": "x" * 40}),
        ("GET", f"/v1/gateway/groups/{group}/api_keys/{prefix}", None),
        ("DELETE", f"/v1/gateway/groups/{group}/api_keys/{prefix}", None),
        ("POST", "/v1/gateway/endpoints", ENDPOINT),
        ("GET", "/v1/gateway/endpoints", None),
        ("GET", f"/v1/gateway/endpoints/{endpoint}", None),
        ("PATCH", f"/v1/gateway/endpoints/{endpoint}", {"slug": "acme/n"}),
        ("DELETE", f"/v1/gateway/endpoints/{endpoint}", None),
    ]


def call(client: FlaskClient, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    return client.open(path, method=method, json=body, headers=headers)


@pytest.mark.parametrize(
    ("headers", "status", "rule"),
    [
        ({}, 401, "AUTH-MISSING"),
        ({"Authorization": "Api-Key nope"}, 401, "AUTH-MISSING"),
        ({"Authorization": "Basic c2ltOmtleQ=="}, 401, "AUTH-MISSING"),
        (NOT_ONBOARDED, 403, "ACCESS-ONBOARDED"),
    ],
)
def test_every_route_refuses_missing_keys_and_workspaces_not_onboarded(
    client: FlaskClient, ids: dict[str, str], headers: dict[str, str], status: int, rule: str
) -> None:
    """AUTH-MISSING and ACCESS-ONBOARDED hold on every route, and nothing changes."""
    for method, path, body in routes(ids):
        response = call(client, method, path, body, headers)
        assert (response.status_code, response.headers["X-Frontier-Rule"]) == (status, rule), path
        assert set(response.json) == {"error"}
    assert client.get(f"/v1/gateway/groups/{ids['group']}", headers=MANAGE).status_code == 200


def test_view_key_may_list_groups_and_nothing_else(
    client: FlaskClient, ids: dict[str, str]
) -> None:
    """ACCESS-VIEW: view scope lists groups; ACCESS-SCOPE: every other route needs management."""
    for method, path, body in routes(ids):
        response = call(client, method, path, body, VIEW)
        if (method, path) == ("GET", "/v1/gateway/groups"):
            assert response.status_code == 200
        else:
            assert (response.status_code, response.headers["X-Frontier-Rule"]) == (
                403,
                "ACCESS-SCOPE",
            )


def test_another_workspaces_resources_are_forbidden(
    client: FlaskClient, ids: dict[str, str]
) -> None:
    """GROUP-OTHER-WORKSPACE and EP-OTHER-WORKSPACE: per-id routes answer 403 across workspaces."""
    for method, path, body in routes(ids):
        if path in ("/v1/gateway/groups", "/v1/gateway/endpoints"):
            continue
        response = call(client, method, path, body, OTHER)
        assert response.status_code == 403, (method, path)
        assert response.headers["X-Frontier-Rule"] in (
            "GROUP-OTHER-WORKSPACE",
            "EP-OTHER-WORKSPACE",
        )


def test_unknown_ids_are_not_found(client: FlaskClient, ids: dict[str, str]) -> None:
    """GROUP-NOT-FOUND, KEY-NOT-FOUND and EP-NOT-FOUND: per-id routes answer 404 for unknown ids."""
    missing = {"group": "nosuchgroup", "prefix": ids["prefix"], "endpoint": "nosuchendpoint"}
    for method, path, body in routes(missing):
        if path in ("/v1/gateway/groups", "/v1/gateway/endpoints"):
            continue
        assert call(client, method, path, body, MANAGE).status_code == 404, (method, path)
    unknown_key = f"/v1/gateway/groups/{ids['group']}/api_keys/sky_000000000000"
    response = client.get(unknown_key, headers=MANAGE)
    assert (response.status_code, response.headers["X-Frontier-Rule"]) == (404, "KEY-NOT-FOUND")
