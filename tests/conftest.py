"""Project-wide fixtures (a fresh app and its test client) and settings: under CI a skipped
test fails the run."""

from __future__ import annotations

import os

import pytest
from flask import Flask
from flask.testing import FlaskClient

from simulator import create_app
from simulator.web.guard import CONTROL_KEY


@pytest.fixture
def app() -> Flask:
    """A fresh simulator with its own store: tests never share state."""
    return create_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """The app's test client; like SimulatorClient, it sends `X-Sim-Control: 1`, which
    state-changing control calls need (SIM-CONTROL-HEADER)."""
    client = app.test_client()
    client.environ_base[CONTROL_KEY] = "1"
    return client


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not os.environ.get("CI") or hasattr(session.config, "workerinput"):
        return  # only the controlling process of an xdist run decides
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and exitstatus == 0:
        reporter.write_line(f"CI: {skipped} test(s) were skipped; under CI every test must run.")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
