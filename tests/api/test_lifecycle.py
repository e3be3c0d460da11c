"""The documented "Manage groups and API keys" walkthrough, step by step over HTTP."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.api.conftest import MANAGE, group_body


def test_walkthrough_manage_groups_and_api_keys(client: FlaskClient) -> None:
    """Root, child, mint, list, revoke, delete the root: the child and its keys are gone."""
    # 1. Create a root.
    root = client.post("/v1/gateway/groups", json=group_body("cust_42"), headers=MANAGE)
    assert root.status_code == 200
    root_id = root.json["id"]
    # 2. Add a child.
    child = client.post(
        "/v1/gateway/groups", json=group_body("cust_42_eng", parent=root_id), headers=MANAGE
    )
    assert child.status_code == 200
    child_id = child.json["id"]
    assert child.json["hierarchy"] == {
        "limit_enforcement": "INDEPENDENT",
        "parent_group_id": root_id,
    }
    # 3. Mint a key under the child (and one more that stays live until the delete).
    keys = f"/v1/gateway/groups/{child_id}/api_keys"
    minted = client.post(keys, json={"name": "prod-key-1"}, headers=MANAGE)
    assert minted.status_code == 200
    prefix = minted.json["prefix"]
    kept = client.post(keys, json={"name": "prod-key-2"}, headers=MANAGE).json["prefix"]
    # 4. List keys.
    listed = client.get(keys, headers=MANAGE).json
    assert listed["items"] == [
        {"prefix": prefix, "name": "prod-key-1"},
        {"prefix": kept, "name": "prod-key-2"},
    ]
    # 5. Revoke the key.
    assert client.delete(f"{keys}/{prefix}", headers=MANAGE).json == {"prefix": prefix}
    assert client.get(f"{keys}/{prefix}", headers=MANAGE).status_code == 404
    # 6. Delete the root.
    deleted = client.delete(f"/v1/gateway/groups/{root_id}", headers=MANAGE)
    assert deleted.status_code == 200
    assert set(deleted.json) == {"id", "metadata", "deleted_at"}
    # 7. The child and its keys are gone.
    assert client.get(f"/v1/gateway/groups/{child_id}", headers=MANAGE).status_code == 404
    assert client.get(keys, headers=MANAGE).status_code == 404
    assert client.get(f"{keys}/{kept}", headers=MANAGE).status_code == 404
    assert client.get("/v1/gateway/groups", headers=MANAGE).json["items"] == []
