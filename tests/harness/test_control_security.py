"""The control plane answers its owner only (simulator/web/guard.py): SIM-HOST, SIM-ORIGIN,
SIM-CONTROL-HEADER and SIM-TOKEN, on the `/_sim/` routes and the `X-Sim-Fault` header."""

from __future__ import annotations

import argparse

import pytest
from flask import Flask
from flask.testing import FlaskClient

from simulator import create_app
from simulator.core.config import default_config
from simulator.web.cli import banner, control_token
from tests.builders import CONTROL, GROUPS, MANAGE, group_body

EVIL = "http://evil.example"


def rule_of(answer: object) -> str:
    error = answer.get_json()["error"]  # type: ignore[attr-defined]
    return str(error).rsplit("(", 1)[1].rstrip(")")


def faults(client: FlaskClient) -> list[object]:
    rules: list[object] = client.get("/_sim/faults").get_json()["rules"]
    return rules


def test_a_cross_site_text_plain_post_adds_no_fault(app: Flask) -> None:
    """SIM-ORIGIN: a page on another site posting text/plain (no preflight) is refused."""
    client = app.test_client()
    answer = client.post(
        "/_sim/faults",
        data='{"status": 503}',
        content_type="text/plain",
        headers={"Origin": EVIL, **CONTROL},
    )
    assert answer.status_code == 403
    assert rule_of(answer) == "SIM-ORIGIN"
    assert faults(client) == []
    browser = {"Sec-Fetch-Site": "cross-site", **CONTROL}
    assert client.post("/_sim/reset", headers=browser).status_code == 403


def test_a_dns_rebinding_host_reaches_no_control_route(client: FlaskClient) -> None:
    """SIM-HOST: `Host: evil.example` can neither reset nor read the state."""
    client.post(GROUPS, json=group_body("kept"), headers=MANAGE)
    rebound = {"Host": "evil.example:8080"}
    reset = client.post("/_sim/reset", headers=rebound)
    assert reset.status_code == 403
    assert rule_of(reset) == "SIM-HOST"
    assert client.get("/_sim/state", headers=rebound).status_code == 403
    assert len(client.get(GROUPS, headers=MANAGE).get_json()["items"]) == 1


@pytest.mark.parametrize("host", ["localhost", "localhost:8080", "127.0.0.1:9", "[::1]:80"])
def test_loopback_names_and_addresses_are_served(client: FlaskClient, host: str) -> None:
    assert client.post("/_sim/reset", headers={"Host": host}).status_code == 200


def test_a_state_changing_control_call_needs_the_control_header(app: Flask) -> None:
    """SIM-CONTROL-HEADER: a custom header a browser can't send without a preflight; reads
    need none."""
    client = app.test_client()
    refused = client.post("/_sim/faults", json={"status": 503})
    assert refused.status_code == 403
    assert rule_of(refused) == "SIM-CONTROL-HEADER"
    assert faults(client) == []
    assert client.get("/_sim/state").status_code == 200
    assert client.post("/_sim/faults", json={"status": 503}, headers=CONTROL).status_code == 201


def test_a_preflight_is_never_granted(app: Flask) -> None:
    """No CORS header ever: a browser never sends the custom header cross-site."""
    answer = app.test_client().options(
        "/_sim/faults",
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-sim-control",
        },
    )
    names = [name.lower() for name, _ in answer.headers.items()]
    assert not [name for name in names if name.startswith("access-control")]


def test_the_fault_header_obeys_host_and_origin(client: FlaskClient) -> None:
    """`X-Sim-Fault` from another site's page or a rebinding Host is refused, and the request
    isn't carried out."""
    for headers in ({"Origin": EVIL}, {"Host": "evil.example"}):
        answer = client.post(
            GROUPS,
            json=group_body("faulted"),
            headers={**MANAGE, "X-Sim-Fault": "latency_ms=60000", **headers},
        )
        assert answer.status_code == 403
        assert rule_of(answer) in ("SIM-ORIGIN", "SIM-HOST")
    assert client.get(GROUPS, headers=MANAGE).get_json()["items"] == []
    forced = client.post(
        GROUPS, json=group_body("x"), headers={**MANAGE, "X-Sim-Fault": "status=503"}
    )
    assert forced.status_code == 503  # the owner's own requests still take it


def test_with_a_token_every_control_call_and_fault_header_needs_it() -> None:
    """SIM-TOKEN: reads too; a wrong token is refused; any Host is fine with the token."""
    client = create_app(control_token="s3cret").test_client()
    for headers in ({}, CONTROL, {"X-Sim-Control": "wrong"}):
        refused = client.get("/_sim/state", headers=headers)
        assert refused.status_code == 403
        assert rule_of(refused) == "SIM-TOKEN"
    token = {"X-Sim-Control": "s3cret"}
    assert client.get("/_sim/state", headers={**token, "Host": "ci-box:8080"}).status_code == 200
    fault = {**MANAGE, "X-Sim-Fault": "status=503"}
    assert client.post(GROUPS, json=group_body("a"), headers=fault).status_code == 403
    assert client.post(GROUPS, json=group_body("a"), headers={**fault, **token}).status_code == 503
    assert client.post(GROUPS, json=group_body("a"), headers=MANAGE).status_code == 200


def test_beyond_loopback_frontier_sim_makes_a_token_and_prints_it() -> None:
    """Bound beyond loopback the token is on (random, or --control-token); on loopback off."""

    def args(host: str, token: str | None = None, control_api: bool = True) -> argparse.Namespace:
        return argparse.Namespace(host=host, control_token=token, control_api=control_api)

    made = control_token(args("0.0.0.0"))
    assert made is not None
    assert len(made) >= 32
    assert control_token(args("0.0.0.0")) != made
    assert control_token(args("127.0.0.1")) is None
    assert control_token(args("127.0.0.1", "mine")) == "mine"
    assert control_token(args("0.0.0.0", control_api=False)) is None
    text = banner(default_config(), "http://10.0.0.1:8080", token=made)
    assert f"X-Sim-Control: {made}" in text
