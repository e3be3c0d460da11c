"""Fixtures for the tests of the simulator's test harness: the app's harness."""

from __future__ import annotations

import pytest
from flask import Flask

from simulator.harness.bench import Harness
from simulator.web.control import harness


@pytest.fixture
def bench(app: Flask) -> Harness:
    return harness(app)
