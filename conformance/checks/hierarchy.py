"""Hierarchy checks: parents, modes, depth, cascading ceilings and independent overrides.

Every tree is built valid first; only the last create breaks one rule. Ceilings are
checked on both sides (equal accepted, one above refused) against every ancestor.
"""

from __future__ import annotations

from typing import Any

from conformance.bodies import (
    CASCADING,
    CHILD_MESSAGE,
    INDEPENDENT,
    MODES,
    OTHER_SLUG,
    SLUG,
    group_body,
    limit,
    model,
)
from conformance.registry import CheckFailed, check
from conformance.session import Session
from conformance.target import Reply

CEILING = "400 cascading child above an ancestor"


def _limits(
    rate: int | None = None, usage: int | None = None, slug: str = SLUG
) -> list[dict[str, Any]]:
    """One model with a TOKEN/MINUTE rate limit and a TOKEN/DAY usage limit, where given."""
    rates = [limit("TOKEN", "MINUTE", rate)] if rate is not None else []
    usages = [limit("TOKEN", "DAY", usage)] if usage is not None else []
    return [model(slug, rate=rates, usage=usages)]


def _child_of(s: Session, parent: dict[str, Any], models: list[dict[str, Any]]) -> dict[str, Any]:
    mode = parent["hierarchy"]["limit_enforcement"]
    return group_body(s.external_id("child"), mode=mode, parent=parent["id"], models=models)


def _expect_ceiling_refusal(s: Session, reply: Reply, what: str) -> None:
    """400 whose body holds the one documented message (G-limits quotes it exactly)."""
    s.expect_refused(reply, 400, f"for {what}", CEILING)
    if CHILD_MESSAGE not in reply.text:
        raise CheckFailed(
            f"Received: {reply.describe()} for {what} / Documented: 400 with the message "
            f"{CHILD_MESSAGE!r}"
        )


def _refuse_above(
    s: Session, parent: dict[str, Any], models: list[dict[str, Any]], what: str
) -> None:
    body = _child_of(s, parent, models)
    _expect_ceiling_refusal(s, s.create(body), what)
    s.confirm_free(body["metadata"]["external_entity_id"], what)


