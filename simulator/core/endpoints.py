"""Endpoints: what a model slug routes to. Slugs are unique across all workspaces.

Which fields a target needs and takes, per provider, is openapi.yaml's `x-providers` table.
An explicit null counts as not sent (NULL-AS-OMITTED); a stored target has every field,
null where it wasn't sent, as the machine spec's clients read it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from simulator.core.access import Workspace
from simulator.core.errors import (
    DuplicateEndpointSlug,
    EndpointInOtherWorkspace,
    EndpointNotFound,
    EndpointSlugImmutable,
    EndpointSlugNotOwned,
    EnvironmentNotForProvider,
    InvalidBaseUrl,
    InvalidModelId,
    InvalidTarget,
    ModelApiTargetModelMissing,
    SecretIdMissing,
    TargetModelMissing,
    VertexConfigNotForProvider,
    echo,
)
from simulator.core.pagination import page
from simulator.core.spec import default_region, target_rules

# The error each target rule raises (the rules themselves are in openapi.yaml).
TARGET_ERRORS: dict[str, type[InvalidTarget]] = {
    cls.rule: cls
    for cls in (
        InvalidModelId,
        SecretIdMissing,
        TargetModelMissing,
        ModelApiTargetModelMissing,
        EnvironmentNotForProvider,
        InvalidBaseUrl,
        VertexConfigNotForProvider,
    )
}
VERTEX_FIELDS = ("project_id", "location")


@dataclass(slots=True, eq=False)
class Endpoint:
    id: str
    workspace: str
    slug: str
    targets: tuple[dict[str, Any], ...]
    created_at: str
    updated_at: str
    seq: int = field(default=0)
    region: str = field(default_factory=default_region)


def check_targets(targets: list[Mapping[str, Any]]) -> tuple[dict[str, Any], ...]:
    """Each schema-valid target as stored; the schema already holds the list to one entry."""
    return tuple(target_from_json(t) for t in targets)


def target_from_json(target: Mapping[str, Any]) -> dict[str, Any]:
    """The target with every field (null where not sent), checked against its provider's
    row of `x-providers`; unknown fields are dropped (EXTRA-FIELDS)."""
    stored = {"provider": target["provider"]}
    stored.update((name, target.get(name)) for name in target_rules().fields)
    vertex = stored.get("vertex_config")
    if vertex is not None:
        stored["vertex_config"] = {name: vertex[name] for name in VERTEX_FIELDS}
    check_provider_fields(stored)
    if stored.get("base_url") is not None:
        check_base_url(stored["base_url"])
    return stored


def check_provider_fields(target: Mapping[str, Any]) -> None:
    """A target's fields against its provider's row of `x-providers`: the fields it requires
    are there, and it has none the provider doesn't take."""
    rules = target_rules()
    provider = target["provider"]
    fields = rules.providers[provider]
    for name, rule in fields.requires.items():
        if target[name] is None:
            raise TARGET_ERRORS[rule](f"A {provider} target needs {name}.")
    for name in rules.fields:
        if target[name] is not None and name not in fields.requires and name not in fields.takes:
            rule = rules.refused_by[name]
            allowed = [p for p, f in rules.providers.items() if name in {*f.requires, *f.takes}]
            raise TARGET_ERRORS[rule](
                f"{name} is only valid with {' and '.join(allowed)} targets, not {provider}."
            )


