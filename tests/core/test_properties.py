"""Hypothesis properties of random group trees, run on the store and limits directly.

A plan of creates and deletes is played against a Store and against a plain model kept
here; the model's naive rules are the oracle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.core.errors import (
    ChildExceedsAncestorLimit,
    DuplicateExternalEntityId,
    GatewayError,
    GroupNotFound,
    HierarchyTooDeep,
    ModeMismatch,
    ParentNotFound,
)
from simulator.core.limits import effective_models
from simulator.core.model import (
    CASCADING,
    INDEPENDENT,
    RATE,
    USAGE,
    Group,
    Limit,
    ModelConfig,
    NewGroup,
)
from simulator.core.store import IdGenerator, Store

WORKSPACE = "acme"
SLUGS = ("org/a", "org/b", "org/c")
TYPES = ("TOKEN", "REQUEST")
PROPERTY_SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
thresholds = st.integers(min_value=1, max_value=5)  # small, so equal and above both happen


@st.composite
def model_sets(draw: st.DrawFn) -> tuple[ModelConfig, ...]:
    """One to three slugs, each with at most one rate limit per type and one usage per type."""
    configs = []
    for slug in draw(st.lists(st.sampled_from(SLUGS), min_size=1, max_size=3, unique=True)):
        rate = [
            Limit(kind, draw(st.sampled_from(("SECOND", "MINUTE"))), draw(thresholds))
            for kind in TYPES
            if draw(st.booleans())
        ]
        usage = [Limit(kind, "DAY", draw(thresholds)) for kind in TYPES if draw(st.booleans())]
        configs.append(ModelConfig(slug, tuple(rate), tuple(usage)))
    return tuple(configs)


@dataclass(frozen=True)
class Create:
    parent: Any  # None (a root), "deepest", "latest", "missing", or an index into the live groups
    switch_mode: bool
    root_mode: str
    external_entity_id: str
    models: tuple[ModelConfig, ...]


@dataclass(frozen=True)
class Delete:
    index: int


# "deepest" is drawn most often, so chains grow past five levels.
parents = st.sampled_from([None, "deepest", "deepest", "deepest", "latest", "missing", 0, 1, 3, 8])
creates = st.builds(
    Create,
    parent=parents,
    switch_mode=st.sampled_from([False] * 11 + [True]),  # integers would favour 0
    root_mode=st.sampled_from((INDEPENDENT, CASCADING)),
    external_entity_id=st.sampled_from([f"ext-{n}" for n in range(20)]),
    models=model_sets(),
)
deletes = st.builds(Delete, st.integers(0, 40))
# one_of would weigh deletes as much as creates; a create is six times as likely.
steps = st.sampled_from(["create"] * 6 + ["delete"]).flatmap(
    lambda kind: creates if kind == "create" else deletes
)
plans = st.lists(steps, min_size=6, max_size=40)


@dataclass
class Node:
    """The oracle's own record of a live group."""

    id: str
    parent: Node | None
    mode: str
    depth: int
    models: tuple[ModelConfig, ...]
    external_entity_id: str
    children: list[Node] = field(default_factory=list)

    def lineage(self) -> list[Node]:
        return [self] + (self.parent.lineage() if self.parent else [])


@dataclass
class Outcome:
    request: NewGroup
    expected: type[GatewayError] | None
    raised: type[GatewayError] | None
    count_before: int
    count_after: int
    ids_before: set[str]
    ids_after: set[str]


@dataclass
class Tree:
    store: Store = field(default_factory=lambda: Store(new_id=IdGenerator(seed=0)))
    live: dict[str, Node] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    outcomes: list[Outcome] = field(default_factory=list)


def declared(node: Node, slug: str, kind: str) -> list[Limit]:
    config = next((m for m in node.models if m.slug == slug), None)
    return list(config.limits(kind)) if config else []


def naive_exceeds(ancestors: list[Node], models: tuple[ModelConfig, ...]) -> bool:
    for ancestor in ancestors:
        for config in models:
            for kind in (RATE, USAGE):
                ceilings = {x.key: x.threshold for x in declared(ancestor, config.slug, kind)}
                if any(x.threshold > ceilings.get(x.key, x.threshold) for x in config.limits(kind)):
                    return True
    return False


def predicted_error(tree: Tree, parent: Node | None, new: NewGroup) -> type[GatewayError] | None:
    """The refusal the contract predicts, in ERR-ONE-RULE order; None for an accepted create."""
    if new.parent_id is not None and parent is None:
        return ParentNotFound
    if parent is not None:
        if new.mode != parent.mode:
            return ModeMismatch
        if parent.depth >= 5:
            return HierarchyTooDeep
        if new.mode == CASCADING and naive_exceeds(parent.lineage(), new.models):
            return ChildExceedsAncestorLimit
    if any(n.external_entity_id == new.external_entity_id for n in tree.live.values()):
        return DuplicateExternalEntityId
    return None


def pick_parent(tree: Tree, choice: Any) -> tuple[Node | None, str | None]:
    nodes = list(tree.live.values())
    if choice is None or (not nodes and choice != "missing"):
        return None, None
    if choice == "missing":
        return None, sorted(tree.deleted)[0] if tree.deleted else "never-issued"
    if choice == "deepest":
        node = max(reversed(nodes), key=lambda n: n.depth)
    else:
        node = nodes[-1] if choice == "latest" else nodes[choice % len(nodes)]
    return node, node.id


