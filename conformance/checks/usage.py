"""Group usage: which slugs, types and thresholds appear, per the effective configuration.

The suite sends no inference traffic, so of the counters it only asserts the documented
types: `current_usage` an integer or null, `reset_at` an RFC 3339 UTC timestamp or null,
both always present (the docs list them in every entry, null until the first request lands).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from conformance.bodies import CASCADING, OTHER_SLUG, SLUG, limit, model, usage_path
from conformance.checks.response import Builder
from conformance.compare import is_rfc3339_utc
from conformance.registry import CheckFailed, check
from conformance.session import Session

Expected = dict[str, dict[tuple[str, str], set[int]]]  # slug -> (type, unit) -> thresholds


def _usage(s: Session, group: dict[str, Any]) -> dict[str, Any]:
    """The usage answer, its shape checked."""
    reply = s.send("GET", usage_path(group["id"]))
    s.expect_accepted(reply, "for the usage of a group this run created")
    answer = reply.json
    usage = answer.get("usage") if isinstance(answer, dict) else None
    if not isinstance(usage, dict) or not all(
        isinstance(entries, list) and all(_entry_shaped(e) for e in entries)
        for entries in usage.values()
    ):
        raise CheckFailed(
            f"Received: {reply.describe(400)} / Documented: {{customer_id, usage: {{slug: "
            "[{type, unit: DAY, threshold, current_usage: integer or null, reset_at: RFC 3339 "
            "or null}]}}"
        )
    return answer  # type: ignore[no-any-return]


def _entry_shaped(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    used, reset = entry.get("current_usage"), entry.get("reset_at")
    return (
        {"current_usage", "reset_at"} <= entry.keys()  # null until traffic, never left out
        and entry.get("type") in ("TOKEN", "REQUEST")
        and entry.get("unit") == "DAY"
        and isinstance(entry.get("threshold"), int)
        and (used is None or (isinstance(used, int) and not isinstance(used, bool)))
        and (reset is None or is_rfc3339_utc(reset))
    )


def _expected(build: Builder, group_id: str) -> Expected:
    """Slugs with effective usage limits; per (type, unit) every threshold that may be shown
    (one in an INDEPENDENT tree; one per declaring group in a CASCADING one)."""
    expected: Expected = defaultdict(lambda: defaultdict(set))
    for slug, kind, type_, unit, threshold, _source in build.tree.expected(group_id):
        if kind == "usage_limits":
            expected[slug][(type_, unit)].add(threshold)
    return {slug: dict(entries) for slug, entries in expected.items()}


def _expect_usage(s: Session, build: Builder, group: dict[str, Any]) -> dict[str, Any]:
    answer = _usage(s, group)
    name = build.names[group["id"]]
    external_id = group["metadata"]["external_entity_id"]
    if answer.get("customer_id") != external_id:
        raise CheckFailed(
            f"Received: customer_id {answer.get('customer_id')!r} for {name} / Documented: its "
            f"external_entity_id {external_id!r}"
        )
    expected = _expected(build, group["id"])
    received = {
        slug: [(e["type"], e["unit"], e["threshold"]) for e in entries]
        for slug, entries in answer["usage"].items()
    }
    if not _matches(received, expected):
        raise CheckFailed(
            f"Received: usage {received} for {name} / Documented: one entry per (type, unit) "
            f"of its effective usage limits, thresholds from {expected}"
        )
    return answer


def _matches(received: dict[str, list[tuple[str, str, int]]], expected: Expected) -> bool:
    if set(received) != set(expected):
        return False
    for slug, entries in received.items():
        keys = [(type_, unit) for type_, unit, _ in entries]
        if len(keys) != len(set(keys)) or set(keys) != set(expected[slug]):
            return False
        if any(threshold not in expected[slug][(t, u)] for t, u, threshold in entries):
            return False
    return True


@check("USAGE-RESPONSE")
def usage_lists_each_slug_with_usage_limits(s: Session) -> None:
    """USAGE-RESPONSE: customer_id is the external_entity_id; only slugs with usage limits
    appear, one entry per (type, unit), with null counters before any request; a group
    without usage limits has {}.

    Source: https://docs.baseten.co/reference/gateway/groups/get-group-usage
    """
    build = Builder(s)
    daily = [limit("TOKEN", "DAY", 10_000_000), limit("REQUEST", "DAY", 5000)]
    rate = [limit("TOKEN", "MINUTE", 1_000_000)]
    models = [model(SLUG, rate=rate, usage=daily), model(OTHER_SLUG, rate=rate)]
    answer = _expect_usage(s, build, build.add("cust-42", models))
    _expect_no_traffic_yet(answer)
    _expect_usage(s, build, build.add("no-usage", [model(SLUG, rate=rate)]))


def _expect_no_traffic_yet(answer: dict[str, Any]) -> None:
    """A group nobody has called: every current_usage and reset_at is null (D-usage: "null
    until the first request lands")."""
    counters = [
        (e["current_usage"], e["reset_at"]) for entries in answer["usage"].values() for e in entries
    ]
    if any(counter != (None, None) for counter in counters):
        raise CheckFailed(
            f"Received: (current_usage, reset_at) {counters} for a group no request has used / "
            "Documented: both null until the first request lands"
        )


@check("USAGE-RESPONSE")
def usage_follows_the_effective_configuration(s: Session) -> None:
    """USAGE-RESPONSE: an INDEPENDENT child inherits its parent's usage limits; a CASCADING
    child shows each (type, unit) once.

    Source: https://docs.baseten.co/reference/gateway/groups/get-group-usage
    """
    build = Builder(s)
    both = [model(SLUG, usage=[limit("TOKEN", "DAY", 100)]), model(OTHER_SLUG)]
    root = build.add("independent", both)
    for name, models in (("inherits", [model(SLUG)]), ("other-slug", [model(OTHER_SLUG)])):
        _expect_usage(s, build, build.add(name, models, parent=root))
    pool = build.add("cascading", both, CASCADING)
    own = [limit("TOKEN", "DAY", 40), limit("REQUEST", "DAY", 7)]
    _expect_usage(s, build, build.add("member", [model(SLUG, usage=own)], CASCADING, pool))


def _per_slug(slugs: list[str], rate: int, usage: int) -> list[dict[str, Any]]:
    return [
        model(slug, rate=[limit("TOKEN", "MINUTE", rate)], usage=[limit("TOKEN", "DAY", usage)])
        for slug in slugs
    ]


@check("USAGE-RESPONSE")
def many_models_answer_every_one_before_and_after_an_update(s: Session) -> None:
    """USAGE-RESPONSE: a root with nine models, each with a rate and a usage limit, answers
    every one in its effective_models and its usage; after its thresholds are raised, both
    show the new ones.

    Source: https://docs.baseten.co/reference/gateway/groups/get-group-usage
    """
    build = Builder(s)
    slugs = [f"{SLUG}-{i}" for i in range(9)]
    group = build.add("nine-models", _per_slug(slugs, 1000, 10_000))
    build.expect_effective(group)
    _expect_usage(s, build, group)
    raised = _per_slug(slugs, 2000, 20_000)
    updated = s.expect_group(s.patch(group["id"], {"models": raised}), "for raising thresholds")
    build.tree.update(group["id"], raised)
    build.expect_effective(updated)
    _expect_usage(s, build, group)
