"""Checks common to every route: auth schemes, missing auth, onboarding, scope, success status.

Each refused create is followed by a valid create with the same external_entity_id
(CREATE-ATOMIC), so a refusal that quietly created the group is caught.
"""

from __future__ import annotations

from conformance.bodies import GROUPS, group_body, without
from conformance.paging import expect_hidden_from_other_workspace
from conformance.registry import CheckFailed, check
from conformance.session import Session
from conformance.target import Reply

MISSING = "missing or unknown credentials"


def _expect_unauthenticated(s: Session, reply: Reply, what: str) -> None:
    """AUTH-MISSING: by default 401 or 403 (401 is never documented); strict demands 401."""
    statuses = (401,) if s.strict else (401, 403)
    s.expect_status_in(reply, statuses, f"for {what}")


@check("AUTH-SCHEME")
def api_key_and_bearer_schemes_are_both_accepted(s: Session) -> None:
    """AUTH-SCHEME: `Authorization: Api-Key <key>` and `Bearer <key>` both work.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    for scheme in ("Api-Key", "Bearer"):
        client = s.api.with_scheme(scheme)
        reply = s.create(group_body(s.external_id("scheme")), client)
        group = s.expect_group(reply, f"for a create sent with `Authorization: {scheme} <key>`")
        s.expect_accepted(s.get(group["id"], client), f"for a get with `{scheme} <key>`")


@check("AUTH-MISSING", always=True)
def create_without_authorization_is_refused(s: Session) -> None:
    """AUTH-MISSING: a create without Authorization is refused (401; by default 403 too).

    Source: https://docs.baseten.co/inference/errors
    """
    external_id = s.external_id("noauth")
    reply = s.create(group_body(external_id), headers={"Authorization": None})
    _expect_unauthenticated(s, reply, "a create without an Authorization header")
    s.confirm_free(external_id, "a create without credentials")


@check("AUTH-MISSING", always=True)
def unknown_scheme_is_refused(s: Session) -> None:
    """AUTH-MISSING: a known key under an unknown scheme (`Token <key>`) is refused.

    Source: https://docs.baseten.co/inference/errors
    """
    external_id = s.external_id("scheme")
    reply = s.create(group_body(external_id), s.api.with_scheme("Token"))
    _expect_unauthenticated(s, reply, "`Authorization: Token <valid key>`")
    s.confirm_free(external_id, "a create with an unknown scheme")


@check("AUTH-MISSING", always=True)
def unknown_key_is_refused(s: Session) -> None:
    """AUTH-MISSING: a key the server doesn't know is refused, on create and on get.

    Source: https://docs.baseten.co/inference/errors
    """
    unknown = {"Authorization": f"Api-Key {s.run.prefix}not-a-key"}
    external_id = s.external_id("badkey")
    _expect_unauthenticated(s, s.create(group_body(external_id), headers=unknown), "an unknown key")
    s.confirm_free(external_id, "a create with an unknown key")
    group = s.root()
    _expect_unauthenticated(s, s.get(group["id"], headers=unknown), "a get with an unknown key")
    _expect_unauthenticated(
        s, s.get(group["id"], headers={"Authorization": None}), "a get without credentials"
    )


@check("ACCESS-ONBOARDED", needs=("not_onboarded",))
def workspace_not_onboarded_is_refused(s: Session) -> None:
    """ACCESS-ONBOARDED: a valid key of a workspace not onboarded gets 403.

    Source: https://docs.baseten.co/reference/gateway/overview
    """
    outsider = s.client("not_onboarded")
    external_id = s.external_id("initech")
    reply = s.create(group_body(external_id), outsider)
    s.expect_refused(reply, 403, "for a workspace not onboarded", "403 workspace not onboarded")
    s.confirm_free(external_id, "a create by a workspace not onboarded")
    group = s.root()
    s.expect_status(s.get(group["id"], outsider), 403, "for a get by a workspace not onboarded")


@check("ACCESS-SCOPE", needs=("view",))
def view_key_cannot_create(s: Session) -> None:
    """ACCESS-SCOPE: a key without management scope gets 403 on create.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    external_id = s.external_id("view")
    reply = s.create(group_body(external_id), s.client("view"))
    s.expect_refused(reply, 403, "for a key without management scope", "403 no management scope")
    s.confirm_free(external_id, "a create with a view key")


@check("ACCESS-SCOPE", needs=("view",))
def view_key_cannot_read_or_delete_a_group(s: Session) -> None:
    """ACCESS-SCOPE: a view key gets 403 on get and delete of a group, which stays.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group (the get and
    delete pages say the same).
    """
    viewer = s.client("view")
    group = s.root()
    s.expect_refused(
        s.get(group["id"], viewer), 403, "for a get with a view key", "403 no management scope"
    )
    s.expect_status(s.delete(group["id"], viewer), 403, "for a delete with a view key")
    s.expect_accepted(s.get(group["id"]), "for the group a refused delete left in place")


@check("LIST-SHAPE", needs=("other",))
def another_workspace_lists_a_page_without_our_groups(s: Session) -> None:
    """LIST-SHAPE: another workspace's list of groups is a page like any other, and shows none
    of this workspace's groups (checked early in a run, when that workspace may never have
    stored a group).

    Source: https://docs.baseten.co/reference/gateway/groups/list-groups
    """
    group = s.root()
    expect_hidden_from_other_workspace(
        s, GROUPS, "LIST-SHAPE", group["id"],
        "a list shows the groups visible to the caller's workspace",
    )  # fmt: skip


@check("OK-200")
def success_is_200(s: Session) -> None:
    """OK-200: create, get and delete answer exactly 200 (a 201 is not documented).

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    reply = s.create(group_body(s.external_id("ok")))
    s.expect_status(reply, 200, "for a successful create (not 201)")
    group = s.expect_group(reply, "for a successful create")
    s.expect_status(s.get(group["id"]), 200, "for a successful get")
    s.expect_status(s.delete(group["id"]), 200, "for a successful delete")


@check("ERR-BODY")
def errors_are_json_with_an_error_message(s: Session) -> None:
    """ERR-BODY (choice): every error is `application/json`, shaped {"error": "<message>"}.

    Source: https://docs.baseten.co/inference/errors
    """
    gone = s.deleted_id()
    replies = {
        "400 (no metadata)": s.create(without(group_body(s.external_id("err")), "metadata")),
        "401 (no credentials)": s.get(gone, headers={"Authorization": None}),
        "404 (deleted group)": s.get(gone),
    }
    for label, reply in replies.items():
        _expect_error_body(reply, label)


def _expect_error_body(reply: Reply, label: str) -> None:
    content_type = reply.headers.get("Content-Type", "")
    body = reply.json
    message = body.get("error") if isinstance(body, dict) else None
    if not content_type.startswith("application/json") or not (
        isinstance(message, str) and message
    ):
        raise CheckFailed(
            f"Received: {reply.describe()} with Content-Type {content_type or '(none)'} "
            f"for {label} "
            '/ Documented: application/json shaped {"error": "<message>"}'
        )
