"""Get and delete: unknown, deleted and foreign ids, the delete answer, recursive deletion.

The "unknown" id is always one this run created and deleted, never a guess.
"""

from __future__ import annotations

from conformance.bodies import GROUPS, group_body
from conformance.compare import is_rfc3339_utc, path
from conformance.paging import drain
from conformance.registry import CheckFailed, check
from conformance.session import Session

GONE = "404 unknown or deleted group"


@check("GROUP-NOT-FOUND")
def deleted_group_gives_404_on_get_and_delete(s: Session) -> None:
    """GROUP-NOT-FOUND: get and delete of a deleted group give 404.

    Source: https://docs.baseten.co/reference/gateway/groups/get-a-group
    """
    gone = s.deleted_id()
    s.expect_refused(s.get(gone), 404, "for a get of a deleted group", GONE)
    s.expect_refused(s.delete(gone), 404, "for a second delete of a deleted group", GONE)


@check("GROUP-OTHER-WORKSPACE", needs=("other",))
def group_of_another_workspace_gives_403(s: Session) -> None:
    """GROUP-OTHER-WORKSPACE: get and delete of another workspace's group give 403; it stays.

    Source: https://docs.baseten.co/reference/gateway/groups/get-a-group
    """
    group = s.root()
    foreign = s.client("other")
    reason = "403 group in another workspace"
    s.expect_refused(s.get(group["id"], foreign), 403, "for a get from another workspace", reason)
    s.expect_refused(
        s.delete(group["id"], foreign), 403, "for a delete from another workspace", reason
    )
    s.expect_accepted(s.get(group["id"]), "for the group another workspace failed to delete")


@check("DELETE-RESPONSE")
def delete_answers_id_metadata_and_deleted_at(s: Session) -> None:
    """DELETE-RESPONSE: delete answers 200 with the group's id, metadata and an RFC 3339 deleted_at.

    Source: https://docs.baseten.co/reference/gateway/groups/delete-a-group
    """
    body = group_body(s.external_id("del"), name="To be deleted")
    group = s.group(body)
    reply = s.delete(group["id"])
    s.expect_accepted(reply, "for deleting a group")
    answer = reply.json
    expected = {
        "id": group["id"],
        "metadata.external_entity_id": body["metadata"]["external_entity_id"],
        "metadata.name": body["metadata"]["name"],
    }
    for field, value in expected.items():
        if path(answer, *field.split(".")) != value:
            raise CheckFailed(f"Received: {reply.describe()} / Documented: {field} = {value!r}")
    if not is_rfc3339_utc(path(answer, "deleted_at")):
        raise CheckFailed(f"Received: {reply.describe()} / Documented: deleted_at in RFC 3339 UTC")


@check("DELETE-RESPONSE")
def deleting_a_child_then_its_parent(s: Session) -> None:
    """DELETE-RESPONSE: a child can be deleted on its own (200, its id), and its parent after
    it (200, its id).

    Source: https://docs.baseten.co/reference/gateway/groups/delete-a-group
    """
    root = s.root()
    child = s.child(root)
    for label, group in (("a child", child), ("the child's parent, after it", root)):
        reply = s.delete(group["id"])
        s.expect_accepted(reply, f"for deleting {label}")
        if path(reply.json, "id") != group["id"]:
            raise CheckFailed(f"Received: {reply.describe()} / Documented: id = {group['id']!r}")


@check("DELETE-RECURSIVE")
def delete_removes_every_descendant(s: Session) -> None:
    """DELETE-RECURSIVE: after deleting a root, its child and grandchild give 404.

    Source: https://docs.baseten.co/reference/gateway/groups/delete-a-group
    """
    root = s.root()
    child = s.child(root)
    grandchild = s.child(child)
    s.expect_accepted(s.delete(root["id"]), "for deleting a root with descendants")
    for label, group in (("child", child), ("grandchild", grandchild)):
        s.expect_status(s.get(group["id"]), 404, f"for a get of the deleted root's {label}")
    s.expect_status(
        s.delete(grandchild["id"]), 404, "for a delete of the deleted root's grandchild"
    )


WIDE = 40  # children of the wide tree: past the handful an implementation may treat one by one


@check("DELETE-RECURSIVE")
def delete_of_a_wide_tree_leaves_the_list_whole(s: Session) -> None:
    """DELETE-RECURSIVE: after deleting a root with 40 children, the list (pages followed to
    the end) shows none of the tree, and still the group created beside it.

    Source: https://docs.baseten.co/reference/gateway/groups/delete-a-group
    """
    beside = s.root()
    root = s.root()
    tree = {root["id"], *(s.child(root)["id"] for _ in range(WIDE))}
    s.expect_accepted(s.delete(root["id"]), f"for deleting a root with {WIDE} children")
    listed = {str(item.get("id")) for page in drain(s, GROUPS, "LIST-SHAPE") for item in page}
    missing, left = beside["id"] not in listed, sorted(listed & tree)
    if missing or left:
        what = f"lacks the group {beside['id']!r}" if missing else f"still has {left[0]!r}"
        raise CheckFailed(
            f"Received: a list that {what} after a root with {WIDE} children was deleted / "
            "Documented: the deleted tree's groups are gone, every other group stays"
        )
