"""Endpoints: create, read, list, rename, retarget and delete; slugs, regions, ownership.

Every slug is `<--org-prefix>/<run prefix>…`, so the run only ever touches endpoints it made;
a list may show others' endpoints, which are ignored. Without --org-prefix nothing runs.
"""

from __future__ import annotations

from typing import Any

from conformance.bodies import (
    BASETEN_TARGET,
    ENDPOINTS,
    OPENAI_TARGET,
    REGIONS,
    endpoint_body,
    endpoint_path,
)
from conformance.compare import is_rfc3339_utc
from conformance.paging import (
    Item,
    drain,
    expect_hidden_from_other_workspace,
    occurrences,
    small_limit,
)
from conformance.registry import CheckFailed, check
from conformance.session import Session
from conformance.target import Reply

NEEDS = ("org_prefix",)
STAMPS = ("created", "updated")
Targets = list[dict[str, Any]]


def created(s: Session, body: dict[str, Any], what: str) -> dict[str, Any]:
    """Creates an endpoint a check needs; only its id is required here (EP-RESPONSE checks
    the rest), so one broken field doesn't fail every endpoint check."""
    reply = s.create_endpoint(body)
    s.expect_accepted(reply, f"for {what}")
    answer = reply.json
    if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
        raise CheckFailed(f"Received: {reply.describe()} for {what} / Documented: with its id")
    return {**answer, "slug": body["slug"], "targets": body["targets"]}


def expect_endpoint(
    reply: Reply, slug: str, targets: Targets, what: str, *, stamped: bool = True
) -> dict[str, Any]:
    """{id, slug, targets, created_at, updated_at}; each sent target field comes back.

    `stamped=False` leaves the timestamps to EP-RESPONSE's own check.
    """
    answer = reply.json
    if not (
        isinstance(answer, dict)
        and isinstance(answer.get("id"), str)
        and answer["id"]
        and answer.get("slug") == slug
        and same_targets(answer.get("targets"), targets)
        and (not stamped or all(is_rfc3339_utc(answer.get(f"{t}_at")) for t in STAMPS))
    ):
        raise CheckFailed(
            f"Received: {reply.describe(400)} for {what} / Documented: {{id, slug: {slug!r}, "
            f"targets: {targets}" + (", created_at, updated_at (RFC 3339)}}" if stamped else "}")
        )
    return answer


def same_targets(received: Any, sent: Targets) -> bool:
    """Every field sent is there with its value, at every level (vertex_config's too); an
    implementation may add defaults and fields of its own."""
    return (
        isinstance(received, list)
        and len(received) == len(sent)
        and all(_holds(got, want) for got, want in zip(received, sent, strict=True))
    )


def _holds(got: Any, want: Any) -> bool:
    if isinstance(want, dict):
        return isinstance(got, dict) and all(_holds(got.get(k), v) for k, v in want.items())
    return bool(got == want)


def read_endpoint(s: Session, endpoint: dict[str, Any], what: str) -> Reply:
    reply = s.send("GET", endpoint_path(endpoint["id"]))
    s.expect_accepted(reply, f"for a get of {what}")
    return reply


def expect_reads(s: Session, endpoint: dict[str, Any], slug: str, targets: Targets) -> None:
    """A get shows this slug and these targets."""
    reply = read_endpoint(s, endpoint, "an endpoint this run created")
    answer = reply.json if isinstance(reply.json, dict) else {}
    if answer.get("slug") != slug or not same_targets(answer.get("targets"), targets):
        raise CheckFailed(
            f"Received: {reply.describe()} / Documented: slug {slug!r}, targets {targets}"
        )


def refuse(s: Session, body: dict[str, Any], what: str) -> None:
    s.expect_status(s.create_endpoint(body), 400, f"for {what}")


def refuse_update(s: Session, endpoint: dict[str, Any], changes: Any, what: str) -> None:
    """400, and the endpoint reads as before."""
    reply = s.send("PATCH", endpoint_path(endpoint["id"]), changes)
    s.expect_status(reply, 400, f"for an update with {what}")
    expect_reads(s, endpoint, endpoint["slug"], endpoint["targets"])


