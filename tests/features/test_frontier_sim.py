"""`frontier-sim` on granian, end to end: a seeded start, the control API, faults (a drop is
approximated: granian gives an app no socket) and `--no-control-api`."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

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
MANAGE = {"Authorization": "Api-Key sim-manage-acme"}


class Sim:
    """A `frontier-sim` process on a free loopback port, and what its banner said."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "simulator", "--port", "0", "--threads", "2", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.banner: list[str] = []
        for line in self.process.stdout:
            self.banner.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        found = re.search(r"listening on (http://\S+)", self.banner[0] if self.banner else "")
        assert found, self.banner
        self.url = found.group(1)
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        for _ in range(200):
            try:
                requests.get(self.url + "/_sim/faults", timeout=1)
                return
            except requests.ConnectionError:
                self.process.poll()
                assert self.process.returncode is None, "frontier-sim exited"
                time.sleep(0.05)
        raise AssertionError("frontier-sim didn't start")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    path: Path = tmp_path_factory.mktemp("seed") / "seed.yaml"
    path.write_text(SEED)
    sim = Sim("--seed", str(path))
    yield sim
    sim.stop()


def test_frontier_sim_banner_shows_seeded_keys_and_control_api(seeded: Sim) -> None:
    """The banner lists the seed's keys with their plaintext and the control API's URL."""
    text = "\n".join(seeded.banner)
    assert "acme/cust_42" in text
    assert CI_KEY in text
    minted = re.findall(r"sky_\w{12}\.\w{32}", text)  # the key the seed left to be minted
    assert len(minted) == 1
    assert f"{seeded.url}/_sim/" in text


def test_frontier_sim_serves_the_seed_and_resets_to_it(seeded: Sim) -> None:
    """The seeded groups are served, and /_sim/reset brings them back after a change."""
    before = requests.get(seeded.url + "/_sim/state", timeout=10).json()
    assert [g["metadata"]["external_entity_id"] for g in before["groups"]] == [
        "cust_42",
        "cust_42_eng",
    ]
    root = before["groups"][0]["id"]
    assert requests.delete(f"{seeded.url}/v1/gateway/groups/{root}", headers=MANAGE, timeout=10).ok
    requests.post(seeded.url + "/_sim/reset", timeout=10)
    assert requests.get(seeded.url + "/_sim/state", timeout=10).json() == before


def test_frontier_sim_forced_429_under_granian(seeded: Sim) -> None:
    """A 429 rule answers the documented shape through granian too."""
    requests.post(seeded.url + "/_sim/faults", json={"status": 429, "times": 1}, timeout=10)
    response = requests.get(seeded.url + "/v1/gateway/groups", headers=MANAGE, timeout=10)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response.json() == {
        "error": "Rate limit exceeded. Please try again later.",
        "retry_after": 1,
    }


def test_frontier_sim_drop_is_a_connection_error_under_granian(seeded: Sim) -> None:
    """Under granian a drop cuts the connection before any body: the client gets an error."""
    requests.post(seeded.url + "/_sim/faults", json={"drop": "before", "times": 1}, timeout=10)
    before = requests.get(seeded.url + "/_sim/state", timeout=10).json()
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        requests.post(
            seeded.url + "/v1/gateway/groups",
            json={
                "metadata": {"external_entity_id": "dropped"},
                "models": [{"slug": "your-org/your-model"}],
                "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": None},
            },
            headers=MANAGE,
            timeout=10,
        )
    assert requests.get(seeded.url + "/_sim/state", timeout=10).json() == before


def test_frontier_sim_without_control_api() -> None:
    """`--no-control-api`: /_sim/ is 404, the fault header is ignored, the banner is silent."""
    sim = Sim("--no-control-api")
    try:
        assert requests.post(sim.url + "/_sim/reset", timeout=10).status_code == 404
        response = requests.get(
            sim.url + "/v1/gateway/groups",
            headers={**MANAGE, "X-Sim-Fault": "status=503"},
            timeout=10,
        )
        assert response.status_code == 200
        assert "/_sim/" not in "\n".join(sim.banner)
    finally:
        sim.stop()
