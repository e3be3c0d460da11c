"""HTTP tests of the refusals of POST /v1/gateway/groups: one table row per broken rule, the
order of ERR-ONE-RULE, and CREATE-ATOMIC after every refusal."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from simulator import create_app
from simulator.core.config import DEFAULT_CONFIG, config_from_mapping
from simulator.core.spec import rule_catalogue
from tests.builders import (
    GROUPS,
    MANAGE,
    NOT_ONBOARDED,
    OTHER,
    VIEW,
    assert_refused,
    auth,
    documented_request,
    group_body,
    model,
    store_of,
)

MISSING = object()  # marks a field to leave out


@dataclass(frozen=True)
class Raw:
    """A body sent as these exact bytes."""

    data: bytes
    content_type: str = "application/json"


Request = tuple[dict[str, str], Any]


@dataclass
class Api:
    """Creates the groups a case needs and sends the case's request."""

    client: FlaskClient

    def create(self, body: dict[str, Any], headers: dict[str, str] = MANAGE) -> dict[str, Any]:
        response = self.client.post(GROUPS, json=body, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        created: dict[str, Any] = response.get_json()
        return created

    def chain(self, levels: int, mode: str, threshold: int = 1000) -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = []
        for level in range(1, levels + 1):
            parent = groups[-1]["id"] if groups else None
            body = group_body(
                f"{mode}-{level}", parent=parent, mode=mode, models=limited(threshold)
            )
            groups.append(self.create(body))
        return groups

    def delete(self, group_id: str) -> None:
        assert self.client.delete(f"{GROUPS}/{group_id}", headers=MANAGE).status_code == 200

    def send(self, request: Request) -> TestResponse:
        headers, body = request
        if isinstance(body, Raw):
            headers = {**headers, "Content-Type": body.content_type}
            return self.client.post(GROUPS, data=body.data, headers=headers)
        return self.client.post(GROUPS, json=body, headers=headers)


Build = Callable[[Api], Request]


def limited(threshold: int, kind: str = "rate") -> list[dict[str, Any]]:
    unit = "MINUTE" if kind == "rate" else "DAY"
    return [model(**{kind: [("TOKEN", unit, threshold)]})]


def edited(path: str, value: Any, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body (by default the documented request) with one field set, or left out."""
    body = copy.deepcopy(body) if body is not None else documented_request()
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node: Any = body
    for step in parents:
        node = node[step]
    if value is MISSING:
        del node[last]
    elif isinstance(node, list) and last == len(node):
        node.append(value)  # one past the end appends
    else:
        node[last] = value
    return body


def payload(path: str, value: Any) -> Build:
    return lambda api: (MANAGE, edited(path, value))


def raw(data: bytes, content_type: str = "application/json") -> Build:
    return lambda api: (MANAGE, Raw(data, content_type))


def headers(value: dict[str, str]) -> Build:
    return lambda api: (value, documented_request())


def child_of(parent: Callable[[Api], str], mode: str = "INDEPENDENT", **kw: Any) -> Build:
    return lambda api: (MANAGE, group_body("child", parent=parent(api), mode=mode, **kw))


def foreign_root(api: Api) -> str:
    return api.create(group_body(), OTHER)["id"]


def independent_root(api: Api) -> str:
    return api.create(group_body("root"))["id"]


def cascading_root(api: Api) -> str:
    """A CASCADING root with TOKEN/MINUTE 1000."""
    return api.chain(1, "CASCADING")[0]["id"]


def level_five(api: Api) -> str:
    return api.chain(5, "INDEPENDENT")[-1]["id"]


def usage_capped_grandchild(api: Api) -> str:
    """A CASCADING child, declaring no usage limit, of a root with TOKEN/DAY 10."""
    top = api.create(group_body("top", mode="CASCADING", models=limited(10, "usage")))
    return api.create(group_body("mid", parent=top["id"], mode="CASCADING"))["id"]


def deleted_root(api: Api) -> str:
    root = api.create(group_body("deleted-root"))
    api.delete(root["id"])
    return root["id"]


def duplicate(api: Api) -> Request:
    api.create(group_body("cust_42"))
    return MANAGE, group_body("cust_42", name="another")


RATE = "models.0.rate_limits"
USAGE = "models.0.usage_limits"
TOKEN_DAY = {"type": "TOKEN", "unit": "DAY", "threshold": 1}

# Every row breaks exactly one rule: (rule, status, how to build the request).
REFUSALS = [
    pytest.param("AUTH-MISSING", 401, headers({}), id="no-header"),
    pytest.param("AUTH-MISSING", 401, headers(auth("sim-manage-acme", "Basic")), id="basic"),
    pytest.param("AUTH-MISSING", 401, headers(auth("sim-manage-acme", "Token")), id="token"),
    pytest.param("AUTH-MISSING", 401, headers(auth("unknown-key")), id="unknown-key"),
    pytest.param("AUTH-MISSING", 401, headers({"Authorization": "Api-Key"}), id="no-key"),
    pytest.param(
        "AUTH-MISSING", 401, headers({"Authorization": "sim-manage-acme"}), id="no-scheme"
    ),
    pytest.param("ACCESS-ONBOARDED", 403, headers(NOT_ONBOARDED), id="not-onboarded"),
    pytest.param("ACCESS-SCOPE", 403, headers(VIEW), id="view-key"),
    pytest.param("PAYLOAD-JSON", 400, raw(b'{"metadata": '), id="not-json"),
    pytest.param("PAYLOAD-JSON", 400, raw(b""), id="empty"),
    pytest.param("PAYLOAD-JSON", 400, raw(b"[]"), id="array"),
    pytest.param("PAYLOAD-JSON", 400, raw(b'"group"'), id="string"),
    pytest.param("PAYLOAD-JSON", 400, raw(b"null"), id="null"),
    pytest.param("META-REQUIRED", 400, payload("metadata", MISSING), id="metadata-missing"),
    pytest.param("META-REQUIRED", 400, payload("metadata", None), id="metadata-null"),
    pytest.param("META-REQUIRED", 400, payload("metadata", "cust_42"), id="metadata-string"),
    pytest.param(
        "EXTID-REQUIRED", 400, payload("metadata.external_entity_id", MISSING), id="extid-missing"
    ),
    pytest.param(
        "EXTID-REQUIRED", 400, payload("metadata.external_entity_id", ""), id="extid-empty"
    ),
    pytest.param(
        "EXTID-REQUIRED", 400, payload("metadata.external_entity_id", "x" * 256), id="extid-256"
    ),
    pytest.param("EXTID-REQUIRED", 400, payload("metadata.external_entity_id", 42), id="extid-int"),
    pytest.param(
        "EXTID-REQUIRED", 400, payload("metadata.external_entity_id", None), id="extid-null"
    ),
    pytest.param("NAME-LENGTH", 400, payload("metadata.name", "n" * 256), id="name-256"),
    pytest.param("NAME-LENGTH", 400, payload("metadata.name", 7), id="name-int"),
    pytest.param("MODELS-NONEMPTY", 400, payload("models", MISSING), id="models-missing"),
    pytest.param("MODELS-NONEMPTY", 400, payload("models", []), id="models-empty"),
    pytest.param("MODELS-NONEMPTY", 400, payload("models", {"slug": "a/b"}), id="models-object"),
    pytest.param("SLUG-REQUIRED", 400, payload("models.0.slug", MISSING), id="slug-missing"),
    pytest.param("SLUG-REQUIRED", 400, payload("models.0.slug", 7), id="slug-int"),
    pytest.param(
        "SLUG-REQUIRED", 400, payload("models.0", "your-org/your-model"), id="model-string"
    ),
    pytest.param("SLUG-FORMAT", 400, payload("models.0.slug", "no-slash"), id="slug-no-slash"),
    pytest.param("SLUG-FORMAT", 400, payload("models.0.slug", "a/b/c"), id="slug-two-slashes"),
    pytest.param("SLUG-FORMAT", 400, payload("models.0.slug", "/model"), id="slug-no-org"),
    pytest.param("SLUG-FORMAT", 400, payload("models.0.slug", "org/"), id="slug-no-model"),
    pytest.param("SLUG-FORMAT", 400, payload("models.0.slug", ""), id="slug-empty"),
    pytest.param(
        "SLUG-UNIQUE", 400, payload("models.1", documented_request()["models"][0]), id="slug-twice"
    ),
    pytest.param("RATE-SHAPE", 400, payload(f"{RATE}.0.type", "BYTES"), id="rate-type"),
    pytest.param("RATE-SHAPE", 400, payload(f"{RATE}.0.unit", "DAY"), id="rate-unit-day"),
    pytest.param("RATE-SHAPE", 400, payload(f"{RATE}.0.unit", "HOUR"), id="rate-unit-hour"),
    pytest.param("RATE-SHAPE", 400, payload(f"{RATE}.0.threshold", 0), id="rate-threshold-0"),
    pytest.param("RATE-SHAPE", 400, payload(f"{RATE}.0.threshold", -1), id="rate-threshold-neg"),
    pytest.param("RATE-SHAPE", 400, payload(f"{RATE}.0.unit", MISSING), id="rate-unit-missing"),
    pytest.param(
        "RATE-SHAPE", 400, payload(f"{RATE}.0.threshold", MISSING), id="rate-threshold-missing"
    ),
    pytest.param("RATE-SHAPE", 400, payload(RATE, {"type": "TOKEN"}), id="rate-not-array"),
    pytest.param("RATE-SHAPE", 400, payload(f"{RATE}.0", 5), id="rate-entry-int"),
    pytest.param(
        "RATE-ONE-PER-TYPE",
        400,
        payload(f"{RATE}.1", {"type": "TOKEN", "unit": "SECOND", "threshold": 9}),
        id="token-second-and-minute",
    ),
    pytest.param("USAGE-SHAPE", 400, payload(f"{USAGE}.0.unit", "MINUTE"), id="usage-unit-minute"),
    pytest.param("USAGE-SHAPE", 400, payload(f"{USAGE}.0.type", "BYTES"), id="usage-type"),
    pytest.param("USAGE-SHAPE", 400, payload(f"{USAGE}.0.threshold", 0), id="usage-threshold-0"),
    pytest.param("USAGE-SHAPE", 400, payload(f"{USAGE}.0.type", MISSING), id="usage-type-missing"),
    pytest.param("USAGE-SHAPE", 400, payload(USAGE, "TOKEN/DAY"), id="usage-not-array"),
    pytest.param(
        "USAGE-ONE-PER-TYPE-UNIT", 400, payload(f"{USAGE}.1", TOKEN_DAY), id="token-day-twice"
    ),
    pytest.param(
        "THRESHOLD-INT", 400, payload(f"{RATE}.0.threshold", "100"), id="threshold-string"
    ),
    pytest.param("THRESHOLD-INT", 400, payload(f"{RATE}.0.threshold", True), id="threshold-bool"),
    pytest.param(
        "THRESHOLD-INT", 400, payload(f"{RATE}.0.threshold", 1.5), id="threshold-fraction"
    ),
    pytest.param("THRESHOLD-INT", 400, payload(f"{RATE}.0.threshold", None), id="threshold-null"),
    pytest.param("THRESHOLD-INT", 400, payload(f"{RATE}.0.threshold", 2**63), id="threshold-2-63"),
    pytest.param(
        "THRESHOLD-INT", 400, payload(f"{USAGE}.0.threshold", 10**30), id="threshold-10-30"
    ),
    pytest.param("HIER-REQUIRED", 400, payload("hierarchy", MISSING), id="hierarchy-missing"),
    pytest.param("HIER-REQUIRED", 400, payload("hierarchy", None), id="hierarchy-null"),
    pytest.param(
        "HIER-REQUIRED", 400, payload("hierarchy.limit_enforcement", MISSING), id="mode-missing"
    ),
    pytest.param(
        "HIER-REQUIRED", 400, payload("hierarchy.parent_group_id", MISSING), id="parent-missing"
    ),
    pytest.param(
        "HIER-REQUIRED", 400, payload("hierarchy.limit_enforcement", "SHARED"), id="mode-unknown"
    ),
    pytest.param(
        "HIER-REQUIRED",
        400,
        payload("hierarchy.limit_enforcement", "independent"),
        id="mode-lowercase",
    ),
    pytest.param("HIER-REQUIRED", 400, payload("hierarchy.parent_group_id", 42), id="parent-int"),
    pytest.param("PARENT-EXISTS", 404, child_of(lambda api: "no-such-group"), id="parent-unknown"),
    pytest.param("PARENT-EXISTS", 404, child_of(foreign_root), id="parent-other-workspace"),
    pytest.param("PARENT-EXISTS", 404, child_of(deleted_root), id="parent-deleted"),
    pytest.param("MODE-MATCH", 400, child_of(independent_root, "CASCADING"), id="cascading-child"),
    pytest.param(
        "MODE-MATCH", 400, child_of(cascading_root, "INDEPENDENT"), id="independent-child"
    ),
    pytest.param("DEPTH-MAX", 400, child_of(level_five), id="sixth-level"),
    pytest.param(
        "CASCADE-CEILING",
        400,
        child_of(cascading_root, "CASCADING", models=limited(1001)),
        id="rate-above-parent",
    ),
    pytest.param(
        "CASCADE-CEILING",
        400,
        child_of(usage_capped_grandchild, "CASCADING", models=limited(11, "usage")),
        id="usage-above-grandparent",
    ),
    pytest.param("EXTID-UNIQUE", 400, duplicate, id="extid-taken"),
]


@pytest.mark.parametrize(("rule", "status", "build"), REFUSALS)
def test_create_refuses_each_broken_rule_and_changes_nothing(
    client: FlaskClient, rule: str, status: int, build: Build
) -> None:
    """ERR-BODY, CREATE-ATOMIC: each broken rule gets its status and name; nothing is stored."""
    api = Api(client)
    request = build(api)
    before = store_of(client.application).count()
    response = api.send(request)
    assert_refused(response, status, rule)
    assert rule_catalogue()[rule]["status"] == status
    assert store_of(client.application).count() == before


@pytest.mark.parametrize(
    "build",
    [
        child_of(deleted_root),
        child_of(cascading_root),
        child_of(level_five),
        child_of(cascading_root, "CASCADING", models=limited(1001)),
    ],
    ids=["PARENT-EXISTS", "MODE-MATCH", "DEPTH-MAX", "CASCADE-CEILING"],
)
def test_create_refused_holds_no_external_entity_id(client: FlaskClient, build: Build) -> None:
    """CREATE-ATOMIC: after a refused create its external_entity_id is still free."""
    api = Api(client)
    response = api.send(build(api))
    assert 400 <= response.status_code < 500
    assert api.create(group_body("child"))["metadata"]["external_entity_id"] == "child"


# ERR-ONE-RULE: for each adjacent pair, a request breaking both gets the earlier rule, and
# the same request with the earlier break mended gets the later one.

PRECEDENCE_CONFIG = copy.deepcopy(DEFAULT_CONFIG)
PRECEDENCE_CONFIG["workspaces"]["initech"]["keys"]["sim-view-initech"] = "view"
TOO_LONG = "n" * 256


def both_auth(api: Api) -> tuple[Request, Request]:
    body = group_body()
    return (auth("sim-manage-initech", "Basic"), body), (NOT_ONBOARDED, body)


def both_access(api: Api) -> tuple[Request, Request]:
    return (auth("sim-view-initech"), group_body()), (VIEW, group_body())


def scope_and_payload(api: Api) -> tuple[Request, Request]:
    body = edited("metadata.name", TOO_LONG, group_body())
    return (VIEW, body), (MANAGE, body)


def payload_and_parent(api: Api) -> tuple[Request, Request]:
    body = group_body(parent="no-such-group")
    return (MANAGE, edited("metadata.name", TOO_LONG, body)), (MANAGE, body)


def parent_and_mode(api: Api) -> tuple[Request, Request]:
    foreign = api.create(group_body("foreign", mode="CASCADING"), OTHER)
    mine = api.create(group_body("mine", mode="CASCADING"))
    return (MANAGE, group_body(parent=foreign["id"])), (MANAGE, group_body(parent=mine["id"]))


def mode_and_depth(api: Api) -> tuple[Request, Request]:
    deepest = api.chain(5, "INDEPENDENT")[-1]["id"]
    return (
        (MANAGE, group_body(parent=deepest, mode="CASCADING")),
        (MANAGE, group_body(parent=deepest, mode="INDEPENDENT")),
    )


def depth_and_ceiling(api: Api) -> tuple[Request, Request]:
    groups = api.chain(5, "CASCADING", threshold=1000)
    over = limited(1001)
    return (
        (MANAGE, group_body(parent=groups[-1]["id"], mode="CASCADING", models=over)),
        (MANAGE, group_body(parent=groups[-2]["id"], mode="CASCADING", models=over)),
    )


def ceiling_and_duplicate(api: Api) -> tuple[Request, Request]:
    root = api.create(group_body("root", mode="CASCADING", models=limited(1000)))["id"]
    return (
        (MANAGE, group_body("root", parent=root, mode="CASCADING", models=limited(1001))),
        (MANAGE, group_body("root", parent=root, mode="CASCADING", models=limited(1000))),
    )


@pytest.mark.parametrize(
    ("first", "second", "build"),
    [
        ("AUTH-MISSING", "ACCESS-ONBOARDED", both_auth),
        ("ACCESS-ONBOARDED", "ACCESS-SCOPE", both_access),
        ("ACCESS-SCOPE", "NAME-LENGTH", scope_and_payload),
        ("NAME-LENGTH", "PARENT-EXISTS", payload_and_parent),
        ("PARENT-EXISTS", "MODE-MATCH", parent_and_mode),
        ("MODE-MATCH", "DEPTH-MAX", mode_and_depth),
        ("DEPTH-MAX", "CASCADE-CEILING", depth_and_ceiling),
        ("CASCADE-CEILING", "EXTID-UNIQUE", ceiling_and_duplicate),
    ],
)
def test_create_answers_the_earlier_of_two_broken_rules(
    first: str, second: str, build: Callable[[Api], tuple[Request, Request]]
) -> None:
    """ERR-ONE-RULE: of two adjacent broken rules the earlier one answers."""
    app = create_app(config_from_mapping(PRECEDENCE_CONFIG))
    api = Api(app.test_client())
    both, second_only = build(api)
    count = store_of(app).count()
    for request, rule in ((both, first), (second_only, second)):
        assert_refused(api.send(request), rule_catalogue()[rule]["status"], rule)
    assert store_of(app).count() == count


def test_create_answers_401_before_anything_else(client: FlaskClient) -> None:
    """ERR-ONE-RULE: a request that breaks every rule at once still gets 401 first."""
    body = {
        "metadata": {"external_entity_id": ""},
        "models": [],
        "hierarchy": {"parent_group_id": "x"},
    }
    assert_refused(client.post(GROUPS, json=body), 401, "AUTH-MISSING")
