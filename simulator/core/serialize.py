"""Domain objects to the documented JSON shapes, and JSON text to and from bytes."""

from __future__ import annotations

import json
from typing import Any

import orjson

from simulator.core.endpoints import Endpoint
from simulator.core.limits import EffectiveLimit, effective_models
from simulator.core.metering import usage
from simulator.core.model import Group, KeyRecord, Limit, ModelConfig
from simulator.core.store import DeletedGroup


def group_json(group: Group) -> dict[str, Any]:
    """The documented group object (RESP-ECHO, effective limits with source_group)."""
    return {
        "id": group.id,
        "metadata": metadata_json(group),
        "models": [model_json(m) for m in group.models],
        "effective_models": [
            {
                "slug": m.slug,
                "rate_limits": [_effective_limit(x) for x in m.rate_limits],
                "usage_limits": [_effective_limit(x) for x in m.usage_limits],
            }
            for m in effective_models(group)
        ],
        "hierarchy": {
            "limit_enforcement": group.mode,
            "parent_group_id": group.parent.id if group.parent else None,
        },
        "created_at": group.created_at,
    }


def metadata_json(group: Group) -> dict[str, Any]:
    return {"name": group.name, "external_entity_id": group.external_entity_id}


def model_json(model: ModelConfig) -> dict[str, Any]:
    return {
        "slug": model.slug,
        "rate_limits": [_limit(x) for x in model.rate_limits],
        "usage_limits": [_limit(x) for x in model.usage_limits],
    }


def deleted_json(deleted: DeletedGroup) -> dict[str, Any]:
    return {
        "id": deleted.group.id,
        "metadata": metadata_json(deleted.group),
        "deleted_at": deleted.deleted_at,
    }


def _limit(limit: Limit) -> dict[str, Any]:
    return {"type": limit.type, "unit": limit.unit, "threshold": limit.threshold}


def _effective_limit(limit: EffectiveLimit) -> dict[str, Any]:
    return {
        "type": limit.type,
        "unit": limit.unit,
        "threshold": limit.threshold,
        "source_group": limit.source_group,
    }


def page_json(items: list[dict[str, Any]], cursor: str | None) -> dict[str, Any]:
    """LIST-SHAPE: the last page has has_more false and cursor null."""
    return {"items": items, "pagination": {"has_more": cursor is not None, "cursor": cursor}}


def key_json(record: KeyRecord) -> dict[str, Any]:
    return {"prefix": record.prefix, "name": record.name}


def usage_json(group: Group, now: float) -> dict[str, Any]:
    """USAGE-RESPONSE: slugs with effective usage limits, one entry per (type, unit), with
    the group's counters at `now` (USAGE-LIVE)."""
    return {"customer_id": group.external_entity_id, "usage": usage(group, now)}


def endpoint_json(endpoint: Endpoint) -> dict[str, Any]:
    """EP-RESPONSE with EP-REGION; each target has every field, null where not set, as the
    machine spec's response schema lists them."""
    return {
        "id": endpoint.id,
        "slug": endpoint.slug,
        "targets": [dict(t) for t in endpoint.targets],
        "region": endpoint.region,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }


# JSON text. orjson does the work; what it refuses or would change goes to the standard
# library, which decides as it always did, except that only UTF-8 and only whole Unicode
# characters are taken (RFC 8259).
# orjson reads integers past 64 bits as floats: a run of 19 digits sends the text to the
# standard library. Digits become "0" and all else a space, then one substring search.
_DIGITS_ONLY = bytes(ord("0") if chr(i).isdigit() and i < 128 else ord(" ") for i in range(256))
_LONG_INTEGER = b"0" * 19


def to_json(payload: Any) -> bytes:
    """`payload` as compact JSON text in UTF-8."""
    try:
        return orjson.dumps(payload)
    except (orjson.JSONEncodeError, TypeError):  # an integer past 64 bits, a lone surrogate
        return json.dumps(payload).encode()


def from_json(raw: bytes) -> Any:
    """The value of a JSON text (RFC 8259): UTF-8 without a byte order mark, no lone
    surrogate in any string, no NaN or Infinity. ValueError (or RecursionError) otherwise."""
    if _LONG_INTEGER not in raw.translate(_DIGITS_ONLY):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # the standard library says what is wrong, or takes what orjson can't
    text = raw.decode("utf-8")  # UnicodeDecodeError, a ValueError: not UTF-8
    if text.startswith("\ufeff"):
        raise ValueError("a byte order mark isn't allowed before JSON text (RFC 8259)")
    value = json.loads(text, parse_constant=_refuse_constant)
    if _has_lone_surrogate(value):
        raise ValueError("a string holds a lone surrogate (\\ud800-\\udfff), not a character")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False
