"""HTTP tests of POST /v1/gateway/groups: the documented examples, what is accepted, and the
boundaries on both sides of every limit."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from simulator.core.store import Store
from tests.builders import (
    CHILD_REQUEST,
    GROUPS,
    MANAGE,
    OTHER,
    RFC3339_UTC,
    SLUG,
    assert_refused,
    documented_request,
    expected_documented_response,
    group_body,
    model,
    post_group,
)

Create = Callable[..., dict[str, Any]]
Chain = Callable[..., list[dict[str, Any]]]


def as_set(limits: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {tuple(sorted(x.items())) for x in limits}


def test_create_answers_the_documented_example(client: FlaskClient) -> None:
    """OK-200, RESP-ECHO, EFFECTIVE-ROOT: the documented request gets the documented body."""
    response = post_group(client, documented_request())
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body == expected_documented_response(body["id"], body["created_at"])
    sources = {x["source_group"] for x in body["effective_models"][0]["rate_limits"]}
    assert sources == {body["id"]}
    assert body["effective_models"][0]["usage_limits"][0]["source_group"] == body["id"]


def test_create_answers_the_documented_child_example_with_inherited_limits(
    create: Create,
) -> None:
    """EFFECTIVE-INDEPENDENT: the child's own TOKEN/MINUTE plus the parent's other limits."""
    # The documented child response lists only the child's own limit: it is abbreviated
    # (the rule text, "inherits any limit its ancestors set", wins).
    parent = create(documented_request())
    request = copy.deepcopy(CHILD_REQUEST)
    request["hierarchy"]["parent_group_id"] = parent["id"]
    child = create(request)
    assert child["metadata"] == CHILD_REQUEST["metadata"]
    assert child["hierarchy"] == request["hierarchy"]
    assert child["models"] == [
        {
            "slug": SLUG,
            "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": 700000}],
            "usage_limits": [],
        }
    ]
    (effective,) = child["effective_models"]
    assert effective["slug"] == SLUG
    assert as_set(effective["rate_limits"]) == as_set(
        [
            {"type": "TOKEN", "unit": "MINUTE", "threshold": 700000, "source_group": child["id"]},
            {"type": "REQUEST", "unit": "MINUTE", "threshold": 100, "source_group": parent["id"]},
        ]
    )
    assert effective["usage_limits"] == [
        {"type": "TOKEN", "unit": "DAY", "threshold": 10000000, "source_group": parent["id"]}
    ]


def test_create_gives_an_rfc3339_utc_created_at(create: Create) -> None:
    """RESP-CREATED-AT: `created_at` is an RFC 3339 UTC timestamp."""
    created_at = create(group_body())["created_at"]
    assert re.match(RFC3339_UTC, created_at)
    assert (
        datetime.fromisoformat(created_at.replace("Z", "+00:00")).utcoffset().total_seconds() == 0
    )


def test_create_gives_opaque_ids_never_reused(client: FlaskClient, create: Create) -> None:
    """RESP-ID: ids are non-empty strings, all different, and a deleted id never comes back."""
    ids = []
    for _ in range(3):
        group = create(group_body("same"))
        ids.append(group["id"])
        assert client.delete(f"{GROUPS}/{group['id']}", headers=MANAGE).status_code == 200
    ids += [create(group_body(f"other-{n}"))["id"] for n in range(5)]
    assert all(isinstance(i, str) and i for i in ids)
    assert len(set(ids)) == len(ids)


def test_create_echoes_omitted_limit_lists_as_empty(create: Create) -> None:
    """RESP-ECHO: a slug sent without limits comes back with `[]` for both lists."""
    body = group_body(models=[{"slug": "my-org/claude"}])
    created = create(body)
    assert created["models"] == [{"slug": "my-org/claude", "rate_limits": [], "usage_limits": []}]
    assert created["effective_models"] == created["models"]
    assert created["metadata"] == body["metadata"]
    assert created["hierarchy"] == body["hierarchy"]


def test_create_keeps_request_order(create: Create) -> None:
    """RESP-ORDER: models and limits come back in request order."""
    models = [
        model("z-org/last", rate=[("REQUEST", "SECOND", 3), ("TOKEN", "MINUTE", 9)]),
        model("a-org/first", usage=[("REQUEST", "DAY", 4), ("TOKEN", "DAY", 8)]),
    ]
    assert create(group_body(models=models))["models"] == models


@pytest.mark.parametrize(
    "metadata", [{"external_entity_id": "e"}, {"external_entity_id": "e", "name": None}]
)
def test_create_accepts_a_null_or_omitted_name(create: Create, metadata: dict[str, Any]) -> None:
    """NAME-NULL: `"name": null` is accepted as omitted, and the answer shows `"name": null`."""
    body = {**group_body(), "metadata": metadata}
    assert create(body)["metadata"] == {"name": None, "external_entity_id": "e"}


@pytest.mark.parametrize("mode", ["INDEPENDENT", "CASCADING"])
def test_create_root_effective_models_equal_models(create: Create, mode: str) -> None:
    """EFFECTIVE-ROOT: a root's effective limits are its models, anchored to itself."""
    models = [
        model("org/a", rate=[("TOKEN", "SECOND", 5)], usage=[("REQUEST", "DAY", 6)]),
        model("org/b"),
    ]
    created = create(group_body(models=models, mode=mode))
    anchored = copy.deepcopy(models)
    for entry in anchored:
        for item in entry["rate_limits"] + entry["usage_limits"]:
            item["source_group"] = created["id"]
    assert created["effective_models"] == anchored


