"""The in-memory store: every workspace's groups, behind one lock.

Each public method takes the lock for its whole duration, so a create, a read or a
recursive delete is one atomic step even when many server threads call at once.
"""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from simulator.errors import (
    ChildExceedsAncestorLimit,
    DuplicateExternalEntityId,
    GroupInOtherWorkspace,
    GroupNotFound,
    HierarchyTooDeep,
    ModeMismatch,
    ParentNotFound,
)
from simulator.limits import exceeds
from simulator.model import CASCADING, Group, NewGroup

MAX_DEPTH = 5  # DEPTH-MAX: a root is level 1
_ID_ALPHABET = string.ascii_lowercase + string.digits


def utc_now() -> str:
    """RFC 3339 UTC with whole seconds, as the documentation's examples show."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class IdGenerator:
    """Opaque ids, never reused (RESP-ID). Seeded, it gives the same ids run after run."""

    def __init__(self, seed: int | None = None, length: int = 12) -> None:
        self._random = random.Random(seed)
        self._length = length
        self._issued: set[str] = set()

    def __call__(self) -> str:
        while True:
            new_id = "".join(self._random.choices(_ID_ALPHABET, k=self._length))
            if new_id not in self._issued:
                self._issued.add(new_id)
                return new_id


@dataclass(frozen=True, slots=True)
class DeletedGroup:
    group: Group
    deleted_at: str


class Store:
    def __init__(
        self,
        *,
        clock: Callable[[], str] = utc_now,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self._clock = clock
        self._new_id = new_id or IdGenerator()
        self._groups: dict[str, Group] = {}
        self._by_external_id: dict[tuple[str, str], Group] = {}

    def create_group(self, workspace: str, new: NewGroup) -> Group:
        """Creates a group, or raises and changes nothing (CREATE-ATOMIC).

        The checks run in the order of ERR-ONE-RULE: parent, mode, depth, ceiling, duplicate.
        """
        with self.lock:
            parent = self._parent_of(workspace, new)
            self._refuse_misplaced_child(new, parent)
            if (workspace, new.external_entity_id) in self._by_external_id:  # EXTID-UNIQUE
                raise DuplicateExternalEntityId(
                    f"A group with external_entity_id {new.external_entity_id!r} "
                    "already exists in this workspace."
                )
            group = Group(
                id=self._new_id(),
                workspace=workspace,
                external_entity_id=new.external_entity_id,
                name=new.name,
                models=new.models,
                mode=new.mode,
                parent=parent,
                created_at=self._clock(),
                depth=parent.depth + 1 if parent else 1,
            )
            self._groups[group.id] = group
            self._by_external_id[(workspace, group.external_entity_id)] = group
            if parent is not None:
                parent.children.append(group)
            return group

    def get_group(self, workspace: str, group_id: str) -> Group:
        with self.lock:
            group = self._groups.get(group_id)
            if group is None:  # GROUP-NOT-FOUND: unknown or deleted
                raise GroupNotFound(f"No group with id {group_id!r}.")
            if group.workspace != workspace:  # GROUP-OTHER-WORKSPACE
                raise GroupInOtherWorkspace()
            return group

    def delete_group(self, workspace: str, group_id: str) -> DeletedGroup:
        """Deletes the group and its whole subtree in one step (DELETE-RECURSIVE).

        Every external_entity_id in the subtree is freed (EXTID-REUSE); ids are never reused.
        """
        with self.lock:
            group = self.get_group(workspace, group_id)
            for doomed in list(group.subtree()):
                del self._groups[doomed.id]
                del self._by_external_id[(doomed.workspace, doomed.external_entity_id)]
            if group.parent is not None:
                group.parent.children.remove(group)
            return DeletedGroup(group, self._clock())

    def count(self) -> int:
        with self.lock:
            return len(self._groups)

    def _parent_of(self, workspace: str, new: NewGroup) -> Group | None:
        if new.parent_id is None:
            return None
        parent = self._groups.get(new.parent_id)
        if parent is None or parent.workspace != workspace:  # PARENT-EXISTS: 404 for both
            raise ParentNotFound(f"Parent group {new.parent_id!r} not found.")
        return parent

    @staticmethod
    def _refuse_misplaced_child(new: NewGroup, parent: Group | None) -> None:
        if parent is None:
            return
        if new.mode != parent.mode:  # MODE-MATCH
            raise ModeMismatch(
                f"limit_enforcement {new.mode} doesn't match the parent's {parent.mode}; "
                "a hierarchy has one mode."
            )
        if parent.depth >= MAX_DEPTH:  # DEPTH-MAX
            raise HierarchyTooDeep(
                f"The parent is at level {parent.depth}; hierarchies are capped at "
                f"{MAX_DEPTH} levels deep."
            )
        if new.mode == CASCADING and any(
            exceeds(ancestor.models, new.models) for ancestor in parent.lineage()
        ):  # CASCADE-CEILING
            raise ChildExceedsAncestorLimit()
