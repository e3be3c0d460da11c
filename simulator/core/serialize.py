"""Domain objects to the documented JSON shapes."""

from __future__ import annotations

from typing import Any

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