def test_create_cascading_child_lists_every_levels_limits(chain: Chain, create: Create) -> None:
    """EFFECTIVE-CASCADING: own and every ancestor's limits for the slug, each with its source."""
    root, middle = chain(2, mode="CASCADING", models=[model(rate=[("TOKEN", "MINUTE", 100)])])
    body = group_body(
        "leaf",
        parent=middle["id"],
        mode="CASCADING",
        models=[model(rate=[("TOKEN", "MINUTE", 70)])],
    )
    leaf = create(body)
    (effective,) = leaf["effective_models"]
    assert [(x["threshold"], x["source_group"]) for x in effective["rate_limits"]] == [
        (70, leaf["id"]),
        (100, middle["id"]),
        (100, root["id"]),
    ]


@pytest.mark.parametrize("mode", ["INDEPENDENT", "CASCADING"])
def test_create_child_may_list_slugs_its_ancestors_dont(create: Create, mode: str) -> None:
    """CHILD-SLUGS and EFFECTIVE-SLUGS: a child-only slug is fine; effective has own slugs only."""
    parent = create(
        group_body("p", mode=mode, models=[model("org/parent", rate=[("TOKEN", "MINUTE", 1)])])
    )
    models = [model("org/child", rate=[("TOKEN", "MINUTE", 10**6)])]
    child = create(group_body("c", parent=parent["id"], mode=mode, models=models))
    assert [m["slug"] for m in child["effective_models"]] == ["org/child"]
    assert child["effective_models"][0]["rate_limits"][0]["source_group"] == child["id"]


def test_create_independent_child_may_go_above_or_below(create: Create) -> None:
    """INDEPENDENT-OVERRIDE: a child's threshold may be above or below its parent's."""
    parent = create(
        group_body(
            "p", models=[model(rate=[("TOKEN", "MINUTE", 100)], usage=[("TOKEN", "DAY", 10)])]
        )
    )
    for extid, threshold in (("above", 101), ("far-above", 2**63 - 1), ("below", 1)):
        models = [model(rate=[("TOKEN", "MINUTE", threshold)], usage=[("TOKEN", "DAY", threshold)])]
        child = create(group_body(extid, parent=parent["id"], models=models))
        effective = child["effective_models"][0]
        assert effective["rate_limits"][0]["threshold"] == threshold
        assert effective["usage_limits"][0]["source_group"] == child["id"]


def test_create_external_entity_id_is_per_workspace(create: Create) -> None:
    """EXTID-PER-WORKSPACE: the same external_entity_id in two workspaces is fine."""
    mine, theirs = create(group_body("cust_42")), create(group_body("cust_42"), OTHER)
    assert mine["id"] != theirs["id"]


def test_create_external_entity_id_comparison_is_exact(create: Create) -> None:
    """EXTID-EXACT: case and white space make a different external_entity_id."""
    for extid in ("cust_42", "CUST_42", "Cust_42", "cust_42 ", " cust_42", "cust_42\t"):
        assert create(group_body(extid))["metadata"]["external_entity_id"] == extid


def test_create_external_entity_id_is_free_again_after_delete(
    client: FlaskClient, create: Create
) -> None:
    """EXTID-REUSE: deleting a group frees its external_entity_id for a new group."""
    first = create(group_body("cust_42"))
    assert client.delete(f"{GROUPS}/{first['id']}", headers=MANAGE).status_code == 200
    second = create(group_body("cust_42"))
    assert second["id"] != first["id"]


