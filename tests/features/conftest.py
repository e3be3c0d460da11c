"""Fixtures for the tests of the simulator's test features: a fresh app with its harness, and
valid request bodies."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from simulator.harness.bench import Harness
from simulator.web.control import harness
from tests.defaults import ENDPOINTS, GROUPS, MANAGE, OTHER, VIEW  # noqa: F401  (re-exported)

SLUG = "your-org/your-model"


def group_body(
    external_id: str = "cust_42",
    *,
    parent: str | None = None,
    mode: str = "INDEPENDENT",
    threshold: int = 1000,
) -> dict[str, Any]:
    """A valid create body: one slug with a TOKEN/MINUTE rate limit."""
    return {
        "metadata": {"name": f"group {external_id}", "external_entity_id": external_id},
        "models": [
            {
                "slug": SLUG,
                "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": threshold}],
                "usage_limits": [{"type": "TOKEN", "unit": "DAY", "threshold": threshold * 10}],
            }
        ],
        "hierarchy": {"limit_enforcement": mode, "parent_group_id": parent},
    }


def endpoint_body(slug: str = "acme/llama") -> dict[str, Any]:
    return {"slug": slug, "targets": [{"provider": "BASETEN", "model_id": "m1"}]}


def create_group(client: FlaskClient, external_id: str = "cust_42", **kwargs: Any) -> str:
    response = client.post(GROUPS, json=group_body(external_id, **kwargs), headers=MANAGE)
    assert response.status_code == 200, response.get_data(as_text=True)
    group_id: str = response.get_json()["id"]
    return group_id


def group_count(client: FlaskClient, headers: dict[str, str] = MANAGE) -> int:
    response = client.get(GROUPS, headers=headers)
    assert response.status_code == 200
    return len(response.get_json()["items"])


@pytest.fixture
def bench(app: Flask) -> Harness:
    return harness(app)
