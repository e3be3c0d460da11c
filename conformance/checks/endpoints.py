"""Endpoints: create, read, list, rename, retarget and delete; slugs, targets, ownership.

Every slug is `<--org-prefix>/<run prefix>…`, so the run only ever touches endpoints it made;
a list may show others' endpoints, which are ignored. Without --org-prefix nothing runs.
"""

from __future__ import annotations

from typing import Any

from conformance.bodies import (
    ANTHROPIC_TARGET,
    BASETEN_TARGET,
    ENDPOINTS,
    OPENAI_TARGET,
    endpoint_body,
    endpoint_path,
)
from conformance.compare import is_rfc3339_utc
from conformance.paging import Item, drain, occurrences, small_limit
from conformance.registry import CheckFailed, check
from conformance.session import Session
from conformance.target import Reply

NEEDS = ("org_prefix",)
STAMPS = ("created", "updated")
Targets = list[dict[str, Any]]


def _created(s: Session, body: dict[str, Any], what: str) -> dict[str, Any]:
    """Creates an endpoint a check needs; only its id is required here (EP-RESPONSE checks
    the rest), so one broken field doesn't fail every endpoint check."""
    reply = s.create_endpoint(body)
    s.expect_accepted(reply, f"for {what}")
    answer = reply.json
    if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
        raise CheckFailed(f"Received: {reply.describe()} for {what} / Documented: with its id")
    return {**answer, "slug": body["slug"], "targets": body["targets"]}


def _expect_endpoint(
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
        and _same_targets(answer.get("targets"), targets)
        and (not stamped or all(is_rfc3339_utc(answer.get(f"{t}_at")) for t in STAMPS))
    ):
        raise CheckFailed(
            f"Received: {reply.describe(400)} for {what} / Documented: {{id, slug: {slug!r}, "
            f"targets: {targets}" + (", created_at, updated_at (RFC 3339)}}" if stamped else "}")
        )
    return answer


def _same_targets(received: Any, sent: Targets) -> bool:
    """Every field sent is there with its value; an implementation may add defaults."""
    return (
        isinstance(received, list)
        and len(received) == len(sent)
        and all(
            isinstance(got, dict) and all(got.get(k) == v for k, v in want.items())
            for got, want in zip(received, sent, strict=True)
        )
    )


def _read(s: Session, endpoint: dict[str, Any], what: str) -> Reply:
    reply = s.send("GET", endpoint_path(endpoint["id"]))
    s.expect_accepted(reply, f"for a get of {what}")
    return reply


def _expect_reads(s: Session, endpoint: dict[str, Any], slug: str, targets: Targets) -> None:
    """A get shows this slug and these targets."""
    reply = _read(s, endpoint, "an endpoint this run created")
    answer = reply.json if isinstance(reply.json, dict) else {}
    if answer.get("slug") != slug or not _same_targets(answer.get("targets"), targets):
        raise CheckFailed(
            f"Received: {reply.describe()} / Documented: slug {slug!r}, targets {targets}"
        )


def _refuse(s: Session, body: dict[str, Any], what: str) -> None:
    s.expect_status(s.create_endpoint(body), 400, f"for {what}")


def _refuse_update(s: Session, endpoint: dict[str, Any], changes: Any, what: str) -> None:
    """400, and the endpoint reads as before."""
    reply = s.send("PATCH", endpoint_path(endpoint["id"]), changes)
    s.expect_status(reply, 400, f"for an update with {what}")
    _expect_reads(s, endpoint, endpoint["slug"], endpoint["targets"])


@check("EP-RESPONSE", needs=NEEDS)
def endpoint_reads_as_created(s: Session) -> None:
    """EP-RESPONSE: create and get answer {id, slug, targets, created_at, updated_at}.

    Source: https://docs.baseten.co/reference/gateway/endpoints/create-an-endpoint
    """
    body = endpoint_body(s.endpoint_slug("glm"))
    what = "an endpoint with the documented BASETEN target"
    reply = s.create_endpoint(body)
    s.expect_accepted(reply, f"for {what}")
    endpoint = _expect_endpoint(reply, body["slug"], body["targets"], what)
    read = _expect_endpoint(_read(s, endpoint, "it"), body["slug"], body["targets"], "a get")
    if (read["id"], read["created_at"]) != (endpoint["id"], endpoint["created_at"]):
        raise CheckFailed(f"Received: {read} on get / Documented: the endpoint {endpoint}")


