"""What every layer of the tests builds with: paths, keys by role, request bodies, the
documented example, and checks of a refusal. One module, so a body means the same thing in a
unit test, an HTTP test and an end-to-end test.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from simulator.core.config import DEMO_SIGNING_KEY
from simulator.core.store import Store
from simulator.web.app import EXTENSION, RULE_HEADER

GROUPS = "/v1/gateway/groups"
ENDPOINTS = "/v1/gateway/endpoints"
SLUG = "your-org/your-model"
INDEPENDENT, CASCADING = "INDEPENDENT", "CASCADING"
RFC3339_UTC = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"

# The default keys, one per role (contract: "Workspaces and keys in the simulator").
MANAGE_KEY = "sim-manage-acme"
VIEW_KEY = "sim-view-acme"
OTHER_WORKSPACE_KEY = "sim-manage-globex"
NOT_ONBOARDED_KEY = "sim-manage-initech"


def auth(key: str, scheme: str = "Api-Key") -> dict[str, str]:
    return {"Authorization": f"{scheme} {key}"}


MANAGE = auth(MANAGE_KEY)
VIEW = auth(VIEW_KEY)
OTHER = auth(OTHER_WORKSPACE_KEY)
NOT_ONBOARDED = auth(NOT_ONBOARDED_KEY)

# The conformance suite's options for the default simulator: `conformance.run(**SUITE_KEYS)`
# and `frontier-conformance ... *SUITE_ARGS`. globex has no public key on file; acme owns the
# org prefix `acme` and signs with the published demo key.
SUITE_KEYS = {
    "api_key": MANAGE_KEY,
    "view_key": VIEW_KEY,
    "other_workspace_key": OTHER_WORKSPACE_KEY,
    "not_onboarded_key": NOT_ONBOARDED_KEY,
    "no_public_key_workspace_key": OTHER_WORKSPACE_KEY,
    "signing_key": DEMO_SIGNING_KEY,
    "org_prefix": "acme",
}
SUITE_ARGS = [
    arg for name, value in SUITE_KEYS.items() for arg in (f"--{name.replace('_', '-')}", value)
]

# The webhook signing secret the conformance tests give the simulator and the suite alike.
WEBHOOK_SECRET = "whsec-conformance-suite"
WEBHOOK_RECEIVERS = "/_sim/webhooks/receivers"


def deliver_webhooks_to(app: Flask, url: str, workspace: str = "acme") -> str:
    """Points the workspace's billing webhooks at `url`, through the control API; the
    signing secret."""
    answer = app.test_client().put(
        f"{WEBHOOK_RECEIVERS}/{workspace}",
        json={"url": url, "secret": WEBHOOK_SECRET},
        headers=CONTROL,
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return WEBHOOK_SECRET


# Request bodies.


def limit(kind: str, unit: str, threshold: Any) -> dict[str, Any]:
    return {"type": kind, "unit": unit, "threshold": threshold}


def model(
    slug: str = SLUG,
    rate: Sequence[tuple[str, str, Any]] = (),
    usage: Sequence[tuple[str, str, Any]] = (),
) -> dict[str, Any]:
    """A model entry with both limit lists; `rate` and `usage` are (type, unit, threshold)."""
    return {
        "slug": slug,
        "rate_limits": [limit(*x) for x in rate],
        "usage_limits": [limit(*x) for x in usage],
    }


def rate_models(threshold: int, slug: str = SLUG) -> list[dict[str, Any]]:
    """`models` with one slug and one TOKEN/MINUTE rate limit."""
    return [model(slug, rate=[("TOKEN", "MINUTE", threshold)])]


def group_body(
    external_id: str = "cust_42",
    parent: str | None = None,
    mode: str = INDEPENDENT,
    *,
    models: list[dict[str, Any]] | None = None,
    threshold: int = 1000,
    usage: int | None = None,
    slug: str = SLUG,
    name: str | None = "Acme prod",
) -> dict[str, Any]:
    """A valid create body. Unless `models` is given: one slug with a TOKEN/MINUTE rate limit
    of `threshold`, and a TOKEN/DAY usage limit of `usage` when it is given."""
    if models is None:
        daily = [] if usage is None else [("TOKEN", "DAY", usage)]
        models = [model(slug, rate=[("TOKEN", "MINUTE", threshold)], usage=daily)]
    return {
        "metadata": {"name": name, "external_entity_id": external_id},
        "models": models,
        "hierarchy": {"limit_enforcement": mode, "parent_group_id": parent},
    }


def endpoint_body(slug: str = "acme/llama") -> dict[str, Any]:
    return {"slug": slug, "targets": [{"provider": "BASETEN", "model_id": "m1"}]}


def unique(prefix: str) -> str:
    """An external_entity_id no other test or run uses (for servers that outlive a test)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# The documented example: gateway-facts §1.1, "Example request" and "Example response `200`".
