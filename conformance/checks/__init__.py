"""The hand-written checks, one module per part of the contract; importing registers them."""

from conformance.checks import (
    access,
    api_keys,
    choices,
    endpoints,
    group_routes,
    hierarchy,
    identity,
    inference,
    list_groups,
    nulls,
    payload,
    rate_limit,
    register,
    response,
    routes,
    targets,
    trees,
    update_group,
    usage,
    webhooks,
)
from conformance.registry import REGISTERED, Check

__all__ = [
    "access",
    "api_keys",
    "choices",
    "endpoints",
    "group_routes",
    "hierarchy",
    "identity",
    "inference",
    "list_groups",
    "nulls",
    "payload",
    "rate_limit",
    "register",
    "registered",
    "response",
    "routes",
    "targets",
    "trees",
    "update_group",
    "usage",
    "webhooks",
]


def registered() -> list[Check]:
    """Every hand-written and oracle check, in registration order."""
    return list(REGISTERED.values())