def _own(s: Session, pages: list[list[Item]]) -> list[list[Item]]:
    mine = f"{s.run.options.org_prefix}/{s.run.prefix}"
    return [[item for item in page if str(item.get("slug")).startswith(mine)] for page in pages]


@check("EP-LIST", needs=NEEDS)
def list_shows_each_endpoint_once(s: Session) -> None:
    """EP-LIST: pages followed to the end show each of the run's endpoints once, a deleted
    one not at all.

    Source: https://docs.baseten.co/reference/gateway/endpoints/list-endpoints
    """
    made = {e["id"]: e for e in (_created(s, endpoint_body(s.endpoint_slug()), "an endpoint")
                                 for _ in range(3))}  # fmt: skip
    gone = next(iter(made))
    s.expect_accepted(s.delete_endpoint(gone), "for deleting an endpoint this run created")
    del made[gone]
    limit = small_limit(s, ENDPOINTS, "EP-LIST")
    pages = _own(s, drain(s, ENDPOINTS, "EP-LIST", limit=limit))
    seen = occurrences(pages, lambda item: (item.get("id"), item.get("slug")))
    expected = {(i, e["slug"]): 1 for i, e in made.items()}
    if seen != expected:
        raise CheckFailed(
            f"Received: the run's endpoints {seen} (times listed) over pages of limit={limit} / "
            f"Documented: each live one once: {sorted(expected)}"
        )


@check("EP-PATCH", needs=NEEDS)
def update_renames_and_retargets(s: Session) -> None:
    """EP-PATCH: a new slug renames (targets kept); new targets replace (slug kept); {} gives 400.

    Source: https://docs.baseten.co/reference/gateway/endpoints/replace-endpoint-targets
    """
    endpoint = _created(s, endpoint_body(s.endpoint_slug()), "an endpoint")
    slug, targets = s.endpoint_slug("renamed"), [dict(OPENAI_TARGET)]
    steps: list[tuple[str, dict[str, Any], str, Targets]] = [
        ("a new slug", {"slug": slug}, slug, endpoint["targets"]),
        ("new targets", {"targets": targets}, slug, targets),
    ]
    for what, changes, want_slug, want_targets in steps:
        reply = s.send("PATCH", endpoint_path(endpoint["id"]), changes)
        s.expect_accepted(reply, f"for an update with {what}")
        endpoint = _expect_endpoint(
            reply, want_slug, want_targets, f"an update with {what}", stamped=False
        )
        _expect_reads(s, endpoint, want_slug, want_targets)
    _refuse_update(s, endpoint, {}, "{}")


@check("EP-DELETE", needs=NEEDS)
def delete_answers_id_and_slug_and_frees_the_slug(s: Session) -> None:
    """EP-DELETE: delete answers {id, slug}; then get and delete give 404 and the slug is free.

    Source: https://docs.baseten.co/reference/gateway/endpoints/delete-an-endpoint
    """
    body = endpoint_body(s.endpoint_slug())
    endpoint = _created(s, body, "an endpoint")
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
    _created(s, body, "a new endpoint with the deleted one's slug")


@check("EP-NOT-FOUND", needs=NEEDS)
def deleted_endpoint_gives_404(s: Session) -> None:
    """EP-NOT-FOUND: get, update and delete of a deleted endpoint give 404.

    Source: https://docs.baseten.co/reference/gateway/endpoints/get-an-endpoint
    """
    endpoint = _created(s, endpoint_body(s.endpoint_slug()), "an endpoint")
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
    endpoint = _created(s, endpoint_body(s.endpoint_slug()), "an endpoint")
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
    _expect_reads(s, endpoint, endpoint["slug"], endpoint["targets"])


@check("EP-SLUG-UNIQUE", needs=NEEDS)
def taken_slug_is_refused_on_create_and_rename(s: Session) -> None:
    """EP-SLUG-UNIQUE: a second endpoint with a taken slug, or a rename to one, gives 400.

    Source: https://docs.baseten.co/reference/gateway/endpoints/create-an-endpoint
    """
    taken = _created(s, endpoint_body(s.endpoint_slug()), "an endpoint")
    _refuse(s, endpoint_body(taken["slug"], dict(OPENAI_TARGET)), "a taken slug")
    other = _created(s, endpoint_body(s.endpoint_slug()), "a second endpoint")
    _refuse_update(s, other, {"slug": taken["slug"]}, "a taken slug")


