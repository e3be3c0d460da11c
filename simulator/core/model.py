"""The domain's values: limits, model configurations, groups, and the parsing of a create request.

Pure Python: nothing here knows of HTTP. Payloads reach `new_group_from_json` already
validated against openapi.yaml, so only the rules a schema can't express are checked here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.core.errors import (
    DuplicateRateLimitType,
    DuplicateSlug,
    DuplicateUsageLimit,
    GroupUpdateEmpty,
    echo,
)
from simulator.core.windows import Meters

INDEPENDENT = "INDEPENDENT"
CASCADING = "CASCADING"
RATE = "rate_limits"
USAGE = "usage_limits"
LIMIT_KINDS = (RATE, USAGE)
_SCAN_UP_TO = 8  # model sets this small are searched in order, without an index


@dataclass(frozen=True, slots=True)
class Limit:
    type: str
    unit: str
    threshold: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.unit)


@dataclass(frozen=True, slots=True)
class ModelConfig:
    slug: str
    rate_limits: tuple[Limit, ...] = ()
    usage_limits: tuple[Limit, ...] = ()

    def limits(self, kind: str) -> tuple[Limit, ...]:
        return self.rate_limits if kind == RATE else self.usage_limits


@dataclass(frozen=True, slots=True)
class NewGroup:
    """A validated create request."""

    external_entity_id: str
    name: str | None
    models: tuple[ModelConfig, ...]
    mode: str
    parent_id: str | None


@dataclass(frozen=True, slots=True)
class GroupUpdate:
    """A validated PATCH body. None means "not sent", and so does an explicit null
    (NULL-AS-OMITTED): `name_sent` is true for a name that is a string."""

    name_sent: bool
    name: str | None
    models: tuple[ModelConfig, ...] | None
    external_entity_id: str | None
    hierarchy: Mapping[str, Any] | None


@dataclass(slots=True)
class KeyRecord:
    """An API key under a group: its prefix, name and the digest of the whole key."""

    prefix: str
    name: str | None
    group_id: str
    digest: bytes
    seq: int


@dataclass(slots=True, eq=False)
class Group:
    id: str
    workspace: str
    external_entity_id: str
    name: str | None
    models: tuple[ModelConfig, ...]
    mode: str
    parent: Group | None
    created_at: str
    seq: int = 0
    depth: int = 1
    children: list[Group] = field(default_factory=list)
    keys: dict[str, KeyRecord] = field(default_factory=dict)  # by prefix, oldest first
    meters: Meters = field(default_factory=Meters)  # its inference usage (metering.py)
    # (models, slug -> config) of a large model set, built on first use and rebuilt when
    # `models` is replaced: one tuple, so a reader never pairs an index with other models.
    slug_index: tuple[tuple[ModelConfig, ...], dict[str, ModelConfig]] | None = field(
        default=None, repr=False
    )
    # (models, their CASCADE-CEILING thresholds by (slug, is rate, (type, unit))), the same way.
    ceilings: (
        tuple[tuple[ModelConfig, ...], dict[tuple[str, bool, tuple[str, str]], int]] | None
    ) = field(default=None, repr=False)

    def model(self, slug: str) -> ModelConfig | None:
        """The group's own configuration of `slug`: O(1), so effective limits stay linear."""
        models = self.models
        if len(models) <= _SCAN_UP_TO:
            for config in models:  # a loop, not next(genexpr): this is on every response
                if config.slug == slug:
                    return config
            return None
        index = self.slug_index
        if index is None or index[0] is not models:
            index = self.slug_index = (models, {config.slug: config for config in models})
        return index[1].get(slug)

    def detached(self, copies: dict[str, Group] | None = None) -> Group:
        """A copy of this group and its ancestors that later changes don't reach.

        Taken under the store's lock, it lets a response be built after the lock is
        released, still showing one consistent moment: names and model sets are replaced,
        never changed in place, so the copy shares them. `copies` shares ancestors between
        the groups of one page. Children, keys and meters are not part of an answer's copy.
        """
        copies = {} if copies is None else copies
        found = copies.get(self.id)
        if found is None:
            parent = self.parent.detached(copies) if self.parent is not None else None
            found = copies[self.id] = Group(
                self.id,
                self.workspace,
                self.external_entity_id,
                self.name,
                self.models,
                self.mode,
                parent,
                self.created_at,
                self.seq,
                self.depth,
                meters=self.meters,
            )
        return found

    def lineage(self) -> Iterator[Group]:
        """This group, then its parent, and so on up to the root."""
        group: Group | None = self
        while group is not None:
            yield group
            group = group.parent

    def subtree(self) -> Iterator[Group]:
        """This group and every descendant, parents before children."""
        yield self
        for child in self.children:
            yield from child.subtree()


