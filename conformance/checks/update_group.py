"""Update a group (PATCH): what may change, what may not, and how a change travels down a tree.

Every refused update must leave the group as it was. Effective limits after an update are
compared with oracle.py, told about the new model set.
"""

from __future__ import annotations

from typing import Any

from conformance.bodies import (
    CASCADING,
    CHILD_MESSAGE,
    DOC_ROOT_MODELS,
    DOC_ROOT_NAME,
    OTHER_SLUG,
    SLUG,
    limit,
    model,
)
from conformance.checks.response import Builder
from conformance.compare import group_view, model_views, path
from conformance.registry import CheckFailed, check
from conformance.session import Session

Models = list[dict[str, Any]]
# D-update's example request: the documented root's model set replaced by one rate limit.
DOC_UPDATE_MODELS: Models = [
    {"slug": SLUG, "rate_limits": [{"type": "TOKEN", "unit": "MINUTE", "threshold": 1500000}]}
]


def _tiers(rate: int, usage: int) -> Models:
    """One model with a TOKEN/MINUTE rate limit and a TOKEN/DAY usage limit."""
    return [model(rate=[limit("TOKEN", "MINUTE", rate)], usage=[limit("TOKEN", "DAY", usage)])]


def _hierarchy(group: dict[str, Any]) -> dict[str, Any]:
    return {key: group["hierarchy"][key] for key in ("limit_enforcement", "parent_group_id")}


def _update(s: Session, group: dict[str, Any], body: Any, what: str) -> dict[str, Any]:
    return s.expect_group(s.patch(group["id"], body), f"for an update with {what}")


def _read(s: Session, group: dict[str, Any]) -> dict[str, Any]:
    """The group as GET shows it: the baseline a refused update must leave in place."""
    return s.expect_group(s.get(group["id"]), "for a get of a group this run created")


def _expect_unchanged(s: Session, group: dict[str, Any], after: str) -> None:
    read = _read(s, group)
    if group_view(read) != group_view(group):
        raise CheckFailed(
            f"Received: {read} after {after} / Documented: a refused update changes nothing "
            f"({group})"
        )


def _expect_models(answer: dict[str, Any], models: Models, what: str) -> None:
    if model_views(answer.get("models")) != model_views(models):
        raise CheckFailed(
            f"Received: models {answer.get('models')} after {what} / Documented: exactly {models}"
        )


@check("PATCH-SOMETHING")
def update_without_metadata_or_models_is_refused(s: Session) -> None:
    """PATCH-SOMETHING: an empty body, or one with only the current hierarchy, gives 400.

    Source: https://docs.baseten.co/reference/gateway/groups/update-a-group
    """
    group = _read(s, s.root())
    for what, body in (
        ("{}", {}),
        ("only the current hierarchy", {"hierarchy": _hierarchy(group)}),
    ):
        s.expect_status(s.patch(group["id"], body), 400, f"for an update with {what}")
        _expect_unchanged(s, group, f"a refused update with {what}")


@check("PATCH-NAME")
def update_renames_and_keeps_everything_else(s: Session) -> None:
    """PATCH-NAME: a new name (255 characters too) is the only change; 256 characters give 400.

    Source: https://docs.baseten.co/reference/gateway/groups/update-a-group
    """
    group = _read(s, s.root(models=DOC_ROOT_MODELS, name=DOC_ROOT_NAME))
    for name in ("Acme Prod", "n" * 255):  # the first is the machine spec's sample
        updated = _update(s, group, {"metadata": {"name": name}}, f"the name {name[:20]!r}")
        group = {**group, "metadata": {**group["metadata"], "name": name}}
        read = _read(s, group)
        for label, answer in (("the update", updated), ("a get after it", read)):
            if group_view(answer) != group_view(group):
                raise CheckFailed(
                    f"Received: {answer} from {label} / Documented: the group with only its "
                    f"name changed: {group}"
                )
    reply = s.patch(group["id"], {"metadata": {"name": "n" * 256}})
    s.expect_status(reply, 400, "for a name of 256 characters")
    _expect_unchanged(s, group, "a refused name of 256 characters")


@check("PATCH-NAME")
def update_with_a_name_and_models_changes_both(s: Session) -> None:
    """PATCH-NAME: a new name sent with new models changes the name as well as the models.

    Source: https://docs.baseten.co/reference/gateway/groups/update-a-group
    """
    group = _read(s, s.root(models=DOC_ROOT_MODELS, name=DOC_ROOT_NAME))
    name = "Acme Prod renamed"
    body = {"metadata": {"name": name}, "models": DOC_UPDATE_MODELS}
    updated = _update(s, group, body, "a new name and new models")
    for label, answer in (("the update", updated), ("a get after it", None)):
        answer = answer or _read(s, group)
        received = path(answer, "metadata", "name")
        if received != name:
            raise CheckFailed(
                f"Received: name {received!r} from {label} of {body} / Documented: the new "
                f"name {name!r} (metadata.name changes the name, whatever else is sent)"
            )


