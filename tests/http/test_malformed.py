"""HTTP tests of malformed input: every one gets a 4xx JSON error and stores nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from simulator.core.store import Store
from tests.builders import GROUPS, MANAGE, assert_refused, group_body

Create = Callable[..., dict[str, Any]]
THRESHOLD = '"threshold": 1000'  # the spot in a valid body where a bad number goes


def with_threshold(literal: str) -> bytes:
    """A valid create body whose only threshold is the given JSON literal."""
    text = json.dumps(group_body("malformed"))
    assert THRESHOLD in text
    return text.replace(THRESHOLD, f'"threshold": {literal}').encode()


def with_name(escaped: str) -> bytes:
    """A valid create body whose name is the given JSON string content (escapes as written)."""
    text = json.dumps(group_body("malformed"))
    assert '"Acme prod"' in text
    return text.replace('"Acme prod"', f'"{escaped}"').encode()


JSON_BODY = json.dumps(group_body("malformed")).encode()
JSON = "application/json"
NESTED_NAME = json.dumps(group_body("malformed")).replace('"Acme prod"', "[" * 900 + "]" * 900)

# (case id, request body bytes, Content-Type or None, status, rule or None)
BAD_BODIES = [
    ("not-json", b"{metadata: 1}", "application/json", 400, "PAYLOAD-JSON"),
    ("truncated-json", JSON_BODY[:-1], "application/json", 400, "PAYLOAD-JSON"),
    ("empty", b"", "application/json", 400, "PAYLOAD-JSON"),
    ("white-space-only", b" \r\n\t ", "application/json", 400, "PAYLOAD-JSON"),
    ("array", b"[]", "application/json", 400, "PAYLOAD-JSON"),
    ("array-of-body", b"[" + JSON_BODY + b"]", "application/json", 400, "PAYLOAD-JSON"),
    ("string", b'"a group"', "application/json", 400, "PAYLOAD-JSON"),
    ("number", b"42", "application/json", 400, "PAYLOAD-JSON"),
    ("text-plain", JSON_BODY, "text/plain", 400, "PAYLOAD-JSON"),
    ("form", JSON_BODY, "application/x-www-form-urlencoded", 400, "PAYLOAD-JSON"),
    ("no-content-type", JSON_BODY, None, 400, "PAYLOAD-JSON"),
    (
        "invalid-utf8",
        JSON_BODY.replace(b"Acme prod", b"Acme \xff\xfe prod"),
        "application/json",
        400,
        "PAYLOAD-JSON",
    ),
    ("utf8-bom-only", b"\xef\xbb\xbf", "application/json", 400, "PAYLOAD-JSON"),
    # RFC 8259: JSON text is UTF-8, with no byte order mark, and strings hold characters.
    ("utf8-bom-then-body", b"\xef\xbb\xbf" + JSON_BODY, "application/json", 400, "PAYLOAD-JSON"),
    ("utf16-with-bom", JSON_BODY.decode().encode("utf-16"), JSON, 400, "PAYLOAD-JSON"),
    ("utf16-le", JSON_BODY.decode().encode("utf-16-le"), JSON, 400, "PAYLOAD-JSON"),
    ("utf16-be", JSON_BODY.decode().encode("utf-16-be"), JSON, 400, "PAYLOAD-JSON"),
    ("utf32", JSON_BODY.decode().encode("utf-32"), JSON, 400, "PAYLOAD-JSON"),
    ("lone-high-surrogate", with_name(r"Acme \ud800"), "application/json", 400, "PAYLOAD-JSON"),
    ("lone-low-surrogate", with_name(r"\udc00 prod"), "application/json", 400, "PAYLOAD-JSON"),
    ("reversed-pair", with_name(r"\ude00\ud83d"), "application/json", 400, "PAYLOAD-JSON"),
    (
        "lone-surrogate-in-a-key",
        JSON_BODY.replace(b'"metadata"', b'"x\\ud800": 1, "metadata"'),
        "application/json",
        400,
        "PAYLOAD-JSON",
    ),
    (
        "lone-surrogate-and-long-number",
        with_name(r"\ud800").replace(b'"threshold": 1000', b'"threshold": ' + b"9" * 30),
        "application/json",
        400,
        "PAYLOAD-JSON",
    ),
    ("nested-arrays-100000", b"[" * 100000, "application/json", 400, "PAYLOAD-JSON"),
    ("nested-objects-100000", b'{"a":' * 100000, "application/json", 400, "PAYLOAD-JSON"),
    ("nested-900-in-name", NESTED_NAME.encode(), "application/json", 400, "NAME-LENGTH"),
    ("ten-megabytes", b" " * (10 * 1024 * 1024) + JSON_BODY, "application/json", 413, None),
    ("threshold-2-63", with_threshold(str(2**63)), "application/json", 400, "THRESHOLD-INT"),
    ("threshold-2-64", with_threshold(str(2**64)), "application/json", 400, "THRESHOLD-INT"),
    ("threshold-5000-digits", with_threshold("9" * 5000), "application/json", 400, "PAYLOAD-JSON"),
    ("threshold-nan", with_threshold("NaN"), "application/json", 400, "PAYLOAD-JSON"),
    ("threshold-infinity", with_threshold("Infinity"), "application/json", 400, "PAYLOAD-JSON"),
    (
        "threshold-minus-infinity",
        with_threshold("-Infinity"),
        "application/json",
        400,
        "PAYLOAD-JSON",
    ),
    ("threshold-exponent", with_threshold("1e400"), "application/json", 400, "THRESHOLD-INT"),
]


@pytest.fixture
def existing(create: Create) -> dict[str, Any]:
    """A group that must survive every malformed request untouched."""
    return create(group_body("existing"))


def assert_unchanged(client: FlaskClient, store: Store, existing: dict[str, Any]) -> None:
    assert store.count() == 1
    response = client.get(f"{GROUPS}/{existing['id']}", headers=MANAGE)
    assert response.get_json() == existing
    listed = client.get(f"{GROUPS}?external_entity_id=malformed", headers=MANAGE)
    assert listed.get_json()["items"] == []


@pytest.mark.parametrize(
    ("data", "content_type", "status", "rule"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_BODIES],
)
def test_create_refuses_malformed_bodies_in_the_error_shape(
    client: FlaskClient,
    store: Store,
    existing: dict[str, Any],
    data: bytes,
    content_type: str | None,
    status: int,
    rule: str | None,
) -> None:
    """PAYLOAD-JSON, ERR-BODY: a malformed body is a 4xx `{"error": ...}` and stores nothing."""
    headers = dict(MANAGE)
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = client.post(GROUPS, data=data, headers=headers)
    assert_refused(response, status, rule)
    assert_unchanged(client, store, existing)


def test_create_accepts_surrogate_pairs_and_non_ascii_utf8(client: FlaskClient) -> None:
    """PAYLOAD-JSON: an escaped surrogate pair is one character, and UTF-8 text is taken as
    it is; both come back as the same characters."""
    body = with_name(r"Acme \ud83d\ude00").replace(b"Acme ", "Acmé ".encode())
    response = client.post(GROUPS, data=body, headers={**MANAGE, "Content-Type": JSON})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["metadata"]["name"] == "Acmé \U0001f600"


def test_create_accepts_a_json_content_type_with_parameters(client: FlaskClient) -> None:
    """PAYLOAD-JSON: `application/json; charset=utf-8` is JSON too."""
    headers = {**MANAGE, "Content-Type": "application/json; charset=utf-8"}
    assert client.post(GROUPS, data=JSON_BODY, headers=headers).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/v1",
        "/v1/gateway",
        "/v1/gateway/group",
        "/v1/gateway/groups/a/b/c",
        "/v2/gateway/groups",
    ],
)
def test_unknown_routes_get_404_in_the_error_shape(
    client: FlaskClient, store: Store, existing: dict[str, Any], path: str
) -> None:
    """ERR-BODY: an unknown route is a JSON 404."""
    assert_refused(client.get(path, headers=MANAGE), 404)
    assert_refused(client.post(path, json=group_body("malformed"), headers=MANAGE), 404)
    assert_unchanged(client, store, existing)


@pytest.mark.parametrize(
    ("method", "route", "allowed"),
    [
        ("PUT", "/v1/gateway/groups", {"GET", "POST"}),
        ("DELETE", "/v1/gateway/groups", {"GET", "POST"}),
        ("PUT", "/v1/gateway/groups/{id}", {"GET", "DELETE"}),
        ("POST", "/v1/gateway/groups/{id}", {"GET", "DELETE"}),
    ],
)
def test_unknown_methods_get_405_with_allow(
    client: FlaskClient,
    store: Store,
    existing: dict[str, Any],
    method: str,
    route: str,
    allowed: set[str],
) -> None:
    """ERR-BODY: a method a route doesn't have is a JSON 405 whose Allow header lists the rest."""
    path = route.format(id=existing["id"])
    response = client.open(path, method=method, json=group_body("malformed"), headers=MANAGE)
    assert_refused(response, 405)
    allow = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed <= allow
    assert method not in allow
    assert_unchanged(client, store, existing)
