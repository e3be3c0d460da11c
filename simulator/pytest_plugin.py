"""pytest fixtures for applications that talk to Frontier Gateway: `frontier_gateway` and kin.

Registered as the `frontier_gateway` pytest11 entry point, so installing the package is all a
project needs. Servers start lazily, on 127.0.0.1, and stop at the end of the session.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from simulator.core.config import Config
    from simulator.harness.seed import Seed
    from simulator.testing import SimulatorClient
    from simulator.webhooks import WebhookReceiver

URL_HELP = "use the simulator (frontier-sim) at this URL instead of one started in a thread"
TOKEN_HELP = (
    "control token of the simulator at --frontier-gateway-url, as frontier-sim printed it "
    "(needed when it is bound beyond loopback; default: $FRONTIER_SIM_CONTROL_TOKEN)"
)
TOKEN_VARIABLE = "FRONTIER_SIM_CONTROL_TOKEN"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("frontier_gateway", "Frontier Gateway simulator")
    group.addoption("--frontier-gateway-url", metavar="URL", help=URL_HELP)
    group.addoption("--frontier-gateway-token", metavar="TOKEN", help=TOKEN_HELP)
    parser.addini("frontier_gateway_url", URL_HELP)
    parser.addini(
        "frontier_gateway_config", "YAML or JSON configuration file of workspaces and keys"
    )
    parser.addini("frontier_gateway_seed", "seed file loaded at start; every reset returns to it")


@pytest.fixture(scope="session")
def frontier_gateway_config(pytestconfig: pytest.Config) -> Config:
    """The simulator's configuration; override this fixture to build one in code."""
    from simulator.core.config import default_config, load_config

    path = _ini_path(pytestconfig, "frontier_gateway_config")
    return load_config(path) if path else default_config()


@pytest.fixture(scope="session")
def frontier_gateway_seed(pytestconfig: pytest.Config) -> Seed | None:
    """The seed loaded at start (None: an empty simulator); override it to build one in code."""
    from simulator.harness.seed import load_seed

    path = _ini_path(pytestconfig, "frontier_gateway_seed")
    return load_seed(path) if path else None


@pytest.fixture
def frontier_gateway(_frontier_gateway_shared: SimulatorClient) -> SimulatorClient:
    """A simulator in its start-up state for this test: one server per session, reset per test."""
    _frontier_gateway_shared.reset()
    return _frontier_gateway_shared


@pytest.fixture
def frontier_webhooks(frontier_gateway: SimulatorClient) -> Iterator[WebhookReceiver]:
    """A billing-webhook receiver on 127.0.0.1, set as the receiver of the `manage` key's
    workspace; `.events` are the events it got, `.received` every request. Stopped after
    the test."""
    from simulator.testing import SimulatorControlError
    from simulator.webhooks import WebhookReceiver

    with WebhookReceiver() as receiver:
        frontier_gateway.set_webhook(receiver.url, receiver.secret)
        yield receiver
        with contextlib.suppress(SimulatorControlError):  # the test may have removed it
            frontier_gateway.remove_webhook()


@pytest.fixture(scope="session")
def frontier_gateway_session(
    pytestconfig: pytest.Config, frontier_gateway_config: Config, frontier_gateway_seed: Seed | None
) -> Iterator[SimulatorClient]:
    """A simulator whose state lives through the whole session: never reset for you.

    It is a server of its own, so the per-test resets of `frontier_gateway` don't touch it.
    """
    yield from _simulator(pytestconfig, frontier_gateway_config, frontier_gateway_seed)


@pytest.fixture(scope="session")
def _frontier_gateway_shared(
    pytestconfig: pytest.Config, frontier_gateway_config: Config, frontier_gateway_seed: Seed | None
) -> Iterator[SimulatorClient]:
    yield from _simulator(pytestconfig, frontier_gateway_config, frontier_gateway_seed)


def _simulator(
    pytestconfig: pytest.Config, config: Config, seed: Seed | None
) -> Iterator[SimulatorClient]:
    from simulator.testing import Keys, SimulatorClient, ThreadedSimulator, home_workspace

    url = pytestconfig.getoption("frontier_gateway_url") or pytestconfig.getini(
        "frontier_gateway_url"
    )
    if url:  # a simulator someone else runs: its seed and lifetime are its own
        token = pytestconfig.getoption("frontier_gateway_token") or os.environ.get(TOKEN_VARIABLE)
        client = SimulatorClient(
            str(url),
            Keys.from_config(config),
            workspace=home_workspace(config),
            control_token=token or None,
        )
        yield client
        client.close()
        return
    with ThreadedSimulator(config, seed=seed) as client:
        yield client


def _ini_path(pytestconfig: pytest.Config, name: str) -> Path | None:
    value = pytestconfig.getini(name)
    return pytestconfig.rootpath / str(value) if value else None
