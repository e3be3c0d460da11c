"""Request bodies the checks send: valid by default, each negative case breaking one rule.

The documented examples (gateway-facts §1.1 and the child example of the hierarchy guide)
are kept here verbatim, apart from their external_entity_id, which carries the run prefix.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

GROUPS = "/v1/gateway/groups"
INDEPENDENT = "INDEPENDENT"
CASCADING = "CASCADING"
MODES = (INDEPENDENT, CASCADING)
RATE = "rate_limits"
USAGE = "usage_limits"
KINDS = (RATE, USAGE)
SLUG = "your-org/your-model"
OTHER_SLUG = "your-org/other-model"
CHILD_MESSAGE = "Child group exceeds parent group limit."  # CASCADE-CEILING, quoted by G-limits


def group_path(group_id: str) -> str:
    return f"{GROUPS}/{group_id}"


def limit(type_: str, unit: str, threshold: int) -> dict[str, Any]:
    return {"type": type_, "unit": unit, "threshold": threshold}


def model(
    slug: str = SLUG,
    rate: Iterable[dict[str, Any]] = (),
    usage: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A model entry; empty limit lists are left out, as the documented child example does."""
    entry: dict[str, Any] = {"slug": slug}
    if rate := list(rate):
        entry[RATE] = rate
    if usage := list(usage):
        entry[USAGE] = usage
    return entry


def group_body(
    external_entity_id: str,
    *,
    models: list[dict[str, Any]] | None = None,
    mode: str = INDEPENDENT,
    parent: str | None = None,
    name: str | None = "Frontier conformance group",
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"external_entity_id": external_entity_id}
    if name is not None:
        metadata["name"] = name
    return {
        "metadata": metadata,
        "models": models if models is not None else [model()],
        "hierarchy": {"limit_enforcement": mode, "parent_group_id": parent},
    }


def without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    """A deep copy of `body` with the key at `path` removed."""
    copied = copy.deepcopy(body)
    node = copied
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return copied


def replaced(body: dict[str, Any], value: Any, *path: str | int) -> dict[str, Any]:
    """A deep copy of `body` with the value at `path` replaced."""
    copied = copy.deepcopy(body)
    node: Any = copied
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copied


# gateway-facts §1.1, "Example request (exact)": the documented root.
DOC_ROOT_MODELS: list[dict[str, Any]] = [
    {
        "slug": SLUG,
        "rate_limits": [
            {"type": "TOKEN", "unit": "MINUTE", "threshold": 1000000},
            {"type": "REQUEST", "unit": "MINUTE", "threshold": 100},
        ],
        "usage_limits": [{"type": "TOKEN", "unit": "DAY", "threshold": 10000000}],
    }
]
DOC_ROOT_NAME = "Acme prod"

# G-keys, "Build a hierarchy": the documented child of the root above.
DOC_CHILD_MODELS: list[dict[str, Any]] = [
    {"slug": SLUG, "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": 700000}]}
]
DOC_CHILD_NAME = "Acme prod / engineering"


# API keys under a group (gateway-facts §1.7-§1.11).
SIGNATURE_HEADER = "X-Baseten-Signature"
SIGNATURE_MESSAGE = "Signature verification failed"  # REGISTER-SIGNATURE, quoted by D-key-register
PUBLIC_KEY_MESSAGE = (
    "Must configure a public key before registering API keys"  # REGISTER-PUBLIC-KEY
)
PREFIX_LENGTH = 16  # a registered key's first 16 characters are its prefix


def keys_path(group_id: str, suffix: str = "") -> str:
    return f"{group_path(group_id)}/api_keys{suffix}"


def usage_path(group_id: str) -> str:
    return f"{group_path(group_id)}/usage"


# Endpoints (gateway-facts §1.12). The BASETEN target is the documented example's, without
# its environment (EP-ENVIRONMENT is a choice); the external ones carry made-up names.
ENDPOINTS = "/v1/gateway/endpoints"
BASETEN_TARGET: dict[str, Any] = {"provider": "BASETEN", "model_id": "3kZ9xqd"}
# A value for every target field a provider may need or take (openapi.yaml `x-providers`):
# the documented model id and environment, made-up names, and an https URL without a port.
TARGET_SAMPLES: dict[str, Any] = {
    "model_id": "3kZ9xqd",
    "environment_name": "production",
    "secret_id": "fgc-secret",
    "target_model": "fgc-model",
    "base_url": "https://llm.example.com/v1",
    "vertex_config": {"project_id": "fgc-project", "location": "us-central1"},
}
REGIONS = ("UNRESTRICTED", "EU")  # EP-REGION; the first is the default
OPENAI_TARGET: dict[str, Any] = {
    "provider": "OPENAI",
    "secret_id": "fgc-secret",
    "target_model": "gpt",
}
ANTHROPIC_TARGET: dict[str, Any] = {
    "provider": "ANTHROPIC",
    "secret_id": "fgc-secret",
    "target_model": "claude",
}


def endpoint_path(endpoint_id: str) -> str:
    return f"{ENDPOINTS}/{endpoint_id}"


def endpoint_body(slug: str, *targets: dict[str, Any]) -> dict[str, Any]:
    return {"slug": slug, "targets": list(targets) if targets else [dict(BASETEN_TARGET)]}