def check_base_url(url: str) -> None:
    """EP-BASE-URL: "HTTPS base URL of the upstream OpenAI-compatible server. Must not
    include a port." (the machine spec)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.hostname or any(c.isspace() for c in url):
        raise InvalidBaseUrl(
            f"base_url {echo(url)} isn't an https URL with a host, like https://llm.example.com/v1."
        )
    host_and_port = parts.netloc.rpartition("@")[2]
    if ":" in host_and_port.rpartition("]")[2]:  # after an IPv6 literal's brackets, if any
        raise InvalidBaseUrl(f"base_url {echo(url)} must not include a port.")


class EndpointBook:
    """Every workspace's endpoints, behind one lock."""

    def __init__(self, clock: Callable[[], str], new_id: Callable[[], str]) -> None:
        self.lock = threading.RLock()
        self._clock, self._new_id = clock, new_id
        self._seq = 0
        self._by_id: dict[str, Endpoint] = {}
        self._by_slug: dict[str, Endpoint] = {}
        self._listing: dict[str, list[Endpoint]] = {}

    def create(
        self,
        workspace: Workspace,
        slug: str,
        targets: list[Mapping[str, Any]],
        region: str | None = None,
    ) -> Endpoint:
        """EP-REGION: no region (or null) is the default region."""
        checked = check_targets(targets)
        with self.lock:
            self.claim_slug(workspace, slug)
            now = self._clock()
            endpoint = Endpoint(self._new_id(), workspace.name, slug, checked, now, now,
                                region=region or default_region())  # fmt: skip
            return self._insert(endpoint)

    def restore(
        self, workspace: Workspace, endpoint: Endpoint, targets: list[Mapping[str, Any]]
    ) -> Endpoint:
        """Re-creates an exported endpoint with its own id and timestamps, under create's rules."""
        endpoint.targets = check_targets(targets)
        with self.lock:
            if endpoint.id in self._by_id:
                raise ValueError(f"endpoint id {endpoint.id!r} is used twice")
            self.claim_slug(workspace, endpoint.slug)
            return self._insert(endpoint)

    def all(self) -> list[Endpoint]:
        with self.lock:
            return sorted(self._by_id.values(), key=_seq)

    def swap_contents(self, other: EndpointBook) -> None:
        """Trades every endpoint with `other` in O(1), as `Store.swap_contents` does."""
        with self.lock, other.lock:
            self._seq, other._seq = other._seq, self._seq
            self._by_id, other._by_id = other._by_id, self._by_id
            self._by_slug, other._by_slug = other._by_slug, self._by_slug
            self._listing, other._listing = other._listing, self._listing

    def copy_contents_to(self, other: EndpointBook) -> None:
        """Gives `other` (an empty book) a copy of every endpoint, as
        `Store.copy_contents_to` does, for a change to be tried on first."""
        with self.lock, other.lock:
            copies = {e.id: replace(e) for e in self._by_id.values()}
            other._seq = self._seq
            other._by_id = copies
            other._by_slug = {slug: copies[e.id] for slug, e in self._by_slug.items()}
            other._listing = {
                ws: [copies[e.id] for e in listing] for ws, listing in self._listing.items()
            }

    def get(self, workspace: str, endpoint_id: str) -> Endpoint:
        with self.lock:
            endpoint = self._by_id.get(endpoint_id)
            if endpoint is None:  # EP-NOT-FOUND
                raise EndpointNotFound(f"No endpoint with id {echo(endpoint_id)}.")
            if endpoint.workspace != workspace:  # EP-OTHER-WORKSPACE
                raise EndpointInOtherWorkspace()
            return endpoint

    def list(self, workspace: str, after: int, limit: int) -> tuple[list[Endpoint], int | None]:
        with self.lock:
            return page(self._listing.get(workspace, []), after, limit, _seq)

    def update(
        self,
        workspace: Workspace,
        endpoint_id: str,
        changes: Mapping[str, Any],
        *,
        rename: bool = True,
    ) -> Endpoint:
        """EP-PATCH: what is sent changes, what is omitted or null stays ({} changes nothing,
        not even updated_at). EP-RENAME: a new slug renames (freeing the old one), or with
        `rename=False` is refused as the machine spec's immutable slug."""
        targets = changes.get("targets")
        checked = None if targets is None else check_targets(targets)
        with self.lock:
            endpoint = self.get(workspace.name, endpoint_id)
            slug = changes.get("slug") or endpoint.slug
            if slug == endpoint.slug and checked is None:
                return endpoint  # nothing sent changes anything
            if slug != endpoint.slug:
                if not rename:
                    raise EndpointSlugImmutable()
                self.claim_slug(workspace, slug)
                del self._by_slug[endpoint.slug]
                self._by_slug[slug] = endpoint
                endpoint.slug = slug
            if checked is not None:
                endpoint.targets = checked
            endpoint.updated_at = self._clock()
            return endpoint

    def delete(self, workspace: str, endpoint_id: str) -> Endpoint:
        with self.lock:
            endpoint = self.get(workspace, endpoint_id)
            del self._by_id[endpoint.id]
            del self._by_slug[endpoint.slug]  # EP-SLUG-UNIQUE: the slug is free again
            self._listing[workspace].remove(endpoint)
            return endpoint

    def _insert(self, endpoint: Endpoint) -> Endpoint:
        self._seq += 1
        endpoint.seq = self._seq
        self._by_id[endpoint.id] = endpoint
        self._by_slug[endpoint.slug] = endpoint
        self._listing.setdefault(endpoint.workspace, []).append(endpoint)
        return endpoint

    def claim_slug(self, workspace: Workspace, slug: str) -> None:
        """EP-SLUG-PREFIX and EP-SLUG-UNIQUE for a new or renamed endpoint (under `lock`)."""
        org = slug.partition("/")[0]
        if org not in workspace.org_prefixes:  # EP-SLUG-PREFIX
            raise EndpointSlugNotOwned(
                f"The slug's org prefix {echo(org)} isn't one this workspace owns "
                f"({', '.join(workspace.org_prefixes)})."
            )
        if slug in self._by_slug:  # EP-SLUG-UNIQUE
            raise DuplicateEndpointSlug(f"An endpoint with slug {echo(slug)} already exists.")


def _seq(endpoint: Endpoint) -> int:
    return endpoint.seq