DOCUMENTED_REQUEST: dict[str, Any] = {
    "metadata": {"name": "Acme prod", "external_entity_id": "cust_42"},
    "models": [
        {
            "slug": "your-org/your-model",
            "rate_limits": [
                {"type": "TOKEN", "unit": "MINUTE", "threshold": 1000000},
                {"type": "REQUEST", "unit": "MINUTE", "threshold": 100},
            ],
            "usage_limits": [{"type": "TOKEN", "unit": "DAY", "threshold": 10000000}],
        }
    ],
    "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": None},
}
DOCUMENTED_RESPONSE: dict[str, Any] = {
    "id": "abc123hash",
    "metadata": {"name": "Acme prod", "external_entity_id": "cust_42"},
    "models": [
        {
            "slug": "your-org/your-model",
            "rate_limits": [
                {"type": "TOKEN", "unit": "MINUTE", "threshold": 1000000},
                {"type": "REQUEST", "unit": "MINUTE", "threshold": 100},
            ],
            "usage_limits": [{"type": "TOKEN", "unit": "DAY", "threshold": 10000000}],
        }
    ],
    "effective_models": [
        {
            "slug": "your-org/your-model",
            "rate_limits": [
                {
                    "type": "TOKEN",
                    "unit": "MINUTE",
                    "threshold": 1000000,
                    "source_group": "abc123hash",
                },
                {
                    "type": "REQUEST",
                    "unit": "MINUTE",
                    "threshold": 100,
                    "source_group": "abc123hash",
                },
            ],
            "usage_limits": [
                {
                    "type": "TOKEN",
                    "unit": "DAY",
                    "threshold": 10000000,
                    "source_group": "abc123hash",
                }
            ],
        }
    ],
    "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": None},
    "created_at": "2026-05-13T12:00:00Z",
}
# gateway-facts §1.1, "Child-group example", request body exactly (parent id filled in).
CHILD_REQUEST: dict[str, Any] = {
    "metadata": {"name": "Acme prod / engineering", "external_entity_id": "cust_42_engineering"},
    "models": [
        {
            "slug": "your-org/your-model",
            "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": 700000}],
        }
    ],
    "hierarchy": {"limit_enforcement": "INDEPENDENT", "parent_group_id": "abc123hash"},
}


def documented_request() -> dict[str, Any]:
    return copy.deepcopy(DOCUMENTED_REQUEST)


def expected_documented_response(group_id: str, created_at: str) -> dict[str, Any]:
    """The documented response with this group's id (also as every source_group) and time."""
    expected = copy.deepcopy(DOCUMENTED_RESPONSE)
    expected["id"], expected["created_at"] = group_id, created_at
    for entry in expected["effective_models"]:
        for item in entry["rate_limits"] + entry["usage_limits"]:
            item["source_group"] = group_id
    return expected


# Through Flask's test client.


def post_group(
    client: FlaskClient, body: Any, headers: dict[str, str] | None = None
) -> TestResponse:
    return client.post(GROUPS, json=body, headers=MANAGE if headers is None else headers)


def create_group(
    client: FlaskClient,
    external_id: str = "cust_42",
    *,
    headers: dict[str, str] = MANAGE,
    **body: Any,
) -> dict[str, Any]:
    """Creates `group_body(external_id, **body)` and returns the group, failing unless 200."""
    response = post_group(client, group_body(external_id, **body), headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    group: dict[str, Any] = response.get_json()
    return group


def group_count(client: FlaskClient, headers: dict[str, str] = MANAGE) -> int:
    response = client.get(GROUPS, headers=headers)
    assert response.status_code == 200
    return len(response.get_json()["items"])


def assert_refused(response: TestResponse, status: int, rule: str | None = None) -> None:
    """The error shape (ERR-BODY) with the given status and, if given, X-Frontier-Rule."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body, dict)
    assert set(body) == {"error"}
    assert isinstance(body["error"], str)
    assert body["error"]
    if rule is not None:
        assert response.headers.get(RULE_HEADER) == rule


def store_of(app: Flask) -> Store:
    store: Store = app.extensions[EXTENSION].store
    return store


CONTROL = {"X-Sim-Control": "1"}  # what state-changing control calls carry on loopback


def control_client(app: Flask) -> FlaskClient:
    """A test client that sends `X-Sim-Control: 1` with every request, as SimulatorClient
    does with its control calls (SIM-CONTROL-HEADER)."""
    client = app.test_client()
    client.environ_base["HTTP_X_SIM_CONTROL"] = "1"
    return client
