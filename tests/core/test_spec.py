"""Unit tests of simulator.core.spec: operations, the rule catalogue and the body validators."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from simulator.core.errors import InvalidPayload
from simulator.core.spec import BodyValidator, load_spec, operations, rule_catalogue
from tests.builders import DOCUMENTED_REQUEST, documented_request

LEVELS = {"documented", "interpreted", "choice"}


def create_validator(strict: bool = False) -> BodyValidator:
    op = next(o for o in operations() if o.operation_id == "createGroup")
    assert op.body_schema is not None
    return BodyValidator(load_spec(), op.body_schema, strict)


def rule_references(node: Any) -> Iterator[str]:
    """Every rule ID named by an `x-rule` or an operation's `x-rules` in the spec."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "x-rule":
                yield value
            elif key == "x-rules" and isinstance(value, list):
                yield from value
            elif key != "x-rules":
                yield from rule_references(value)
    elif isinstance(node, list):
        for value in node:
            yield from rule_references(value)


def test_load_spec_is_loaded_once() -> None:
    """The spec is parsed once and shared (style rule 6)."""
    assert load_spec() is load_spec()


def test_operations_lists_the_group_routes() -> None:
    """Create, get and delete group are operations, and only create has a body schema here."""
    by_id = {op.operation_id: op for op in operations()}
    assert (by_id["createGroup"].method, by_id["createGroup"].path) == (
        "POST",
        "/v1/gateway/groups",
    )
    assert (by_id["getGroup"].method, by_id["getGroup"].path) == (
        "GET",
        "/v1/gateway/groups/{group_id}",
    )
    assert by_id["deleteGroup"].method == "DELETE"
    assert by_id["createGroup"].body_schema == {"$ref": "#/components/schemas/CreateGroupRequest"}
    assert by_id["getGroup"].body_schema is None


def test_rule_catalogue_entries_have_a_level_source_and_summary() -> None:
    """Every x-rules entry has a known level, a source listed in x-sources, and a summary."""
    sources = load_spec()["x-sources"]
    for rule, entry in rule_catalogue().items():
        assert entry["level"] in LEVELS, rule
        assert entry["source"] in sources, rule
        assert entry["summary"], rule
        assert 400 <= entry.get("status", 400) < 500, rule


def test_rule_catalogue_names_every_rule_the_spec_refers_to() -> None:
    """Every `x-rule` on a schema node and every operation's `x-rules` is in the catalogue."""
    spec = {key: value for key, value in load_spec().items() if key != "x-rules"}
    missing = set(rule_references(spec)) - set(rule_catalogue())
    assert not missing


def test_body_validator_accepts_the_documented_request() -> None:
    """The documented example request is valid against createGroup's schema."""
    create_validator().validate(documented_request())
    create_validator(strict=True).validate(documented_request())


@pytest.mark.parametrize(
    ("path", "value", "rule"),
    [
        (("metadata",), "x", "META-REQUIRED"),
        (("metadata", "external_entity_id"), "", "EXTID-REQUIRED"),
        (("metadata", "name"), "n" * 256, "NAME-LENGTH"),
        (("models",), [], "MODELS-NONEMPTY"),
        (("models", 0, "slug"), "no-slash", "SLUG-FORMAT"),
        (("models", 0, "slug"), 7, "SLUG-REQUIRED"),
        (("models", 0, "rate_limits", 0, "unit"), "DAY", "RATE-SHAPE"),
        (("models", 0, "usage_limits", 0, "unit"), "MINUTE", "USAGE-SHAPE"),
        (("models", 0, "rate_limits", 0, "threshold"), "100", "THRESHOLD-INT"),
        (("hierarchy", "limit_enforcement"), "SHARED", "HIER-REQUIRED"),
    ],
)
def test_body_validator_names_the_rule_of_the_refusing_node(
    path: tuple[Any, ...], value: Any, rule: str
) -> None:
    """A refusal is an InvalidPayload naming the `x-rule` of the schema node that refused it."""
    body = documented_request()
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(InvalidPayload) as raised:
        create_validator().validate(body)
    assert raised.value.rule == rule
    assert rule in raised.value.message


def test_body_validator_strict_refuses_unknown_fields() -> None:
    """EXTRA-FIELDS: the strict validator refuses an unknown field; the default ignores it."""
    body = {**copy.deepcopy(DOCUMENTED_REQUEST), "colour": "blue"}
    create_validator().validate(body)
    with pytest.raises(InvalidPayload) as raised:
        create_validator(strict=True).validate(body)
    assert raised.value.rule == "EXTRA-FIELDS"


def test_body_validator_strict_leaves_the_shared_spec_open() -> None:
    """Building a strict validator doesn't close the schemas other validators use."""
    create_validator(strict=True)
    schema = load_spec()["components"]["schemas"]["CreateGroupRequest"]
    assert "additionalProperties" not in schema
