"""Fixtures for the HTTP tests: the app's store, headers by role, and makers of groups and
chains through the test client (the app and its client come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from simulator.core.store import Store
from tests.builders import (
    MANAGE,
    NOT_ONBOARDED,
    OTHER,
    VIEW,
    group_body,
    post_group,
    store_of,
)


@pytest.fixture
def store(app: Flask) -> Store:
    return store_of(app)


@pytest.fixture
def manage_headers() -> dict[str, str]:
    return dict(MANAGE)


@pytest.fixture
def view_headers() -> dict[str, str]:
    return dict(VIEW)


@pytest.fixture
def other_workspace_headers() -> dict[str, str]:
    return dict(OTHER)


@pytest.fixture
def not_onboarded_headers() -> dict[str, str]:
    return dict(NOT_ONBOARDED)


@pytest.fixture
def create(client: FlaskClient) -> Callable[..., dict[str, Any]]:
    """Creates a group from a body and returns its JSON, failing the test unless 200."""

    def make(body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = post_group(client, body, headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        created: dict[str, Any] = response.get_json()
        return created

    return make


@pytest.fixture
def make_group(create: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Creates `group_body(external_id, **kwargs)` and returns its JSON."""

    def make(external_id: str, **kwargs: Any) -> dict[str, Any]:
        return create(group_body(external_id, **kwargs))

    return make


@pytest.fixture
def chain(create: Callable[..., dict[str, Any]]) -> Callable[..., list[dict[str, Any]]]:
    """Creates a parent-to-child chain of `levels` groups; every group gets `models`."""

    def make(
        levels: int,
        *,
        mode: str = "INDEPENDENT",
        models: list[dict[str, Any]] | None = None,
        prefix: str = "level",
        headers: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = []
        for level in range(1, levels + 1):
            parent = groups[-1]["id"] if groups else None
            body = group_body(f"{prefix}-{level}", parent=parent, mode=mode, models=models)
            groups.append(create(body, headers))
        return groups

    return make
