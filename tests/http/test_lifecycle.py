"""The documented "Manage groups and API keys" walkthrough, step by step, through the test
client (tests/e2e/test_walkthrough.py runs it over a socket)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from tests.builders import MANAGE, group_body

Call = Callable[[str, str, Any], tuple[int, Any]]


def walkthrough(call: Call) -> None:
    """Root, child, mint, list, revoke, delete the root: the child and its keys are gone."""
    # 1. Create a root.
    status, root = call("POST", "/v1/gateway/groups", group_body("cust_42"))
    assert status == 200
    # 2. Add a child.
    status, child = call("POST", "/v1/gateway/groups", group_body("cust_42_eng", parent=root["id"]))
    assert status == 200
    assert child["hierarchy"] == {"limit_enforcement": "INDEPENDENT", "parent_group_id": root["id"]}
    # 3. Mint a key under the child (and one more that stays live until the delete).
    keys = f"/v1/gateway/groups/{child['id']}/api_keys"
    status, minted = call("POST", keys, {"name": "prod-key-1"})
    assert status == 200
    prefix = minted["prefix"]
    kept = call("POST", keys, {"name": "prod-key-2"})[1]["prefix"]
    # 4. List keys.
    assert call("GET", keys, None)[1]["items"] == [
        {"prefix": prefix, "name": "prod-key-1"},
        {"prefix": kept, "name": "prod-key-2"},
    ]
    # 5. Revoke the key.
    assert call("DELETE", f"{keys}/{prefix}", None) == (200, {"prefix": prefix})
    assert call("GET", f"{keys}/{prefix}", None)[0] == 404
    # 6. Delete the root.
    status, deleted = call("DELETE", f"/v1/gateway/groups/{root['id']}", None)
    assert status == 200
    assert set(deleted) == {"id", "metadata", "deleted_at"}
    # 7. The child and its keys are gone.
    assert call("GET", f"/v1/gateway/groups/{child['id']}", None)[0] == 404
    assert call("GET", keys, None)[0] == 404
    assert call("GET", f"{keys}/{kept}", None)[0] == 404
    assert call("GET", "/v1/gateway/groups", None)[1]["items"] == []


def test_walkthrough_in_process(client: FlaskClient) -> None:
    """The walkthrough through the Flask test client."""

    def call(method: str, path: str, body: Any) -> tuple[int, Any]:
        response = client.open(path, method=method, json=body, headers=MANAGE)
        return response.status_code, response.json

    walkthrough(call)
