"""The per-group routes beyond get and delete (update, usage, mint and list keys): the same
404 for a deleted group, 403 for another workspace's, 403 for a key without management scope.

A refused call must leave the group as it was and mint nothing.
"""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

from conformance.bodies import PREFIX_LENGTH, keys_path, usage_path
from conformance.ledger import Client
from conformance.paging import read_page
from conformance.registry import CheckFailed, check
from conformance.session import Session
from conformance.signing import sign
from conformance.target import Reply

ALPHABET = string.ascii_letters + string.digits


def _calls(s: Session, group_id: str, client: Client | None = None) -> list[tuple[str, Reply]]:
    """One call of each route, as `client`; a mint that wrongly succeeds is cleaned up."""
    return [
        ("an update", s.patch(group_id, {"metadata": {"name": "renamed"}}, client)),
        ("a usage read", s.send("GET", usage_path(group_id), client=client)),
        ("a key mint", s.mint_key(group_id, {}, client)),
        ("a key list", s.send("GET", keys_path(group_id), client=client)),
    ]


def _expect_untouched(s: Session, group: dict[str, Any], after: str) -> None:
    """The name is as created and no key was minted."""
    read = s.expect_group(s.get(group["id"]), "for a get of a group this run created")
    keys = read_page(s, keys_path(group["id"]), "KEY-LIST").items
    if read.get("metadata") != group.get("metadata") or keys:
        raise CheckFailed(
            f"Received: {read.get('metadata')} and keys {keys} after {after} / Documented: "
            f"a refused call changes nothing ({group.get('metadata')}, no keys)"
        )


@check("GROUP-NOT-FOUND")
def other_routes_of_a_deleted_group_give_404(s: Session) -> None:
    """GROUP-NOT-FOUND: update, usage, key mint and key list of a deleted group give 404.

    Source: https://docs.baseten.co/reference/gateway/groups/get-a-group (the update, usage
    and API key pages say the same).
    """
    for what, reply in _calls(s, s.deleted_id()):
        s.expect_refused(
            reply, 404, f"for {what} of a deleted group", "404 unknown or deleted group"
        )


@check("GROUP-OTHER-WORKSPACE", needs=("other",))
def other_routes_of_another_workspaces_group_give_403(s: Session) -> None:
    """GROUP-OTHER-WORKSPACE: update, usage, key mint and key list from another workspace
    give 403, and change nothing.

    Source: https://docs.baseten.co/reference/gateway/groups/get-a-group (the update, usage
    and API key pages say the same).
    """
    group = s.root()
    for what, reply in _calls(s, group["id"], s.client("other")):
        s.expect_refused(
            reply, 403, f"for {what} from another workspace", "403 group in another workspace"
        )
    _expect_untouched(s, group, "calls from another workspace")


@check("ACCESS-SCOPE", needs=("view",))
def view_key_cannot_use_the_other_group_routes(s: Session) -> None:
    """ACCESS-SCOPE: a view key gets 403 on update, usage, key mint and key list.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group (the update,
    usage and API key pages say the same).
    """
    group = s.root()
    for what, reply in _calls(s, group["id"], s.client("view")):
        s.expect_refused(reply, 403, f"for {what} with a view key", "403 no management scope")
    _expect_untouched(s, group, "calls with a view key")


@check("ACCESS-SCOPE", needs=("view",))
def view_key_cannot_read_revoke_or_register_keys(s: Session) -> None:
    """ACCESS-SCOPE: a view key gets 403 on get and revoke of a key, which stays, and on
    register (a body signed right, when --signing-key is given), which registers nothing.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group (the API key get,
    revoke and register pages say the same).
    """
    viewer = s.client("view")
    group = s.root()
    minted = s.mint_key(group["id"], {})
    s.expect_accepted(minted, "for minting a key under a group this run created")
    path = keys_path(group["id"], f"/{minted.json['prefix']}")
    s.expect_refused(
        s.send("GET", path, client=viewer), 403, "for a key get with a view key",
        "403 no management scope",
    )  # fmt: skip
    s.expect_status(s.send("DELETE", path, client=viewer), 403, "for a revoke with a view key")
    s.expect_accepted(s.send("GET", path), "for the key a refused revoke left in place")
    if s.run.signer is None:
        return
    key = "".join(secrets.choice(ALPHABET) for _ in range(40))
    raw = json.dumps({"key": key}).encode()
    reply = s.register_key(group["id"], key, raw, sign(s.signer, raw), viewer)
    s.expect_status(reply, 403, "for a register with a view key")
    gone = s.send("GET", keys_path(group["id"], f"/{key[:PREFIX_LENGTH]}"))
    s.expect_status(gone, 404, "for the key a view key tried to register")