def new_group_from_json(body: Mapping[str, Any]) -> NewGroup:
    """Builds a NewGroup from a schema-valid create body (RESP-ECHO: limit lists default to [])."""
    metadata, hierarchy = body["metadata"], body["hierarchy"]
    return NewGroup(
        external_entity_id=metadata["external_entity_id"],
        name=metadata.get("name"),  # NAME-NULL: null and omitted are the same
        models=models_from_json(body["models"]),
        mode=hierarchy["limit_enforcement"],
        parent_id=hierarchy["parent_group_id"],
    )


def group_update_from_json(body: Mapping[str, Any]) -> GroupUpdate:
    """PATCH-SOMETHING: `metadata` or `models` must be sent. Null counts as not sent, for
    them and for `metadata.name`, which then stays as it is (NULL-AS-OMITTED)."""
    metadata, models = body.get("metadata"), body.get("models")
    if metadata is None and models is None:
        raise GroupUpdateEmpty()
    metadata = metadata or {}
    return GroupUpdate(
        name_sent=metadata.get("name") is not None,
        name=metadata.get("name"),
        models=None if models is None else models_from_json(models),
        external_entity_id=metadata.get("external_entity_id"),
        hierarchy=body.get("hierarchy"),
    )


def models_from_json(models: Iterable[Mapping[str, Any]]) -> tuple[ModelConfig, ...]:
    configs = tuple(_model_from_json(m) for m in models)
    refuse_duplicate_slugs(configs)
    return configs


def _model_from_json(model: Mapping[str, Any]) -> ModelConfig:
    config = ModelConfig(
        slug=model["slug"],
        rate_limits=_limits(model.get("rate_limits") or ()),
        usage_limits=_limits(model.get("usage_limits") or ()),
    )
    refuse_duplicate_limits(config)
    return config


def _limits(entries: Iterable[Mapping[str, Any]]) -> tuple[Limit, ...]:
    # int(): a schema-valid integer may arrive as 1.0; it is stored and echoed as 1.
    return tuple(Limit(e["type"], e["unit"], int(e["threshold"])) for e in entries)


def refuse_duplicate_slugs(configs: tuple[ModelConfig, ...]) -> None:
    """SLUG-UNIQUE: a slug appears once in `models`."""
    seen: set[str] = set()
    for config in configs:
        if config.slug in seen:  # SLUG-UNIQUE
            raise DuplicateSlug(f"Model slug {echo(config.slug)} is listed more than once.")
        seen.add(config.slug)


def refuse_duplicate_limits(config: ModelConfig) -> None:
    """RATE-ONE-PER-TYPE and USAGE-ONE-PER-TYPE-UNIT within one model entry."""
    rate_types = [limit.type for limit in config.rate_limits]
    for kind in dict.fromkeys(rate_types):  # request order: the message never depends on hashing
        if rate_types.count(kind) > 1:  # RATE-ONE-PER-TYPE: TOKEN/SECOND + TOKEN/MINUTE too
            raise DuplicateRateLimitType(
                f"Model {echo(config.slug)} has more than one {kind} rate limit; "
                "at most one rate limit per type per slug is allowed."
            )
    usage_keys = [limit.key for limit in config.usage_limits]
    for key in dict.fromkeys(usage_keys):
        if usage_keys.count(key) > 1:  # USAGE-ONE-PER-TYPE-UNIT
            raise DuplicateUsageLimit(
                f"Model {echo(config.slug)} has more than one {key[0]}/{key[1]} usage limit; "
                "at most one usage limit per (type, unit) per slug is allowed."
            )
