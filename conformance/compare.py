"""Order-insensitive views of answers, and the timestamp format, for the checks to compare.

Ids are opaque, models and limits are sets (RESP-ORDER is a choice), and any RFC 3339 UTC
timestamp is accepted, fractional seconds too (RESP-CREATED-AT).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Any

from conformance.bodies import KINDS

_RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]00:00)$")

Limits = tuple[tuple[str, str, Any], ...]
ModelView = tuple[str, Limits, Limits]


def is_rfc3339_utc(value: Any) -> bool:
    if not isinstance(value, str) or not _RFC3339_UTC.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def model_views(models: Any, *, effective: bool = False) -> Counter[ModelView]:
    """`models` (or `effective_models`) as a multiset of (slug, rate set, usage set).

    An omitted limit list counts as []; `effective` keeps each limit's source_group.
    """
    views: Counter[ModelView] = Counter()
    for item in models if isinstance(models, list) else ():
        if isinstance(item, dict):
            rate, usage = (_limits(item.get(kind), effective) for kind in KINDS)
            views[(str(item.get("slug")), rate, usage)] += 1
    return views


def _limits(entries: Any, effective: bool) -> Limits:
    fields = (
        ("type", "unit", "threshold", "source_group")
        if effective
        else ("type", "unit", "threshold")
    )
    found = [
        tuple(entry.get(name) for name in fields)
        for entry in (entries if isinstance(entries, list) else ())
        if isinstance(entry, dict)
    ]
    return tuple(sorted(found, key=repr))  # type: ignore[arg-type]


def describe_models(views: Counter[ModelView]) -> str:
    parts = []
    for slug, rate, usage in sorted(views.elements(), key=repr):
        limits = ", ".join("/".join(str(x) for x in limit) for limit in (*rate, *usage))
        parts.append(f"{slug} [{limits}]")
    return "; ".join(parts) or "(none)"


def group_view(group: Any) -> tuple[Any, ...]:
    """A group answer with models and limits as sets, for comparing two reads of one group."""
    return (
        path(group, "id"),
        path(group, "metadata"),
        model_views(path(group, "models")),
        model_views(path(group, "effective_models"), effective=True),
        path(group, "hierarchy"),
        path(group, "created_at"),
    )


def path(document: Any, *steps: str) -> Any:
    """The value at `steps` in nested dicts, or None where a step is missing."""
    node = document
    for step in steps:
        node = node.get(step) if isinstance(node, dict) else None
    return node