@check("PATCH-REPLACE")
def models_replace_the_whole_set(s: Session) -> None:
    """PATCH-REPLACE: models replaces every slug and limit list; omitted keeps them; [] clears.

    Source: https://docs.baseten.co/reference/gateway/groups/update-a-group
    """
    build = Builder(s)
    models = [DOC_ROOT_MODELS[0], model(OTHER_SLUG, usage=[limit("REQUEST", "DAY", 50)])]
    group = build.add("replace", models)
    steps: list[tuple[str, dict[str, Any], Models]] = [
        ("the documented new model set", {"models": DOC_UPDATE_MODELS}, DOC_UPDATE_MODELS),
        ("a new name only", {"metadata": {"name": "kept models"}}, DOC_UPDATE_MODELS),
        ('"models": []', {"models": []}, []),
    ]
    for what, body, expected in steps:
        updated = _update(s, group, body, what)
        _expect_models(updated, expected, f"an update with {what}")
        build.tree.update(group["id"], expected)
        _expect_effective(build, updated, "PATCH-REPLACE")
    _expect_models(s.expect_group(s.get(group["id"]), "for a get"), [], "clearing the models")


def _expect_effective(build: Builder, group: dict[str, Any], rule_id: str) -> None:
    """Effective limits as the oracle says, a miss reported under `rule_id`."""
    try:
        build.expect_effective(group)
    except CheckFailed as failed:
        raise CheckFailed(failed.message, rule=rule_id) from None


