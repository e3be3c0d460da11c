"""Keys stay secret and the server stays local: nothing it prints holds a key after start-up,
and it listens on loopback only by default (tests/core/test_access.py: keys are matched by
digest).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.core.config import default_config
from simulator.testing import Keys, SimulatorClient
from tests.builders import GROUPS, MANAGE_KEY, group_body, unique
from tests.servers import BANNER_END, FrontierSim, start_frontier_sim

pytestmark = pytest.mark.e2e


def test_server_output_never_holds_a_key_sent_to_it(sim: FrontierSim) -> None:
    """The access log names no key: keys sent as Api-Key or Bearer, known or not, are never
    printed."""
    unknown = f"leaked-{unique('secret')}"
    made = sim.create(group_body(unique("secrets")))
    assert made.status_code == 200
    group_key = sim.call("POST", f"{GROUPS}/{made.json()['id']}/api_keys", json={})
    sent = [MANAGE_KEY, unknown]
    if group_key.status_code == 200:  # a minted key's plaintext is a secret too
        sent.append(group_key.json()["api_key"])
    for key in sent:
        refused = sim.call("GET", f"{GROUPS}/x", key=key)
        assert key not in refused.text
        sim.session().get(sim.url + GROUPS, headers={"Authorization": f"Bearer {key}"})
    sim.session().post(sim.url + GROUPS, data=b"{not json", headers={"Authorization": unknown})
    after_banner = sim.output().partition(BANNER_END)[2]
    assert not [key for key in sent if key in after_banner], after_banner[-2000:]
    assert unknown not in sim.output()
    journal = sim.session().get(sim.url + "/_sim/journal")  # the request log it does keep
    if journal.status_code == 200:
        assert not [key for key in sent if key in journal.text]


def test_server_listens_on_loopback_only_by_default(sim: FrontierSim) -> None:
    """`frontier-sim` with no --host binds 127.0.0.1 and prints no exposure warning."""
    assert f"listening on http://127.0.0.1:{sim.port}" in sim.output()
    assert "WARNING" not in sim.output()
    listening = _listening_addresses(sim.port)
    if listening is not None:  # Linux: the kernel's own table of listening sockets
        assert listening == {"127.0.0.1"}


def _listening_addresses(port: int) -> set[str] | None:
    """The local IPv4/IPv6 addresses listening on `port`, from /proc/net (None elsewhere)."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        return None
    found = set()
    for table in tables:
        lines = table.read_text().splitlines()[1:] if table.exists() else []
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(_address(address))
    return found


def _address(hex_address: str) -> str:
    if len(hex_address) == 8:  # IPv4, little-endian
        return ".".join(str(int(hex_address[i : i + 2], 16)) for i in (6, 4, 2, 0))
    return "ipv6:" + hex_address


def test_a_control_token_guards_frontier_sim_and_the_client_carries_it() -> None:
    """SIM-TOKEN over a socket: `--control-token` is printed, calls without it get 403, and
    SimulatorClient given the token drives the control API and X-Sim-Fault as before."""
    sim = start_frontier_sim("--control-token", "tok-123", "--quiet")
    try:
        assert "X-Sim-Control: tok-123" in sim.banner()
        assert sim.session().get(sim.url + "/_sim/state", timeout=10).status_code == 403
        client = SimulatorClient(
            sim.url, Keys.from_config(default_config()), control_token="tok-123"
        )
        client.reset()
        client.fail_next(503, path=GROUPS)
        assert sim.create(group_body(unique("faulted"))).status_code == 503
        header = {"X-Sim-Fault": "status=429"}
        assert sim.call("GET", GROUPS, headers=header).status_code == 403
        with_token = {**header, **client.control_headers()}
        assert sim.call("GET", GROUPS, headers=with_token).status_code == 429
        client.close()
    finally:
        assert sim.stop() == 0
