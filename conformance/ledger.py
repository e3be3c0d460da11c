"""What a run created, its write budget, and the clean-up that deletes it all again.

Every resource the suite (schemathesis included) creates is recorded here with the key
that created it, and deleted at the end of the check that made it, at the end of the
run, on failure and on interruption. Nothing else is ever deleted.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.target import Reply, TargetUnreachable, Transport, send_with_backoff

_ALPHABET = string.ascii_lowercase + string.digits


def new_prefix() -> str:
    """`fgc-<8 random characters>-`: marks every external_entity_id one run creates."""
    return "fgc-" + "".join(secrets.choice(_ALPHABET) for _ in range(8)) + "-"


class Client:
    """One role's key on the target: sends requests with `Authorization: <scheme> <key>`."""

    def __init__(self, transport: Transport, key: str, role: str, scheme: str = "Api-Key") -> None:
        self.transport = transport
        self.key = key
        self.role = role
        self.scheme = scheme

    @property
    def authorization(self) -> str:
        return f"{self.scheme} {self.key}"

    def with_scheme(self, scheme: str) -> Client:
        return Client(self.transport, self.key, self.role, scheme)

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: Mapping[str, str | None] | None = None,
        interruptible: bool = True,
    ) -> Reply:
        """Sends `body` as JSON (or `raw` bytes); `headers` replace the defaults, None drops one."""
        sent: dict[str, str | None] = {"Authorization": self.authorization}
        if body is not None or raw is not None:
            sent["Content-Type"] = "application/json"
            raw = raw if raw is not None else json.dumps(body).encode()
        sent.update(headers or {})
        kept = {name: value for name, value in sent.items() if value is not None}
        return send_with_backoff(
            self.transport, method, path, kept, raw, interruptible=interruptible
        )


class BudgetExhausted(Exception):
    """The run may create nothing more (--max-writes)."""


@dataclass
class Resource:
    kind: str
    id: str
    delete_path: str
    client: Client
    external_entity_id: str | None = None
    deleted: bool = False


@dataclass
class Ledger:
    prefix: str
    max_writes: int
    writes: int = 0
    resources: list[Resource] = field(default_factory=list)
    cleanup_errors: list[str] = field(default_factory=list)

    def reserve(self) -> None:
        """Counts one request that may create something, or refuses once the budget is spent."""
        if self.writes >= self.max_writes:
            raise BudgetExhausted(f"the write budget of {self.max_writes} creates is spent")
        self.writes += 1

    def record(self, resource: Resource) -> None:
        self.resources.append(resource)

    def mark(self) -> int:
        return len(self.resources)

    def deleted(self, resource_id: str) -> None:
        """Notes a delete the suite saw succeed. Descendants stay listed: clean-up checks them."""
        for resource in self.resources:
            if resource.id == resource_id:
                resource.deleted = True

    def live(self, kind: str | None = None) -> list[Resource]:
        return [r for r in self.resources if not r.deleted and kind in (None, r.kind)]

    def cleanup(self, since: int = 0) -> None:
        """Deletes what was created after `since`, newest first; a 404 means already gone."""
        for resource in reversed(self.resources[since:]):
            if resource.deleted:
                continue
            try:
                reply = resource.client.send("DELETE", resource.delete_path, interruptible=False)
            except TargetUnreachable as error:
                self.cleanup_errors.append(f"{resource.kind} {resource.id}: {error}")
                return
            if reply.ok or reply.status == 404:
                resource.deleted = True
            else:
                self.cleanup_errors.append(
                    f"{resource.kind} {resource.id} ({resource.external_entity_id or '-'}): "
                    f"DELETE {resource.delete_path} answered {reply.describe(120)}"
                )
                resource.deleted = True  # reported once; a retry would only repeat it