def play_create(tree: Tree, step: Create) -> None:
    parent, parent_id = pick_parent(tree, step.parent)
    mode = parent.mode if parent else step.root_mode
    if step.switch_mode:
        mode = CASCADING if mode == INDEPENDENT else INDEPENDENT
    new = NewGroup(step.external_entity_id, None, step.models, mode, parent_id)
    expected = predicted_error(tree, parent, new)
    before, ids_before = tree.store.count(), set(tree.live)
    raised: type[GatewayError] | None = None
    try:
        group = tree.store.create_group(WORKSPACE, new)
    except GatewayError as error:
        raised = type(error)
    else:
        node = Node(
            group.id,
            parent,
            mode,
            parent.depth + 1 if parent else 1,
            new.models,
            new.external_entity_id,
        )
        tree.live[group.id] = node
        if parent is not None:
            parent.children.append(node)
    ids_after = {i for i in tree.live if live_in_store(tree.store, i)}
    tree.outcomes.append(
        Outcome(new, expected, raised, before, tree.store.count(), ids_before, ids_after)
    )


def play_delete(tree: Tree, step: Delete) -> None:
    if not tree.live:
        return
    node = list(tree.live.values())[step.index % len(tree.live)]
    tree.store.delete_group(WORKSPACE, node.id)
    stack = [node]
    while stack:
        gone = stack.pop()
        stack.extend(gone.children)
        del tree.live[gone.id]
        tree.deleted.add(gone.id)
    if node.parent is not None:
        node.parent.children.remove(node)


def live_in_store(store: Store, group_id: str) -> bool:
    try:
        store.get_group(WORKSPACE, group_id)
    except GroupNotFound:
        return False
    return True


def grow(plan: list[Create | Delete]) -> Tree:
    tree = Tree()
    for step in plan:
        if isinstance(step, Create):
            play_create(tree, step)
        else:
            play_delete(tree, step)
    return tree


def oracle_effective(node: Node) -> list[tuple[str, set[tuple[str, str, str, int, str]]]]:
    """EFFECTIVE-INDEPENDENT: closest declaring group; EFFECTIVE-CASCADING: every level."""
    result = []
    for config in node.models:
        limits: set[tuple[str, str, str, int, str]] = set()
        for kind in (RATE, USAGE):
            seen: set[tuple[str, str]] = set()
            for level in node.lineage():
                for x in declared(level, config.slug, kind):
                    if node.mode == CASCADING or x.key not in seen:
                        limits.add((kind, x.type, x.unit, x.threshold, level.id))
                        seen.add(x.key)
        result.append((config.slug, limits))
    return result


def store_effective(group: Group) -> list[tuple[str, set[tuple[str, str, str, int, str]]]]:
    return [
        (
            m.slug,
            {(RATE, x.type, x.unit, x.threshold, x.source_group) for x in m.rate_limits}
            | {(USAGE, x.type, x.unit, x.threshold, x.source_group) for x in m.usage_limits},
        )
        for m in effective_models(group)
    ]


@PROPERTY_SETTINGS
@given(plans)
def test_property_effective_limits_resolve_to_the_closest_declaring_group(
    plan: list[Create | Delete],
) -> None:
    """EFFECTIVE-INDEPENDENT, EFFECTIVE-CASCADING, EFFECTIVE-SLUGS on every live group."""
    tree = grow(plan)
    for node in tree.live.values():
        group = tree.store.get_group(WORKSPACE, node.id)
        assert store_effective(group) == oracle_effective(node)


def ceilings_of(group: Group, slug: str, kind: str) -> dict[tuple[str, str], int]:
    config = group.model(slug)
    return {x.key: x.threshold for x in (config.limits(kind) if config else ())}


@PROPERTY_SETTINGS
@given(plans)
def test_property_cascading_children_never_exceed_an_ancestor(plan: list[Create | Delete]) -> None:
    """CASCADE-CEILING: no accepted cascading group is above any ancestor for any tuple."""
    tree = grow(plan)
    for node in tree.live.values():
        group = tree.store.get_group(WORKSPACE, node.id)
        assert group.depth <= 5  # DEPTH-MAX
        if group.mode != CASCADING:
            continue
        for ancestor in list(group.lineage())[1:]:
            assert ancestor.mode == CASCADING  # MODE-MATCH
            for config in group.models:
                for kind in (RATE, USAGE):
                    ceilings = ceilings_of(ancestor, config.slug, kind)
                    for x in config.limits(kind):
                        assert x.threshold <= ceilings.get(x.key, x.threshold)


@PROPERTY_SETTINGS
@given(plans)
def test_property_refused_creates_change_nothing(plan: list[Create | Delete]) -> None:
    """CREATE-ATOMIC, ERR-ONE-RULE: refusals are the predicted ones and change nothing."""
    tree = grow(plan)
    for outcome in tree.outcomes:
        assert outcome.raised == outcome.expected, outcome.request
        if outcome.raised is not None:
            assert outcome.count_after == outcome.count_before
            assert outcome.ids_after == outcome.ids_before
        else:
            assert outcome.count_after == outcome.count_before + 1
    assert tree.store.count() == len(tree.live)
    assert not any(live_in_store(tree.store, gone) for gone in tree.deleted)  # DELETE-RECURSIVE


@pytest.mark.slow  # 300 generated plans
def test_property_plans_reach_every_outcome() -> None:
    """The generator is strong enough: some plan hits each refusal and a depth of five."""
    seen: set[Any] = set()
    depths: set[int] = set()

    @settings(max_examples=300, deadline=None, database=None)
    @given(plans)
    def collect(plan: list[Create | Delete]) -> None:
        tree = grow(plan)
        seen.update(o.raised for o in tree.outcomes)
        depths.update(n.depth for n in tree.live.values())

    collect()
    expected = {
        None,
        ParentNotFound,
        ModeMismatch,
        HierarchyTooDeep,
        ChildExceedsAncestorLimit,
        DuplicateExternalEntityId,
    }
    if not expected <= seen or 5 not in depths:
        pytest.fail(f"plans never reached {expected - seen} (depths {sorted(depths)})")
