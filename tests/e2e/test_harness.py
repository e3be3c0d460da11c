"""`frontier-sim` on granian, end to end: a seeded start, the control API, faults (a drop is
approximated: granian gives an app no socket) and `--no-control-api`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.builders import CONTROL, MANAGE, group_body
from tests.servers import FrontierSim, start_frontier_sim

pytestmark = pytest.mark.e2e

CI_KEY = "sky_ciSeedKey0001.Q2x3Vb8nR4tYp6LmZ9kW1sD5fG7hJ0aE"
SEED = f"""
workspaces:
  acme:
    groups:
      - external_entity_id: cust_42
        name: Acme prod
        models:
          - slug: your-org/your-model
            rate_limits: [{{type: TOKEN, unit: MINUTE, threshold: 1000000}}]
        api_keys:
          - {{name: ci, key: {CI_KEY}}}
          - {{name: minted}}
      - external_entity_id: cust_42_eng
        parent: cust_42
        models: [{{slug: your-org/your-model}}]
"""


def start(*args: str) -> FrontierSim:
    """`python -m simulator --port 0`: the server picks its port and its banner names it."""
    return start_frontier_sim("--threads", "2", *args, port=0, module=True)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrontierSim]:
    path: Path = tmp_path_factory.mktemp("seed") / "seed.yaml"
    path.write_text(SEED)
    sim = start("--seed", str(path))
    yield sim
    sim.stop()


def test_frontier_sim_banner_shows_seeded_keys_and_control_api(seeded: FrontierSim) -> None:
    """The banner lists the seed's keys with their plaintext and the control API's URL."""
    text = seeded.banner()
    assert "acme/cust_42" in text
    assert CI_KEY in text
    minted = re.findall(r"sky_\w{12}\.\w{32}", text)  # the key the seed left to be minted
    assert len(minted) == 1
    assert f"{seeded.url}/_sim/" in text


def test_frontier_sim_serves_the_seed_and_resets_to_it(seeded: FrontierSim) -> None:
    """The seeded groups are served, and /_sim/reset brings them back after a change."""
    before = requests.get(seeded.url + "/_sim/state", timeout=10).json()
    assert [g["metadata"]["external_entity_id"] for g in before["groups"]] == [
        "cust_42",
        "cust_42_eng",
    ]
    root = before["groups"][0]["id"]
    assert requests.delete(f"{seeded.url}/v1/gateway/groups/{root}", headers=MANAGE, timeout=10).ok
    requests.post(seeded.url + "/_sim/reset", headers=CONTROL, timeout=10)
    assert requests.get(seeded.url + "/_sim/state", timeout=10).json() == before


def test_frontier_sim_forced_429_under_granian(seeded: FrontierSim) -> None:
    """A 429 rule answers the documented shape through granian too."""
    requests.post(
        seeded.url + "/_sim/faults", json={"status": 429, "times": 1}, headers=CONTROL, timeout=10
    )
    response = requests.get(seeded.url + "/v1/gateway/groups", headers=MANAGE, timeout=10)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response.json() == {
        "error": "Rate limit exceeded. Please try again later.",
        "retry_after": 1,
    }


def test_frontier_sim_drop_is_a_connection_error_under_granian(seeded: FrontierSim) -> None:
    """Under granian a drop cuts the connection before any body: the client gets an error."""
    requests.post(
        seeded.url + "/_sim/faults",
        json={"drop": "before", "times": 1},
        headers=CONTROL,
        timeout=10,
    )
    before = requests.get(seeded.url + "/_sim/state", timeout=10).json()
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        requests.post(
            seeded.url + "/v1/gateway/groups",
            json=group_body("dropped"),
            headers=MANAGE,
            timeout=10,
        )
    assert requests.get(seeded.url + "/_sim/state", timeout=10).json() == before


def test_frontier_sim_without_control_api() -> None:
    """`--no-control-api`: /_sim/ is 404, the fault header is ignored, the banner is silent."""
    sim = start("--no-control-api")
    try:
        assert requests.post(sim.url + "/_sim/reset", timeout=10).status_code == 404
        response = requests.get(
            sim.url + "/v1/gateway/groups",
            headers={**MANAGE, "X-Sim-Fault": "status=503"},
            timeout=10,
        )
        assert response.status_code == 200
        assert "/_sim/" not in sim.banner()
    finally:
        sim.stop()