def _immutable_changes(s: Session, group: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Updates sending one new immutable value each (with a name, so each has a change)."""
    hierarchy = _hierarchy(group)
    other = s.root()
    return {
        "a new external_entity_id": {
            "metadata": {"name": "n", "external_entity_id": s.external_id("rekey")}
        },
        "a new limit_enforcement": {
            "metadata": {"name": "n"},
            "hierarchy": {**hierarchy, "limit_enforcement": CASCADING},
        },
        "a new parent_group_id": {
            "metadata": {"name": "n"},
            "hierarchy": {**hierarchy, "parent_group_id": other["id"]},
        },
    }


def _identity(group: Any) -> tuple[Any, ...]:
    return (path(group, "metadata", "external_entity_id"), path(group, "hierarchy"))


@check("PATCH-IMMUTABLE")
def immutable_fields_never_change(s: Session) -> None:
    """PATCH-IMMUTABLE: a new external_entity_id, mode or parent never changes the group,
    whether the update is refused (the group unchanged) or the field ignored ("cannot be
    changed"; "the hierarchy is immutable").

    Source: https://docs.baseten.co/reference/gateway/groups/update-a-group
    """
    group = _read(s, s.root())
    for what, body in _immutable_changes(s, group).items():
        reply = s.patch(group["id"], body)
        if not reply.ok:
            s.expect_status(reply, 400, f"for an update sending {what}, or 200 ignoring it")
            _expect_unchanged(s, group, f"a refused update sending {what}")
            continue
        for label, answer in (("the update", reply.json), ("a get after it", _read(s, group))):
            if _identity(answer) != _identity(group):
                raise CheckFailed(
                    f"Received: {answer} from {label} sending {what} / Documented: "
                    f"external_entity_id and hierarchy as they were: {_identity(group)}"
                )


@check("PATCH-IMMUTABLE-REFUSED")
def immutable_fields_refuse_new_values_and_accept_their_own(s: Session) -> None:
    """PATCH-IMMUTABLE-REFUSED: a new external_entity_id, mode or parent gives 400 and changes
    nothing; the current values sent back are accepted, a child's parent id too (the docs leave
    open whether a new value is refused or ignored).

    Source: https://docs.baseten.co/reference/gateway/groups/update-a-group
    """
    group = _read(s, s.root())
    for what, body in _immutable_changes(s, group).items():
        s.expect_status(s.patch(group["id"], body), 400, f"for an update sending {what}")
        _expect_unchanged(s, group, f"a refused update sending {what}")
    external_id = group["metadata"]["external_entity_id"]
    same = {
        "metadata": {"name": "n", "external_entity_id": external_id},
        "hierarchy": _hierarchy(group),
    }
    _update(s, group, same, "the current external_entity_id and hierarchy")
    child = _read(s, s.child(group))
    own = {"metadata": {"name": "c"}, "hierarchy": _hierarchy(child)}
    _update(s, child, own, "a child's own hierarchy, its parent's id included")


def _refuse_ceiling(s: Session, group: dict[str, Any], models: Models, what: str) -> None:
    """400 with the documented message, and the group unchanged."""
    group = _read(s, group)
    reply = s.patch(group["id"], {"models": models})
    s.expect_status(reply, 400, f"for {what}")
    if CHILD_MESSAGE not in reply.text:
        raise CheckFailed(
            f"Received: {reply.describe()} for {what} / Documented: 400 with the message "
            f"{CHILD_MESSAGE!r}"
        )
    _expect_unchanged(s, group, f"a refused update ({what})")


@check("PATCH-CASCADE")
def cascading_update_stays_between_ancestors_and_descendants(s: Session) -> None:
    """PATCH-CASCADE: above the parent or below the child gives 400 with the documented
    message, in rate and usage limits; equal to either is accepted.

    Source: https://docs.baseten.co/frontier-gateway/api-keys
    """
    root = s.root(mode=CASCADING, models=_tiers(100, 1000))
    middle = s.child(root, models=_tiers(50, 500))
    leaf = s.child(middle, models=_tiers(20, 200))
    refused = [
        (middle, _tiers(101, 500), "a rate limit above the parent's"),
        (middle, _tiers(50, 1001), "a usage limit above the parent's"),
        (middle, _tiers(19, 500), "a rate limit below the child's"),
        (middle, _tiers(50, 199), "a usage limit below the child's"),
        (root, _tiers(49, 1000), "a root's rate limit below its child's"),
        (leaf, _tiers(51, 200), "a leaf's rate limit above its parent's"),
    ]
    for group, models, what in refused:
        _refuse_ceiling(s, group, models, what)
    _update(s, middle, {"models": _tiers(100, 1000)}, "limits equal to the parent's")
    _update(s, middle, {"models": _tiers(20, 200)}, "limits equal to the child's")


@check("PATCH-CASCADE")
def cascading_update_is_held_by_every_ancestor_and_descendant(s: Session) -> None:
    """PATCH-CASCADE: a grandparent bounds a grandchild when the group between declares nothing.

    Source: https://docs.baseten.co/frontier-gateway/api-keys
    """
    root = s.root(mode=CASCADING, models=_tiers(100, 1000))
    middle = s.child(root, models=[model()])
    leaf = s.child(middle, models=_tiers(20, 200))
    _refuse_ceiling(s, leaf, _tiers(101, 200), "a grandchild's rate limit above its grandparent's")
    _refuse_ceiling(s, leaf, _tiers(20, 1001), "a grandchild's usage limit above its grandparent's")
    _refuse_ceiling(s, root, _tiers(19, 1000), "a root's rate limit below its grandchild's")
    _update(s, leaf, {"models": _tiers(100, 1000)}, "a grandchild equal to its grandparent")


@check("PATCH-CASCADE")
def independent_update_may_go_above_or_below(s: Session) -> None:
    """PATCH-CASCADE: the ceiling is for CASCADING trees only; INDEPENDENT groups may cross.

    Source: https://docs.baseten.co/frontier-gateway/api-keys
    """
    root = s.root(models=_tiers(100, 1000))
    child = s.child(root, models=_tiers(50, 500))
    _update(s, child, {"models": _tiers(500, 5000)}, "an INDEPENDENT child above its parent")
    _update(s, root, {"models": _tiers(1, 1)}, "an INDEPENDENT root below its child")


@check("PATCH-PROPAGATE")
def descendants_follow_an_independent_ancestor(s: Session) -> None:
    """PATCH-PROPAGATE: the guide's free-tier raised to 150M: john (and his child) follow,
    sally keeps her own.

    Source: https://docs.baseten.co/reference/gateway/groups/update-a-group
    """
    build = Builder(s)
    tier = build.add("free-tier", [model(rate=[limit("TOKEN", "MINUTE", 100_000_000)])])
    john = build.add("john", [model()], parent=tier)
    sally = build.add("sally", [model(rate=[limit("TOKEN", "MINUTE", 120_000_000)])], parent=tier)
    junior = build.add("john-jr", [model(usage=[limit("TOKEN", "DAY", 9)])], parent=john)
    raised = [
        model(rate=[limit("TOKEN", "MINUTE", 150_000_000)], usage=[limit("REQUEST", "DAY", 10)])
    ]
    _follow(s, build, tier, raised, (john, sally, junior))


@check("PATCH-PROPAGATE")
def descendants_follow_a_cascading_ancestor(s: Session) -> None:
    """PATCH-PROPAGATE: lowering a cascading root and a middle group shows in every descendant.

    Source: https://docs.baseten.co/reference/gateway/groups/update-a-group
    """
    build = Builder(s)
    org = build.add("org", _tiers(100_000_000, 10**9), CASCADING)
    team = build.add("finance", _tiers(70_000_000, 10**8), CASCADING, org)
    member = build.add("analyst", [model()], CASCADING, team)
    _follow(s, build, org, _tiers(80_000_000, 10**8), (team, member))
    _follow(s, build, team, [model(usage=[limit("REQUEST", "DAY", 5)])], (member,))


def _follow(
    s: Session, build: Builder, group: dict[str, Any], models: Models, below: tuple[Any, ...]
) -> None:
    """Updates `group`'s models, then every group `below` must read as the oracle says."""
    _update(s, group, {"models": models}, "a new model set")
    build.tree.update(group["id"], models)
    for descendant in below:
        read = s.expect_group(s.get(descendant["id"]), "for a get of a descendant")
        _expect_effective(build, read, "PATCH-PROPAGATE")
