"""Domain objects to the documented JSON shapes."""

from __future__ import annotations

from typing import Any

from simulator.limits import EffectiveLimit, effective_models
from simulator.model import Group, Limit, ModelConfig
from simulator.store import DeletedGroup


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
