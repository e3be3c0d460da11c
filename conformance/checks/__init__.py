"""The hand-written checks, one module per part of the contract; importing registers them."""

from conformance.checks import (
    access,
    choices,
    hierarchy,
    identity,
    payload,
    response,
    routes,
    trees,
)

__all__ = ["access", "choices", "hierarchy", "identity", "payload", "response", "routes", "trees"]
