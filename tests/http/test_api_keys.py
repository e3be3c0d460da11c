"""API keys under a group: mint, register, list, get, revoke (KEY-*, REGISTER-*)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient

from simulator.core.config import DEMO_SIGNING_KEY
from tests.builders import MANAGE, OTHER

GOOD_KEY = "Xk3p9QzL2mWv8RtY6nBs4HjD7fGa1cEu"  # 32 characters, 5 bits per character
SIGNER = Ed25519PrivateKey.from_private_bytes(base64.b64decode(DEMO_SIGNING_KEY))


def keys_path(group: dict[str, Any], suffix: str = "") -> str:
    return f"/v1/gateway/groups/{group['id']}/api_keys{suffix}"


def register(
    client: FlaskClient,
    group: dict[str, Any],
    body: Any,
    signer: Ed25519PrivateKey | None = SIGNER,
    headers: dict[str, str] = MANAGE,
) -> Any:
    raw = json.dumps(body).encode()
    signed = {"X-Baseten-Signature": base64.b64encode(signer.sign(raw)).decode()} if signer else {}
    return client.post(
        keys_path(group, "/register"),
        data=raw,
        content_type="application/json",
        headers={**headers, **signed},
    )


def test_mint_returns_the_plaintext_once(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """KEY-MINT: {api_key: prefix.secret, prefix: sky_ + 12, name}; KEY-GET reads back {prefix,
    name}, never the secret."""
    group = make_group("g")
    minted = client.post(keys_path(group), json={"name": "prod-key-1"}, headers=MANAGE).json
    prefix, _, secret = minted["api_key"].partition(".")
    assert prefix == minted["prefix"]
    assert prefix.startswith("sky_")
    assert len(prefix) == 16
    assert secret
    assert minted["name"] == "prod-key-1"
    read = client.get(keys_path(group, f"/{prefix}"), headers=MANAGE)
    assert read.json == {"prefix": prefix, "name": "prod-key-1"}
    assert secret not in read.get_data(as_text=True)


def test_mint_accepts_no_body_and_a_null_name(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """KEY-MINT: the body and its name are optional."""
    group = make_group("g")
    assert client.post(keys_path(group), headers=MANAGE).json["name"] is None
    assert client.post(keys_path(group), json={"name": None}, headers=MANAGE).json["name"] is None


def test_mint_takes_a_name_of_at_most_255_characters(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """KEY-NAME-LENGTH: 255 characters are taken, 256 get 400 naming the rule."""
    group = make_group("g")
    assert (
        client.post(keys_path(group), json={"name": "k" * 255}, headers=MANAGE).status_code == 200
    )
    refused = client.post(keys_path(group), json={"name": "k" * 256}, headers=MANAGE)
    assert (refused.status_code, refused.headers["X-Frontier-Rule"]) == (400, "KEY-NAME-LENGTH")


def test_mint_stores_only_a_digest(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]], app: Any
) -> None:
    """KEY-MINT: the store keeps a SHA-256 digest, never the secret."""
    group = make_group("g")
    minted = client.post(keys_path(group), json={}, headers=MANAGE).json
    store = app.extensions["frontier_gateway"].store
    record = store.get_key("acme", group["id"], minted["prefix"])
    assert minted["api_key"].split(".")[1] not in repr(record)


def test_list_keys_pages_through_live_keys(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """KEY-LIST: {items: [{prefix, name}], pagination}; revoked keys drop out."""
    group = make_group("g")
    prefixes = [
        client.post(keys_path(group), json={"name": f"k{i}"}, headers=MANAGE).json["prefix"]
        for i in range(3)
    ]
    first = client.get(keys_path(group, "?limit=2"), headers=MANAGE).json
    assert [k["prefix"] for k in first["items"]] == prefixes[:2]
    assert first["pagination"]["has_more"]
    rest = client.get(
        keys_path(group, f"?cursor={first['pagination']['cursor']}"), headers=MANAGE
    ).json
    assert rest == {
        "items": [{"prefix": prefixes[2], "name": "k2"}],
        "pagination": {"has_more": False, "cursor": None},
    }
    client.delete(keys_path(group, f"/{prefixes[0]}"), headers=MANAGE)
    assert [
        k["prefix"] for k in client.get(keys_path(group), headers=MANAGE).json["items"]
    ] == prefixes[1:]


def test_revoke_is_irreversible(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """KEY-REVOKE: {prefix}; afterwards get and revoke are 404 (KEY-NOT-FOUND); other keys stay."""
    group = make_group("g")
    doomed, kept = (
        client.post(keys_path(group), json={}, headers=MANAGE).json["prefix"] for _ in range(2)
    )
    assert client.delete(keys_path(group, f"/{doomed}"), headers=MANAGE).json == {"prefix": doomed}
    for method in ("GET", "DELETE"):
        response = client.open(keys_path(group, f"/{doomed}"), method=method, headers=MANAGE)
        assert (response.status_code, response.headers["X-Frontier-Rule"]) == (404, "KEY-NOT-FOUND")
    assert client.get(keys_path(group, f"/{kept}"), headers=MANAGE).status_code == 200


def test_a_key_is_found_only_under_its_own_group(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """KEY-NOT-FOUND: a prefix of a sibling group's key is 404 here."""
    one, two = make_group("one"), make_group("two")
    prefix = client.post(keys_path(one), json={}, headers=MANAGE).json["prefix"]
    assert client.get(keys_path(two, f"/{prefix}"), headers=MANAGE).status_code == 404


