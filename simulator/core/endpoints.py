"""Endpoints: what a model slug routes to. Slugs are unique across all workspaces."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.core.access import Workspace
from simulator.core.errors import (
    DuplicateEndpointSlug,
    EndpointInOtherWorkspace,
    EndpointNotFound,
    EndpointSlugNotOwned,
    InvalidTarget,
    UnknownEnvironment,
)
from simulator.core.pagination import page

ENVIRONMENTS = ("production", "staging", "development")  # EP-ENVIRONMENT (a choice)
EXTERNAL_PROVIDERS = ("ANTHROPIC", "OPENAI")


@dataclass(slots=True, eq=False)
class Endpoint:
    id: str
    workspace: str
    slug: str
    targets: tuple[dict[str, Any], ...]
    created_at: str
    updated_at: str
    seq: int = field(default=0)


def check_targets(targets: list[Mapping[str, Any]]) -> tuple[dict[str, Any], ...]:
    """EP-TARGET-FIELDS per provider; the schema already holds the list to one entry."""
    for target in targets:
        if target["provider"] == "BASETEN":
            if "model_id" not in target:
                raise InvalidTarget("A BASETEN target needs model_id.")
            env = target.get("environment_name", "production")
            if env not in ENVIRONMENTS:
                raise UnknownEnvironment(
                    f"Unknown environment {env!r}; use one of {', '.join(ENVIRONMENTS)}."
                )
        else:
            missing = [f for f in ("secret_id", "target_model") if f not in target]
            if missing:
                raise InvalidTarget(f"A {target['provider']} target needs {' and '.join(missing)}.")
            if "environment_name" in target:
                raise InvalidTarget("environment_name is for BASETEN targets only.")
    return tuple(dict(t) for t in targets)


class EndpointBook:
    """Every workspace's endpoints, behind one lock."""

    def __init__(self, clock: Callable[[], str], new_id: Callable[[], str]) -> None:
        self.lock = threading.RLock()
        self._clock, self._new_id = clock, new_id
        self._seq = 0
        self._by_id: dict[str, Endpoint] = {}
        self._by_slug: dict[str, Endpoint] = {}
        self._listing: dict[str, list[Endpoint]] = {}

    def create(self, workspace: Workspace, slug: str, targets: list[Mapping[str, Any]]) -> Endpoint:
        checked = check_targets(targets)
        with self.lock:
            self._claim_slug(workspace, slug)
            now = self._clock()
            return self._insert(Endpoint(self._new_id(), workspace.name, slug, checked, now, now))

    def restore(
        self, workspace: Workspace, endpoint: Endpoint, targets: list[Mapping[str, Any]]
    ) -> Endpoint:
        """Re-creates an exported endpoint with its own id and timestamps, under create's rules."""
        endpoint.targets = check_targets(targets)
        with self.lock:
            if endpoint.id in self._by_id:
                raise ValueError(f"endpoint id {endpoint.id!r} is used twice")
            self._claim_slug(workspace, endpoint.slug)
            return self._insert(endpoint)

    def all(self) -> list[Endpoint]:
        with self.lock:
            return sorted(self._by_id.values(), key=_seq)

    def clear(self) -> None:
        with self.lock:
            self._seq = 0
            self._by_id.clear()
            self._by_slug.clear()
            self._listing.clear()

    def get(self, workspace: str, endpoint_id: str) -> Endpoint:
        with self.lock:
            endpoint = self._by_id.get(endpoint_id)
            if endpoint is None:  # EP-NOT-FOUND
                raise EndpointNotFound(f"No endpoint with id {endpoint_id!r}.")
            if endpoint.workspace != workspace:  # EP-OTHER-WORKSPACE
                raise EndpointInOtherWorkspace()
            return endpoint

    def list(self, workspace: str, after: int, limit: int) -> tuple[list[Endpoint], int | None]:
        with self.lock:
            return page(self._listing.get(workspace, []), after, limit, _seq)

    def update(
        self, workspace: Workspace, endpoint_id: str, changes: Mapping[str, Any]
    ) -> Endpoint:
        """EP-PATCH: a new slug renames (freeing the old one), new targets replace the list."""
        checked = check_targets(changes["targets"]) if "targets" in changes else None
        with self.lock:
            endpoint = self.get(workspace.name, endpoint_id)
            slug = changes.get("slug", endpoint.slug)
            if slug != endpoint.slug:
                self._claim_slug(workspace, slug)
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

    def _claim_slug(self, workspace: Workspace, slug: str) -> None:
        org = slug.partition("/")[0]
        if org not in workspace.org_prefixes:  # EP-SLUG-PREFIX
            raise EndpointSlugNotOwned(
                f"The slug's org prefix {org!r} isn't one this workspace owns "
                f"({', '.join(workspace.org_prefixes)})."
            )
        if slug in self._by_slug:  # EP-SLUG-UNIQUE
            raise DuplicateEndpointSlug(f"An endpoint with slug {slug!r} already exists.")


def _seq(endpoint: Endpoint) -> int:
    return endpoint.seq