@check("EP-RESPONSE", needs=NEEDS)
def endpoint_reads_as_created(s: Session) -> None:
    """EP-RESPONSE: create and get answer {id, slug, targets, region, created_at, updated_at},
    and so does a get after an update (created_at kept).

    Source: https://docs.baseten.co/reference/gateway/endpoints/create-an-endpoint
    """
    body = endpoint_body(s.endpoint_slug("glm"))
    what = "an endpoint with the documented BASETEN target"
    reply = s.create_endpoint(body)
    s.expect_accepted(reply, f"for {what}")
    endpoint = expect_endpoint(reply, body["slug"], body["targets"], what)
    got = read_endpoint(s, endpoint, "it")
    read = expect_endpoint(got, body["slug"], body["targets"], "a get")
    if (read["id"], read["created_at"]) != (endpoint["id"], endpoint["created_at"]):
        raise CheckFailed(f"Received: {read} on get / Documented: the endpoint {endpoint}")
    targets = [dict(OPENAI_TARGET)]
    s.expect_accepted(s.send("PATCH", endpoint_path(endpoint["id"]), {"targets": targets}),
                      "for an update with new targets")  # fmt: skip
    got = read_endpoint(s, endpoint, "it after an update")
    updated = expect_endpoint(got, body["slug"], targets, "a get after an update")
    if (updated["id"], updated["created_at"]) != (endpoint["id"], endpoint["created_at"]):
        raise CheckFailed(f"Received: {updated} after an update / Documented: {endpoint}")


def own(s: Session, pages: list[list[Item]]) -> list[list[Item]]:
    mine = f"{s.run.options.org_prefix}/{s.run.prefix}"
    return [[item for item in page if str(item.get("slug")).startswith(mine)] for page in pages]


@check("EP-LIST", needs=NEEDS)
def list_shows_each_endpoint_once(s: Session) -> None:
    """EP-LIST: pages followed to the end show each of the run's endpoints once, a deleted
    one not at all (three live ones, so pages of the smallest size, 2, are followed too).

    Source: https://docs.baseten.co/reference/gateway/endpoints/list-endpoints
    """
    made = {e["id"]: e for e in (created(s, endpoint_body(s.endpoint_slug()), "an endpoint")
                                 for _ in range(4))}  # fmt: skip
    gone = next(iter(made))
    s.expect_accepted(s.delete_endpoint(gone), "for deleting an endpoint this run created")
    del made[gone]
    limit = small_limit(s, ENDPOINTS, "EP-LIST")
    pages = own(s, drain(s, ENDPOINTS, "EP-LIST", limit=limit))
    seen = occurrences(pages, lambda item: (item.get("id"), item.get("slug")))
    expected = {(i, e["slug"]): 1 for i, e in made.items()}
    if seen != expected:
        raise CheckFailed(
            f"Received: the run's endpoints {seen} (times listed) over pages of limit={limit} / "
            f"Documented: each live one once: {sorted(expected)}"
        )


@check("EP-LIST", needs=(*NEEDS, "other"))
def list_shows_no_endpoint_of_another_workspace(s: Session) -> None:
    """EP-LIST: another workspace's list shows none of this workspace's endpoints, and
    answers a page like any list.

    Source: https://docs.baseten.co/reference/gateway/endpoints/list-endpoints
    """
    endpoint = created(s, endpoint_body(s.endpoint_slug()), "an endpoint")
    expect_hidden_from_other_workspace(
        s, ENDPOINTS, "EP-LIST", endpoint["id"], "a list shows the workspace's own endpoints"
    )


