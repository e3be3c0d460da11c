"""The in-memory store: every workspace's groups and their API keys, behind one lock.

Each public method takes the lock for its whole duration, so a create, an update, a read
or a recursive delete is one atomic step even when many server threads call at once.
"""

from __future__ import annotations

import functools
import hashlib
import os
import string
import threading
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from simulator.core.errors import (
    ChildExceedsAncestorLimit,
    DuplicateExternalEntityId,
    GroupInOtherWorkspace,
    GroupNotFound,
    HierarchyTooDeep,
    ImmutableFieldChanged,
    KeyNotFound,
    KeyPrefixTaken,
    ModeMismatch,
    ParentNotFound,
    echo,
)
from simulator.core.keys import MINT_PREFIX, PREFIX_LENGTH, digest, new_secret
from simulator.core.limits import ceilings_of, exceeds_ceilings, group_ceilings
from simulator.core.model import CASCADING, Group, GroupUpdate, KeyRecord, ModelConfig, NewGroup
from simulator.core.pagination import page

MAX_DEPTH = 5  # DEPTH-MAX: a root is level 1
# Up to this many deleted groups leave the listing one by one (a bisect and a memmove
# each); more, and the listing is rebuilt in one pass, so a delete stays linear.
_UNLIST_ONE_BY_ONE = 32
_ID_ALPHABET = string.ascii_lowercase + string.digits
_KEY_ALPHABET = string.ascii_letters + string.digits


def utc_now() -> str:
    """RFC 3339 UTC with whole seconds, as the documentation's examples show."""
    return datetime.now(UTC).isoformat(timespec="seconds")[:-6] + "Z"  # drops "+00:00"


class IdGenerator:
    """Opaque ids, never reused (RESP-ID). Seeded, it gives the same ids run after run.

    An id is a counter put through a keyed permutation (a Feistel network) and written in
    the id's alphabet. Distinct counts give distinct ids, so ids are unique without
    remembering every one ever issued: memory stays flat however many groups come and go.
    Without the key an id tells nothing of the count, so no workspace can count another's
    creates from its own ids. Only ids imported from a snapshot are remembered (`reserve`).
    It has its own lock: the group store and the endpoint book draw from it under their own.
    """

    def __init__(self, seed: int | None = None, length: int = 12) -> None:
        self._lock = threading.Lock()
        self._length = length
        self._count = 0
        self._key = _permutation_key(seed)
        self._reserved: set[str] = set()

    def __call__(self, alphabet: str = _ID_ALPHABET, length: int | None = None) -> str:
        size = length or self._length
        with self._lock:
            while True:
                self._count += 1
                width = size  # an id space used up goes on at the next width: never a repeat
                bits = _even_bits(len(alphabet), width)
                while self._count >> bits:
                    width += 1
                    bits = _even_bits(len(alphabet), width)
                new_id = _written(_permuted(self._count, self._key, bits), alphabet, width)
                if new_id not in self._reserved:
                    return new_id

    def reserve(self, taken: str) -> None:
        """Marks an id as issued: an imported id is never handed out again."""
        self._reserved.add(taken)

    def reserve_all(self, taken: Iterable[str]) -> None:
        """`reserve` for many ids at once."""
        self._reserved.update(taken)

    def reseed(self, seed: int | None) -> None:
        """Restarts the sequence; the caller reserves the ids still in use."""
        self._key = _permutation_key(seed)
        self._count = 0
        self._reserved.clear()


_FEISTEL_ROUNDS = 3  # three rounds of a keyed round function: Luby-Rackoff's permutation
_MASK64 = (1 << 64) - 1


def _permutation_key(seed: int | None) -> tuple[int, ...]:
    """A round key per Feistel round: fresh random ones, or derived from the seed (the same
    ids on every run)."""
    if seed is None:
        raw = os.urandom(8 * _FEISTEL_ROUNDS)
    else:
        raw = hashlib.blake2b(str(seed).encode(), digest_size=8 * _FEISTEL_ROUNDS).digest()
    return tuple(int.from_bytes(raw[i : i + 8], "big") for i in range(0, len(raw), 8))


