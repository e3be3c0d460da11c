"""List groups: who may list, the page shape, the filter, page sizes, cursors and stability.

A workspace may hold groups others made: every check keeps only the items whose
external_entity_id carries the run prefix and ignores the rest. Ids and cursors are opaque;
the order of a list is not documented, so only sets and counts are compared.
"""

from __future__ import annotations

from typing import Any

from conformance.bodies import DOC_CHILD_MODELS, DOC_ROOT_MODELS, DOC_ROOT_NAME, GROUPS, group_body
from conformance.compare import group_view, path
from conformance.paging import (
    MAX_PAGE,
    Item,
    drain,
    occurrences,
    read_page,
    small_limit,
    with_query,
)
from conformance.registry import CheckFailed, check
from conformance.session import Session

SHAPE = "LIST-SHAPE"


def _extid(item: Item) -> Any:
    return path(item, "metadata", "external_entity_id")


def _own(s: Session, pages: list[list[Item]]) -> list[list[Item]]:
    """The items this run created; another's groups are never looked at."""
    mine = s.run.prefix
    return [[i for i in page if str(_extid(i)).startswith(mine)] for page in pages]


def _own_ids(s: Session, pages: list[list[Item]]) -> dict[Any, int]:
    return occurrences(_own(s, pages), lambda item: item.get("id"))


def _filtered(s: Session, external_id: str) -> list[Item]:
    return read_page(s, GROUPS, SHAPE, external_entity_id=external_id).items


@check("ACCESS-VIEW", needs=("view",))
def view_key_may_list_groups(s: Session) -> None:
    """ACCESS-VIEW: a key with view scope only may list the workspace's groups.

    Source: https://docs.baseten.co/reference/gateway/groups/list-groups
    """
    group = s.root()
    external_id = group["metadata"]["external_entity_id"]
    page = read_page(s, GROUPS, SHAPE, s.client("view"), external_entity_id=external_id)
    if group["id"] not in {item.get("id") for item in page.items}:
        raise CheckFailed(
            f"Received: {len(page.items)} items without the group {group['id']!r} for a view key "
            f"listing external_entity_id={external_id!r} / Documented: 200 with the group"
        )


@check("ACCESS-VIEW", needs=("not_onboarded",))
def workspace_not_onboarded_may_not_list(s: Session) -> None:
    """ACCESS-VIEW: a key of a workspace not onboarded gets 403 on list.

    Source: https://docs.baseten.co/reference/gateway/groups/list-groups
    """
    reply = s.send("GET", with_query(GROUPS, limit=1), client=s.client("not_onboarded"))
    s.expect_refused(
        reply, 403, "for a list by a workspace not onboarded", "403 workspace not onboarded"
    )


@check("LIST-SHAPE")
def listed_groups_read_as_created(s: Session) -> None:
    """LIST-SHAPE: {items, pagination: {has_more, cursor}}, cursor null exactly when has_more
    is false; each item reads as the group does.

    Source: https://docs.baseten.co/reference/gateway/groups/list-groups
    """
    root = s.root(models=DOC_ROOT_MODELS, name=DOC_ROOT_NAME)
    child = s.child(root, models=DOC_CHILD_MODELS)
    read_page(s, GROUPS, SHAPE, limit=1)  # an unfiltered page has the shape too
    for group in (root, child):
        items = _filtered(s, _extid(group))
        found = [group_view(i) for i in items if i.get("id") == group["id"]]
        if len(found) != 1 or found[0] not in _views(s, group):
            raise CheckFailed(
                f"Received: items {items} when filtering on {_extid(group)!r} / Documented: "
                f"the group once, as create answered it: {group}"
            )


