"""Workspaces, their API keys, and who may do what (AUTH-*, ACCESS-*)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from simulator.core.errors import (
    ManagementScopeRequired,
    Unauthenticated,
    WorkspaceNotOnboarded,
)


class Scope(StrEnum):
    MANAGEMENT = "management"
    VIEW = "view"


@dataclass(frozen=True, slots=True)
class Workspace:
    name: str
    onboarded: bool = True
    public_key: str | None = None  # Ed25519, for registering caller-made keys
    org_prefixes: tuple[str, ...] = ()  # the slug prefixes its endpoints may use


@dataclass(frozen=True, slots=True)
class ApiKey:
    key: str
    workspace: Workspace
    scope: Scope


_SCHEMES = ("api-key", "bearer")  # AUTH-SCHEME; schemes are case-insensitive (RFC 9110 §11.1)


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


class KeyRing:
    """Finds the key behind an Authorization header.

    Keys are looked up by their SHA-256 digest, so the time a lookup takes depends on the
    digest, never on how many leading characters of a real key a caller guessed.
    """

    def __init__(self, keys: Iterable[ApiKey]) -> None:
        self._by_digest = {_digest(k.key): k for k in keys}

    def authenticate(self, authorization: str | None) -> ApiKey:
        scheme, _, credential = (authorization or "").strip().partition(" ")
        if scheme.lower() not in _SCHEMES or not credential.strip():
            raise Unauthenticated()
        found = self._by_digest.get(_digest(credential.strip()))
        if found is None:  # AUTH-MISSING
            raise Unauthenticated("Unknown API key.")
        return found

    def keys(self) -> list[ApiKey]:
        return list(self._by_digest.values())


def authorize(key: ApiKey, scope: Scope) -> None:
    """Refuses a key whose workspace isn't onboarded, then one without the scope.

    Management scope includes view scope.
    """
    if not key.workspace.onboarded:  # ACCESS-ONBOARDED
        raise WorkspaceNotOnboarded()
    if scope is Scope.MANAGEMENT and key.scope is not Scope.MANAGEMENT:  # ACCESS-SCOPE
        raise ManagementScopeRequired()
