"""Unit tests of simulator.core.store: hierarchy rules, atomic creates, recursive deletes, ids."""

from __future__ import annotations

import re

import pytest

from simulator.core.errors import (
    ChildExceedsAncestorLimit,
    DuplicateExternalEntityId,
    GatewayError,
    GroupInOtherWorkspace,
    GroupNotFound,
    HierarchyTooDeep,
    ModeMismatch,
    ParentNotFound,
)
from simulator.core.keys import digest
from simulator.core.model import CASCADING, INDEPENDENT, Group, Limit, ModelConfig, NewGroup
from simulator.core.store import MAX_DEPTH, IdGenerator, Store, utc_now
from tests.builders import RFC3339_UTC

SLUG = "org/model"


def models(threshold: int | None = None, usage: int | None = None) -> tuple[ModelConfig, ...]:
    rate = () if threshold is None else (Limit("TOKEN", "MINUTE", threshold),)
    daily = () if usage is None else (Limit("TOKEN", "DAY", usage),)
    return (ModelConfig(SLUG, rate, daily),)


def new(
    extid: str,
    parent: Group | str | None = None,
    *,
    mode: str = INDEPENDENT,
    limits: tuple[ModelConfig, ...] | None = None,
) -> NewGroup:
    parent_id = parent.id if isinstance(parent, Group) else parent
    return NewGroup(extid, None, limits if limits is not None else models(), mode, parent_id)


def build_chain(store: Store, levels: int, mode: str = INDEPENDENT) -> list[Group]:
    groups: list[Group] = []
    for level in range(levels):
        parent = groups[-1] if groups else None
        groups.append(store.create_group("acme", new(f"g{level}", parent, mode=mode)))
    return groups


@pytest.fixture
def store() -> Store:
    return Store(clock=lambda: "2026-05-13T12:00:00Z", new_id=IdGenerator(seed=7))


def test_store_create_group_keeps_what_was_asked(store: Store) -> None:
    """RESP-ECHO: the stored group has the request's fields, the clock's time and a fresh id."""
    group = store.create_group("acme", new("cust_42", limits=models(10)))
    assert group.id
    assert group.external_entity_id == "cust_42"
    assert group.models == models(10)
    assert group.created_at == "2026-05-13T12:00:00Z"
    assert (group.depth, group.parent, group.workspace) == (1, None, "acme")
    assert store.get_group("acme", group.id) is group


def test_store_create_group_links_a_child_to_its_parent(store: Store) -> None:
    """A child knows its parent and depth; the parent lists the child."""
    root = store.create_group("acme", new("root"))
    child = store.create_group("acme", new("child", root))
    assert child.parent is root
    assert child.depth == 2
    assert root.children == [child]


def test_store_create_group_accepts_five_levels_and_refuses_a_sixth(store: Store) -> None:
    """DEPTH-MAX: a root is level 1; a chain of five is accepted, a child of level 5 is not."""
    groups = build_chain(store, MAX_DEPTH)
    assert [g.depth for g in groups] == [1, 2, 3, 4, 5]
    with pytest.raises(HierarchyTooDeep):
        store.create_group("acme", new("sixth", groups[-1]))
    store.create_group("acme", new("sibling-of-fifth", groups[-2]))  # level 5 again: fine


@pytest.mark.parametrize("parent_id", ["nope", ""])
def test_store_create_group_refuses_an_unknown_parent(store: Store, parent_id: str) -> None:
    """PARENT-EXISTS: a parent id the store doesn't know is ParentNotFound."""
    with pytest.raises(ParentNotFound):
        store.create_group("acme", new("child", parent_id))


def test_store_create_group_refuses_another_workspaces_parent(store: Store) -> None:
    """PARENT-EXISTS: another workspace's group is not found, not forbidden, on create."""
    foreign = store.create_group("globex", new("root"))
    with pytest.raises(ParentNotFound):
        store.create_group("acme", new("child", foreign))


def test_store_create_group_refuses_a_deleted_parent(store: Store) -> None:
    """PARENT-EXISTS: a deleted parent is not found."""
    root = store.create_group("acme", new("root"))
    store.delete_group("acme", root.id)
    with pytest.raises(ParentNotFound):
        store.create_group("acme", new("child", root))


