"""Checks of choice rules: what the documentation leaves open. They run only with --strict.

ERR-ONE-RULE is checked only where two rules answer with different statuses; the suite's
other checks never depend on the order.
"""

from __future__ import annotations

from typing import Any

from conformance.bodies import SLUG, group_body, limit, model, replaced
from conformance.checks.payload import accept, refuse
from conformance.compare import path
from conformance.registry import CheckFailed, check
from conformance.session import Session


@check("NAME-NULL")
def null_name_is_accepted_and_echoed_as_null(s: Session) -> None:
    """NAME-NULL (choice): `"name": null` is accepted and comes back as null.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    body = replaced(group_body(s.external_id("null")), None, "metadata", "name")
    group = accept(s, body, "a null name")
    if path(group, "metadata", "name") is not None:
        raise CheckFailed(
            f"Received: metadata.name {path(group, 'metadata', 'name')!r} / Documented: null"
        )


@check("SLUG-UNIQUE")
def slug_listed_twice_is_refused(s: Session) -> None:
    """SLUG-UNIQUE (choice): one slug twice in `models` gives 400.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    models = [model(SLUG, rate=[limit("TOKEN", "MINUTE", 10)]), model(SLUG)]
    refuse(s, group_body(s.external_id("twice"), models=models), "a slug listed twice")


@check("THRESHOLD-INT")
def threshold_must_be_a_64_bit_integer(s: Session) -> None:
    """THRESHOLD-INT (choice): true, "5", 1.5 and 2^63 are refused; 2^63-1 is accepted.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    largest = [model(SLUG, rate=[limit("TOKEN", "MINUTE", 2**63 - 1)])]
    accept(s, group_body(s.external_id("int"), models=largest), "a threshold of 2^63-1")
    for value in (True, "5", 1.5, 2**63):
        models = [model(SLUG, usage=[limit("TOKEN", "DAY", value)])]  # type: ignore[arg-type]
        refuse(s, group_body(s.external_id("int"), models=models), f"a threshold of {value!r}")


@check("EXTRA-FIELDS")
def unknown_fields_are_ignored(s: Session) -> None:
    """EXTRA-FIELDS (choice): unknown fields anywhere in the body are ignored.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    body: dict[str, Any] = group_body(s.external_id("extra"))
    body["colour"] = "blue"
    body["metadata"]["tier"] = "gold"
    body["hierarchy"]["note"] = "x"
    body["models"] = [
        {**model(SLUG, rate=[{**limit("TOKEN", "MINUTE", 5), "burst": 2}]), "alias": "m"}
    ]
    accept(s, body, "a body with unknown fields at every level")


@check("ERR-ONE-RULE")
def the_documented_precedence_holds(s: Session) -> None:
    """ERR-ONE-RULE (choice): 401 before 400, 403 before 400, 400 payload before 404 parent,
    404 parent before 400 duplicate.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    gone = s.deleted_id()
    taken = group_body(s.external_id("order"))
    s.group(taken)
    no_metadata = {"models": [model()], "hierarchy": group_body("x")["hierarchy"]}
    by_key: list[tuple[str, int, dict[str, str | None] | None, str | None]] = [
        ("no credentials and no metadata", 401, {"Authorization": None}, None),
        ("a view key and no metadata", 403, None, "view"),
        ("a workspace not onboarded and no metadata", 403, None, "not_onboarded"),
    ]
    for what, status, headers, role in by_key:
        if role is None or role in s.run.clients:  # a pair whose key wasn't given is left out
            reply = s.create(no_metadata, s.client(role) if role else None, headers=headers)
            s.expect_status(reply, status, f"for {what}")
    by_body = [
        ("a 256-character name and a deleted parent", 400,
         group_body(s.external_id("order"), name="n" * 256, parent=gone)),
        ("a deleted parent and a taken external_entity_id", 404,
         group_body(taken["metadata"]["external_entity_id"], parent=gone)),
    ]  # fmt: skip
    for what, status, body in by_body:
        s.expect_status(s.create(body), status, f"for {what}")


@check("EXTID-EXACT")
def external_entity_id_comparison_is_exact(s: Session) -> None:
    """EXTID-EXACT (choice): ids differing only in case or trailing white space are distinct.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    base = s.external_id("exact")
    accept(s, group_body(base + "case"), "the first id")
    for variant in (base + "CASE", base + "case "):
        accept(s, group_body(variant), f"the id {variant!r} next to {base + 'case'!r}")


@check("RESP-ORDER")
def models_and_limits_keep_request_order(s: Session) -> None:
    """RESP-ORDER (choice): models and limits come back in the order they were sent.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    rate = [limit("REQUEST", "SECOND", 7), limit("TOKEN", "MINUTE", 9)]
    models = [
        model("zz-org/last", rate=rate),
        model("aa-org/first", usage=[limit("TOKEN", "DAY", 3)]),
    ]
    group = accept(s, group_body(s.external_id("order"), models=models), "two models")
    sent = [(m["slug"], m.get("rate_limits", [])) for m in models]
    got = [(m.get("slug"), m.get("rate_limits")) for m in group.get("models") or []]
    if got != sent:
        raise CheckFailed(f"Received: models in the order {got} / Documented: request order {sent}")


@check("MODELS-MAX")
def models_are_capped_at_1000_entries(s: Session) -> None:
    """MODELS-MAX (choice): 1,000 model entries are accepted, 1,001 give 400.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    at_cap = [model(f"{SLUG}-{i}") for i in range(1000)]
    accept(s, group_body(s.external_id("cap"), models=at_cap), "1,000 model entries")
    over = [*at_cap, model(f"{SLUG}-over")]
    refuse(s, group_body(s.external_id("cap"), models=over), "1,001 model entries")


@check("LIMITS-MAX")
def limit_lists_are_capped_at_16_entries(s: Session) -> None:
    """LIMITS-MAX (choice): 17 entries in `rate_limits` or in `usage_limits` give 400.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    rate = [model(SLUG, rate=[limit("TOKEN", "MINUTE", 10)] * 17)]
    refuse(s, group_body(s.external_id("lim"), models=rate), "17 rate limits")
    usage = [model(SLUG, usage=[limit("TOKEN", "DAY", 10)] * 17)]
    refuse(s, group_body(s.external_id("lim"), models=usage), "17 usage limits")
