"""HTTP tests of GET and DELETE /v1/gateway/groups/{group_id}: read-back, 403/404, and the
recursive delete."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from simulator.core.store import Store
from tests.builders import (
    GROUPS,
    MANAGE,
    NOT_ONBOARDED,
    OTHER,
    RFC3339_UTC,
    VIEW,
    assert_refused,
    auth,
    documented_request,
    group_body,
    model,
)

Create = Callable[..., dict[str, Any]]
Chain = Callable[..., list[dict[str, Any]]]


def get(client: FlaskClient, group_id: str, headers: dict[str, str] = MANAGE) -> Any:
    return client.get(f"{GROUPS}/{group_id}", headers=headers)


def delete(client: FlaskClient, group_id: str, headers: dict[str, str] = MANAGE) -> Any:
    return client.delete(f"{GROUPS}/{group_id}", headers=headers)


@pytest.mark.parametrize("mode", ["INDEPENDENT", "CASCADING"])
def test_get_group_reads_back_what_create_answered(
    client: FlaskClient, chain: Chain, create: Create, mode: str
) -> None:
    """READ-BACK: GET answers 200 with exactly the body create answered, for roots and children."""
    groups = chain(2, mode=mode, models=[model(rate=[("TOKEN", "MINUTE", 5)])])
    groups.append(
        create(
            {
                **documented_request(),
                "hierarchy": {"limit_enforcement": mode, "parent_group_id": None},
            }
        )
    )
    for created in groups:
        response = get(client, created["id"])
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        assert response.get_json() == created


@pytest.mark.parametrize("scheme", ["Api-Key", "Bearer", "bearer", "API-KEY"])
def test_get_group_accepts_both_schemes(client: FlaskClient, create: Create, scheme: str) -> None:
    """AUTH-SCHEME: GET takes `Api-Key` and `Bearer`, the scheme in any case."""
    group = create(group_body())
    assert get(client, group["id"], auth("sim-manage-acme", scheme)).status_code == 200


@pytest.mark.parametrize(
    ("headers", "status", "rule"),
    [
        ({}, 401, "AUTH-MISSING"),
        (auth("nope"), 401, "AUTH-MISSING"),
        (NOT_ONBOARDED, 403, "ACCESS-ONBOARDED"),
        (VIEW, 403, "ACCESS-SCOPE"),
        (OTHER, 403, "GROUP-OTHER-WORKSPACE"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_group_routes_refuse_keys_without_access(
    client: FlaskClient,
    create: Create,
    store: Store,
    method: str,
    headers: dict[str, str],
    status: int,
    rule: str,
) -> None:
    """AUTH-MISSING, ACCESS-ONBOARDED, ACCESS-SCOPE, GROUP-OTHER-WORKSPACE on GET and DELETE."""
    group = create(group_body())
    response = client.open(f"{GROUPS}/{group['id']}", method=method, headers=headers)
    assert_refused(response, status, rule)
    assert store.count() == 1
    assert get(client, group["id"]).get_json() == group


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_group_routes_give_404_for_unknown_and_deleted(
    client: FlaskClient, create: Create, method: str
) -> None:
    """GROUP-NOT-FOUND: an id never issued, or a deleted group, is 404 on GET and DELETE."""
    group = create(group_body())
    assert delete(client, group["id"]).status_code == 200
    for group_id in ("no-such-group", group["id"]):
        response = client.open(f"{GROUPS}/{group_id}", method=method, headers=MANAGE)
        assert_refused(response, 404, "GROUP-NOT-FOUND")


def test_get_group_of_another_workspace_is_403_even_for_a_deleted_lookalike(
    client: FlaskClient, create: Create
) -> None:
    """GROUP-OTHER-WORKSPACE while it lives; GROUP-NOT-FOUND for everyone once deleted."""
    theirs = create(group_body(), OTHER)
    assert_refused(get(client, theirs["id"]), 403, "GROUP-OTHER-WORKSPACE")
    assert delete(client, theirs["id"], OTHER).status_code == 200
    assert_refused(get(client, theirs["id"]), 404, "GROUP-NOT-FOUND")


def test_delete_group_answers_id_metadata_and_deleted_at(
    client: FlaskClient, create: Create
) -> None:
    """DELETE-RESPONSE: 200 with exactly {id, metadata, deleted_at}."""
    group = create(documented_request())
    response = delete(client, group["id"])
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"id", "metadata", "deleted_at"}
    assert body["id"] == group["id"]
    assert body["metadata"] == {"name": "Acme prod", "external_entity_id": "cust_42"}
    assert re.match(RFC3339_UTC, body["deleted_at"])


def test_delete_group_removes_every_descendant(
    client: FlaskClient, chain: Chain, create: Create, store: Store
) -> None:
    """DELETE-RECURSIVE: descendants are 404 afterwards; the parent and siblings stay."""
    root, middle, leaf, deepest = chain(4)
    sibling = create(group_body("sibling", parent=middle["id"]))
    cousin = create(group_body("cousin", parent=root["id"]))
    assert delete(client, middle["id"]).get_json()["id"] == middle["id"]
    for gone in (middle, leaf, deepest, sibling):
        assert_refused(get(client, gone["id"]), 404, "GROUP-NOT-FOUND")
        assert_refused(delete(client, gone["id"]), 404, "GROUP-NOT-FOUND")
    for kept in (root, cousin):
        assert get(client, kept["id"]).get_json() == kept
    assert store.count() == 2


def test_delete_group_frees_every_descendants_external_entity_id(
    client: FlaskClient, chain: Chain, create: Create
) -> None:
    """EXTID-REUSE: the deleted group's and its descendants' external ids can be used again."""
    groups = chain(3, prefix="reuse")
    old_ids = {g["id"] for g in groups}
    assert delete(client, groups[0]["id"]).status_code == 200
    reborn = [create(group_body(g["metadata"]["external_entity_id"])) for g in groups]
    assert old_ids.isdisjoint(g["id"] for g in reborn)  # RESP-ID: ids are never reused


def test_delete_group_frees_a_parent_slot_for_new_children(
    client: FlaskClient, chain: Chain, create: Create
) -> None:
    """DEPTH-MAX after delete: removing level 5 lets a new level-5 group in, never a sixth."""
    groups = chain(5)
    assert delete(client, groups[-1]["id"]).status_code == 200
    fifth = create(group_body("new-fifth", parent=groups[-2]["id"]))
    response = client.post(GROUPS, json=group_body("sixth", parent=fifth["id"]), headers=MANAGE)
    assert_refused(response, 400, "DEPTH-MAX")
