"""The documented "Manage groups and API keys" walkthrough over a loopback socket, against the
pytest plugin's simulator served from a thread."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from simulator.testing import SimulatorClient
from tests.http.test_lifecycle import walkthrough

pytestmark = pytest.mark.e2e


def test_walkthrough_over_a_socket(frontier_gateway: SimulatorClient) -> None:
    """The walkthrough over HTTP against a simulator on a loopback port."""
    session = requests.Session()
    session.headers.update(frontier_gateway.headers())

    def call(method: str, path: str, body: Any) -> tuple[int, Any]:
        response = session.request(method, frontier_gateway.url + path, json=body, timeout=10)
        return response.status_code, response.json()

    walkthrough(call)