def test_create_ignores_unknown_fields_by_default(create: Create) -> None:
    """EXTRA-FIELDS: unknown fields anywhere are ignored, and not echoed back."""
    body = group_body()
    body["colour"] = "blue"
    body["metadata"]["tier"] = "gold"
    body["models"][0]["note"] = 1
    body["models"][0]["rate_limits"][0]["burst"] = 5
    body["hierarchy"]["weight"] = None
    created = create(body)
    assert "colour" not in created
    assert "tier" not in created["metadata"]
    assert "note" not in created["models"][0]
    assert "burst" not in created["models"][0]["rate_limits"][0]
    assert "weight" not in created["hierarchy"]


# Boundaries: the last value accepted and the first refused, on both sides.


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("external_entity_id", "x", True),
        ("external_entity_id", "x" * 255, True),
        ("external_entity_id", "é" * 255, True),  # characters, not bytes
        ("external_entity_id", "", False),
        ("external_entity_id", "x" * 256, False),
        ("name", "n" * 255, True),
        ("name", "n" * 256, False),
    ],
    ids=[
        "extid-1",
        "extid-255",
        "extid-255-accented",
        "extid-0",
        "extid-256",
        "name-255",
        "name-256",
    ],
)
def test_create_metadata_length_boundaries(
    client: FlaskClient, store: Store, field: str, value: str, accepted: bool
) -> None:
    """EXTID-REQUIRED (1..255) and NAME-LENGTH (at most 255): both sides of each bound."""
    body = group_body()
    body["metadata"][field] = value
    response = post_group(client, body)
    if accepted:
        assert response.status_code == 200
        assert response.get_json()["metadata"][field] == value
    else:
        rule = "EXTID-REQUIRED" if field == "external_entity_id" else "NAME-LENGTH"
        assert_refused(response, 400, rule)
        assert store.count() == 0


@pytest.mark.parametrize("mode", ["INDEPENDENT", "CASCADING"])
def test_create_accepts_five_levels_and_refuses_a_sixth(
    client: FlaskClient, chain: Chain, store: Store, mode: str
) -> None:
    """DEPTH-MAX: a chain of five groups is accepted; a child of the fifth gives 400."""
    groups = chain(5, mode=mode)
    assert [g["hierarchy"]["parent_group_id"] for g in groups[1:]] == [g["id"] for g in groups[:-1]]
    response = post_group(client, group_body("sixth", parent=groups[-1]["id"], mode=mode))
    assert_refused(response, 400, "DEPTH-MAX")
    assert store.count() == 5


@pytest.mark.parametrize("kind", ["rate", "usage"])
@pytest.mark.parametrize("ancestor", ["parent", "grandparent"])
def test_create_cascading_child_may_equal_an_ancestor_but_not_exceed_it(
    client: FlaskClient, create: Create, kind: str, ancestor: str
) -> None:
    """CASCADE-CEILING: equal to a parent or grandparent is accepted, one above is the 400."""
    # The grandparent case puts a parent that doesn't declare the tuple in between.
    unit = "MINUTE" if kind == "rate" else "DAY"

    def limited(threshold: int) -> list[dict[str, Any]]:
        return [model(**{kind: [("TOKEN", unit, threshold)]})]

    top = create(group_body("top", mode="CASCADING", models=limited(1000)))
    parent = top
    if ancestor == "grandparent":
        parent = create(group_body("mid", parent=top["id"], mode="CASCADING", models=[model()]))
    equal = post_group(
        client, group_body("equal", parent=parent["id"], mode="CASCADING", models=limited(1000))
    )
    assert equal.status_code == 200
    above = post_group(
        client, group_body("above", parent=parent["id"], mode="CASCADING", models=limited(1001))
    )
    assert_refused(above, 400, "CASCADE-CEILING")
    assert above.get_json() == {"error": "Child group exceeds parent group limit."}


def test_create_cascading_ceiling_ignores_siblings_and_other_tuples(create: Create) -> None:
    """CASCADE-CEILING: sums over siblings aren't checked; other units and slugs impose nothing."""
    top = create(
        group_body("top", mode="CASCADING", models=[model(rate=[("TOKEN", "MINUTE", 100)])])
    )
    for extid in ("finance", "engineering"):
        create(
            group_body(
                extid,
                parent=top["id"],
                mode="CASCADING",
                models=[model(rate=[("TOKEN", "MINUTE", 70)])],
            )
        )
    others = [
        model(rate=[("TOKEN", "SECOND", 10**9), ("REQUEST", "MINUTE", 10**9)]),
        model("org/new", rate=[("TOKEN", "MINUTE", 10**9)]),
    ]
    create(group_body("others", parent=top["id"], mode="CASCADING", models=others))