def test_register_accepts_a_signed_strong_key(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """REGISTER-OK: {"ok": true}; the key reads back by its first 16 characters."""
    group = make_group("g")
    response = register(client, group, {"key": GOOD_KEY, "name": "mine"})
    assert (response.status_code, response.json) == (200, {"ok": True})
    read = client.get(keys_path(group, f"/{GOOD_KEY[:16]}"), headers=MANAGE)
    assert read.json == {"prefix": GOOD_KEY[:16], "name": "mine"}


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        (GOOD_KEY[:31], "REGISTER-LENGTH"),
        ((GOOD_KEY * 5)[:129], "REGISTER-LENGTH"),
        ("ab" * 20, "REGISTER-ENTROPY"),
        ("abcdefgh" * 4, "REGISTER-OK"),
    ],
)
def test_register_checks_length_and_entropy(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]], key: str, rule: str
) -> None:
    """REGISTER-LENGTH (32..128) and REGISTER-ENTROPY (>= 3 bits per character)."""
    response = register(client, make_group("g"), {"key": key})
    if rule == "REGISTER-OK":  # 8 distinct characters, evenly spread: exactly 3 bits
        assert response.status_code == 200
    else:
        assert (response.status_code, response.headers["X-Frontier-Rule"]) == (400, rule)


def test_register_boundaries_are_accepted(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """REGISTER-LENGTH: 32 and 128 characters are both accepted."""
    group = make_group("g")
    assert register(client, group, {"key": GOOD_KEY}).status_code == 200
    long_key = "Q" + (GOOD_KEY * 4)[:127]
    assert register(client, group, {"key": long_key}).status_code == 200


def test_register_refuses_a_taken_prefix(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """REGISTER-PREFIX-UNIQUE: first 16 characters unique in the workspace, revoked ones too."""
    one, two = make_group("one"), make_group("two")
    assert register(client, one, {"key": GOOD_KEY}).status_code == 200
    response = register(client, two, {"key": GOOD_KEY[:16] + "ZZZZyyyyXXXXwwww"})
    assert (response.status_code, response.headers["X-Frontier-Rule"]) == (
        400,
        "REGISTER-PREFIX-UNIQUE",
    )
    client.delete(keys_path(one, f"/{GOOD_KEY[:16]}"), headers=MANAGE)
    assert register(client, two, {"key": GOOD_KEY}).status_code == 400


def test_register_checks_the_signature(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """REGISTER-SIGNATURE: missing, malformed or wrong signatures give the documented message."""
    group = make_group("g")
    stranger = Ed25519PrivateKey.generate()
    for signer in (None, stranger):
        response = register(client, group, {"key": GOOD_KEY}, signer=signer)
        assert (response.status_code, response.json) == (
            400,
            {"error": "Signature verification failed"},
        )
    raw = json.dumps({"key": GOOD_KEY}).encode()
    response = client.post(
        keys_path(group, "/register"),
        data=raw,
        content_type="application/json",
        headers={**MANAGE, "X-Baseten-Signature": "not base64!"},
    )
    assert response.json == {"error": "Signature verification failed"}
    assert client.get(keys_path(group), headers=MANAGE).json["items"] == []


def test_register_needs_a_public_key_on_file(client: FlaskClient) -> None:
    """REGISTER-PUBLIC-KEY: globex has no public key configured."""
    group = client.post(
        "/v1/gateway/groups",
        headers=OTHER,
        json={
            "metadata": {"external_entity_id": "g"},
            "models": [{"slug": "a/b"}],
            "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": None},
        },
    ).json
    response = register(client, group, {"key": GOOD_KEY}, headers=OTHER)
    assert (response.status_code, response.json) == (
        400,
        {"error": "Must configure a public key before registering API keys"},
    )


def test_keys_of_a_deleted_group_are_gone(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """KEY-NOT-FOUND: deleting a group revokes every key in its subtree."""
    root = make_group("root")
    child = make_group("child", parent=root["id"])
    prefix = client.post(keys_path(child), json={}, headers=MANAGE).json["prefix"]
    client.delete(f"/v1/gateway/groups/{root['id']}", headers=MANAGE)
    assert client.get(keys_path(child, f"/{prefix}"), headers=MANAGE).status_code == 404
