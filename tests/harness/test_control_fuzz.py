"""Malformed control requests get 400 (or 404, 405, 413), never 500.

schemathesis generates valid and invalid requests for every operation of
control-openapi.yaml; Hypothesis adds arbitrary JSON, deeply nested included, as the body
of every operation that takes one. Each goes through the Flask test client.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from simulator import create_app
from simulator.harness.control_schema import CONTROL_SPEC_PATH
from tests.builders import control_client

SCHEMA = schemathesis.openapi.from_path(str(CONTROL_SPEC_PATH))
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
BODY_ROUTES = [(op.method.upper(), op.path) for op in OPERATIONS if op.body and "{" not in op.path]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)


def refused_well(answer: Any) -> None:
    assert answer.status_code < 500, answer.get_data(as_text=True)[:300]
    if answer.status_code >= 400:
        body = answer.get_json()
        assert isinstance(body, dict)
        assert isinstance(body.get("error"), str)


@pytest.fixture(scope="module")
def shared() -> FlaskClient:
    return control_client(create_app())


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op.method.upper()} {op.path}")
@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
def test_generated_control_requests_never_get_a_5xx(
    shared: FlaskClient, operation: Any, mode: GenerationMode
) -> None:
    @settings(
        max_examples=8,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case: Any) -> None:
        path = case.formatted_path
        kwargs: dict[str, Any] = {"query_string": case.query or None}
        if not isinstance(case.body, schemathesis.core.NotSet):
            raw = isinstance(case.body, bytes)  # a negative case's body of another media type
            kwargs["data"] = case.body if raw else json.dumps(case.body)
            kwargs["content_type"] = case.media_type or "application/json"
        refused_well(shared.open(path, method=case.method, **kwargs))

    try:
        send()
    except Unsatisfiable:  # an operation with nothing to make invalid: nothing to send
        assert mode is GenerationMode.NEGATIVE


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=json_values)
def test_any_json_body_gets_no_5xx(shared: FlaskClient, method: str, path: str, body: Any) -> None:
    refused_well(
        shared.open(path, method=method, data=json.dumps(body), content_type="application/json")
    )


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize("opener", [b"[", b'{"a":'])
def test_deeply_nested_json_is_a_400(method: str, path: str, opener: bytes) -> None:
    """Nesting deeper than the parser allows is "not JSON", on every control route."""
    closer = b"]" if opener == b"[" else b"}"
    data = opener * 100_000 + b"1" + closer * 100_000
    client = control_client(create_app())
    answer = client.open(path, method=method, data=data, content_type="application/json")
    assert answer.status_code == 400
    assert answer.get_json() == {"error": "the body must be a JSON document"}