@pytest.mark.parametrize(
    ("parent_mode", "child_mode"), [(INDEPENDENT, CASCADING), (CASCADING, INDEPENDENT)]
)
def test_store_create_group_refuses_a_mode_mismatch(
    store: Store, parent_mode: str, child_mode: str
) -> None:
    """MODE-MATCH: a child's limit_enforcement must equal its parent's."""
    root = store.create_group("acme", new("root", mode=parent_mode))
    with pytest.raises(ModeMismatch):
        store.create_group("acme", new("child", root, mode=child_mode))


def test_store_create_group_holds_cascading_children_under_every_ancestor(store: Store) -> None:
    """CASCADE-CEILING: equal to the grandparent is fine, one above is refused."""
    root = store.create_group("acme", new("root", mode=CASCADING, limits=models(100, 50)))
    middle = store.create_group("acme", new("middle", root, mode=CASCADING, limits=models()))
    store.create_group("acme", new("equal", middle, mode=CASCADING, limits=models(100, 50)))
    for limits in (models(101), models(usage=51)):
        with pytest.raises(ChildExceedsAncestorLimit) as raised:
            store.create_group("acme", new("above", middle, mode=CASCADING, limits=limits))
        assert raised.value.message == "Child group exceeds parent group limit."


def test_store_create_group_lets_independent_children_go_above(store: Store) -> None:
    """INDEPENDENT-OVERRIDE: no ceiling in an INDEPENDENT tree."""
    root = store.create_group("acme", new("root", limits=models(100, 50)))
    child = store.create_group("acme", new("child", root, limits=models(10**9, 10**9)))
    assert child.models == models(10**9, 10**9)


def test_store_create_group_refuses_a_duplicate_external_entity_id(store: Store) -> None:
    """EXTID-UNIQUE, EXTID-PER-WORKSPACE, EXTID-EXACT: unique per workspace, compared exactly."""
    store.create_group("acme", new("cust_42"))
    with pytest.raises(DuplicateExternalEntityId):
        store.create_group("acme", new("cust_42"))
    for variant in ("CUST_42", "cust_42 ", " cust_42"):
        store.create_group("acme", new(variant))
    store.create_group("globex", new("cust_42"))
    assert store.count() == 5


def test_store_create_group_checks_in_the_documented_order(store: Store) -> None:
    """ERR-ONE-RULE: parent, then mode, then depth, then ceiling, then duplicate id."""
    root = store.create_group("acme", new("root", mode=CASCADING, limits=models(1)))
    chain = [root]
    for level in range(2, MAX_DEPTH + 1):
        chain.append(store.create_group("acme", new(f"g{level}", chain[-1], mode=CASCADING)))
    deep, too_high = chain[-1], models(5)  # too_high breaks the root's ceiling of 1
    cases: list[tuple[NewGroup, type[GatewayError]]] = [
        (new("root", "missing", mode=INDEPENDENT, limits=too_high), ParentNotFound),
        (new("root", deep, mode=INDEPENDENT, limits=too_high), ModeMismatch),
        (new("root", deep, mode=CASCADING, limits=too_high), HierarchyTooDeep),
        (new("root", chain[1], mode=CASCADING, limits=too_high), ChildExceedsAncestorLimit),
        (new("root", chain[1], mode=CASCADING), DuplicateExternalEntityId),
    ]
    for request, error in cases:
        with pytest.raises(error):
            store.create_group("acme", request)
    assert store.count() == MAX_DEPTH


def test_store_refused_create_changes_nothing(store: Store) -> None:
    """CREATE-ATOMIC: after a refusal the count is the same and the id is still free."""
    root = store.create_group("acme", new("root", mode=CASCADING, limits=models(10)))
    with pytest.raises(ChildExceedsAncestorLimit):
        store.create_group("acme", new("child", root, mode=CASCADING, limits=models(11)))
    assert store.count() == 1
    assert root.children == []
    store.create_group("acme", new("child", root, mode=CASCADING, limits=models(10)))


def test_store_get_group_distinguishes_unknown_and_foreign(store: Store) -> None:
    """GROUP-NOT-FOUND for an unknown id, GROUP-OTHER-WORKSPACE for another workspace's."""
    group = store.create_group("acme", new("g"))
    with pytest.raises(GroupNotFound):
        store.get_group("acme", "unknown")
    with pytest.raises(GroupInOtherWorkspace):
        store.get_group("globex", group.id)


