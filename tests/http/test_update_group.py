"""PATCH /v1/gateway/groups/{id}: what may change and what may not (PATCH-*)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.builders import MANAGE, model, rate_models

CEILING_MESSAGE = "Child group exceeds parent group limit."


def patch(client: FlaskClient, group_id: str, body: Any) -> Any:
    return client.patch(f"/v1/gateway/groups/{group_id}", json=body, headers=MANAGE)


def thresholds(group: dict[str, Any]) -> set[tuple[int, str]]:
    return {
        (limit["threshold"], limit["source_group"])
        for model in group["effective_models"]
        for limit in model["rate_limits"]
    }


def test_update_renames_and_keeps_everything_else(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """PATCH-NAME: only the name changes; the answer is the whole updated group."""
    group = make_group("g", models=rate_models(10))
    response = patch(client, group["id"], {"metadata": {"name": "Renamed"}})
    assert response.status_code == 200
    assert response.json == {**group, "metadata": {"name": "Renamed", "external_entity_id": "g"}}
    assert client.get(f"/v1/gateway/groups/{group['id']}", headers=MANAGE).json == response.json


def test_update_replaces_and_clears_the_model_set(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """PATCH-REPLACE: models replaces the whole set, limit lists too; [] clears it."""
    group = make_group(
        "g",
        models=[
            {"slug": "a/b", "usage_limits": [{"type": "TOKEN", "unit": "DAY", "threshold": 5}]}
        ],
    )
    replaced = patch(client, group["id"], {"models": rate_models(7, slug="c/d")}).json
    assert [m["slug"] for m in replaced["models"]] == ["c/d"]
    assert replaced["models"][0]["usage_limits"] == []
    cleared = patch(client, group["id"], {"models": []}).json
    assert (cleared["models"], cleared["effective_models"]) == ([], [])
    renamed = patch(client, group["id"], {"metadata": {"name": "x"}}).json
    assert renamed["models"] == []


@pytest.mark.parametrize(
    "body",
    [{}, {"metadata": None, "models": None}, {"hierarchy": {"limit_enforcement": "INDEPENDENT"}}],
)
def test_update_needs_metadata_or_models(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]], body: dict[str, Any]
) -> None:
    """PATCH-SOMETHING: a body with neither metadata nor models is 400."""
    response = patch(client, make_group("g")["id"], body)
    assert (response.status_code, response.headers["X-Frontier-Rule"]) == (400, "PATCH-SOMETHING")


@pytest.mark.parametrize(
    "body",
    [
        {"metadata": {"external_entity_id": "other"}},
        {"metadata": {"name": "n"}, "hierarchy": {"limit_enforcement": "CASCADING"}},
        {"metadata": {"name": "n"}, "hierarchy": {"parent_group_id": "someone"}},
    ],
)
def test_update_refuses_new_values_of_immutable_fields(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]], body: dict[str, Any]
) -> None:
    """PATCH-IMMUTABLE, PATCH-IMMUTABLE-REFUSED: a new external_entity_id or hierarchy is 400
    and nothing changes."""
    group = make_group("g")
    response = patch(client, group["id"], body)
    rule = response.headers["X-Frontier-Rule"]
    assert (response.status_code, rule) == (400, "PATCH-IMMUTABLE-REFUSED")
    assert client.get(f"/v1/gateway/groups/{group['id']}", headers=MANAGE).json == group


def test_update_accepts_immutable_fields_sent_unchanged(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """PATCH-IMMUTABLE-REFUSED: the current values may be sent back."""
    group = make_group("g")
    body = {"metadata": {"name": "n", "external_entity_id": "g"}, "hierarchy": group["hierarchy"]}
    assert patch(client, group["id"], body).status_code == 200


def test_update_keeps_cascading_limits_between_ancestors_and_descendants(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """PATCH-CASCADE: not above an ancestor, not below a descendant; equal is fine."""
    root = make_group("root", mode="CASCADING", models=rate_models(100))
    middle = make_group("mid", mode="CASCADING", parent=root["id"], models=rate_models(50))
    make_group("leaf", mode="CASCADING", parent=middle["id"], models=rate_models(20))
    for value in (101, 19):
        response = patch(client, middle["id"], {"models": rate_models(value)})
        assert (response.status_code, response.json) == (400, {"error": CEILING_MESSAGE})
        assert response.headers["X-Frontier-Rule"] == "CASCADE-CEILING"
    assert patch(client, middle["id"], {"models": rate_models(100)}).status_code == 200
    assert patch(client, middle["id"], {"models": rate_models(20)}).status_code == 200
    assert patch(client, root["id"], {"models": rate_models(19)}).status_code == 400


def test_update_allows_any_limit_in_independent_trees(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """PATCH-CASCADE applies to CASCADING trees only (INDEPENDENT-OVERRIDE)."""
    root = make_group("root", models=rate_models(100))
    child = make_group("child", parent=root["id"], models=rate_models(50))
    assert patch(client, child["id"], {"models": rate_models(500)}).status_code == 200
    assert patch(client, root["id"], {"models": rate_models(1)}).status_code == 200


def test_update_propagates_to_descendants_effective_limits(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """PATCH-PROPAGATE: a child inheriting a limit sees its ancestor's new value."""
    root = make_group("root", models=rate_models(100))
    child = make_group("child", parent=root["id"], models=[model()])
    assert thresholds(child) == {(100, root["id"])}
    patch(client, root["id"], {"models": rate_models(150)})
    child_now = client.get(f"/v1/gateway/groups/{child['id']}", headers=MANAGE).json
    assert thresholds(child_now) == {(150, root["id"])}


def test_update_validates_the_new_models_like_create(
    client: FlaskClient, make_group: Callable[..., dict[str, Any]]
) -> None:
    """RATE-SHAPE and RATE-ONE-PER-TYPE hold on PATCH too; nothing changes on refusal."""
    group = make_group("g", models=rate_models(10))
    bad_shape = [model(rate=[("TOKEN", "DAY", 1)])]
    two_token = [model(rate=[("TOKEN", "SECOND", 1), ("TOKEN", "MINUTE", 1)])]
    for models, rule in ((bad_shape, "RATE-SHAPE"), (two_token, "RATE-ONE-PER-TYPE")):
        response = patch(client, group["id"], {"models": models})
        assert (response.status_code, response.headers["X-Frontier-Rule"]) == (400, rule)
    assert client.get(f"/v1/gateway/groups/{group['id']}", headers=MANAGE).json == group
