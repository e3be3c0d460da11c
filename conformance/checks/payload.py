"""Payload checks for create: each negative body is a valid body with exactly one thing broken.

Boundaries are checked on both sides (1 and 255 characters accepted, 0 and 256 refused).
After a refusal the same external_entity_id must still be free (CREATE-ATOMIC).
"""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

from conformance.bodies import SLUG, group_body, limit, model, replaced, without
from conformance.compare import path
from conformance.registry import CheckFailed, check
from conformance.session import Session

INVALID = "400 invalid payload"


def refuse(s: Session, body: Any, what: str, *, raw: bytes | None = None) -> None:
    """`body` (or `raw`) must be refused with 400; then its external_entity_id must be free."""
    reply = s.create(body, raw=raw)
    s.expect_refused(reply, 400, f"for {what}", INVALID)
    external_id = path(body, "metadata", "external_entity_id")
    if isinstance(external_id, str) and 1 <= len(external_id) <= 255:
        s.confirm_free(external_id, what)


def accept(s: Session, body: Any, what: str) -> dict[str, Any]:
    return s.expect_group(s.create(body), f"for {what}")


def _padded(s: Session, length: int, fill: str = "x") -> str:
    start = s.external_id("len")
    return (start + fill * length)[:length]


@check("PAYLOAD-JSON")
def body_that_is_not_a_json_object_is_refused(s: Session) -> None:
    """PAYLOAD-JSON: malformed JSON, an array, a string, an empty body or a body holding NaN
    or Infinity gives 400.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    truncated = group_body(s.external_id("json"))
    refuse(s, truncated, "malformed JSON", raw=json.dumps(truncated).encode()[:-1])
    listed = group_body(s.external_id("json"))
    refuse(s, listed, "a JSON array holding a valid body", raw=json.dumps([listed]).encode())
    refuse(s, None, "a JSON string", raw=b'"a string"')
    refuse(s, None, "an empty body", raw=b"")
    for number in ("NaN", "Infinity", "-Infinity"):  # JavaScript's, not JSON's (RFC 8259)
        body = group_body(s.external_id("json"))
        raw = json.dumps(body).encode()[:-1] + f', "x": {number}}}'.encode()
        refuse(s, body, f"a body holding {number}, which isn't a JSON number", raw=raw)


@check("META-REQUIRED")
def metadata_must_be_an_object(s: Session) -> None:
    """META-REQUIRED: a body without `metadata`, or with a string there, gives 400.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    body = group_body(s.external_id("meta"))
    refuse(s, without(body, "metadata"), "a body without metadata")
    refuse(s, replaced(body, "Acme prod", "metadata"), "metadata that is a string")


@check("EXTID-REQUIRED")
def external_entity_id_of_255_characters_is_accepted(s: Session) -> None:
    """EXTID-REQUIRED: an external_entity_id of 255 characters is accepted, whatever they are
    (here a long run of digits, which a JSON parser must still read as a string).

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    extid = _padded(s, 255, string.digits)
    accept(s, group_body(extid), "an external_entity_id of 255 characters, mostly digits")


@check("EXTID-REQUIRED", needs=("unprefixed",))
def external_entity_id_of_1_character_is_accepted(s: Session) -> None:
    """EXTID-REQUIRED: an external_entity_id of one character is accepted.

    A one-character id can't carry the run prefix, so this runs only in-process or with
    --allow-unprefixed-ids; the group is deleted when the check ends.
    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    replies = []
    for _ in range(3):  # a refusal may mean the character is taken: try two more
        reply = s.create(group_body(secrets.choice(string.ascii_letters + string.digits)))
        replies.append(reply)
        if reply.ok:
            return
    raise CheckFailed(
        f"Received: {replies[-1].describe()} for three different one-character "
        "external_entity_ids / Documented: 200, lengths 1 to 255 are accepted"
    )


@check("EXTID-REQUIRED")
def external_entity_id_missing_empty_or_too_long_is_refused(s: Session) -> None:
    """EXTID-REQUIRED: a missing, empty (0) or 256-character external_entity_id gives 400.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    body = group_body(s.external_id("extid"))
    refuse(s, without(body, "metadata", "external_entity_id"), "no external_entity_id")
    refuse(s, group_body(""), "an empty external_entity_id")
    refuse(s, group_body(_padded(s, 256)), "an external_entity_id of 256 characters")


@check("NAME-LENGTH")
def name_of_255_characters_is_accepted_and_256_refused(s: Session) -> None:
    """NAME-LENGTH: metadata.name of 255 characters is accepted, 256 gives 400.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    accept(s, group_body(s.external_id("name"), name="n" * 255), "a name of 255 characters")
    accept(s, group_body(s.external_id("name"), name=None), "a body without a name")
    refuse(s, group_body(s.external_id("name"), name="n" * 256), "a name of 256 characters")


@check("MODELS-NONEMPTY")
def models_must_be_a_non_empty_array(s: Session) -> None:
    """MODELS-NONEMPTY: a body without `models`, or with `"models": []`, gives 400.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    refuse(s, without(group_body(s.external_id("models")), "models"), "a body without models")
    refuse(s, group_body(s.external_id("models"), models=[]), "an empty models array")


@check("SLUG-REQUIRED")
def model_entry_needs_a_string_slug(s: Session) -> None:
    """SLUG-REQUIRED: a model entry without `slug`, or with a number there, gives 400.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    no_slug = [{"rate_limits": [limit("TOKEN", "MINUTE", 10)]}]
    refuse(s, group_body(s.external_id("slug"), models=no_slug), "a model entry without slug")
    refuse(s, group_body(s.external_id("slug"), models=[{"slug": 42}]), "a slug that is a number")


