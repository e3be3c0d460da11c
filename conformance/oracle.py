"""An independent model of the documented effective-limit rules, for comparing answers.

It never imports the simulator: it restates G-limits. INDEPENDENT: each (slug, type, unit)
resolves to the closest declaring group, self first (EFFECTIVE-INDEPENDENT). CASCADING: the
group's own limits and every ancestor's for its slugs (EFFECTIVE-CASCADING). Only the
group's own slugs appear (EFFECTIVE-SLUGS). Everything compares as multisets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from conformance.bodies import CASCADING, KINDS

# (slug, kind, type, unit, threshold, source_group)
Entry = tuple[str, str, str, str, int, str]


@dataclass(frozen=True)
class Node:
    id: str
    mode: str
    parent: str | None
    models: tuple[Mapping[str, Any], ...]

    def declared(self, slug: str, kind: str) -> list[Mapping[str, Any]]:
        return [limit for m in self.models if m.get("slug") == slug for limit in m.get(kind) or ()]

    @property
    def slugs(self) -> list[str]:
        return [str(m["slug"]) for m in self.models]


@dataclass
class Tree:
    """The groups a check built, by id, as the check sent them."""

    nodes: dict[str, Node] = field(default_factory=dict)

    def add(self, group_id: str, body: Mapping[str, Any]) -> Node:
        hierarchy = body["hierarchy"]
        node = Node(
            group_id,
            hierarchy["limit_enforcement"],
            hierarchy["parent_group_id"],
            tuple(body["models"]),
        )
        self.nodes[group_id] = node
        return node

    def update(self, group_id: str, models: Iterable[Mapping[str, Any]]) -> None:
        """PATCH-REPLACE: the group's model set is now `models`."""
        self.nodes[group_id] = replace(self.nodes[group_id], models=tuple(models))

    def lineage(self, group_id: str) -> list[Node]:
        """The group, its parent, and so on up to the root."""
        chain: list[Node] = []
        current: str | None = group_id
        while current is not None:
            node = self.nodes[current]
            chain.append(node)
            current = node.parent
        return chain

    def expected(self, group_id: str) -> Counter[Entry]:
        chain = self.lineage(group_id)
        resolve = _cascading if chain[0].mode == CASCADING else _independent
        entries: Counter[Entry] = Counter()
        for slug in chain[0].slugs:
            for kind in KINDS:
                entries.update(resolve(chain, slug, kind))
        return entries

    def expected_slugs(self, group_id: str) -> Counter[str]:
        return Counter(self.nodes[group_id].slugs)


def _independent(chain: list[Node], slug: str, kind: str) -> Iterable[Entry]:
    resolved: dict[tuple[str, str], Entry] = {}
    for node in chain:  # closest first, so setdefault keeps the closest declaration
        for limit in node.declared(slug, kind):
            key = (limit["type"], limit["unit"])
            resolved.setdefault(key, _entry(slug, kind, limit, node.id))
    return resolved.values()


def _cascading(chain: list[Node], slug: str, kind: str) -> Iterable[Entry]:
    return [
        _entry(slug, kind, limit, node.id) for node in chain for limit in node.declared(slug, kind)
    ]


def _entry(slug: str, kind: str, limit: Mapping[str, Any], source: str) -> Entry:
    return (slug, kind, limit["type"], limit["unit"], int(limit["threshold"]), source)


def received(effective_models: Any) -> tuple[Counter[Entry], Counter[str]]:
    """An answer's `effective_models` as a multiset of entries and a multiset of slugs."""
    entries: Counter[Entry] = Counter()
    slugs: Counter[str] = Counter()
    for item in effective_models if isinstance(effective_models, list) else ():
        if not isinstance(item, dict):
            continue
        slug = str(item.get("slug"))
        slugs[slug] += 1
        for kind in KINDS:
            for limit in item.get(kind) or ():
                if isinstance(limit, dict):
                    entries[_received_entry(slug, kind, limit)] += 1
    return entries, slugs


def _received_entry(slug: str, kind: str, limit: Mapping[str, Any]) -> Entry:
    threshold = limit.get("threshold")
    return (
        slug,
        kind,
        str(limit.get("type")),
        str(limit.get("unit")),
        threshold if isinstance(threshold, int) else -1,
        str(limit.get("source_group")),
    )


def describe(entries: Counter[Entry], names: Mapping[str, str] | None = None) -> str:
    """`slug TYPE/UNIT threshold @source` for each entry, sorted; `names` relabels group ids."""
    names = names or {}
    parts = [
        f"{slug} {kind.split('_')[0]} {type_}/{unit} {threshold} @{names.get(src, src)}"
        for (slug, kind, type_, unit, threshold, src) in sorted(entries.elements())
    ]
    return "; ".join(parts) or "(none)"
