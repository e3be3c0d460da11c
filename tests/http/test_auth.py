"""HTTP tests of authentication and access on create (AUTH-*, ACCESS-*)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from simulator.core.store import Store
from tests.builders import GROUPS, assert_refused, group_body

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
