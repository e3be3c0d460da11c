"""Fixtures for testing the conformance suite: what a run left behind, and a real server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from tests.builders import ENDPOINTS, GROUPS, MANAGE_KEY, OTHER_WORKSPACE_KEY, auth
from tests.servers import start_frontier_sim

MANAGEMENT_KEYS = (MANAGE_KEY, OTHER_WORKSPACE_KEY)


def groups_left(get: Callable[[str, str], Any]) -> list[dict[str, Any]]:
    """Every group the management keys can list, through the API, page by page."""
    found: list[dict[str, Any]] = []
    for key in MANAGEMENT_KEYS:
        cursor = None
        while True:
            query = f"?limit=1000&cursor={cursor}" if cursor else "?limit=1000"
            page = get(GROUPS + query, key)
            found += page["items"]
            cursor = page["pagination"]["cursor"]
            if not page["pagination"]["has_more"]:
                break
    return found


def app_endpoints(app: Flask) -> list[dict[str, Any]]:
    """Every endpoint the management keys can list (one page holds them all in tests)."""
    client = app.test_client()
    found: list[dict[str, Any]] = []
    for key in MANAGEMENT_KEYS:
        found += client.get(f"{ENDPOINTS}?limit=1000", headers=auth(key)).json["items"]
    return found


def app_groups(app: Flask) -> list[dict[str, Any]]:
    client = app.test_client()
    return groups_left(lambda path, key: client.get(path, headers=auth(key)).json)


def url_groups(url: str) -> list[dict[str, Any]]:
    def get(path: str, key: str) -> Any:
        return requests.get(url + path, headers=auth(key), timeout=10).json()

    return groups_left(get)


@pytest.fixture
def sim_url() -> Iterator[str]:
    """`frontier-sim` in a subprocess on a free loopback port; stopped afterwards."""
    running = start_frontier_sim()
    try:
        yield running.url
    finally:
        running.stop()
