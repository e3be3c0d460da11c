"""The simulator's default keys and the paths the tests call, in one place."""

from __future__ import annotations

GROUPS = "/v1/gateway/groups"
ENDPOINTS = "/v1/gateway/endpoints"

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