@check("EP-PATCH", needs=NEEDS)
def update_replaces_targets_and_empty_update_changes_nothing(s: Session) -> None:
    """EP-PATCH: new targets replace the list (slug and region kept); `{}` changes nothing,
    whether it is refused with 400 or answered (the docs: "send the fields you want to change").

    Source: https://docs.baseten.co/reference/gateway/endpoints/replace-endpoint-targets
    """
    body = {**endpoint_body(s.endpoint_slug()), "region": "EU"}
    endpoint = created(s, body, "an endpoint in region EU")
    targets = [dict(OPENAI_TARGET)]
    reply = s.send("PATCH", endpoint_path(endpoint["id"]), {"targets": targets})
    s.expect_accepted(reply, "for an update with new targets")
    expect_endpoint(reply, body["slug"], targets, "an update with new targets", stamped=False)
    expect_reads(s, endpoint, body["slug"], targets)
    region = reply.json.get("region") if isinstance(reply.json, dict) else None
    if region != "EU":
        raise CheckFailed(f"Received: region {region!r} after new targets / Documented: EU kept")
    reply = s.send("PATCH", endpoint_path(endpoint["id"]), {})
    if reply.ok:
        expect_endpoint(reply, body["slug"], targets, "an update with {}", stamped=False)
    else:
        s.expect_status(reply, 400, "for an update with {}, or 200 changing nothing")
    expect_reads(s, endpoint, body["slug"], targets)


@check("EP-PATCH-EMPTY", needs=NEEDS)
def empty_endpoint_update_answers_the_endpoint(s: Session) -> None:
    """EP-PATCH-EMPTY: `{}` answers 200 with the endpoint as it was (the simulator's choice:
    the machine spec requires no field, and the docs pages are silent).

    Source: https://docs.baseten.co/reference/gateway/endpoints/replace-endpoint-targets
    """
    body = endpoint_body(s.endpoint_slug())
    endpoint = created(s, body, "an endpoint")
    reply = s.send("PATCH", endpoint_path(endpoint["id"]), {})
    s.expect_accepted(reply, "for an update with {}")
    expect_endpoint(reply, body["slug"], body["targets"], "an update with {}", stamped=False)
    expect_reads(s, endpoint, body["slug"], body["targets"])


@check("EP-RENAME", needs=NEEDS)
def rename_renames_or_is_refused_consistently(s: Session) -> None:
    """EP-RENAME: a new slug either renames the endpoint (the docs pages: the get shows it, the
    targets stay, the new slug is taken) or gives 400 (the machine spec: slugs are immutable,
    and the endpoint reads as before). Both readings conform.

    Source: https://docs.baseten.co/reference/gateway/endpoints/replace-endpoint-targets
    """
    endpoint = created(s, endpoint_body(s.endpoint_slug()), "an endpoint")
    new_slug = s.endpoint_slug("renamed")
    reply = s.send("PATCH", endpoint_path(endpoint["id"]), {"slug": new_slug})
    if reply.status == 400:
        expect_reads(s, endpoint, endpoint["slug"], endpoint["targets"])
        return
    s.expect_accepted(reply, "for a new slug: renamed (or 400, refused as immutable)")
    expect_endpoint(reply, new_slug, endpoint["targets"], "a rename", stamped=False)
    expect_reads(s, endpoint, new_slug, endpoint["targets"])
    refuse(s, endpoint_body(new_slug), "the slug the endpoint was renamed to")


@check("EP-REGION", needs=NEEDS)
def region_is_kept_and_answered_on_every_route(s: Session) -> None:
    """EP-REGION: region EU is kept, no region is UNRESTRICTED, and create, get, list and
    update all answer with it; a region outside the enum gives 400.

    Source: https://api.baseten.co/v1/spec (CreateGatewayEndpointRequestV1, GatewayEndpointV1)
    """
    made: dict[str, str] = {}
    for region, body in (
        ("EU", {**endpoint_body(s.endpoint_slug("eu")), "region": "EU"}),
        (REGIONS[0], endpoint_body(s.endpoint_slug("default"))),
    ):
        reply = s.create_endpoint(body)
        s.expect_accepted(reply, f"for an endpoint with {body.get('region', 'no region')}")
        made[_id(reply)] = region
        _expect_region(reply, region, "create")
        _expect_region(read_endpoint(s, {"id": _id(reply)}, "it"), region, "get")
    update = {"targets": [dict(BASETEN_TARGET)]}
    for endpoint_id, region in made.items():
        reply = s.send("PATCH", endpoint_path(endpoint_id), update)
        s.expect_accepted(reply, "for an update with new targets")
        _expect_region(reply, region, "update")
    pages = own(s, drain(s, ENDPOINTS, "EP-LIST", limit=small_limit(s, ENDPOINTS, "EP-LIST")))
    listed = {item.get("id"): item.get("region") for page in pages for item in page}
    if {i: listed.get(i) for i in made} != made:
        raise CheckFailed(f"Received: regions {listed} in the list / Documented: {made}")
    for region in ("MARS", "eu", ""):
        refuse(s, {**endpoint_body(s.endpoint_slug()), "region": region}, f"region {region!r}")


