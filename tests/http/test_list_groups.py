"""GET /v1/gateway/groups: shape, filter, limits, cursors and stability (LIST-*)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.builders import MANAGE, OTHER, VIEW


def listing(client: FlaskClient, query: str = "", headers: dict[str, str] = MANAGE) -> Any:
    response = client.get(f"/v1/gateway/groups{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def drain(
    client: FlaskClient, limit: int, between: Callable[[int], None] = lambda _: None
) -> list[str]:
    seen, cursor, page = [], None, 0
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        body = listing(client, query)
        seen += [g["metadata"]["external_entity_id"] for g in body["items"]]
        cursor = body["pagination"]["cursor"]
        assert body["pagination"]["has_more"] is (cursor is not None)
        if cursor is None:
            return seen
        between(page)
        page += 1


def test_list_is_empty_then_holds_the_workspaces_groups_only(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """LIST-SHAPE: {items, pagination}; a workspace sees only its own groups."""
    assert listing(client) == {"items": [], "pagination": {"has_more": False, "cursor": None}}
    created = make_group("a")
    assert listing(client, headers=VIEW)["items"] == [created]
    assert listing(client, headers=OTHER)["items"] == []


def test_list_filters_by_exact_external_entity_id(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """LIST-FILTER: exact match, at most one item; case and white space count."""
    make_group("cust_42")
    make_group("Cust_42")
    items = listing(client, "?external_entity_id=cust_42")["items"]
    assert [g["metadata"]["external_entity_id"] for g in items] == ["cust_42"]
    assert listing(client, "?external_entity_id=cust_4")["items"] == []


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "ten", "1.5"])
def test_list_refuses_a_limit_out_of_range(client: FlaskClient, limit: str) -> None:
    """LIST-LIMIT-RANGE: limit is an integer from 1 to 1000."""
    response = client.get(f"/v1/gateway/groups?limit={limit}", headers=MANAGE)
    assert (response.status_code, response.headers["X-Frontier-Rule"]) == (400, "LIST-LIMIT-RANGE")


def test_list_limit_defaults_to_100_and_allows_1000(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """LIST-LIMIT: 100 by default; 1000 is accepted."""
    for i in range(101):
        make_group(f"g{i}")
    assert len(listing(client)["items"]) == 100
    assert len(listing(client, "?limit=1000")["items"]) == 101


@pytest.mark.parametrize("cursor", ["garbage", "a2V5czox", "Z3JvdXBzOi0x", "Z3JvdXBzOng=", ""])
def test_list_refuses_a_cursor_it_did_not_issue(client: FlaskClient, cursor: str) -> None:
    """LIST-CURSOR-UNKNOWN: a foreign, malformed, other-kind or empty cursor is 400."""
    response = client.get(f"/v1/gateway/groups?cursor={cursor}", headers=MANAGE)
    rule = response.headers["X-Frontier-Rule"]
    assert (response.status_code, rule) == (400, "LIST-CURSOR-UNKNOWN")


def test_list_pages_visit_every_group_once(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """LIST-CURSOR: following cursors visits each group exactly once."""
    names = [f"g{i}" for i in range(7)]
    for name in names:
        make_group(name)
    assert drain(client, limit=3) == names


def test_list_is_stable_while_groups_come_and_go(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """LIST-STABLE and LIST-LIVE: survivors appear once each; a deleted group never appears."""
    groups = [make_group(f"g{i}") for i in range(9)]
    deleted: set[str] = set()

    def churn(page: int) -> None:
        make_group(f"new{page}")
        doomed = groups[8 - page]
        client.delete(f"/v1/gateway/groups/{doomed['id']}", headers=MANAGE)
        deleted.add(doomed["metadata"]["external_entity_id"])

    seen = drain(client, limit=2, between=churn)
    survivors = [g["metadata"]["external_entity_id"] for g in groups]
    survivors = [name for name in survivors if name not in deleted]
    assert sorted(seen) == sorted(set(seen)), "a group was listed twice"
    assert [name for name in seen if name in survivors] == survivors
    assert not deleted & set(seen[-2:]), "a deleted group was listed after its deletion"
    assert not deleted & {
        g["metadata"]["external_entity_id"] for g in listing(client, "?limit=1000")["items"]
    }
