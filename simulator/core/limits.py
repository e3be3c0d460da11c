"""Effective limits and the cascading ceiling: the inheritance rules of a hierarchy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from simulator.core.model import CASCADING, LIMIT_KINDS, RATE, Group, Limit, ModelConfig


@dataclass(frozen=True, slots=True)
class EffectiveLimit:
    type: str
    unit: str
    threshold: int
    source_group: str


@dataclass(frozen=True, slots=True)
class EffectiveModel:
    slug: str
    rate_limits: tuple[EffectiveLimit, ...]
    usage_limits: tuple[EffectiveLimit, ...]


def effective_models(group: Group) -> list[EffectiveModel]:
    """The limits the runtime enforces on `group`, one entry per slug of its own models.

    EFFECTIVE-SLUGS: exactly the group's own slugs. EFFECTIVE-ROOT follows from both modes.
    """
    chain = list(group.lineage())
    resolve = cascading_limits if group.mode == CASCADING else independent_limits
    return [
        EffectiveModel(m.slug, *(resolve(chain, m.slug, kind) for kind in LIMIT_KINDS))
        for m in group.models
    ]


def effective_model(group: Group, slug: str) -> EffectiveModel | None:
    """The effective limits of one slug, or None when the slug isn't in the group's own set.

    The same entry `effective_models` lists for it, at the cost of one slug, not all.
    """
    if group.model(slug) is None:  # EFFECTIVE-SLUGS
        return None
    chain = list(group.lineage())
    resolve = cascading_limits if group.mode == CASCADING else independent_limits
    return EffectiveModel(slug, *(resolve(chain, slug, kind) for kind in LIMIT_KINDS))


def declared_limits(chain: list[Group], slug: str, kind: str) -> Iterable[tuple[Group, Limit]]:
    """Every (declaring group, limit) for `slug` along the chain, closest group first."""
    for group in chain:
        config = group.model(slug)
        if config is not None:
            for limit in config.limits(kind):
                yield group, limit


def independent_limits(chain: list[Group], slug: str, kind: str) -> tuple[EffectiveLimit, ...]:
    """EFFECTIVE-INDEPENDENT: each (type, unit) resolves to the closest declaring group.

    `chain` is the group and its ancestors, closest first; `kind` is RATE or USAGE.
    """
    resolved: dict[tuple[str, str], EffectiveLimit] = {}
    for group, limit in declared_limits(chain, slug, kind):
        resolved.setdefault(limit.key, anchored(limit, group))
    return tuple(resolved.values())


def cascading_limits(chain: list[Group], slug: str, kind: str) -> tuple[EffectiveLimit, ...]:
    """EFFECTIVE-CASCADING: own limits and every ancestor's, each anchored where declared."""
    return tuple(anchored(limit, group) for group, limit in declared_limits(chain, slug, kind))


def anchored(limit: Limit, group: Group) -> EffectiveLimit:
    """`limit` as an effective limit whose source_group is `group`."""
    return EffectiveLimit(limit.type, limit.unit, limit.threshold, group.id)


def exceeds(upper: Iterable[ModelConfig], lower: Iterable[ModelConfig]) -> bool:
    """True when some limit in `lower` is above `upper`'s for the same (slug, type, unit).

    CASCADE-CEILING: equal is allowed; tuples `upper` doesn't declare impose nothing.
    """
    return exceeds_ceilings(ceilings_of(upper), lower)


Ceilings = dict[tuple[str, bool, tuple[str, str]], int]


def ceilings_of(upper: Iterable[ModelConfig]) -> Ceilings:
    """(slug, is rate, (type, unit)) -> threshold of every limit in `upper`: built once, it
    is checked against many groups in time linear in theirs (a cascading update)."""
    return {
        (m.slug, kind == RATE, limit.key): limit.threshold
        for m in upper
        for kind in LIMIT_KINDS
        for limit in m.limits(kind)
    }


def group_ceilings(group: Group) -> Ceilings:
    """`ceilings_of(group.models)`, built once per model set: the groups above a new or
    changed group are checked on every create and update under the lock."""
    models = group.models
    cached = group.ceilings
    if cached is None or cached[0] is not models:
        cached = group.ceilings = (models, ceilings_of(models))
    return cached[1]


def exceeds_ceilings(ceilings: Ceilings, lower: Iterable[ModelConfig]) -> bool:
    """True when some limit in `lower` is above its ceiling (CASCADE-CEILING)."""
    if not ceilings:
        return False
    return any(
        limit.threshold > ceilings.get((m.slug, kind == RATE, limit.key), limit.threshold)
        for m in lower
        for kind in LIMIT_KINDS
        for limit in m.limits(kind)
    )
