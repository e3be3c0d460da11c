"""Fixtures for testing the conformance suite: the simulator's keys, apps and a real server."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from simulator.core.config import DEMO_SIGNING_KEY
from simulator.web.app import create_app

# globex has no public key on file in the simulator; acme owns the org prefix `acme`.
KEYS = {
    "api_key": "sim-manage-acme",
    "view_key": "sim-view-acme",
    "other_workspace_key": "sim-manage-globex",
    "not_onboarded_key": "sim-manage-initech",
    "no_public_key_workspace_key": "sim-manage-globex",
    "signing_key": DEMO_SIGNING_KEY,
    "org_prefix": "acme",
}
CLI_KEYS = [
    "--api-key", "sim-manage-acme",
    "--view-key", "sim-view-acme",
    "--other-workspace-key", "sim-manage-globex",
    "--not-onboarded-key", "sim-manage-initech",
    "--no-public-key-workspace-key", "sim-manage-globex",
    "--signing-key", DEMO_SIGNING_KEY,
    "--org-prefix", "acme",
]  # fmt: skip
MANAGEMENT_KEYS = ("sim-manage-acme", "sim-manage-globex")
GROUPS = "/v1/gateway/groups"


def script(name: str) -> str:
    """An installed console script of this environment."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is not installed"
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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
        headers = {"Authorization": f"Api-Key {key}"}
        found += client.get("/v1/gateway/endpoints?limit=1000", headers=headers).json["items"]
    return found


def app_groups(app: Flask) -> list[dict[str, Any]]:
    client = app.test_client()
    return groups_left(
        lambda path, key: client.get(path, headers={"Authorization": f"Api-Key {key}"}).json
    )


def url_groups(url: str) -> list[dict[str, Any]]:
    def get(path: str, key: str) -> Any:
        return requests.get(
            url + path, headers={"Authorization": f"Api-Key {key}"}, timeout=10
        ).json()

    return groups_left(get)


@pytest.fixture
def app() -> Flask:
    return create_app()


@pytest.fixture
def sim_url() -> Iterator[str]:
    """`frontier-sim` in a subprocess on a free loopback port; stopped afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [script("frontier-sim"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "frontier-sim exited at start"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail("frontier-sim didn't listen within 30 s")
