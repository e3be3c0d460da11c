"""The control API as a whole: its routes match control-openapi.yaml, it needs no key, reset
empties everything, and it can be switched off."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from openapi_spec_validator import validate

import conformance
from simulator import create_app
from simulator.core.spec import load_spec
from simulator.harness.control_schema import load_control_spec
from tests.builders import GROUPS, MANAGE, create_group, group_body

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


def control_routes() -> set[tuple[str, str]]:
    found = set()
    for rule in create_app().url_map.iter_rules():
        if rule.rule.startswith("/_sim/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            found.update((m, path) for m in rule.methods - {"HEAD", "OPTIONS"})
    return found


def test_control_spec_is_valid_openapi() -> None:
    """control-openapi.yaml validates as OpenAPI (openapi-spec-validator)."""
    validate(load_control_spec())


def test_control_spec_and_routes_describe_the_same_operations() -> None:
    """Every control operation has a route and every /_sim/ route an operation."""
    documented = {
        (method.upper(), path)
        for path, item in load_control_spec()["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    assert control_routes() == documented


def test_control_paths_cannot_clash_with_the_gateway() -> None:
    """The control API lives under /_sim/; the Gateway's paths are all under /v1/."""
    assert all(path.startswith("/_sim/") for path in load_control_spec()["paths"])
    assert all(path.startswith("/v1/") for path in load_spec()["paths"])


def test_control_api_needs_no_key(client: FlaskClient) -> None:
    """Control routes answer without an Authorization header (a local test tool)."""
    assert client.get("/_sim/state").status_code == 200
    assert client.post("/_sim/reset").status_code == 200


def test_reset_empties_groups_keys_endpoints_faults_and_journal(client: FlaskClient) -> None:
    """POST /_sim/reset: nothing left, and an external_entity_id can be used again."""
    group_id = create_group(client)["id"]
    client.post(f"{GROUPS}/{group_id}/api_keys", headers=MANAGE)
    client.post("/_sim/faults", json={"latency_ms": 0})
    assert client.post("/_sim/reset").get_json() == {"groups": 0, "api_keys": 0, "endpoints": 0}
    assert client.get("/_sim/journal").get_json() == {"entries": []}
    assert client.get("/_sim/faults").get_json() == {"rules": []}
    assert client.get(GROUPS, headers=MANAGE).get_json()["items"] == []
    assert client.get(f"{GROUPS}/{group_id}", headers=MANAGE).status_code == 404
    create_group(client)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/_sim/reset"),
        ("GET", "/_sim/state"),
        ("PUT", "/_sim/state"),
        ("GET", "/_sim/journal"),
        ("POST", "/_sim/seed"),
        ("POST", "/_sim/faults"),
        ("GET", "/_sim/faults"),
        ("DELETE", "/_sim/faults"),
        ("POST", "/_sim/load"),
    ],
)
def test_control_api_switched_off_answers_404(method: str, path: str) -> None:
    """With control_api=False every /_sim/ route is a 404 in the error shape."""
    client = create_app(control_api=False).test_client()
    response = client.open(path, method=method, json={})
    assert response.status_code == 404
    assert set(response.get_json()) == {"error"}


def test_control_api_switched_off_ignores_the_fault_header() -> None:
    """With control_api=False, X-Sim-Fault is an unknown header the Gateway ignores."""
    client = create_app(control_api=False).test_client()
    response = client.post(
        GROUPS, json=group_body(), headers={**MANAGE, "X-Sim-Fault": "status=503"}
    )
    assert response.status_code == 200


def test_unknown_control_route_is_404(client: FlaskClient) -> None:
    """A path under /_sim/ that isn't a control operation is 404 in the error shape."""
    response = client.get("/_sim/nothing")
    assert response.status_code == 404
    assert set(response.get_json()) == {"error"}


def test_conformance_suite_uses_the_control_api_only_for_the_clock() -> None:
    """The certifying suite must work against any implementation: only the opt-in inference
    checks move the clock, when the target has one (else they are not run)."""
    package = Path(conformance.__file__).parent
    users = [p for p in package.rglob("*.py") if "/_sim" in p.read_text(encoding="utf-8")]
    assert users == [package / "inference.py"]
    paths = re.findall(r"/_sim/?\w*", (package / "inference.py").read_text(encoding="utf-8"))
    assert set(paths) == {"/_sim/clock"}
