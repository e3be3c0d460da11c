"""The validation fast path: jsonschema-rs and jsonschema give one verdict on every body.

`BodyValidator` takes an acceptance from jsonschema-rs and sends everything else to
jsonschema, so the two must agree; bodies come from schemathesis (valid and invalid, for
every operation with a body) and from a table of edge values.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core import NotSet

from simulator.core.spec import BodyValidator, load_spec, operations

SPEC = load_spec()
VALIDATORS = {
    (op.operation_id, strict): BodyValidator(SPEC, op.body_schema, strict)
    for op in operations(SPEC)
    if op.body_schema is not None
    for strict in (False, True)
}
DOCUMENTED: dict[str, Any] = {
    "metadata": {"name": "Acme prod", "external_entity_id": "cust_42"},
    "models": [
        {
            "slug": "your-org/your-model",
            "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": 1000000}],
            "usage_limits": [{"type": "TOKEN", "unit": "DAY", "threshold": 10000000}],
        }
    ],
    "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": None},
}


def verdicts(validator: BodyValidator, body: Any) -> tuple[bool | None, bool]:
    """(jsonschema-rs, jsonschema); None where jsonschema-rs can't take the body at all."""
    try:
        fast: bool | None = validator._fast.is_valid(body)  # the two halves, compared
    except Exception:
        fast = None
    return fast, validator._validator.is_valid(body)


def _bodies() -> st.SearchStrategy[tuple[str, Any]]:
    schema = schemathesis.openapi.from_dict(SPEC)
    strategies = []
    for result in schema.get_all_operations():
        operation = result.ok()
        op_id = operation.definition.raw.get("operationId")
        if (op_id, False) not in VALIDATORS:
            continue
        for mode in GenerationMode:
            strategies.append(
                operation.as_strategy(generation_mode=mode).map(
                    lambda case, op_id=op_id: (op_id, case.body)
                )
            )
    return st.one_of(strategies).filter(lambda pair: not isinstance(pair[1], NotSet))


@pytest.mark.slow  # 300 generated bodies
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(pair=_bodies(), strict=st.booleans())
def test_fast_path_agrees_with_jsonschema_on_generated_bodies(
    pair: tuple[str, Any], strict: bool
) -> None:
    """Every generated body, valid or not: jsonschema-rs accepts exactly what jsonschema does."""
    op_id, body = pair
    fast, slow = verdicts(VALIDATORS[(op_id, strict)], body)
    assert fast in (slow, None), body


@pytest.mark.parametrize(
    "threshold",
    [1, 1.0, 0, -1, 1.5, 2**63 - 1, 2**63, 2**64, 2**70, -(2**70), 1e300, float("inf"), True, "1"],
)
def test_fast_path_agrees_on_edge_thresholds(threshold: Any) -> None:
    """THRESHOLD-INT edges: integral floats, 64-bit bounds, huge and infinite numbers."""
    body = copy.deepcopy(DOCUMENTED)
    body["models"][0]["rate_limits"][0]["threshold"] = threshold
    fast, slow = verdicts(VALIDATORS[("createGroup", False)], body)
    assert fast in (slow, None)


@pytest.mark.parametrize(
    "slug", ["a/b", "a/b\n", "\na/b", "a//b", "/b", "a/", "é/ü", "a/b/c", "a\u2028/b", "\ud800/b"]
)
def test_fast_path_agrees_on_edge_slugs(slug: str) -> None:
    """SLUG-FORMAT edges: line ends (Python's `$` matches before a final newline), Unicode."""
    body = copy.deepcopy(DOCUMENTED)
    body["models"][0]["slug"] = slug
    fast, slow = verdicts(VALIDATORS[("createGroup", False)], body)
    assert fast in (slow, None)


def test_fast_path_counts_characters_as_jsonschema_does() -> None:
    """NAME-LENGTH in code points: 255 emoji pass and 256 fail, in both."""
    for length, expected in ((255, True), (256, False)):
        body = copy.deepcopy(DOCUMENTED)
        body["metadata"]["name"] = "\U0001f600" * length
        assert verdicts(VALIDATORS[("createGroup", False)], body) == (expected, expected)
