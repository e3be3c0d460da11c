"""API keys under a group: mint, get, list, revoke, and what is gone afterwards.

Prefixes are opaque beyond their documented form (`sky_` + 12 characters); which characters
follow `sky_` is the implementation's choice. Every key is minted under a group of this run.
"""

from __future__ import annotations

import re
import secrets
import string
from typing import Any

from conformance.bodies import keys_path
from conformance.paging import drain, occurrences, read_page
from conformance.registry import CheckFailed, check
from conformance.session import Session

MINTED_PREFIX = re.compile(r"^sky_[^.]{12}$")  # D-key-create: "sky_" plus 12 characters
GONE = "for a revoked key"


def mint(s: Session, group: dict[str, Any], body: Any = None) -> dict[str, Any]:
    """A minted key's answer; anything else fails the check."""
    reply = s.mint_key(group["id"], body)
    s.expect_accepted(reply, "for minting a key under a group this run created")
    answer = reply.json
    if not isinstance(answer, dict) or not isinstance(answer.get("prefix"), str):
        raise CheckFailed(f"Received: {reply.describe()} / Documented: the key with its prefix")
    return answer


def key_path(group: dict[str, Any], prefix: str) -> str:
    return keys_path(group["id"], f"/{prefix}")


@check("KEY-MINT")
def minted_key_is_prefix_dot_secret(s: Session) -> None:
    """KEY-MINT: {api_key: prefix.secret, prefix: sky_ + 12 characters, name}; two mints differ.

    Source: https://docs.baseten.co/reference/gateway/api-keys/create-an-api-key
    """
    group = s.root()
    named = mint(s, group, {"name": "prod-key-1"})
    unnamed = mint(s, group, {})
    for answer, name in ((named, "prod-key-1"), (unnamed, None)):
        prefix, dot, secret = str(answer.get("api_key")).partition(".")
        if not (dot and secret and prefix == answer["prefix"] and MINTED_PREFIX.match(prefix)):
            raise CheckFailed(
                f"Received: {answer} / Documented: api_key `<prefix>.<secret>` whose prefix is "
                "the answer's prefix, `sky_` followed by 12 characters"
            )
        if answer.get("name") != name:
            raise CheckFailed(f"Received: {answer} / Documented: name {name!r}")
    if named["prefix"] == unnamed["prefix"] or named["api_key"] == unnamed["api_key"]:
        raise CheckFailed(f"Received: {named} and {unnamed} / Documented: two different keys")


@check("KEY-GET")
def key_reads_back_by_prefix_without_its_secret(s: Session) -> None:
    """KEY-GET: a key reads back as {prefix, name}; the secret is never shown again.

    Source: https://docs.baseten.co/reference/gateway/api-keys/get-an-api-key
    """
    group = s.root()
    for body, name in (({"name": "prod-key-1"}, "prod-key-1"), ({}, None)):
        minted = mint(s, group, body)
        reply = s.send("GET", key_path(group, minted["prefix"]))
        s.expect_accepted(reply, "for a get of a key this run minted")
        secret = str(minted.get("api_key", "")).partition(".")[2]
        fields = (path_get(reply.json, "prefix"), path_get(reply.json, "name"))
        if fields != (minted["prefix"], name) or (secret and secret in reply.text):
            raise CheckFailed(
                f"Received: {reply.describe()} / Documented: {{prefix: {minted['prefix']!r}, "
                f"name: {name!r}}}, without the secret"
            )


def path_get(answer: Any, name: str) -> Any:
    return answer.get(name) if isinstance(answer, dict) else None


@check("KEY-LIST")
def list_shows_the_groups_live_keys_once(s: Session) -> None:
    """KEY-LIST: pages of {prefix, name} show each live key once; a revoked key drops out.

    Source: https://docs.baseten.co/reference/gateway/api-keys/list-api-keys-for-a-group
    """
    group = s.root()
    names = {mint(s, group, {"name": f"k{i}"})["prefix"]: f"k{i}" for i in range(3)}
    _expect_listed(s, group, names)
    revoked = next(iter(names))
    s.expect_accepted(s.revoke_key(group["id"], revoked), "for revoking a key")
    if s.send("GET", key_path(group, revoked)).status != 404:  # the revoke's own failure
        raise CheckFailed(
            f"Received: the key {revoked!r} still readable after its revoke / Documented: 404",
            rule="KEY-REVOKE",
        )
    del names[revoked]
    _expect_listed(s, group, names)


def _expect_listed(s: Session, group: dict[str, Any], names: dict[str, str]) -> None:
    pages = drain(s, keys_path(group["id"]), "KEY-LIST", limit=2)
    listed = occurrences(pages, lambda item: (item.get("prefix"), item.get("name")))
    expected = dict.fromkeys(names.items(), 1)
    if listed != expected:
        raise CheckFailed(
            f"Received: keys {listed} (key: times listed) over {len(pages)} pages of limit=2 / "
            f"Documented: each live key once: {sorted(expected)}"
        )


@check("KEY-REVOKE")
def revoked_key_is_gone_and_others_stay(s: Session) -> None:
    """KEY-REVOKE: revoke answers {prefix}; then get and revoke give 404; another key stays.

    Source: https://docs.baseten.co/reference/gateway/api-keys/revoke-an-api-key
    """
    group = s.root()
    doomed, kept = mint(s, group)["prefix"], mint(s, group)["prefix"]
    reply = s.revoke_key(group["id"], doomed)
    s.expect_accepted(reply, "for revoking a key this run minted")
    if path_get(reply.json, "prefix") != doomed:
        raise CheckFailed(f"Received: {reply.describe()} / Documented: {{prefix: {doomed!r}}}")
    s.expect_status(s.send("GET", key_path(group, doomed)), 404, f"for a get {GONE}")
    s.expect_status(s.revoke_key(group["id"], doomed), 404, f"for a second revoke {GONE}")
    s.expect_accepted(s.send("GET", key_path(group, kept)), "for the key that was not revoked")


@check("KEY-NOT-FOUND")
def unknown_prefix_and_keys_of_a_deleted_group_give_404(s: Session) -> None:
    """KEY-NOT-FOUND: a prefix never issued gives 404; so do a deleted group's keys and list.

    Source: https://docs.baseten.co/reference/gateway/api-keys/get-an-api-key
    """
    root = s.root()
    child = s.child(root)
    alphabet = string.ascii_letters + string.digits
    unknown = "sky_" + "".join(secrets.choice(alphabet) for _ in range(12))
    s.expect_status(s.send("GET", key_path(root, unknown)), 404, "for a prefix never issued")
    prefix = mint(s, child)["prefix"]
    read_page(s, keys_path(child["id"]), "KEY-LIST")  # listed while the group lives
    s.expect_accepted(s.delete(root["id"]), "for deleting a group this run created")
    s.expect_status(s.send("GET", key_path(child, prefix)), 404, "for a key of a deleted group")
    s.expect_status(s.send("GET", keys_path(child["id"])), 404, "for the keys of a deleted group")