@check("SLUG-FORMAT")
def slug_must_be_org_slash_model(s: Session) -> None:
    """SLUG-FORMAT: `org/model` is accepted; no slash, two slashes or an empty part gives 400.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    accept(s, group_body(s.external_id("slug"), models=[model("a/b")]), "the slug a/b")
    for slug in ("your-model", "your-org/your/model", "/your-model", "your-org/"):
        refuse(s, group_body(s.external_id("slug"), models=[model(slug)]), f"the slug {slug!r}")


@check("RATE-SHAPE")
def rate_limit_shapes_are_accepted(s: Session) -> None:
    """RATE-SHAPE: every documented rate (type, unit) is accepted, threshold 1 included.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    for token_unit, request_unit in (("SECOND", "MINUTE"), ("MINUTE", "SECOND")):
        rate = [limit("TOKEN", token_unit, 1), limit("REQUEST", request_unit, 1)]
        body = group_body(s.external_id("rate"), models=[model(SLUG, rate=rate)])
        accept(s, body, f"rate limits TOKEN/{token_unit} and REQUEST/{request_unit}")


@check("RATE-SHAPE")
def malformed_rate_limit_is_refused(s: Session) -> None:
    """RATE-SHAPE: an unknown type or unit, a threshold below 1 or a missing field gives 400.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    good = limit("TOKEN", "MINUTE", 10)
    for what, entry in _malformed(good, units=("DAY", "HOUR")):
        body = group_body(s.external_id("rate"), models=[model(SLUG, rate=[entry])])
        refuse(s, body, f"a rate limit with {what}")


def _malformed(good: dict[str, Any], units: tuple[str, ...]) -> list[tuple[str, dict[str, Any]]]:
    cases = [("type BYTES", {**good, "type": "BYTES"})]
    cases += [(f"unit {unit}", {**good, "unit": unit}) for unit in units]
    cases += [(f"threshold {n}", {**good, "threshold": n}) for n in (0, -1)]
    cases += [(f"no {field}", without(good, field)) for field in ("type", "unit", "threshold")]
    return cases


@check("RATE-ONE-PER-TYPE")
def two_rate_limits_of_one_type_are_refused(s: Session) -> None:
    """RATE-ONE-PER-TYPE: TOKEN/SECOND with TOKEN/MINUTE (or TOKEN/MINUTE twice) gives 400.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    pairs = {
        "TOKEN/SECOND and TOKEN/MINUTE": [
            limit("TOKEN", "SECOND", 10),
            limit("TOKEN", "MINUTE", 600),
        ],
        "TOKEN/MINUTE twice": [limit("TOKEN", "MINUTE", 10), limit("TOKEN", "MINUTE", 20)],
    }
    for what, rate in pairs.items():
        refuse(s, group_body(s.external_id("onetype"), models=[model(SLUG, rate=rate)]), what)


@check("USAGE-SHAPE")
def usage_limit_shapes_are_accepted(s: Session) -> None:
    """USAGE-SHAPE: TOKEN/DAY and REQUEST/DAY usage limits are accepted, threshold 1 included.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    usage = [limit("TOKEN", "DAY", 1), limit("REQUEST", "DAY", 1)]
    accept(
        s,
        group_body(s.external_id("usage"), models=[model(SLUG, usage=usage)]),
        "TOKEN/DAY and REQUEST/DAY",
    )


@check("USAGE-SHAPE")
def malformed_usage_limit_is_refused(s: Session) -> None:
    """USAGE-SHAPE: a unit other than DAY, an unknown type, a threshold below 1 gives 400.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    good = limit("TOKEN", "DAY", 10)
    for what, entry in _malformed(good, units=("MINUTE", "WEEK")):
        body = group_body(s.external_id("usage"), models=[model(SLUG, usage=[entry])])
        refuse(s, body, f"a usage limit with {what}")


@check("USAGE-ONE-PER-TYPE-UNIT")
def two_usage_limits_of_one_type_and_unit_are_refused(s: Session) -> None:
    """USAGE-ONE-PER-TYPE-UNIT: TOKEN/DAY twice on one slug gives 400.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    usage = [limit("TOKEN", "DAY", 10), limit("TOKEN", "DAY", 20)]
    refuse(
        s, group_body(s.external_id("usage"), models=[model(SLUG, usage=usage)]), "TOKEN/DAY twice"
    )


@check("HIER-REQUIRED")
def hierarchy_and_both_its_fields_are_required(s: Session) -> None:
    """HIER-REQUIRED: no hierarchy, limit_enforcement or parent_group_id, or an unknown mode
    (a short one, and one of 300 characters): 400.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    cases = {
        "a body without hierarchy": ("hierarchy",),
        "a hierarchy without limit_enforcement": ("hierarchy", "limit_enforcement"),
        "a hierarchy without parent_group_id": ("hierarchy", "parent_group_id"),
    }
    for what, steps in cases.items():
        refuse(s, without(group_body(s.external_id("hier")), *steps), what)
    for mode in ("SHARED", "S" * 300):  # a long one too, longer than any message quotes
        unknown = replaced(
            group_body(s.external_id("hier")), mode, "hierarchy", "limit_enforcement"
        )
        refuse(s, unknown, f"limit_enforcement {mode[:12]}{'...' if len(mode) > 12 else ''}")
