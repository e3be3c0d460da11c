"""The create answer: echo, timestamp, read-back and effective limits of hand-built trees.

Effective limits are compared with oracle.py as multisets, with the documented examples
first (gateway-facts §1.1 and the hierarchy guide's child: there the INDEPENDENT rule wins
over the abbreviated example, so the child inherits REQUEST/MINUTE and TOKEN/DAY).
"""

from __future__ import annotations

from typing import Any

from conformance import oracle
from conformance.bodies import (
    CASCADING,
    DOC_CHILD_MODELS,
    DOC_CHILD_NAME,
    DOC_ROOT_MODELS,
    DOC_ROOT_NAME,
    INDEPENDENT,
    MODES,
    OTHER_SLUG,
    SLUG,
    group_body,
    limit,
    model,
)
from conformance.compare import describe_models, group_view, is_rfc3339_utc, model_views, path
from conformance.registry import CheckFailed, check
from conformance.session import Session


class Builder:
    """Creates groups for a check and remembers them in an oracle tree, with readable names."""

    def __init__(self, s: Session) -> None:
        self.s = s
        self.tree = oracle.Tree()
        self.names: dict[str, str] = {}

    def add(
        self,
        name: str,
        models: list[dict[str, Any]],
        mode: str = INDEPENDENT,
        parent: dict[str, Any] | None = None,
        title: str | None = None,
    ) -> dict[str, Any]:
        body = group_body(
            self.s.external_id(name),
            models=models,
            mode=mode,
            parent=parent["id"] if parent else None,
            name=title or name,
        )
        group = self.s.group(body)
        self.tree.add(group["id"], body)
        self.names[group["id"]] = name
        return group

    def rule(self, group_id: str) -> str:
        """The rule the limits of this group answer to: root, or its tree's mode."""
        node = self.tree.nodes[group_id]
        if node.parent is None:
            return "EFFECTIVE-ROOT"
        return "EFFECTIVE-CASCADING" if node.mode == CASCADING else "EFFECTIVE-INDEPENDENT"

    def expect_effective(self, group: dict[str, Any]) -> None:
        """EFFECTIVE-SLUGS first (exactly the own slugs), then the limits themselves."""
        entries, slugs = oracle.received(group.get("effective_models"))
        expected_slugs = self.tree.expected_slugs(group["id"])
        name = self.names[group["id"]]
        if slugs != expected_slugs:
            root = self.rule(group["id"]) == "EFFECTIVE-ROOT"  # a root's rule covers its slugs too
            raise CheckFailed(
                f"Received: effective_models slugs {sorted(slugs.elements())} for {name} / "
                f"Documented: exactly its own slugs {sorted(expected_slugs.elements())}",
                rule="EFFECTIVE-ROOT" if root else "EFFECTIVE-SLUGS",
            )
        expected = self.tree.expected(group["id"])
        if entries != expected:
            raise CheckFailed(
                f"Received: effective_models of {name}: {oracle.describe(entries, self.names)} / "
                f"Documented: {oracle.describe(expected, self.names)}",
                rule=self.rule(group["id"]),
            )


