"""HTTP tests of authentication and access on create (AUTH-*, ACCESS-*)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from simulator.core.store import Store
from tests.builders import GROUPS, MANAGE, assert_refused, group_body

SCHEMES = ["Api-Key", "Bearer", "api-key", "API-KEY", "bearer", "BEARER", "bEaReR", "aPi-KeY"]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_create_accepts_api_key_and_bearer_in_any_case(
    client: FlaskClient, store: Store, scheme: str
) -> None:
    """AUTH-SCHEME: `Api-Key <key>` and `Bearer <key>` both work; the scheme ignores case."""
    response = client.post(
        GROUPS, json=group_body(), headers={"Authorization": f"{scheme} sim-manage-acme"}
    )
    assert response.status_code == 200
    assert store.count() == 1


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Api-Key",
        "Bearer ",
        "sim-manage-acme",
        "Basic sim-manage-acme",
        "Digest sim-manage-acme",
        "ApiKey sim-manage-acme",
        "Api-Key sim-manage-acme-typo",
        "Api-Key SIM-MANAGE-ACME",
        "Bearer sim-manage-nobody",
    ],
)
def test_create_refuses_missing_or_unknown_credentials_with_401(
    client: FlaskClient, store: Store, authorization: str | None
) -> None:
    """AUTH-MISSING: no header, an unknown scheme or an unknown key gives 401 and stores nothing."""
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.post(GROUPS, json=group_body(), headers=headers)
    assert_refused(response, 401, "AUTH-MISSING")
    assert store.count() == 0


@pytest.mark.parametrize(
    ("fixture", "rule"),
    [("not_onboarded_headers", "ACCESS-ONBOARDED"), ("view_headers", "ACCESS-SCOPE")],
)
def test_create_refuses_valid_keys_without_access_with_403(
    client: FlaskClient, store: Store, request: pytest.FixtureRequest, fixture: str, rule: str
) -> None:
    """ACCESS-ONBOARDED and ACCESS-SCOPE: a known key that may not create gets 403."""
    headers = request.getfixturevalue(fixture)
    assert_refused(client.post(GROUPS, json=group_body(), headers=headers), 403, rule)
    assert store.count() == 0


def test_create_works_for_each_onboarded_management_key(
    client: FlaskClient,
    manage_headers: dict[str, str],
    other_workspace_headers: dict[str, str],
) -> None:
    """OK-200: both default management keys of onboarded workspaces may create."""
    for headers in (manage_headers, other_workspace_headers):
        assert client.post(GROUPS, json=group_body(), headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("path", "authorization", "status"),
    [
        (GROUPS, None, 401),
        (GROUPS, "Api-Key sim-view-acme", 403),
        ("/v1/chat/completions", None, 401),
    ],
)
def test_a_refusal_before_the_body_is_read_closes_the_connection(
    client: FlaskClient, path: str, authorization: str | None, status: int
) -> None:
    """The key is checked before the body is read; the unread body is still on the wire, so
    the answer says `Connection: close` and the client doesn't reuse the connection."""
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.post(path, json=group_body(), headers=headers)
    assert response.status_code == status
    assert response.headers.get("Connection") == "close"


@pytest.mark.parametrize(
    ("body", "status"), [(group_body(), 200), ({"metadata": {}}, 400), (None, 400)]
)
def test_an_answer_after_the_body_was_read_keeps_the_connection(
    client: FlaskClient, body: object, status: int
) -> None:
    """A body read to its end (a create, a refused payload, no body at all) leaves the
    connection reusable: no `Connection` header."""
    response = client.post(GROUPS, json=body, headers=MANAGE)
    assert response.status_code == status
    assert "Connection" not in response.headers
