"""Explicit nulls, as clients generated from the machine spec send them for every unset
optional field, on every route (NULL-AS-OMITTED, a choice: the docs pages are silent).

By default the suite never asks for a null to be refused where the machine spec types the
field "X or null"; with --strict these checks ask that null mean the same as omitted.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.bodies import (
    SLUG,
    TARGET_SAMPLES,
    endpoint_body,
    endpoint_path,
    group_body,
    keys_path,
    replaced,
)
from conformance.checks.endpoints import NEEDS, created, expect_endpoint, expect_reads
from conformance.checks.register import strong_key
from conformance.checks.update_group import DOC_UPDATE_MODELS
from conformance.compare import model_views, path
from conformance.registry import CheckFailed, check
from conformance.session import Session
from conformance.signing import sign

UNSET_TARGET = dict.fromkeys(TARGET_SAMPLES)  # every optional target field, null


def _expect(answer: Any, where: tuple[str, ...], value: Any, what: str) -> None:
    got = path(answer, *where)
    if got != value:
        raise CheckFailed(
            f"Received: {'.'.join(where)} = {got!r} after {what} / Documented: {value!r}, "
            "null meaning omitted"
        )


@check("NULL-AS-OMITTED")
def nulls_in_a_group_update_mean_not_sent(s: Session) -> None:
    """NULL-AS-OMITTED (choice): `metadata: null` keeps the name, `models: null` keeps the
    model set, and `metadata.name: null` leaves the name as it is.

    Source: https://api.baseten.co/v1/spec (UpdateGroupRequestV1)
    """
    group = s.root(name="named")
    steps: list[tuple[str, dict[str, Any], str]] = [
        ("metadata: null", {"metadata": None, "models": DOC_UPDATE_MODELS}, "named"),
        ("models: null", {"metadata": {"name": "renamed"}, "models": None}, "renamed"),
        ("name: null", {"metadata": {"name": None}, "models": [{"slug": SLUG}]}, "renamed"),
    ]
    models: Any = group.get("models")
    for what, body, name in steps:
        reply = s.patch(group["id"], body)
        answer = s.expect_group(reply, f"for an update with {what}")
        models = body["models"] if body["models"] is not None else models
        _expect(answer, ("metadata", "name"), name, f"an update with {what}")
        if model_views(answer.get("models")) != model_views(models):
            raise CheckFailed(
                f"Received: models {answer.get('models')} after an update with {what} / "
                f"Documented: {models}"
            )


@check("NULL-AS-OMITTED")
def null_key_names_mean_no_name(s: Session) -> None:
    """NULL-AS-OMITTED (choice): a key minted or registered with `name: null` has no name.

    Source: https://api.baseten.co/v1/spec (CreateApiKeyRequestV1, RegisterApiKeyRequestV1)
    """
    group = s.root()
    reply = s.mint_key(group["id"], {"name": None})
    s.expect_accepted(reply, "for minting a key with name: null")
    _expect(reply.json, ("name",), None, "minting with name: null")
    if s.run.signer is None:
        return  # registering needs --signing-key; the mint above still counts
    key = strong_key(40)
    raw = json.dumps({"key": key, "name": None}).encode()
    reply = s.register_key(group["id"], key, raw, sign(s.signer, raw))
    s.expect_accepted(reply, "for registering a key with name: null")
    read = s.send("GET", keys_path(group["id"], f"/{key[:16]}"))
    s.expect_accepted(read, "for a get of the key registered with name: null")
    _expect(read.json, ("name",), None, "registering with name: null")


@check("NULL-AS-OMITTED", needs=NEEDS)
def nulls_in_an_endpoint_mean_omitted(s: Session) -> None:
    """NULL-AS-OMITTED (choice): a target with every optional field null and `region: null`
    is the minimal target in the default region; `targets: null` and `slug: null` on PATCH
    change nothing.

    Source: https://api.baseten.co/v1/spec (CreateGatewayEndpointRequestV1)
    """
    target = {**UNSET_TARGET, "provider": "BASETEN", "model_id": TARGET_SAMPLES["model_id"]}
    body = {**endpoint_body(s.endpoint_slug(), target), "region": None}
    endpoint = created(s, body, "a target with every optional field null and region null")
    read = s.send("GET", endpoint_path(endpoint["id"]))
    expect_endpoint(read, body["slug"], body["targets"], "a get of it")
    _expect(read.json, ("region",), "UNRESTRICTED", "region: null")
    for changes in ({"targets": None}, {"slug": None, "targets": None}):
        reply = s.send("PATCH", endpoint_path(endpoint["id"]), changes)
        s.expect_accepted(reply, f"for an update with {changes}")
        expect_reads(s, endpoint, body["slug"], body["targets"])
    openai = {**UNSET_TARGET, "provider": "OPENAI", "secret_id": "fgc-secret",
              "target_model": "fgc-model"}  # fmt: skip
    reply = s.send("PATCH", endpoint_path(endpoint["id"]), {"slug": None, "targets": [openai]})
    s.expect_accepted(reply, "for an update with slug: null and new targets")
    expect_reads(s, endpoint, body["slug"], [openai])


@check("NULL-AS-OMITTED")
def null_name_on_create_is_no_name(s: Session) -> None:
    """NULL-AS-OMITTED (choice): a group created with `metadata.name: null` reads back with
    no name, as one created without a name (NAME-NULL says the same of create alone).

    Source: https://api.baseten.co/v1/spec (GroupMetadataV1)
    """
    group = s.group(replaced(group_body(s.external_id("null")), None, "metadata", "name"))
    read = s.expect_group(s.get(group["id"]), "for a get of a group created with name: null")
    _expect(read, ("metadata", "name"), None, "a create with name: null")


@check("KEY-NAME-LENGTH")
def key_name_of_255_characters_is_accepted_and_256_refused(s: Session) -> None:
    """KEY-NAME-LENGTH (choice): a minted key's name of 255 characters is accepted, 256 give
    400 (the machine spec sets no limit, so only --strict asks for it).

    Source: https://docs.baseten.co/reference/gateway/api-keys/create-an-api-key
    """
    group = s.root()
    s.expect_accepted(s.mint_key(group["id"], {"name": "k" * 255}), "for a name of 255")
    s.expect_status(s.mint_key(group["id"], {"name": "k" * 256}), 400, "for a name of 256")