@check("PARENT-EXISTS")
def deleted_parent_gives_404(s: Session) -> None:
    """PARENT-EXISTS: a parent_group_id of a deleted group gives 404.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    external_id = s.external_id("orphan")
    reply = s.create(group_body(external_id, parent=s.deleted_id()))
    s.expect_refused(reply, 404, "for a deleted parent", "404 unknown parent")
    s.confirm_free(external_id, "a create under a deleted parent")


@check("PARENT-EXISTS", needs=("other",))
def parent_in_another_workspace_gives_404(s: Session) -> None:
    """PARENT-EXISTS: a parent in another workspace gives 404 (it isn't visible).

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    foreign = s.group(group_body(s.external_id("foreign")), s.client("other"))
    external_id = s.external_id("orphan")
    reply = s.create(group_body(external_id, parent=foreign["id"]))
    s.expect_refused(reply, 404, "for a parent in another workspace", "404 unknown parent")
    s.confirm_free(external_id, "a create under another workspace's group")


@check("MODE-MATCH")
def child_mode_must_match_its_parent(s: Session) -> None:
    """MODE-MATCH: a CASCADING child of an INDEPENDENT parent, and the reverse, give 400.

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    for parent_mode, child_mode in ((INDEPENDENT, CASCADING), (CASCADING, INDEPENDENT)):
        parent = s.root(mode=parent_mode)
        external_id = s.external_id("mode")
        reply = s.create(group_body(external_id, mode=child_mode, parent=parent["id"]))
        what = f"a {child_mode} child of a {parent_mode} parent"
        s.expect_refused(reply, 400, f"for {what}", "400 mixed enforcement modes")
        s.confirm_free(external_id, what)


@check("DEPTH-MAX")
def five_levels_are_accepted_and_a_sixth_refused(s: Session) -> None:
    """DEPTH-MAX: a chain of five groups (root = level 1) is accepted; a sixth level gives 400.

    The chain has one mode and no limits, so the sixth create breaks only the depth rule.
    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    for mode in MODES:
        group = s.root(mode=mode)
        for level in range(2, 6):
            reply = s.create(_child_of(s, group, [model()]))
            group = s.expect_group(reply, f"levels 1 to 5 are accepted (level {level}, {mode})")
        body = _child_of(s, group, [model()])
        reply = s.create(body)
        s.expect_refused(
            reply, 400, f"for a sixth level ({mode})", "400 hierarchy deeper than five levels"
        )
        s.confirm_free(body["metadata"]["external_entity_id"], "a refused sixth level")


@check("CASCADE-CEILING")
def cascading_child_equal_to_its_parent_is_accepted(s: Session) -> None:
    """CASCADE-CEILING: a child at exactly its parent's thresholds is accepted (equal is allowed).

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    parent = s.root(mode=CASCADING, models=_limits(1000, 5000))
    s.expect_group(
        s.create(_child_of(s, parent, _limits(1000, 5000))), "a child equal to its parent"
    )


@check("CASCADE-CEILING")
def cascading_child_above_its_parent_is_refused(s: Session) -> None:
    """CASCADE-CEILING: one above the parent, in rate_limits or usage_limits, gives 400.

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    parent = s.root(mode=CASCADING, models=_limits(1000, 5000))
    _refuse_above(s, parent, _limits(1001, 5000), "a rate limit one above the parent's")
    _refuse_above(s, parent, _limits(1000, 5001), "a usage limit one above the parent's")


@check("CASCADE-CEILING")
def cascading_ceiling_follows_the_parents_update(s: Session) -> None:
    """CASCADE-CEILING: a new child is held to its parent's limits as they are now: after the
    parent is lowered, a child between the new and the old limit gives 400; after it is
    raised, a child between the old and the new limit is accepted.

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    parent = s.root(mode=CASCADING, models=_limits(1000, 5000))
    s.expect_group(s.create(_child_of(s, parent, _limits(500, 2500))), "a child within limits")
    for models, what in ((_limits(600, 3000), "lowering"), (_limits(2000, 9000), "raising")):
        s.expect_group(s.patch(parent["id"], {"models": models}), f"for {what} the parent's limits")
        if what == "lowering":
            _refuse_above(s, parent, _limits(800, 3000), "a rate limit above the lowered one")
    s.expect_group(
        s.create(_child_of(s, parent, _limits(1500, 5000))), "a child above the old limits"
    )


@check("CASCADE-CEILING")
def cascading_ceiling_applies_to_every_ancestor(s: Session) -> None:
    """CASCADE-CEILING: a grandparent's limit binds a grandchild whose parent sets none.

    The grandparent is lower than the parent (which declares no limit on the tuple), so only
    the grandparent's ceiling can refuse. Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    grandparent = s.root(mode=CASCADING, models=_limits(100, 500))
    parent = s.expect_group(
        s.create(_child_of(s, grandparent, [model()])), "a child with no limits"
    )
    _refuse_above(s, parent, _limits(101, 500), "a rate limit above the grandparent's")
    _refuse_above(s, parent, _limits(100, 501), "a usage limit above the grandparent's")
    s.expect_group(
        s.create(_child_of(s, parent, _limits(100, 500))), "a grandchild equal to the grandparent"
    )


@check("CASCADE-CEILING")
def cascading_ceiling_binds_per_slug_type_and_unit_only(s: Session) -> None:
    """CASCADE-CEILING: other units, types and slugs impose nothing; siblings' sum isn't checked.

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    parent = s.root(mode=CASCADING, models=_limits(1000, 5000))
    free = [
        model(
            SLUG,
            rate=[limit("TOKEN", "SECOND", 10**6), limit("REQUEST", "MINUTE", 10**6)],
            usage=[limit("REQUEST", "DAY", 10**6)],
        ),
        model(OTHER_SLUG, rate=[limit("TOKEN", "MINUTE", 10**6)]),
    ]
    s.expect_group(
        s.create(_child_of(s, parent, free)), "limits on tuples the parent doesn't declare"
    )
    for _ in range(2):  # 700 + 700 > 1000: only each child against each ancestor counts
        s.expect_group(
            s.create(_child_of(s, parent, _limits(700, 3500))),
            "siblings whose sum exceeds the parent",
        )


@check("INDEPENDENT-OVERRIDE")
def independent_child_may_go_above_or_below(s: Session) -> None:
    """INDEPENDENT-OVERRIDE: an INDEPENDENT child may set thresholds above or below its ancestors'.

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    root = s.root(models=_limits(1000, 5000))
    above = s.expect_group(
        s.create(_child_of(s, root, _limits(2000, 9000))), "a child above its parent"
    )
    s.expect_group(s.create(_child_of(s, root, _limits(10, 50))), "a child below its parent")
    s.expect_group(
        s.create(_child_of(s, above, _limits(10**9, 10**9))), "a grandchild above everyone"
    )


@check("CHILD-SLUGS")
def child_may_list_slugs_its_ancestors_lack(s: Session) -> None:
    """CHILD-SLUGS: a child may list a slug no ancestor lists, in both modes.

    Source: https://docs.baseten.co/frontier-gateway/api-keys
    """
    for mode in MODES:
        root = s.root(mode=mode, models=_limits(1000, 5000))
        reply = s.create(_child_of(s, root, _limits(10, 50, slug=OTHER_SLUG)))
        s.expect_group(reply, f"a {mode} child listing a slug its parent lacks")