def test_store_delete_group_removes_the_subtree_and_frees_its_ids(store: Store) -> None:
    """DELETE-RECURSIVE and EXTID-REUSE: descendants go too and their external ids are free."""
    root, child, grandchild = build_chain(store, 3)
    sibling = store.create_group("acme", new("sibling"))
    deleted = store.delete_group("acme", child.id)
    assert deleted.group is child
    assert deleted.deleted_at == "2026-05-13T12:00:00Z"
    for gone in (child, grandchild):
        with pytest.raises(GroupNotFound):
            store.get_group("acme", gone.id)
    assert store.count() == 2
    assert root.children == []
    assert store.get_group("acme", sibling.id) is sibling
    reborn = store.create_group("acme", new(grandchild.external_entity_id))
    assert reborn.id not in {child.id, grandchild.id}


@pytest.mark.parametrize("children", [3, 40])  # each way off the listing: one by one, rebuilt
def test_store_delete_group_keeps_the_listing_in_order_and_frees_everything(
    store: Store, children: int
) -> None:
    """DELETE-RECURSIVE, LIST-STABLE and EXTID-REUSE: a subtree deleted from among other
    groups leaves the rest listed oldest first; its external ids are free, its keys
    revoked with their prefixes still taken, and its ids never handed out again."""
    root = store.create_group("acme", new("root"))
    survivors = [store.create_group("acme", new("before"))]
    doomed = [root]
    for index in range(children):
        child = store.create_group("acme", new(f"child{index}", root))
        doomed.append(child)
        if index % 3 == 0:
            doomed.append(store.create_group("acme", new(f"grandchild{index}", child)))
        survivors.append(store.create_group("acme", new(f"between{index}")))
    store.create_group("globex", new("child0"))  # another workspace's group is untouched
    minted = [store.mint_key("acme", g.id, None) for g in (root, doomed[-1])]
    store.delete_group("acme", root.id)
    listed, _ = store.list_groups("acme", 0, 1000)
    assert listed == survivors
    assert store.count() == len(survivors) + 1
    for key in minted:
        assert store.key_owner(digest(key.plaintext)) is None
        assert store.key_prefix_taken("acme", key.record.prefix)
    for gone in doomed:
        with pytest.raises(GroupNotFound):
            store.get_group("acme", gone.id)
    reborn = [store.create_group("acme", new(g.external_entity_id)) for g in doomed]
    assert {g.id for g in reborn}.isdisjoint(g.id for g in doomed)
    listed, _ = store.list_groups("acme", 0, 1000)
    assert listed == survivors + reborn


def test_store_delete_group_refuses_unknown_foreign_and_deleted(store: Store) -> None:
    """GROUP-NOT-FOUND (unknown or deleted) and GROUP-OTHER-WORKSPACE on delete."""
    group = store.create_group("acme", new("g"))
    with pytest.raises(GroupInOtherWorkspace):
        store.delete_group("globex", group.id)
    store.delete_group("acme", group.id)
    with pytest.raises(GroupNotFound):
        store.delete_group("acme", group.id)


def test_id_generator_never_repeats_and_is_seedable() -> None:
    """RESP-ID: ids are opaque, non-empty and never reused; a seed repeats the sequence."""
    first, second = IdGenerator(seed=1), IdGenerator(seed=1)
    ids = [first() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(ids)
    assert [second() for _ in range(2000)] == ids


def test_id_generator_never_repeats_over_many_ids() -> None:
    """RESP-ID: 2^17 ids of the default length are all different (a permutation that kept
    too few bits would repeat within tens of thousands)."""
    generate = IdGenerator(seed=11)
    count = 2**17
    assert len({generate() for _ in range(count)}) == count


def test_id_generator_never_repeats_even_with_a_tiny_alphabet() -> None:
    """RESP-ID: a two-letter alphabet and length 1 still never give the same id twice."""
    generate = IdGenerator(seed=3, length=1)
    ids = [generate("ab") for _ in range(500)]
    assert len(set(ids)) == len(ids)


def test_id_generator_skips_a_reserved_id() -> None:
    """RESP-ID: an id imported from a snapshot is never handed out again."""
    upcoming = IdGenerator(seed=5)()
    generate = IdGenerator(seed=5)
    generate.reserve(upcoming)
    assert generate() != upcoming


def test_utc_now_is_rfc3339_utc_with_whole_seconds() -> None:
    """RESP-CREATED-AT: timestamps look like the documented `2026-05-13T12:00:00Z`."""
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", utc_now())
    assert re.match(RFC3339_UTC, utc_now())