@check("RESP-ECHO")
def create_echoes_metadata_models_and_hierarchy(s: Session) -> None:
    """RESP-ECHO: metadata, models (as a set) and hierarchy echo the request; omitted lists are [].

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    root_body = group_body(s.external_id("echo"), models=DOC_ROOT_MODELS, name=DOC_ROOT_NAME)
    root = s.group(root_body)
    child_body = group_body(
        s.external_id("echo"), models=DOC_CHILD_MODELS, parent=root["id"], name=DOC_CHILD_NAME
    )
    child = s.group(child_body)
    for body, group in ((root_body, root), (child_body, child)):
        _expect_echo(body, group)
    entry = (child.get("models") or [{}])[0]
    if not isinstance(entry, dict) or entry.get("usage_limits") != []:
        raise CheckFailed(
            f"Received: models {child.get('models')} / "
            "Documented: omitted usage_limits come back as []"
        )


def _expect_echo(body: dict[str, Any], group: dict[str, Any]) -> None:
    for field in ("metadata", "hierarchy"):
        for key, value in body[field].items():
            if path(group, field, key) != value:
                raise CheckFailed(
                    f"Received: {field}.{key} = {path(group, field, key)!r} / Documented: {value!r}"
                )
    sent, got = model_views(body["models"]), model_views(group.get("models"))
    if sent != got:
        raise CheckFailed(
            f"Received: models {describe_models(got)} / Documented: {describe_models(sent)}"
        )


@check("RESP-CREATED-AT")
def created_at_is_an_rfc3339_utc_timestamp(s: Session) -> None:
    """RESP-CREATED-AT: created_at is an RFC 3339 UTC timestamp, on create and on get.

    Source: https://docs.baseten.co/reference/gateway/groups/create-a-group
    """
    group = s.root()
    for label, answer in (("create", group), ("get", s.get(group["id"]).json)):
        value = path(answer, "created_at")
        if not is_rfc3339_utc(value):
            raise CheckFailed(
                f"Received: created_at {value!r} on {label} / Documented: RFC 3339 UTC"
            )


@check("READ-BACK")
def created_group_reads_back_unchanged(s: Session) -> None:
    """READ-BACK: GET returns what create returned (models and limits compared as sets).

    Source: https://docs.baseten.co/reference/gateway/groups/get-a-group
    """
    root = s.root(models=DOC_ROOT_MODELS, name=DOC_ROOT_NAME)
    child = s.child(root, models=DOC_CHILD_MODELS)
    for created in (root, child):
        reply = s.get(created["id"])
        read = s.expect_group(reply, "for a get of a group this run created")
        if group_view(read) != group_view(created):
            raise CheckFailed(
                f"Received: {reply.describe(400)} / Documented: the created group {created}"
            )


@check("EFFECTIVE-ROOT")
def root_effective_models_are_its_models(s: Session) -> None:
    """EFFECTIVE-ROOT: a root's effective_models is its models with source_group = its id.

    Uses the documented root example, in both modes. Source: https://docs.baseten.co/frontier-gateway/get-started
    """
    build = Builder(s)
    for mode in MODES:
        build.expect_effective(build.add(f"{mode.lower()}-root", DOC_ROOT_MODELS, mode))


@check("EFFECTIVE-INDEPENDENT")
def documented_child_inherits_what_it_omits(s: Session) -> None:
    """EFFECTIVE-INDEPENDENT: the documented child gets its own TOKEN/MINUTE and the parent's rest.

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    build = Builder(s)
    root = build.add("acme-prod", DOC_ROOT_MODELS, title=DOC_ROOT_NAME)
    child = build.add("engineering", DOC_CHILD_MODELS, parent=root, title=DOC_CHILD_NAME)
    build.expect_effective(child)


@check("EFFECTIVE-INDEPENDENT")
def independent_limits_resolve_to_the_closest_declaring_group(s: Session) -> None:
    """EFFECTIVE-INDEPENDENT: the guide's free-tier example, and a three-level tree.

    `john` declares nothing and gets free-tier's limit; `sally` declares more and gets hers.
    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    build = Builder(s)
    tier = build.add("free-tier", [model(rate=[limit("TOKEN", "MINUTE", 100_000_000)])])
    john = build.add("john", [model()], parent=tier)
    sally = build.add("sally", [model(rate=[limit("TOKEN", "MINUTE", 120_000_000)])], parent=tier)
    grandchild = build.add(
        "john-jr",
        [model(rate=[limit("TOKEN", "SECOND", 5)], usage=[limit("REQUEST", "DAY", 9)])],
        parent=john,
    )
    for group in (john, sally, grandchild):
        build.expect_effective(group)


@check("EFFECTIVE-CASCADING")
def cascading_lists_every_ancestors_limits(s: Session) -> None:
    """EFFECTIVE-CASCADING: a grandchild lists its own and every ancestor's limits, each anchored.

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    build = Builder(s)
    org = build.add(
        "org",
        [model(rate=[limit("TOKEN", "MINUTE", 100_000_000)], usage=[limit("TOKEN", "DAY", 10**9)])],
        CASCADING,
    )
    team = build.add(
        "finance", [model(rate=[limit("TOKEN", "MINUTE", 70_000_000)])], CASCADING, org
    )
    member = build.add(
        "analyst",
        [model(rate=[limit("TOKEN", "MINUTE", 70_000_000), limit("REQUEST", "SECOND", 10)])],
        CASCADING,
        team,
    )
    lean = build.add("intern", [model()], CASCADING, team)
    for group in (team, member, lean):
        build.expect_effective(group)


@check("EFFECTIVE-SLUGS")
def effective_models_hold_exactly_the_groups_slugs(s: Session) -> None:
    """EFFECTIVE-SLUGS: a child's effective_models has its own slugs only, in both modes.

    Source: https://docs.baseten.co/frontier-gateway/rate-limits
    """
    build = Builder(s)
    both = [
        model(SLUG, rate=[limit("TOKEN", "MINUTE", 50)]),
        model(OTHER_SLUG, usage=[limit("TOKEN", "DAY", 50)]),
    ]
    for mode in MODES:
        root = build.add(f"{mode.lower()}-two-slugs", both, mode)
        build.expect_effective(build.add("one-slug", [model(SLUG)], mode, root))
        build.expect_effective(build.add("new-slug", [model("new-org/model")], mode, root))
