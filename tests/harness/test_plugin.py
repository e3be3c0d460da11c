"""The pytest plugin from a user's side: the `frontier_gateway` fixtures, the acceptance demo
(a client that honours a 429's retry_after), and a user project run with pytester."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from simulator.testing import Keys, SimulatorClient, ThreadedSimulator

pytest_plugins = ["pytester"]

DOCS = Path(__file__).parents[2] / "docs" / "testing-with-the-simulator.md"

GROUP = {
    "metadata": {"name": "Acme prod", "external_entity_id": "cust_42"},
    "models": [{"slug": "your-org/your-model"}],
    "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": None},
}


class GroupsClient:
    """A user's tiny Gateway client: it retries a 429 after the `retry_after` it was given."""

    def __init__(self, base_url: str, api_key: str, attempts: int = 3) -> None:
        self.base_url, self.attempts = base_url, attempts
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Api-Key {api_key}"

    def create_group(self, body: dict[str, Any]) -> dict[str, Any]:
        for _ in range(self.attempts):
            response = self.http.post(f"{self.base_url}/v1/gateway/groups", json=body)
            if response.status_code != 429:
                response.raise_for_status()
                created: dict[str, Any] = response.json()
                return created
            time.sleep(response.json()["retry_after"])
        raise RuntimeError("still rate limited")


def test_plugin_acceptance_client_retries_after_429(frontier_gateway: SimulatorClient) -> None:
    """A 429 fault makes the client wait retry_after (1 s at least), then the group exists."""
    frontier_gateway.fail_next(429, retry_after=1, method="POST", path="/v1/gateway/groups")
    client = GroupsClient(frontier_gateway.url, str(frontier_gateway.keys.manage))

    started = time.monotonic()
    group = client.create_group(GROUP)
    waited = time.monotonic() - started

    assert waited >= 1  # a lower bound only: machines are noisy
    listed = requests.get(
        f"{frontier_gateway.url}/v1/gateway/groups", headers=frontier_gateway.headers(), timeout=10
    ).json()
    assert [g["id"] for g in listed["items"]] == [group["id"]]
    statuses = [e["status"] for e in frontier_gateway.journal(path="/v1/gateway/groups")]
    assert statuses == [429, 200, 200]


@pytest.mark.parametrize("attempt", [1, 2])
def test_plugin_gives_each_test_an_empty_simulator(
    frontier_gateway: SimulatorClient, attempt: int
) -> None:
    """Each test starts empty: the same external_entity_id is free in both runs."""
    response = requests.post(
        f"{frontier_gateway.url}/v1/gateway/groups",
        json=GROUP,
        headers=frontier_gateway.headers(),
        timeout=10,
    )
    assert response.status_code == 200, (attempt, response.text)
    assert frontier_gateway.journal()[0]["status"] == 200


def test_plugin_keys_are_the_default_roles(frontier_gateway: SimulatorClient) -> None:
    """`keys` names one key per role of the default configuration."""
    assert frontier_gateway.keys == Keys(
        manage="sim-manage-acme",
        view="sim-view-acme",
        other_workspace="sim-manage-globex",
        not_onboarded="sim-manage-initech",
    )
    url = f"{frontier_gateway.url}/v1/gateway/groups"
    statuses = [
        requests.get(url, headers=frontier_gateway.headers(role), timeout=10).status_code
        for role in ("manage", "view", "other_workspace", "not_onboarded")
    ]
    assert statuses == [200, 200, 200, 403]
    with pytest.raises(LookupError):
        frontier_gateway.headers("admin")


def test_plugin_session_fixture_is_a_separate_simulator(
    frontier_gateway: SimulatorClient, frontier_gateway_session: SimulatorClient
) -> None:
    """The session simulator is its own server: resetting the per-test one leaves it alone."""
    assert frontier_gateway_session.url != frontier_gateway.url
    extid = f"session-{uuid.uuid4()}"
    created = requests.post(
        f"{frontier_gateway_session.url}/v1/gateway/groups",
        json={**GROUP, "metadata": {"external_entity_id": extid}},
        headers=frontier_gateway_session.headers(),
        timeout=10,
    )
    assert created.status_code == 200
    frontier_gateway.reset()
    state = frontier_gateway_session.export_state()
    assert extid in [g["metadata"]["external_entity_id"] for g in state["groups"]]


def test_plugin_drop_closes_the_connection_without_a_response(
    frontier_gateway: SimulatorClient,
) -> None:
    """A dropped request raises ConnectionError in the client and changes nothing."""
    frontier_gateway.drop_next(method="POST")
    with pytest.raises(requests.ConnectionError, match="without response"):
        requests.post(
            f"{frontier_gateway.url}/v1/gateway/groups",
            json=GROUP,
            headers=frontier_gateway.headers(),
            timeout=10,
        )
    assert frontier_gateway.export_state()["groups"] == []
    assert frontier_gateway.journal()[0]["status"] is None


def test_plugin_drop_after_carries_the_request_out(frontier_gateway: SimulatorClient) -> None:
    """`drop_next(after=True)`: the group is created, but the client never hears so."""
    frontier_gateway.drop_next(after=True, method="POST")
    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{frontier_gateway.url}/v1/gateway/groups",
            json=GROUP,
            headers=frontier_gateway.headers(),
            timeout=10,
        )
    assert len(frontier_gateway.export_state()["groups"]) == 1
    assert frontier_gateway.journal()[0]["status"] == 200


