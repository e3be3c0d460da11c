"""Uniqueness, reuse and atomicity of external_entity_id, and the opaque group id.

The duplicate check sends a fully valid second body (different name, models and mode),
so only the uniqueness rule can refuse it.
"""

from __future__ import annotations

from conformance.bodies import CASCADING, OTHER_SLUG, group_body, limit, model
from conformance.compare import model_views
from conformance.registry import CheckFailed, check
from conformance.session import Session

DUPLICATE = "400 duplicate external_entity_id"


@check("EXTID-UNIQUE")
def duplicate_external_entity_id_is_refused(s: Session) -> None:
    """EXTID-UNIQUE: a second valid create with a root's or a child's external_entity_id gives 400.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    root_body = group_body(s.external_id("dup"))
    root = s.group(root_body)
    child_body = group_body(s.external_id("dup"), parent=root["id"])
    s.group(child_body)
    other_models = [model(OTHER_SLUG, rate=[limit("REQUEST", "SECOND", 3)])]
    for taken in (root_body, child_body):
        external_id = taken["metadata"]["external_entity_id"]
        second = group_body(external_id, name="Another group", models=other_models, mode=CASCADING)
        reply = s.create(second)
        s.expect_refused(reply, 400, f"for the taken external_entity_id {external_id!r}", DUPLICATE)


@check("EXTID-PER-WORKSPACE", needs=("other",))
def same_external_entity_id_in_two_workspaces_is_accepted(s: Session) -> None:
    """EXTID-PER-WORKSPACE: the same external_entity_id may exist in two workspaces.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    external_id = s.external_id("both")
    s.group(group_body(external_id))
    reply = s.create(group_body(external_id), s.client("other"))
    s.expect_group(reply, f"for {external_id!r} in a second workspace (unique per workspace only)")


@check("EXTID-REUSE")
def deleted_groups_free_their_external_entity_ids(s: Session) -> None:
    """EXTID-REUSE: deleting a group frees its own and its descendants' external_entity_ids.

    Source: https://docs.baseten.co/reference/gateway/groups/delete-a-group
    """
    root_body = group_body(s.external_id("reuse"))
    root = s.group(root_body)
    child_body = group_body(s.external_id("reuse"), parent=root["id"])
    s.group(child_body)
    s.expect_accepted(s.delete(root["id"]), "for deleting a group this run created")
    for what, body in (("the deleted group's", root_body), ("its deleted child's", child_body)):
        external_id = body["metadata"]["external_entity_id"]
        reply = s.create(group_body(external_id))
        s.expect_group(reply, f"for a new group with {what} external_entity_id {external_id!r}")


@check("CREATE-ATOMIC")
def refused_create_changes_nothing(s: Session) -> None:
    """CREATE-ATOMIC: after a refused cascading child the parent is unchanged and the id free.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    parent_models = [model(rate=[limit("TOKEN", "MINUTE", 100)])]
    parent = s.group(group_body(s.external_id("atomic"), mode=CASCADING, models=parent_models))
    before = s.get(parent["id"]).json
    child = group_body(
        s.external_id("atomic"),
        mode=CASCADING,
        parent=parent["id"],
        models=[model(rate=[limit("TOKEN", "MINUTE", 101)])],
    )
    s.expect_status(s.create(child), 400, "for a cascading child above its parent")
    after = s.get(parent["id"]).json
    if model_views(_field(after, "effective_models"), effective=True) != model_views(
        _field(before, "effective_models"), effective=True
    ):
        raise CheckFailed(f"Received: the parent changed to {after} / Documented: unchanged")
    s.confirm_free(child["metadata"]["external_entity_id"], "a refused cascading child")


def _field(document: object, name: str) -> object:
    return document.get(name) if isinstance(document, dict) else None


@check("RESP-ID")
def ids_are_opaque_distinct_and_never_reused(s: Session) -> None:
    """RESP-ID: ids are non-empty strings, distinct, and a re-created group gets a new one.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    body = group_body(s.external_id("id"))
    first = s.group(body)
    second = s.root()
    for group in (first, second):
        if not isinstance(group.get("id"), str) or not group["id"]:
            raise CheckFailed(f"Received: id {group.get('id')!r} / Documented: a non-empty string")
    if first["id"] == second["id"]:
        raise CheckFailed(f"Received: the id {first['id']!r} twice / Documented: distinct ids")
    s.expect_accepted(s.delete(first["id"]), "for deleting a group this run created")
    again = s.group(body)
    if again["id"] == first["id"]:
        raise CheckFailed(
            f"Received: the deleted group's id {first['id']!r} again / Documented: never reused"
        )