@check("EP-SLUG-PREFIX", needs=NEEDS)
def slug_needs_an_org_prefix_the_workspace_owns(s: Session) -> None:
    """EP-SLUG-PREFIX: an org prefix the workspace doesn't own, or no org at all, gives 400.

    Source: https://docs.baseten.co/reference/gateway/endpoints/create-an-endpoint
    """
    name = s.endpoint_slug().partition("/")[2]
    unowned = f"{s.run.prefix}org/{name}"  # a random org no workspace can own yet
    _refuse(s, endpoint_body(unowned), "an org prefix the workspace doesn't own")
    _refuse(s, endpoint_body(name), "a slug without an org prefix")
    endpoint = _created(s, endpoint_body(s.endpoint_slug()), "an endpoint")
    _refuse_update(s, endpoint, {"slug": unowned}, "an org prefix the workspace doesn't own")


@check("EP-ONE-TARGET", needs=NEEDS)
def targets_hold_exactly_one_entry(s: Session) -> None:
    """EP-ONE-TARGET: no target or two targets give 400, on create and on update.

    Source: https://docs.baseten.co/reference/gateway/endpoints/create-an-endpoint
    """
    slug = s.endpoint_slug()
    cases = {"no target": [], "two targets": [dict(BASETEN_TARGET), dict(OPENAI_TARGET)]}
    for what, targets in cases.items():
        _refuse(s, {"slug": slug, "targets": targets}, what)
    endpoint = _created(s, endpoint_body(slug), "the refused slug with one target")
    for what, targets in cases.items():
        _refuse_update(s, endpoint, {"targets": targets}, what)


@check("EP-TARGET-FIELDS", needs=NEEDS)
def each_provider_accepts_its_documented_fields(s: Session) -> None:
    """EP-TARGET-FIELDS: BASETEN with model_id (target_model optional); ANTHROPIC and OPENAI
    with secret_id and target_model.

    Source: https://docs.baseten.co/reference/gateway/endpoints/create-an-endpoint
    """
    for target in (
        BASETEN_TARGET,
        {**BASETEN_TARGET, "target_model": "glm"},
        ANTHROPIC_TARGET,
        OPENAI_TARGET,
    ):
        _created(s, endpoint_body(s.endpoint_slug(), dict(target)), f"the target {target}")


@check("EP-TARGET-FIELDS", needs=NEEDS)
def missing_or_misplaced_target_fields_are_refused(s: Session) -> None:
    """EP-TARGET-FIELDS: BASETEN without model_id, an external provider without secret_id or
    target_model, or with environment_name, gives 400.

    Source: https://docs.baseten.co/reference/gateway/endpoints/create-an-endpoint
    """
    slug = s.endpoint_slug()
    cases = {
        "BASETEN without model_id": {"provider": "BASETEN"},
        "ANTHROPIC without target_model": {"provider": "ANTHROPIC", "secret_id": "fgc-secret"},
        "OPENAI without secret_id": {"provider": "OPENAI", "target_model": "gpt"},
        "OPENAI with environment_name": {**OPENAI_TARGET, "environment_name": "production"},
    }
    for what, target in cases.items():
        _refuse(s, endpoint_body(slug, target), f"a target {what}")
    _created(s, endpoint_body(slug), "the refused slug with a valid target")


@check("EP-ENVIRONMENT", needs=NEEDS)
def environment_is_production_staging_or_development(s: Session) -> None:
    """EP-ENVIRONMENT (choice): production, staging and development are accepted; another
    environment gives 400.

    Source: https://docs.baseten.co/reference/gateway/endpoints/create-an-endpoint
    """
    for environment in ("production", "staging", "development"):
        target = {**BASETEN_TARGET, "environment_name": environment}
        _created(s, endpoint_body(s.endpoint_slug(), target), f"environment {environment!r}")
    target = {**BASETEN_TARGET, "environment_name": "prod-eu"}
    _refuse(s, endpoint_body(s.endpoint_slug(), target), "environment 'prod-eu'")