@functools.cache
def _even_bits(base: int, width: int) -> int:
    """The largest even bit width whose numbers all fit in the base**width ids of a width."""
    space: int = base**width
    bits = space.bit_length() - 1
    return bits - bits % 2


def _permuted(number: int, key: tuple[int, ...], bits: int) -> int:
    """`number` (below 2**bits) through a balanced Feistel network: a bijection on
    0..2**bits-1, so distinct numbers stay distinct. Its round function is a keyed 64-bit
    mix (splitmix64's): not cryptography, but no count can be read off an id without the
    64-bit round keys."""
    half = bits // 2
    mask = (1 << half) - 1
    left, right = number >> half, number & mask
    for round_key in key:
        mixed = ((right ^ round_key) * 0x9E3779B97F4A7C15) & _MASK64
        mixed = ((mixed ^ (mixed >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        mixed = ((mixed ^ (mixed >> 27)) * 0x94D049BB133111EB) & _MASK64
        left, right = right, left ^ ((mixed ^ (mixed >> 31)) & mask)
    return (left << half) | right


def _written(number: int, alphabet: str, width: int) -> str:
    """`number` in base len(alphabet), `width` characters."""
    digits: list[str] = []
    for _ in range(width):
        number, digit = divmod(number, len(alphabet))
        digits.append(alphabet[digit])
    return "".join(reversed(digits))


@dataclass(frozen=True, slots=True)
class DeletedGroup:
    group: Group
    deleted_at: str


@dataclass(frozen=True, slots=True)
class MintedKey:
    record: KeyRecord
    plaintext: str


class Store:
    def __init__(
        self,
        *,
        clock: Callable[[], str] = utc_now,
        new_id: IdGenerator | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.new_id = new_id or IdGenerator()
        self._seq = 0
        self._groups: dict[str, Group] = {}
        self._by_external_id: dict[tuple[str, str], Group] = {}
        self._listing: dict[str, list[Group]] = {}  # per workspace, oldest first
        self._key_owner: dict[tuple[str, str], str] = {}  # (workspace, prefix) -> group id
        # Live keys by the SHA-256 of their plaintext, across workspaces: an inference call
        # names no workspace. A caller-made key registered in two workspaces has two records.
        self._live_keys: dict[bytes, list[KeyRecord]] = {}

    # Groups.

    def create_group(self, workspace: str, new: NewGroup) -> Group:
        """Creates a group, or raises and changes nothing (CREATE-ATOMIC).

        The checks run in the order of ERR-ONE-RULE: parent, mode, depth, ceiling, duplicate.
        """
        with self.lock:
            return self._insert(workspace, new)

    def get_group(self, workspace: str, group_id: str) -> Group:
        with self.lock:
            group = self._groups.get(group_id)
            if group is None:  # GROUP-NOT-FOUND: unknown or deleted
                raise GroupNotFound(f"No group with id {echo(group_id)}.")
            if group.workspace != workspace:  # GROUP-OTHER-WORKSPACE
                raise GroupInOtherWorkspace()
            return group

    def list_groups(
        self, workspace: str, after: int, limit: int, external_entity_id: str | None = None
    ) -> tuple[list[Group], int | None]:
        """One page, oldest first (LIST-STABLE); the filter matches exactly (LIST-FILTER)."""
        with self.lock:
            if external_entity_id is None:
                return page(self._listing.get(workspace, []), after, limit, _seq)
            match = self.find_by_external_id(workspace, external_entity_id)
            return page([match] if match else [], after, limit, _seq)

    def update_group(self, workspace: str, group_id: str, update: GroupUpdate) -> Group:
        """PATCH-NAME and PATCH-REPLACE, refused whole on PATCH-IMMUTABLE or PATCH-CASCADE."""
        with self.lock:
            group = self.get_group(workspace, group_id)
            refuse_immutable_changes(group, update)
            if (
                update.models is not None
                and group.mode == CASCADING
                and (
                    any(
                        exceeds_ceilings(group_ceilings(a), update.models) for a in ancestors(group)
                    )
                    or _above_any(update.models, descendants(group))
                )
            ):
                raise ChildExceedsAncestorLimit()
            if update.name_sent:
                group.name = update.name
            if update.models is not None:
                group.models = update.models
            return group

    def delete_group(self, workspace: str, group_id: str) -> DeletedGroup:
        """Deletes the group and its whole subtree in one step (DELETE-RECURSIVE).

        Every external_entity_id in the subtree is freed (EXTID-REUSE) and every key under
        it revoked; ids are never reused.
        """
        with self.lock:
            group = self.get_group(workspace, group_id)
            subtree = list(group.subtree())
            for doomed in subtree:
                del self._groups[doomed.id]
                self.release_external_id(workspace, doomed.external_entity_id)
                for record in doomed.keys.values():
                    self._forget_key(record)
                doomed.keys.clear()
            self._unlist(workspace, subtree)
            if group.parent is not None:
                group.parent.children.remove(group)
            return DeletedGroup(group, self.clock())

    def count(self) -> int:
        with self.lock:
            return len(self._groups)

    # API keys.

    def mint_key(self, workspace: str, group_id: str, name: str | None) -> MintedKey:
        with self.lock:
            group = self.get_group(workspace, group_id)
            prefix = MINT_PREFIX + self.new_id(_KEY_ALPHABET, PREFIX_LENGTH - len(MINT_PREFIX))
            plaintext = f"{prefix}.{new_secret()}"
            return MintedKey(self._add_key(group, prefix, name, plaintext), plaintext)

    def register_key(self, workspace: str, group_id: str, key: str, name: str | None) -> KeyRecord:
        with self.lock:
            group = self.get_group(workspace, group_id)
            prefix = key[:PREFIX_LENGTH]
            if self.key_prefix_taken(workspace, prefix):  # REGISTER-PREFIX-UNIQUE
                raise KeyPrefixTaken()
            return self._add_key(group, prefix, name, key)

    def list_keys(
        self, workspace: str, group_id: str, after: int, limit: int
    ) -> tuple[list[KeyRecord], int | None]:
        with self.lock:
            keys = list(self.get_group(workspace, group_id).keys.values())
            return page(keys, after, limit, _seq)

    def get_key(self, workspace: str, group_id: str, prefix: str) -> KeyRecord:
        with self.lock:
            record = self.get_group(workspace, group_id).keys.get(prefix)
            if record is None:  # KEY-NOT-FOUND: unknown, revoked, or under another group
                raise KeyNotFound(f"No live key with prefix {echo(prefix)} in this group.")
            return record

    def revoke_key(self, workspace: str, group_id: str, prefix: str) -> KeyRecord:
        """Irreversible: the prefix stays reserved, so it never names another key."""
        with self.lock:
            record = self.get_key(workspace, group_id, prefix)
            del self._groups[group_id].keys[prefix]
            self._forget_key(record)
            return record

    def key_owner(self, key_digest: bytes) -> tuple[Group, KeyRecord] | None:
        """The live group key with this digest and its group; None for an unknown, revoked
        or ambiguous one (the same plaintext live in two workspaces names no single group).

        The caller holds the lock until it has used the group (INF-AUTH-KEY: a key revoked
        or a group deleted a moment ago can't slip through).
        """
        records = self._live_keys.get(key_digest)
        if records is None or len(records) != 1:
            return None
        return self._groups[records[0].group_id], records[0]

    def key_prefix_taken(self, workspace: str, prefix: str) -> bool:
        """True when a key with this prefix was ever added in the workspace, revoked or not."""
        with self.lock:
            return (workspace, prefix) in self._key_owner

    # The rules of a create, and the index of external_entity_ids. Each is one method, so a
    # subclass (or a test's deliberately broken variant) can change one rule alone.

    def parent_of(self, workspace: str, new: NewGroup) -> Group | None:
        """The parent a create names, or None for a root (PARENT-EXISTS: 404 for another
        workspace's group as for an unknown one)."""
        if new.parent_id is None:
            return None
        with self.lock:
            parent = self._groups.get(new.parent_id)
            if parent is None or parent.workspace != workspace:
                raise ParentNotFound(f"Parent group {echo(new.parent_id)} not found.")
            return parent

    @staticmethod
    def refuse_misplaced_child(new: NewGroup, parent: Group | None) -> None:
        """The hierarchy rules of a create, in ERR-ONE-RULE order: MODE-MATCH, DEPTH-MAX,
        CASCADE-CEILING against every ancestor."""
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
            exceeds_ceilings(group_ceilings(ancestor), new.models) for ancestor in parent.lineage()
        ):  # CASCADE-CEILING
            raise ChildExceedsAncestorLimit()

    def find_by_external_id(self, workspace: str, external_entity_id: str) -> Group | None:
        """The group holding this external_entity_id in the workspace (EXTID-UNIQUE)."""
        with self.lock:
            return self._by_external_id.get((workspace, external_entity_id))

    def claim_external_id(self, group: Group) -> None:
        """Files `group` under its external_entity_id; a create does it once its rules pass."""
        with self.lock:
            self._by_external_id[(group.workspace, group.external_entity_id)] = group

    def release_external_id(self, workspace: str, external_entity_id: str) -> None:
        """Frees an external_entity_id for a later create (EXTID-REUSE: a delete frees it)."""
        with self.lock:
            del self._by_external_id[(workspace, external_entity_id)]

    # Snapshots, seeds and reset (the control API).

    def all_groups(self) -> list[Group]:
        """Every live group, oldest first, so a parent always comes before its children."""
        with self.lock:
            return sorted(self._groups.values(), key=_seq)

    def reserved_prefixes(self) -> list[tuple[str, str, str]]:
        """(workspace, prefix, group id) of every revoked key and key of a deleted group."""
        with self.lock:
            groups = self._groups
            return [
                (ws, prefix, gid)
                for (ws, prefix), gid in self._key_owner.items()
                if gid not in groups or prefix not in groups[gid].keys  # a prefix has one owner
            ]

    def restore_group(self, workspace: str, new: NewGroup, group_id: str, created_at: str) -> Group:
        """Re-creates an exported group with its own id and timestamp, under create's rules."""
        with self.lock:
            if group_id in self._groups:
                raise ValueError(f"group id {group_id!r} is used twice")
            self.new_id.reserve(group_id)
            return self._insert(workspace, new, group_id, created_at)

    def restore_key(self, group: Group, prefix: str, name: str | None, key_digest: bytes) -> None:
        with self.lock:
            if self.key_prefix_taken(group.workspace, prefix):  # REGISTER-PREFIX-UNIQUE
                raise KeyPrefixTaken()
            self._install_key(group, prefix, name, key_digest)

    def reserve_prefix(self, workspace: str, prefix: str, group_id: str) -> None:
        with self.lock:
            if self.key_prefix_taken(workspace, prefix):
                raise KeyPrefixTaken()
            self._key_owner[(workspace, prefix)] = group_id

    def swap_contents(self, other: Store) -> None:
        """Trades every group and key with `other` in O(1), each keeping its own lock, clock
        and id generator. An import builds the new state in a scratch store, off this
        store's lock, and swaps it in; the scratch is left with the old state, which is
        freed after the lock is released.
        """
        with self.lock, other.lock:
            self._seq, other._seq = other._seq, self._seq
            self._groups, other._groups = other._groups, self._groups
            self._by_external_id, other._by_external_id = (
                other._by_external_id,
                self._by_external_id,
            )
            self._listing, other._listing = other._listing, self._listing
            self._key_owner, other._key_owner = other._key_owner, self._key_owner
            self._live_keys, other._live_keys = other._live_keys, self._live_keys

    def copy_contents_to(self, other: Store) -> None:
        """Gives `other` (an empty store) a copy of every group and key, in time linear in
        the groups, for a change to be tried on first. Groups are new objects in a new
        hierarchy; what a change never alters in place (model sets, key records, meters)
        is shared, so the copy is for trying changes through the store's methods only.
        """
        with self.lock, other.lock:
            copies: dict[str, Group] = {}
            for group in self._groups.values():  # oldest first: a parent before its children
                parent = copies[group.parent.id] if group.parent is not None else None
                copy = copies[group.id] = Group(
                    group.id,
                    group.workspace,
                    group.external_entity_id,
                    group.name,
                    group.models,
                    group.mode,
                    parent,
                    group.created_at,
                    group.seq,
                    group.depth,
                    keys=dict(group.keys),
                    meters=group.meters,
                    slug_index=group.slug_index,
                    ceilings=group.ceilings,
                )
                if parent is not None:
                    parent.children.append(copy)
            other._seq = self._seq
            other._groups = copies
            other._by_external_id = {k: copies[g.id] for k, g in self._by_external_id.items()}
            other._listing = {
                ws: [copies[g.id] for g in listing] for ws, listing in self._listing.items()
            }
            other._key_owner = dict(self._key_owner)
            other._live_keys = {d: list(records) for d, records in self._live_keys.items()}

    # Internals.

    def _insert(
        self,
        workspace: str,
        new: NewGroup,
        group_id: str | None = None,
        created_at: str | None = None,
    ) -> Group:
        parent = self.parent_of(workspace, new)
        self.refuse_misplaced_child(new, parent)
        if self.find_by_external_id(workspace, new.external_entity_id) is not None:  # EXTID-UNIQUE
            raise DuplicateExternalEntityId(
                f"A group with external_entity_id {new.external_entity_id!r} "
                "already exists in this workspace."
            )
        group = Group(
            id=group_id or self.new_id(),
            workspace=workspace,
            external_entity_id=new.external_entity_id,
            name=new.name,
            models=new.models,
            mode=new.mode,
            parent=parent,
            created_at=created_at or self.clock(),
            seq=self._next_seq(),
            depth=parent.depth + 1 if parent else 1,
        )
        self._groups[group.id] = group
        self.claim_external_id(group)
        self._listing.setdefault(workspace, []).append(group)
        if parent is not None:
            parent.children.append(group)
        return group

    def _add_key(self, group: Group, prefix: str, name: str | None, key: str) -> KeyRecord:
        return self._install_key(group, prefix, name, digest(key))

    def _install_key(
        self, group: Group, prefix: str, name: str | None, key_digest: bytes
    ) -> KeyRecord:
        record = KeyRecord(prefix, name, group.id, key_digest, self._next_seq())
        group.keys[prefix] = record
        self._key_owner[(group.workspace, prefix)] = group.id
        self._live_keys.setdefault(key_digest, []).append(record)
        return record

    def _forget_key(self, record: KeyRecord) -> None:
        records = self._live_keys[record.digest]
        records.remove(record)
        if not records:
            del self._live_keys[record.digest]

    def _unlist(self, workspace: str, gone: list[Group]) -> None:
        """Takes deleted groups (already out of `_groups`) off the workspace's listing, in
        time linear in the listing: a few one by one, many in one pass over it."""
        listing = self._listing[workspace]
        if len(gone) <= _UNLIST_ONE_BY_ONE:
            for group in gone:
                del listing[_index(listing, group)]
        else:
            groups = self._groups
            listing[:] = [group for group in listing if group.id in groups]

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq


def refuse_immutable_changes(group: Group, update: GroupUpdate) -> None:
    """PATCH-IMMUTABLE: the same value may be sent again; a new one is refused."""
    current = {"limit_enforcement": group.mode, "parent_group_id": _parent_id(group)}
    if update.external_entity_id not in (None, group.external_entity_id):
        raise ImmutableFieldChanged("metadata.external_entity_id can't be changed.")
    for field, value in (update.hierarchy or {}).items():
        if field in current and value != current[field]:
            raise ImmutableFieldChanged(f"hierarchy.{field} can't be changed.")


def _parent_id(group: Group) -> str | None:
    return group.parent.id if group.parent else None


def ancestors(group: Group) -> Iterator[Group]:
    """The groups above `group`, its parent first: a cascading update stays under them."""
    return (g for g in group.lineage() if g is not group)


def descendants(group: Group) -> Iterator[Group]:
    """The groups below `group`, parents first: a cascading update stays above them."""
    return (g for g in group.subtree() if g is not group)


def _above_any(models: tuple[ModelConfig, ...], groups: Iterator[Group]) -> bool:
    """True when `models` would sit below a limit of one of `groups` (CASCADE-CEILING), in
    time linear in all their limits: the ceilings are built once."""
    ceilings = ceilings_of(models)
    return any(exceeds_ceilings(ceilings, g.models) for g in groups)


def _seq(item: Group | KeyRecord) -> int:
    return item.seq


def _index(listing: list[Group], group: Group) -> int:
    return bisect_left(listing, group.seq, key=_seq)