def test_plugin_delay_next_then_carries_out(frontier_gateway: SimulatorClient) -> None:
    """`delay_next` holds the request at least that long; it still succeeds."""
    frontier_gateway.delay_next(100)
    started = time.monotonic()
    response = requests.get(
        f"{frontier_gateway.url}/v1/gateway/groups", headers=frontier_gateway.headers(), timeout=10
    )
    assert time.monotonic() - started >= 0.1
    assert response.status_code == 200
    assert frontier_gateway.faults() == []


def test_plugin_fault_header_over_a_socket(frontier_gateway: SimulatorClient) -> None:
    """The X-Sim-Fault header works over a real connection too."""
    response = requests.get(
        f"{frontier_gateway.url}/v1/gateway/groups",
        headers={**frontier_gateway.headers(), "X-Sim-Fault": "status=429; retry_after=2"},
        timeout=10,
    )
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["retry_after"] == 2


USER_TEST = '''
import requests

def test_create_group(frontier_gateway):
    """A user's test: no conftest, no setup: the fixture is simply there."""
    url = frontier_gateway.url + "/v1/gateway/groups"
    body = {
        "metadata": {"external_entity_id": "cust_42"},
        "models": [{"slug": "your-org/your-model"}],
        "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": None},
    }
    assert requests.post(url, json=body, headers=frontier_gateway.headers()).status_code == 200

def test_again_on_an_empty_simulator(frontier_gateway):
    test_create_group(frontier_gateway)

def test_fail_next(frontier_gateway):
    frontier_gateway.fail_next(503, method="GET")
    url = frontier_gateway.url + "/v1/gateway/groups"
    assert requests.get(url, headers=frontier_gateway.headers()).status_code == 503
    assert requests.get(url, headers=frontier_gateway.headers()).status_code == 200
'''


def test_plugin_works_in_a_user_project_without_conftest(pytester: pytest.Pytester) -> None:
    """A project with only a test file gets `frontier_gateway` from the installed plugin."""
    pytester.makepyfile(test_user=USER_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_plugin_loads_seed_and_config_from_ini(pytester: pytest.Pytester) -> None:
    """`frontier_gateway_config` and `frontier_gateway_seed` in the ini set up every test."""
    pytester.makefile(
        ".yaml",
        sim="workspaces:\n  team:\n    keys: {team-admin: management, team-reader: view}\n",
        seed=(
            "workspaces:\n  team:\n    groups:\n"
            "      - {external_entity_id: cust_42, models: [{slug: team/model}]}\n"
        ),
    )
    pytester.makeini(
        "[pytest]\nfrontier_gateway_config = sim.yaml\nfrontier_gateway_seed = seed.yaml\n"
    )
    pytester.makepyfile(
        test_seeded="""
import requests

def test_seeded(frontier_gateway):
    assert frontier_gateway.keys.manage == "team-admin"
    assert frontier_gateway.keys.view == "team-reader"
    assert frontier_gateway.keys.other_workspace is None
    items = requests.get(
        frontier_gateway.url + "/v1/gateway/groups", headers=frontier_gateway.headers("view")
    ).json()["items"]
    assert [g["metadata"]["external_entity_id"] for g in items] == ["cust_42"]
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_plugin_can_point_at_a_running_simulator(pytester: pytest.Pytester) -> None:
    """`--frontier-gateway-url` makes the fixtures use that simulator instead of a thread."""
    pytester.makepyfile(
        test_remote="""
def test_remote(frontier_gateway):
    assert frontier_gateway.app is None
    frontier_gateway.fail_next(503)
"""
    )
    with ThreadedSimulator() as remote:
        result = pytester.runpytest_inprocess(
            "-p", "no:cacheprovider", f"--frontier-gateway-url={remote.url}"
        )
        result.assert_outcomes(passed=1)
        assert len(remote.faults()) == 1


def test_plugin_carries_the_control_token_of_a_running_simulator(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIM-TOKEN: `--frontier-gateway-token` (or FRONTIER_SIM_CONTROL_TOKEN) reaches every
    control call of the fixtures; without it the simulator refuses them."""
    pytester.makepyfile(
        test_remote="""
def test_remote(frontier_gateway):
    frontier_gateway.fail_next(503)
"""
    )
    with ThreadedSimulator(control_token="tok-9") as remote:
        url = f"--frontier-gateway-url={remote.url}"
        given = pytester.runpytest_inprocess(
            "-p", "no:cacheprovider", url, "--frontier-gateway-token=tok-9"
        )
        given.assert_outcomes(passed=1)
        monkeypatch.setenv("FRONTIER_SIM_CONTROL_TOKEN", "tok-9")
        pytester.runpytest_inprocess("-p", "no:cacheprovider", url).assert_outcomes(passed=1)
        monkeypatch.delenv("FRONTIER_SIM_CONTROL_TOKEN")
        refused = pytester.runpytest_inprocess("-p", "no:cacheprovider", url)
        refused.assert_outcomes(errors=1)
        assert len(remote.faults()) == 1  # the second run reset the first one's


def test_plugin_examples_of_the_docs_pass(pytester: pytest.Pytester) -> None:
    """The test examples in docs/testing-with-the-simulator.md run and pass as written."""
    text = DOCS.read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "def test_" in b]
    assert len(blocks) >= 2  # the first example and the retry_after acceptance example
    pytester.makepyfile(**{f"test_docs_{i}": block for i, block in enumerate(blocks)})
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=len(blocks))