def _views(s: Session, group: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The group as create answered it and as GET reads it (READ-BACK says they agree;
    either will do here, so a broken create answer or get isn't this rule's failure)."""
    read = s.get(group["id"])
    return [group_view(group)] + ([group_view(read.json)] if read.ok else [])


@check("LIST-SHAPE")
def full_last_page_ends_the_list(s: Session) -> None:
    """LIST-SHAPE: a filtered list holds at most one group, so a page of limit=1 holding it is
    the last page: has_more false and cursor null, even though the page is full.

    Source: https://docs.baseten.co/reference/gateway/groups/list-groups
    """
    group = s.root()
    page = read_page(s, GROUPS, SHAPE, external_entity_id=_extid(group), limit=1)
    ids = [item.get("id") for item in page.items]
    if ids != [group["id"]] or page.has_more or page.cursor is not None:
        raise CheckFailed(
            f"Received: items {ids}, has_more {page.has_more}, cursor {page.cursor!r} for "
            f"external_entity_id={_extid(group)!r}&limit=1 / Documented: the one group on the "
            "last page, has_more false and cursor null"
        )


@check("LIST-FILTER")
def filter_matches_the_external_entity_id_exactly(s: Session) -> None:
    """LIST-FILTER: the filter matches exactly: a prefix or a longer id matches nothing else.

    Source: https://docs.baseten.co/reference/gateway/groups/list-groups
    """
    base = s.external_id("filter")
    exact = s.group(group_body(base))
    longer = s.group(group_body(base + "-longer"))
    cases = {
        base: {exact["id"]},
        base + "-longer": {longer["id"]},
        base[:-1]: set(),  # a prefix of both
        s.external_id("absent"): set(),
    }
    for value, expected in cases.items():
        items = _filtered(s, value)
        ids = {item.get("id") for item in items}
        if len(items) != len(expected) or ids != expected:
            own = sorted(str(_extid(i)) for i in _own(s, [items])[0])
            raise CheckFailed(
                f"Received: {len(items)} items (this run's: {own}) for external_entity_id="
                f"{value!r} / Documented: an exact match, {len(expected)} item(s)"
            )


@check("LIST-FILTER", needs=("other",))
def filter_never_shows_another_workspaces_group(s: Session) -> None:
    """LIST-FILTER: with the same external_entity_id in two workspaces, each workspace's
    filter finds only its own group ("Lists groups visible to your workspace").

    Source: https://docs.baseten.co/reference/gateway/groups/list-groups
    """
    external_id = s.external_id("tenant")
    own = s.group(group_body(external_id))
    other = s.client("other")
    theirs = s.group(group_body(external_id), other)
    for client, group, whose in ((s.api, own, "--api-key"), (other, theirs, "the other")):
        page = read_page(s, GROUPS, SHAPE, client, external_entity_id=external_id)
        ids = [item.get("id") for item in page.items]
        if ids != [group["id"]]:
            raise CheckFailed(
                f"Received: items {ids} for {whose} workspace's filter "
                f"external_entity_id={external_id!r}, which both workspaces use / Documented: "
                f"only its own group [{group['id']!r}]"
            )


@check("LIST-LIMIT")
def page_size_defaults_to_100_and_stops_at_1000(s: Session) -> None:
    """LIST-LIMIT: with 101 groups, no limit gives 100, limit=1 one, limit=1000 at most 1000.

    Source: https://docs.baseten.co/reference/gateway/groups/list-groups
    """
    made = {s.group(group_body(s.external_id("limit"), name=None))["id"] for _ in range(101)}
    for limit, size in ((None, 100), (1, 1)):
        page = read_page(s, GROUPS, SHAPE, limit=limit)
        if len(page.items) != size or not page.has_more:
            raise CheckFailed(
                f"Received: {len(page.items)} items, has_more {page.has_more} for "
                f"{'no limit' if limit is None else f'limit={limit}'} with at least 101 groups "
                f"/ Documented: {size} items and more to follow (limit defaults to 100)"
            )
    page = read_page(s, GROUPS, SHAPE, limit=MAX_PAGE)
    ids = {item.get("id") for item in page.items}
    if not 101 <= len(page.items) <= MAX_PAGE or (not page.has_more and not made <= ids):
        raise CheckFailed(
            f"Received: {len(page.items)} items, has_more {page.has_more} for limit=1000 / "
            "Documented: 101 to 1000 items, every group when no more follow"
        )


@check("LIST-LIMIT-RANGE")
def limit_outside_1_to_1000_is_refused(s: Session) -> None:
    """LIST-LIMIT-RANGE: limit=0 and limit=1001 give 400 (the simulator's choice: the docs
    leave a limit out of range open, and the page documents only 403).

    Source: https://docs.baseten.co/reference/gateway/groups/list-groups
    """
    for limit in (0, MAX_PAGE + 1):
        reply = s.send("GET", with_query(GROUPS, limit=limit))
        s.expect_status(reply, 400, f"for limit={limit} (the maximum is 1000)")


@check("LIST-CURSOR")
def following_cursors_visits_each_group_once(s: Session) -> None:
    """LIST-CURSOR: small pages, followed to the end, show each of the check's groups once.

    Source: https://docs.baseten.co/reference/gateway/groups/list-groups
    """
    made = {s.root()["id"] for _ in range(5)}
    limit = small_limit(s, GROUPS, SHAPE)
    pages = drain(s, GROUPS, SHAPE, limit=limit)
    if any(len(page) > limit for page in pages):
        raise CheckFailed(
            f"Received: pages of {[len(p) for p in pages]} items for limit={limit} / "
            "Documented: a page never holds more than limit",
            rule="LIST-LIMIT",
        )
    seen = _own_ids(s, pages)
    counts = {i: seen.get(i, 0) for i in made}
    repeated = {i: n for i, n in seen.items() if n > 1}
    if repeated or any(n != 1 for n in counts.values()):
        raise CheckFailed(
            f"Received: the check's groups listed {counts} times, repeated {repeated}, over "
            f"{len(pages)} pages of limit={limit} / Documented: following the cursor shows "
            "each exactly once"
        )


@check("LIST-CURSOR-UNKNOWN")
def cursor_the_server_did_not_issue_is_refused(s: Session) -> None:
    """LIST-CURSOR-UNKNOWN: a made-up cursor and an empty one give 400 (the simulator's choice:
    the docs leave an invalid cursor open, and the page documents only 403).

    Source: https://docs.baseten.co/reference/gateway/groups/list-groups
    """
    reply = s.send("GET", with_query(GROUPS, cursor=f"{s.run.prefix}not-a-cursor"))
    s.expect_status(reply, 400, "for a cursor this server never issued")
    reply = s.send("GET", f"{GROUPS}?cursor=")
    s.expect_status(reply, 400, "for an empty cursor")


class Churn:
    """Between pages: adds a group each time; once, deletes a group already shown and one
    not shown yet (an offset-based cursor then skips a survivor)."""

    def __init__(self, s: Session, made: list[dict[str, Any]]) -> None:
        self.s = s
        self.live = [group["id"] for group in made]
        self.deleted: dict[str, int] = {}  # id -> pages read before its deletion
        self.added: list[str] = []

    def __call__(self, pages: list[list[Item]]) -> None:
        if len(self.added) < 2:
            self.added.append(self.s.root()["id"])
        if self.deleted:
            return
        seen = _own_ids(self.s, pages)
        shown = [i for i in self.live if i in seen]
        hidden = [i for i in self.live if i not in seen]
        if not (shown and hidden):
            return  # none of the run's groups shown yet: try after the next page
        for doomed in (shown[0], hidden[-1]):
            self.s.expect_accepted(self.s.delete(doomed), "for deleting a group between pages")
            self.live.remove(doomed)
            self.deleted[doomed] = len(pages)


@check("LIST-STABLE")
def pages_stay_stable_while_groups_come_and_go(s: Session) -> None:
    """LIST-STABLE: groups added and deleted between pages never make a survivor disappear or
    repeat; a group deleted before a page is not on it (LIST-LIVE). The simulator's choice: the
    docs promise an opaque cursor, nothing about pages while groups come and go.

    Source: https://docs.baseten.co/reference/gateway/groups/list-groups
    """
    churn = Churn(s, [s.root() for _ in range(6)])
    limit = small_limit(s, GROUPS, SHAPE)
    pages = drain(s, GROUPS, SHAPE, between=churn, limit=limit)
    seen = _own_ids(s, pages)
    survivors = {i: seen.get(i, 0) for i in churn.live}
    repeated = {i: n for i, n in seen.items() if n > 1}
    if repeated or any(n != 1 for n in survivors.values()):
        raise CheckFailed(
            f"Received: groups alive through the pagination seen {survivors} times, repeated "
            f"{repeated}, over {len(pages)} pages of limit={limit} with groups added and "
            "deleted between pages / Documented: each survivor exactly once"
        )
    late = [i for i, n in churn.deleted.items() if _own_ids(s, pages[n:]).get(i)]
    if late:
        raise CheckFailed(
            f"Received: deleted groups {late} on pages read after their deletion / "
            "Documented: deleted groups never appear",
            rule="LIST-LIVE",
        )
    s.passed("LIST-LIVE")


@check("LIST-LIVE")
def deleted_groups_are_never_listed(s: Session) -> None:
    """LIST-LIVE: a deleted group and its deleted child appear neither filtered nor in a full list.

    Source: https://docs.baseten.co/reference/gateway/groups/delete-a-group
    """
    root = s.root()
    child = s.child(root)
    kept = s.root()
    s.expect_accepted(s.delete(root["id"]), "for deleting a group this run created")
    for group in (root, child):
        if any(item.get("id") == group["id"] for item in _filtered(s, _extid(group))):
            raise CheckFailed(
                f"Received: an item when filtering on the deleted {_extid(group)!r} / "
                "Documented: deleted groups never appear"
            )
    seen = _own_ids(s, drain(s, GROUPS, SHAPE, limit=MAX_PAGE))
    if root["id"] in seen or child["id"] in seen:
        raise CheckFailed(
            f"Received: deleted groups in the list ({seen}) / Documented: never listed"
        )
    if seen.get(kept["id"]) != 1:
        raise CheckFailed(
            f"Received: the live group {kept['id']!r} listed {seen.get(kept['id'], 0)} times / "
            "Documented: once",
            rule="LIST-CURSOR",
        )