def _id(reply: Reply) -> str:
    answer = reply.json
    endpoint_id = answer.get("id") if isinstance(answer, dict) else None
    if not isinstance(endpoint_id, str):
        raise CheckFailed(f"Received: {reply.describe()} / Documented: the endpoint with its id")
    return endpoint_id


def _expect_region(reply: Reply, region: str, route: str) -> None:
    got = reply.json.get("region") if isinstance(reply.json, dict) else None
    if got != region:
        raise CheckFailed(
            f"Received: {reply.describe()} on {route} / Documented: region {region!r} in every "
            "endpoint answer"
        )


@check("EP-DELETE", needs=NEEDS)
def delete_answers_id_and_slug_and_frees_the_slug(s: Session) -> None:
    """EP-DELETE: delete answers {id, slug}; then get and delete give 404 and the slug is free.

    Source: https://docs.baseten.co/reference/gateway/endpoints/delete-an-endpoint
    """
    body = endpoint_body(s.endpoint_slug())
    endpoint = created(s, body, "an endpoint")
    reply = s.delete_endpoint(endpoint["id"])
    s.expect_accepted(reply, "for deleting an endpoint this run created")
    answer = reply.json if isinstance(reply.json, dict) else {}
    if (answer.get("id"), answer.get("slug")) != (endpoint["id"], body["slug"]):
        raise CheckFailed(
            f"Received: {reply.describe()} / Documented: {{id: {endpoint['id']!r}, "
            f"slug: {body['slug']!r}}}"
        )
    path = endpoint_path(endpoint["id"])
    s.expect_status(s.send("GET", path), 404, "for a get of a deleted endpoint")
    s.expect_status(s.delete_endpoint(endpoint["id"]), 404, "for deleting it again")
    created(s, body, "a new endpoint with the deleted one's slug")


@check("EP-NOT-FOUND", needs=NEEDS)
def deleted_endpoint_gives_404(s: Session) -> None:
    """EP-NOT-FOUND: get, update and delete of a deleted endpoint give 404.

    Source: https://docs.baseten.co/reference/gateway/endpoints/get-an-endpoint
    """
    endpoint = created(s, endpoint_body(s.endpoint_slug()), "an endpoint")
    s.expect_accepted(s.delete_endpoint(endpoint["id"]), "for deleting an endpoint")
    path = endpoint_path(endpoint["id"])
    s.expect_status(s.send("GET", path), 404, "for a get of a deleted endpoint")
    renamed = {"slug": s.endpoint_slug("renamed")}
    s.expect_status(s.send("PATCH", path, renamed), 404, "for an update of a deleted endpoint")
    s.expect_status(s.delete_endpoint(endpoint["id"]), 404, "for a delete of a deleted endpoint")


@check("EP-OTHER-WORKSPACE", needs=(*NEEDS, "other"))
def endpoint_of_another_workspace_gives_403(s: Session) -> None:
    """EP-OTHER-WORKSPACE: get, update and delete from another workspace give 403; it stays.

    Source: https://docs.baseten.co/reference/gateway/endpoints/get-an-endpoint
    """
    endpoint = created(s, endpoint_body(s.endpoint_slug()), "an endpoint")
    foreign = s.client("other")
    path = endpoint_path(endpoint["id"])
    renamed = {"slug": s.endpoint_slug("renamed")}
    s.expect_status(s.send("GET", path, client=foreign), 403, "for a get from another workspace")
    s.expect_status(
        s.send("PATCH", path, renamed, foreign), 403, "for an update from another workspace"
    )
    s.expect_status(
        s.delete_endpoint(endpoint["id"], foreign), 403, "for a delete from another workspace"
    )
    expect_reads(s, endpoint, endpoint["slug"], endpoint["targets"])


