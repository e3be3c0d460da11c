"""Fixtures for the HTTP tests of the routes beyond create: a fresh app and a small client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.defaults import MANAGE, NOT_ONBOARDED, OTHER, VIEW  # noqa: F401  (re-exported)


def group_body(
    external_id: str,
    parent: str | None = None,
    mode: str = "INDEPENDENT",
    models: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "metadata": {"external_entity_id": external_id},
        "models": models if models is not None else [{"slug": "org/model"}],
        "hierarchy": {"limit_enforcement": mode, "parent_group_id": parent},
    }


def rate(threshold: int, slug: str = "org/model") -> list[dict[str, Any]]:
    return [
        {"slug": slug, "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": threshold}]}
    ]


@pytest.fixture
def make_group(client: FlaskClient) -> Callable[..., dict[str, Any]]:
    def make(external_id: str, **kwargs: Any) -> dict[str, Any]:
        response = client.post(
            "/v1/gateway/groups", json=group_body(external_id, **kwargs), headers=MANAGE
        )
        assert response.status_code == 200, response.json
        group: dict[str, Any] = response.json
        return group

    return make
