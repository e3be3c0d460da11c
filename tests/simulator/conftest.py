"""Fixtures and helpers for the simulator's own tests: a fresh app per test, keys by role,
valid request bodies, and a real `frontier-sim` process for the end-to-end tests."""

from __future__ import annotations

import copy
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from simulator.core.store import Store
from simulator.web.app import EXTENSION, RULE_HEADER
from tests.defaults import (  # noqa: F401  (re-exported to the tests beside this file)
    GROUPS,
    MANAGE,
    MANAGE_KEY,
    NOT_ONBOARDED,
    NOT_ONBOARDED_KEY,
    OTHER,
    OTHER_WORKSPACE_KEY,
    VIEW,
    VIEW_KEY,
    auth,
)

SLUG = "your-org/your-model"

# gateway-facts §1.1, "Example request" and "Example response `200`", exactly.
DOCUMENTED_REQUEST: dict[str, Any] = {
    "metadata": {"name": "Acme prod", "external_entity_id": "cust_42"},
    "models": [
        {
            "slug": "your-org/your-model",
            "rate_limits": [
                {"type": "TOKEN", "unit": "MINUTE", "threshold": 1000000},
                {"type": "REQUEST", "unit": "MINUTE", "threshold": 100},
            ],
            "usage_limits": [{"type": "TOKEN", "unit": "DAY", "threshold": 10000000}],
        }
    ],
    "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": None},
}
DOCUMENTED_RESPONSE: dict[str, Any] = {
    "id": "abc123hash",
    "metadata": {"name": "Acme prod", "external_entity_id": "cust_42"},
    "models": [
        {
            "slug": "your-org/your-model",
            "rate_limits": [
                {"type": "TOKEN", "unit": "MINUTE", "threshold": 1000000},
                {"type": "REQUEST", "unit": "MINUTE", "threshold": 100},
            ],
            "usage_limits": [{"type": "TOKEN", "unit": "DAY", "threshold": 10000000}],
        }
    ],
    "effective_models": [
        {
            "slug": "your-org/your-model",
            "rate_limits": [
                {
                    "type": "TOKEN",
                    "unit": "MINUTE",
                    "threshold": 1000000,
                    "source_group": "abc123hash",
                },
                {
                    "type": "REQUEST",
                    "unit": "MINUTE",
                    "threshold": 100,
                    "source_group": "abc123hash",
                },
            ],
            "usage_limits": [
                {
                    "type": "TOKEN",
                    "unit": "DAY",
                    "threshold": 10000000,
                    "source_group": "abc123hash",
                }
            ],
        }
    ],
    "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": None},
    "created_at": "2026-05-13T12:00:00Z",
}
# gateway-facts §1.1, "Child-group example", request body exactly (parent id filled in).
CHILD_REQUEST: dict[str, Any] = {
    "metadata": {"name": "Acme prod / engineering", "external_entity_id": "cust_42_engineering"},
    "models": [
        {
            "slug": "your-org/your-model",
            "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": 700000}],
        }
    ],
    "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": "abc123hash"},
}

RFC3339_UTC = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"


def documented_request() -> dict[str, Any]:
    return copy.deepcopy(DOCUMENTED_REQUEST)


def expected_documented_response(group_id: str, created_at: str) -> dict[str, Any]:
    """The documented response with this group's id (also as every source_group) and time."""
    expected = copy.deepcopy(DOCUMENTED_RESPONSE)
    expected["id"], expected["created_at"] = group_id, created_at
    for entry in expected["effective_models"]:
        for item in entry["rate_limits"] + entry["usage_limits"]:
            item["source_group"] = group_id
    return expected


def limit(kind: str, unit: str, threshold: Any) -> dict[str, Any]:
    return {"type": kind, "unit": unit, "threshold": threshold}


def model(
    slug: str = SLUG,
    rate: Sequence[tuple[str, str, Any]] = (),
    usage: Sequence[tuple[str, str, Any]] = (),
) -> dict[str, Any]:
    """A model entry; `rate` and `usage` are (type, unit, threshold) triples."""
    return {
        "slug": slug,
        "rate_limits": [limit(*x) for x in rate],
        "usage_limits": [limit(*x) for x in usage],
    }


def group_body(
    external_id: str = "cust_42",
    *,
    parent: str | None = None,
    mode: str = "INDEPENDENT",
    models: list[dict[str, Any]] | None = None,
    name: str | None = "Acme prod",
) -> dict[str, Any]:
    """A valid create body: one slug with a TOKEN/MINUTE rate limit unless `models` is given."""
    return {
        "metadata": {"name": name, "external_entity_id": external_id},
        "models": models if models is not None else [model(rate=[("TOKEN", "MINUTE", 1000)])],
        "hierarchy": {"limit_enforcement": mode, "parent_group_id": parent},
    }


def post_group(
    client: FlaskClient, body: Any, headers: dict[str, str] | None = None
) -> TestResponse:
    return client.post(GROUPS, json=body, headers=MANAGE if headers is None else headers)


def assert_refused(response: TestResponse, status: int, rule: str | None = None) -> None:
    """The error shape (ERR-BODY) with the given status and, if given, X-Frontier-Rule."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body, dict)
    assert set(body) == {"error"}
    assert isinstance(body["error"], str)
    assert body["error"]
    if rule is not None:
        assert response.headers.get(RULE_HEADER) == rule


def store_of(app: Flask) -> Store:
    store: Store = app.extensions[EXTENSION].store
    return store


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
    """Creates a group and returns its JSON, failing the test unless the answer is 200."""

    def make(body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = post_group(client, body, headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        created: dict[str, Any] = response.get_json()
        return created

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


# A real server: `frontier-sim` in a subprocess, bound to 127.0.0.1 (end-to-end tests).


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def sim_command() -> list[str]:
    """The installed `frontier-sim` script next to this interpreter, else `python -m simulator`."""
    script = Path(sys.executable).with_name("frontier-sim")
    return [str(script)] if script.exists() else [sys.executable, "-m", "simulator"]


@dataclass
class SimServer:
    process: subprocess.Popen[str]
    url: str

    def stop(self) -> tuple[int, str, str]:
        """SIGINT to the process group, as Ctrl-C in a terminal sends it to the server and its
        worker alike; then the exit code and everything the process printed."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            out, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own group: the worker goes too
            out, err = self.process.communicate()
            pytest.fail(f"frontier-sim didn't stop on SIGINT; stderr: {err}")
        return self.process.returncode, out, err


def start_server(command: list[str], extra_args: Sequence[str] = ()) -> SimServer:
    """Starts the simulator on a free loopback port and waits (at most 10 s) for an answer."""
    port = free_port()
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), *extra_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    server = SimServer(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _, out, err = server.stop()
            pytest.fail(f"frontier-sim exited early ({process.returncode}): {out}{err}")
        try:
            requests.get(f"{server.url}{GROUPS}/probe", timeout=1)
            return server
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.05)
    server.stop()
    pytest.fail("frontier-sim didn't answer within 10 s")