@check("ACCESS-SCOPE", needs=("view",))
def view_key_cannot_use_the_endpoint_routes(s: Session) -> None:
    """ACCESS-SCOPE: a view key gets 403 on every endpoint route (create, list, get, update,
    delete), and the endpoint stays as it was; the slug it tried to create stays free. Needs
    --org-prefix too, for the endpoint it creates.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group (and every
    endpoint page: "a workspace API key with management scope"; the get page names 403 for a
    key without it)
    """
    viewer = s.client("view")
    endpoint = created(s, endpoint_body(s.endpoint_slug()), "an endpoint")
    path = endpoint_path(endpoint["id"])
    slug = s.endpoint_slug()
    calls = {
        "a create": s.create_endpoint(endpoint_body(slug), viewer),
        "a list": s.send("GET", ENDPOINTS, client=viewer),
        "a get": s.send("GET", path, client=viewer),
        "an update": s.send("PATCH", path, {"slug": s.endpoint_slug("renamed")}, viewer),
        "a delete": s.delete_endpoint(endpoint["id"], viewer),
    }
    for what, reply in calls.items():
        s.expect_refused(reply, 403, f"for {what} with a view key", "403 no management scope")
    expect_reads(s, endpoint, endpoint["slug"], endpoint["targets"])
    created(s, endpoint_body(slug), "a create of the slug a view key tried to take")


@check("EP-SLUG-UNIQUE", needs=NEEDS)
def taken_slug_is_refused_on_create_and_rename(s: Session) -> None:
    """EP-SLUG-UNIQUE: a second endpoint with a taken slug, or a rename to one, gives 400.

    Source: https://docs.baseten.co/reference/gateway/endpoints/create-an-endpoint
    """
    taken = created(s, endpoint_body(s.endpoint_slug()), "an endpoint")
    refuse(s, endpoint_body(taken["slug"], dict(OPENAI_TARGET)), "a taken slug")
    other = created(s, endpoint_body(s.endpoint_slug()), "a second endpoint")
    refuse_update(s, other, {"slug": taken["slug"]}, "a taken slug")


@check("EP-SLUG-PREFIX", needs=NEEDS)
def slug_needs_an_org_prefix_the_workspace_owns(s: Session) -> None:
    """EP-SLUG-PREFIX: an org prefix the workspace doesn't own, or no org at all, gives 400.

    Source: https://docs.baseten.co/reference/gateway/endpoints/create-an-endpoint
    """
    name = s.endpoint_slug().partition("/")[2]
    unowned = f"{s.run.prefix}org/{name}"  # a random org no workspace can own yet
    refuse(s, endpoint_body(unowned), "an org prefix the workspace doesn't own")
    refuse(s, endpoint_body(name), "a slug without an org prefix")
    endpoint = created(s, endpoint_body(s.endpoint_slug()), "an endpoint")
    refuse_update(s, endpoint, {"slug": unowned}, "an org prefix the workspace doesn't own")


@check("EP-ONE-TARGET", needs=NEEDS)
def targets_hold_exactly_one_entry(s: Session) -> None:
    """EP-ONE-TARGET: no target or two targets give 400, on create and on update.

    Source: https://docs.baseten.co/reference/gateway/endpoints/create-an-endpoint
    """
    slug = s.endpoint_slug()
    cases = {"no target": [], "two targets": [dict(BASETEN_TARGET), dict(OPENAI_TARGET)]}
    for what, targets in cases.items():
        refuse(s, {"slug": slug, "targets": targets}, what)
    endpoint = created(s, endpoint_body(slug), "the refused slug with one target")
    for what, targets in cases.items():
        refuse_update(s, endpoint, {"targets": targets}, what)
