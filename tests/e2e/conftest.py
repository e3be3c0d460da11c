"""A real `frontier-sim` per test module, on a free loopback port (tests/servers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import FrontierSim, start_frontier_sim


@pytest.fixture(scope="module")
def sim() -> Iterator[FrontierSim]:
    """The module's `frontier-sim` with its default settings."""
    running = start_frontier_sim()
    yield running
    assert running.stop() == 0
