"""Deliberately broken simulators: each overrides one piece and so breaks exactly one rule.

A variant is built inside a `pytest.MonkeyPatch` context: it patches one public function or
method of the simulator, edits a copy of the spec it serves, replaces one view in the route
table or rewrites answers after the fact, then returns a fresh `create_app()`. Variants use
public names only (tests/test_architecture.py checks it), so renaming a private helper of
the simulator breaks none of them. Nothing here is a flag in the simulator itself. A
replaced function that reads the request reads `app_module.request`, the request a view is
serving (the Gateway's routes are served without a Flask request context); an app given
an `after_request` hook is served by Flask throughout (simulator/web/dispatch.py).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from flask import Flask, Response

import simulator.core.serialize as serialize
import simulator.web.app as app_module
from simulator import create_app
from simulator.core.access import ApiKey, KeyRing, Scope, Workspace
from simulator.core.errors import ChildExceedsAncestorLimit, GatewayError, InvalidPayload
from simulator.core.limits import EffectiveLimit, anchored, declared_limits, exceeds
from simulator.core.model import CASCADING, Group, NewGroup
from simulator.core.spec import load_spec
from simulator.core.store import IdGenerator, Store

Build = Callable[[pytest.MonkeyPatch], Flask]


@dataclass(frozen=True)
class Variant:
    name: str
    rules: frozenset[str]  # the rules a conforming suite must report as failed
    build: Build
    doc: str
    # Further rules the suite fails too, each with the reason (one fault seen by two rules).
    also: tuple[tuple[str, str], ...] = ()
    # Rules the oracle's random hierarchies fail on some draws only, each with the reason.
    maybe: tuple[tuple[str, str], ...] = ()

    @property
    def expected(self) -> frozenset[str]:
        """The rules a run against this variant always fails."""
        return self.rules | {rule for rule, _reason in self.also}

    @property
    def allowed(self) -> frozenset[str]:
        """The rules a run against this variant may fail: `expected` and `maybe`."""
        return self.expected | {rule for rule, _reason in self.maybe}

    def matches(self, failed: frozenset[str]) -> bool:
        return self.expected <= failed <= self.allowed


# Reasons a further rule fails with a broken variant: openapi.yaml says it too.
FUZZ_REFUSES = "openapi.yaml's request schema forbids it too, so the fuzzer's refusal check sees it"
FUZZ_RESPONSE = (
    "openapi.yaml's response schema requires it too, so the fuzzer's response check sees it"
)

BROKEN: list[Variant] = []


def broken(
    *rules: str, also: dict[str, str] | None = None, maybe: dict[str, str] | None = None
) -> Callable[[Build], Build]:
    """Registers a variant breaking `rules`; `also` names further failures, `maybe` those of
    random draws, each with the reason."""

    def register(build: Build) -> Build:
        extra, random = tuple((also or {}).items()), tuple((maybe or {}).items())
        doc = build.__doc__ or ""
        BROKEN.append(Variant(build.__name__, frozenset(rules), build, doc, extra, random))
        return build

    return register


# Helpers that change one thing.


def with_spec(mp: pytest.MonkeyPatch, edit: Callable[[dict[str, Any]], None]) -> Flask:
    """An app whose request validators come from an edited copy of openapi.yaml."""
    spec = copy.deepcopy(load_spec())
    edit(spec["components"]["schemas"])
    return create_app(spec=spec)


def fill_in_bodies(
    mp: pytest.MonkeyPatch, fill: Callable[[dict[str, Any]], None], operation_id: str
) -> None:
    """The operation's bodies get `fill` applied once validated, before the views read them."""
    original = app_module.json_body

    def json_body(operation: str) -> Any:
        body = original(operation)
        if operation == operation_id:
            fill(body)
        return body

    mp.setattr(app_module, "json_body", json_body)


def rewrite_json(app: Flask, when: Callable[[Any], bool], edit: Callable[[Any], Any]) -> Flask:
    """An app whose JSON responses pass through `edit` when `when(request)` holds."""
    import json

    from flask import request

    @app.after_request
    def _rewrite(response: Response) -> Response:
        if response.mimetype == "application/json" and when(request):
            response.set_data(json.dumps(edit(json.loads(response.get_data()))))
        return response

    return app


def is_create(request: Any) -> bool:
    return bool(request.method == "POST" and request.path == "/v1/gateway/groups")


def store_method(mp: pytest.MonkeyPatch, name: str, method: Callable[..., Any]) -> Flask:
    mp.setattr(Store, name, method)
    return create_app()


def keyring(mp: pytest.MonkeyPatch, authenticate: Callable[[KeyRing, str | None], ApiKey]) -> Flask:
    mp.setattr(KeyRing, "authenticate", authenticate)
    return create_app()


_original_authenticate = KeyRing.authenticate
_original_create = Store.create_group
_original_misplaced = Store.refuse_misplaced_child
_original_parent_of = Store.parent_of
_original_delete = Store.delete_group


# Common rules: authentication, access, statuses, error shape.


@broken("AUTH-SCHEME")
def bearer_refused(mp: pytest.MonkeyPatch) -> Flask:
    """Only `Api-Key` is accepted; `Bearer` gets 401."""

    def authenticate(self: KeyRing, header: str | None) -> ApiKey:
        if (header or "").lower().startswith("bearer"):
            return _original_authenticate(self, None)
        return _original_authenticate(self, header)

    return keyring(mp, authenticate)


@broken("AUTH-MISSING")
def unknown_key_is_acme(mp: pytest.MonkeyPatch) -> Flask:
    """An unknown key is treated as acme's management key."""

    def authenticate(self: KeyRing, header: str | None) -> ApiKey:
        try:
            return _original_authenticate(self, header)
        except GatewayError:
            return _original_authenticate(self, "Api-Key sim-manage-acme")

    return keyring(mp, authenticate)


@broken(
    "ACCESS-ONBOARDED",
    also={
        "ACCESS-VIEW": "the not-onboarded key's list check is ACCESS-VIEW's: "
        "a workspace not onboarded may not list either",
    },
)
def not_onboarded_allowed(mp: pytest.MonkeyPatch) -> Flask:
    """A workspace that isn't onboarded may call every route."""

    def authenticate(self: KeyRing, header: str | None) -> ApiKey:
        key = _original_authenticate(self, header)
        return ApiKey(key.key, replace(key.workspace, onboarded=True), key.scope)

    return keyring(mp, authenticate)


@broken("ACCESS-SCOPE")
def view_key_may_write(mp: pytest.MonkeyPatch) -> Flask:
    """A view-only key has management scope."""

    def authenticate(self: KeyRing, header: str | None) -> ApiKey:
        key = _original_authenticate(self, header)
        return ApiKey(key.key, key.workspace, Scope.MANAGEMENT)

    return keyring(mp, authenticate)


@broken(
    "OK-200",
    also={
        "SCHEMA-STATUS": "201 is not a status openapi.yaml documents, which the fuzzer checks",
    },
)
def create_answers_201(mp: pytest.MonkeyPatch) -> Flask:
    """A successful create answers 201."""
    app = create_app()

    @app.after_request
    def _created(response: Response) -> Response:
        from flask import request

        if is_create(request) and response.status_code == 200:
            response.status_code = 201
        return response

    return app


@broken(
    "PAYLOAD-JSON",
    also={
        "SCHEMA-SERVER-ERROR": "the fuzzer sends bodies that aren't JSON too and gets the 500",
        "SCHEMA-STATUS": "and a 500 is a status openapi.yaml doesn't document",
    },
)
def invalid_json_is_a_server_error(mp: pytest.MonkeyPatch) -> Flask:
    """A body that isn't JSON crashes the view: 500."""
    original = app_module.json_body

    def json_body(operation_id: str) -> Any:
        import json

        json.loads(app_module.request.get_data())  # raises, unhandled
        return original(operation_id)

    mp.setattr(app_module, "json_body", json_body)
    return create_app()


# Payload rules.


@broken(
    "META-REQUIRED",
    also={
        "SCHEMA-NEGATIVE": FUZZ_REFUSES,
    },
)
def metadata_optional(mp: pytest.MonkeyPatch) -> Flask:
    """A body without `metadata` is accepted, with a generated external id."""
    counter = iter(range(10**9))
    original = app_module.json_body

    def json_body(operation_id: str) -> Any:
        body = app_module.request.get_json(silent=True)
        if operation_id == "createGroup" and isinstance(body, dict) and "metadata" not in body:
            body["metadata"] = {"external_entity_id": f"generated-{next(counter)}"}
            gateway = app_module.gateway()
            gateway.validators[operation_id].validate(body)
            return body
        return original(operation_id)

    mp.setattr(app_module, "json_body", json_body)
    return create_app()


@broken(
    "EXTID-REQUIRED",
    also={
        "SCHEMA-NEGATIVE": FUZZ_REFUSES,
    },
)
def external_id_optional(mp: pytest.MonkeyPatch) -> Flask:
    """`external_entity_id` may be left out; the group gets a generated one."""
    counter = iter(range(10**9))

    def edit(schemas: dict[str, Any]) -> None:
        schemas["CreateGroupMetadata"]["required"] = []

    def fill(body: dict[str, Any]) -> None:
        body["metadata"].setdefault("external_entity_id", f"generated-{next(counter)}")

    fill_in_bodies(mp, fill, "createGroup")
    return with_spec(mp, edit)


@broken("EXTID-REQUIRED")
def external_id_of_256_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """`external_entity_id` may be 256 characters long."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["CreateGroupMetadata"]["properties"]["external_entity_id"]["maxLength"] = 256

    return with_spec(mp, edit)


@broken("EXTID-REQUIRED")
def external_id_of_255_refused(mp: pytest.MonkeyPatch) -> Flask:
    """`external_entity_id` stops at 254 characters."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["CreateGroupMetadata"]["properties"]["external_entity_id"]["maxLength"] = 254

    return with_spec(mp, edit)


@broken(
    "NAME-LENGTH",
    also={
        "SCHEMA-NEGATIVE": FUZZ_REFUSES,
        "SCHEMA-RESPONSE": "the 256-character name comes back, "
        "beyond the response schema's maxLength",
    },
)
def name_of_256_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """`metadata.name` may be 256 characters long."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["CreateGroupMetadata"]["properties"]["name"]["maxLength"] = 256

    return with_spec(mp, edit)


@broken(
    "MODELS-NONEMPTY",
    also={
        "SCHEMA-NEGATIVE": FUZZ_REFUSES,
    },
)
def empty_models_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """`models: []` is accepted on create."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["CreateGroupRequest"]["properties"]["models"]["minItems"] = 0

    return with_spec(mp, edit)


@broken(
    "SLUG-REQUIRED",
    also={
        "SCHEMA-NEGATIVE": FUZZ_REFUSES,
        "SCHEMA-SERVER-ERROR": "a fuzzed model without a slug reaches code that reads "
        "it: a 500, as a real service missing the check could",
        "SCHEMA-STATUS": "and a 500 is a status openapi.yaml doesn't document",
    },
)
def slug_optional(mp: pytest.MonkeyPatch) -> Flask:
    """A model entry without `slug` is accepted and named `default/model`."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["ModelConfig"]["required"] = []

    def fill(body: dict[str, Any]) -> None:
        for model in body["models"]:
            model.setdefault("slug", "default/model")

    fill_in_bodies(mp, fill, "createGroup")
    return with_spec(mp, edit)


@broken(
    "SLUG-FORMAT",
    also={
        "SCHEMA-NEGATIVE": FUZZ_REFUSES,
    },
)
def slug_without_org_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """A slug needs no `/`."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["ModelConfig"]["properties"]["slug"]["allOf"] = []

    return with_spec(mp, edit)


@broken(
    "RATE-SHAPE",
    also={
        "SCHEMA-NEGATIVE": FUZZ_REFUSES,
        "SCHEMA-RESPONSE": "the threshold 0 comes back, below the response schema's minimum",
    },
)
def rate_threshold_of_zero_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """A rate limit's threshold may be 0."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["RateLimit"]["properties"]["threshold"]["minimum"] = 0

    return with_spec(mp, edit)


@broken("RATE-SHAPE")
def rate_unit_day_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """A rate limit may have unit DAY."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["RateLimit"]["properties"]["unit"]["enum"] = ["SECOND", "MINUTE", "DAY"]

    return with_spec(mp, edit)


@broken("USAGE-SHAPE")
def usage_unit_minute_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """A usage limit may have unit MINUTE."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["UsageLimit"]["properties"]["unit"]["enum"] = ["DAY", "MINUTE"]

    return with_spec(mp, edit)


@broken("RATE-ONE-PER-TYPE")
def two_rate_limits_of_one_type(mp: pytest.MonkeyPatch) -> Flask:
    """TOKEN/SECOND and TOKEN/MINUTE may sit on one slug."""
    import simulator.core.model as model

    mp.setattr(model, "refuse_duplicate_limits", _only_usage_duplicates_refused)
    return create_app()


def _only_usage_duplicates_refused(config: Any) -> None:
    keys = [limit.key for limit in config.usage_limits]
    if len(keys) != len(set(keys)):
        raise InvalidPayload("duplicate usage limit", rule="USAGE-ONE-PER-TYPE-UNIT")


@broken("USAGE-ONE-PER-TYPE-UNIT")
def two_usage_limits_of_one_type(mp: pytest.MonkeyPatch) -> Flask:
    """Two TOKEN/DAY usage limits may sit on one slug."""
    import simulator.core.model as model

    def rate_only(config: Any) -> None:
        types = [limit.type for limit in config.rate_limits]
        if len(types) != len(set(types)):
            raise InvalidPayload("duplicate rate limit", rule="RATE-ONE-PER-TYPE")

    mp.setattr(model, "refuse_duplicate_limits", rate_only)
    return create_app()


@broken(
    "HIER-REQUIRED",
    also={
        "SCHEMA-NEGATIVE": FUZZ_REFUSES,
    },
)
def parent_group_id_optional(mp: pytest.MonkeyPatch) -> Flask:
    """`hierarchy.parent_group_id` may be left out (the machine spec's default)."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["CreateHierarchy"]["required"] = ["limit_enforcement"]

    def fill(body: dict[str, Any]) -> None:
        body["hierarchy"].setdefault("parent_group_id", None)

    fill_in_bodies(mp, fill, "createGroup")
    return with_spec(mp, edit)


# Hierarchy rules.


@broken("PARENT-EXISTS")
def unknown_parent_is_400(mp: pytest.MonkeyPatch) -> Flask:
    """An unknown parent gives 400 instead of 404."""
    from simulator.core.errors import ParentNotFound

    mp.setitem(app_module.ERROR_STATUS, ParentNotFound, 400)
    return create_app()


@broken("PARENT-EXISTS")
def foreign_parent_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """A parent in another workspace is accepted."""

    from simulator.core.errors import ParentNotFound

    def parent_of(self: Store, workspace: str, new: NewGroup) -> Group | None:
        try:
            return _original_parent_of(self, workspace, new)
        except ParentNotFound:
            found = next((g for g in self.all_groups() if g.id == new.parent_id), None)
            if found is None:
                raise ParentNotFound() from None
            return found

    return store_method(mp, "parent_of", parent_of)


@broken("MODE-MATCH")
def mixed_modes_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """A child may declare another mode than its parent; the parent's mode is used."""

    def misplaced(new: NewGroup, parent: Group | None) -> None:
        if parent is not None:
            new = NewGroup(new.external_entity_id, new.name, new.models, parent.mode, new.parent_id)
        _original_misplaced(new, parent)

    return store_method(mp, "refuse_misplaced_child", staticmethod(misplaced))


def _depth_cap(mp: pytest.MonkeyPatch, cap: int) -> Flask:
    import simulator.core.store as store

    mp.setattr(store, "MAX_DEPTH", cap)
    return create_app()


@broken("DEPTH-MAX")
def six_levels_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """Hierarchies may be six levels deep."""
    return _depth_cap(mp, 6)


@broken(
    "DEPTH-MAX",
    maybe={
        "EFFECTIVE-INDEPENDENT": "the oracle's random trees are five levels deep on some "
        "draws only, and a refused fifth level leaves its tree short"
    },
)
def only_four_levels_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """Hierarchies stop at four levels."""
    return _depth_cap(mp, 4)


def _ceiling(mp: pytest.MonkeyPatch, check: Callable[[NewGroup, Group], bool]) -> Flask:
    """Replaces the cascading ceiling check; mode and depth checks stay."""

    def misplaced(new: NewGroup, parent: Group | None) -> None:
        if parent is None:
            return
        relaxed = NewGroup(new.external_entity_id, new.name, (), new.mode, new.parent_id)
        _original_misplaced(relaxed, parent)  # mode and depth, with no limits to compare
        if check(new, parent):
            raise ChildExceedsAncestorLimit()

    return store_method(mp, "refuse_misplaced_child", staticmethod(misplaced))


@broken("CASCADE-CEILING")
def ceiling_checked_against_parent_only(mp: pytest.MonkeyPatch) -> Flask:
    """The cascading ceiling looks at the direct parent, not the grandparents."""
    return _ceiling(mp, lambda new, p: new.mode == CASCADING and exceeds(p.models, new.models))


@broken(
    "CASCADE-CEILING",
    also={
        "EFFECTIVE-CASCADING": "its check builds children equal to "
        "their ancestors, which this variant refuses",
    },
)
def equal_cascading_threshold_refused(mp: pytest.MonkeyPatch) -> Flask:
    """A cascading child equal to its ancestor is refused."""

    def at_or_above(new: NewGroup, parent: Group) -> bool:
        bumped = tuple(_bump(m) for m in new.models)
        return new.mode == CASCADING and any(exceeds(a.models, bumped) for a in parent.lineage())

    return _ceiling(mp, at_or_above)


def _bump(model: Any) -> Any:
    from simulator.core.model import Limit, ModelConfig

    def up(limits: tuple[Limit, ...]) -> tuple[Limit, ...]:
        return tuple(Limit(x.type, x.unit, x.threshold + 1) for x in limits)

    return ModelConfig(model.slug, up(model.rate_limits), up(model.usage_limits))


@broken(
    "INDEPENDENT-OVERRIDE",
    also={
        "EFFECTIVE-INDEPENDENT": "its checks build INDEPENDENT children above "
        "their parents, which this variant refuses",
        "PATCH-PROPAGATE": "its INDEPENDENT tree has a child above "
        "the raised parent, which this variant refuses",
    },
)
def ceiling_enforced_in_independent_trees(mp: pytest.MonkeyPatch) -> Flask:
    """The cascading ceiling applies to INDEPENDENT trees too."""
    return _ceiling(mp, lambda new, p: any(exceeds(a.models, new.models) for a in p.lineage()))


@broken("CASCADE-CEILING")
def ceiling_ignores_usage_limits(mp: pytest.MonkeyPatch) -> Flask:
    """The cascading ceiling compares rate limits only."""
    from simulator.core.model import ModelConfig

    def rate_only(models: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(ModelConfig(m.slug, m.rate_limits, ()) for m in models)

    def check(new: NewGroup, parent: Group) -> bool:
        return new.mode == CASCADING and any(
            exceeds(rate_only(a.models), rate_only(new.models)) for a in parent.lineage()
        )

    return _ceiling(mp, check)


@broken(
    "CASCADE-CEILING",
    also={
        "PATCH-CASCADE": "a cascading refusal on update quotes the same documented message",
    },
)
def wrong_cascade_message(mp: pytest.MonkeyPatch) -> Flask:
    """The cascading refusal says something else than the documented message."""
    mp.setattr(ChildExceedsAncestorLimit, "default_message", "Limit above the parent's limit.")
    return create_app()


_OTHER_SLUGS = (
    "its checks, or the oracle's random trees on some draws, give children slugs their "
    "parents don't list"
)


@broken(
    "CHILD-SLUGS",
    maybe=dict.fromkeys(
        ("CASCADE-CEILING", "EFFECTIVE-INDEPENDENT", "EFFECTIVE-SLUGS", "EFFECTIVE-CASCADING"),
        _OTHER_SLUGS,
    ),
)
def child_slugs_must_be_inherited(mp: pytest.MonkeyPatch) -> Flask:
    """A child may only list slugs its parent lists."""

    def misplaced(new: NewGroup, parent: Group | None) -> None:
        _original_misplaced(new, parent)
        if parent is not None and any(parent.model(m.slug) is None for m in new.models):
            raise InvalidPayload("slug not in the parent's model set", rule="CHILD-SLUGS")

    return store_method(mp, "refuse_misplaced_child", staticmethod(misplaced))


# Uniqueness and atomicity.


@broken("EXTID-UNIQUE")
def duplicate_external_id_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """A second group with the same external_entity_id is created."""

    def create(self: Store, workspace: str, new: NewGroup) -> Group:
        if self.find_by_external_id(workspace, new.external_entity_id) is not None:
            self.release_external_id(workspace, new.external_entity_id)
        return _original_create(self, workspace, new)

    return store_method(mp, "create_group", create)


@broken(
    "EXTID-PER-WORKSPACE",
    also={
        "LIST-FILTER": "its tenant check creates the same external_entity_id "
        "in two workspaces, which this variant refuses",
    },
)
def external_id_unique_across_workspaces(mp: pytest.MonkeyPatch) -> Flask:
    """An external_entity_id taken in one workspace is refused in every other."""
    from simulator.core.errors import DuplicateExternalEntityId

    def create(self: Store, workspace: str, new: NewGroup) -> Group:
        if any(g.external_entity_id == new.external_entity_id for g in self.all_groups()):
            raise DuplicateExternalEntityId()
        return _original_create(self, workspace, new)

    return store_method(mp, "create_group", create)


@broken(
    "EXTID-REUSE",
    also={
        "LIST-LIVE": "its check deletes and lists again with the id still held",
        "RESP-ID": "its check creates again with a deleted group's external_entity_id",
    },
)
def external_id_not_freed_by_delete(mp: pytest.MonkeyPatch) -> Flask:
    """A deleted group's external_entity_id stays taken."""
    return store_method(mp, "release_external_id", lambda self, workspace, extid: None)


@broken("CREATE-ATOMIC")
def refused_create_holds_its_external_id(mp: pytest.MonkeyPatch) -> Flask:
    """A create refused for its place in the hierarchy still takes the external_entity_id."""

    def create(self: Store, workspace: str, new: NewGroup) -> Group:
        try:
            return _original_create(self, workspace, new)
        except GatewayError as error:
            misplaced = error.rule in (
                "MODE-MATCH",
                "DEPTH-MAX",
                "CASCADE-CEILING",
                "PARENT-EXISTS",
            )
            if misplaced and self.find_by_external_id(workspace, new.external_entity_id) is None:
                ghost = Group(
                    "ghost", workspace, new.external_entity_id, None, (), new.mode, None, ""
                )
                self.claim_external_id(ghost)
            raise

    return store_method(mp, "create_group", create)


# The response.


@broken("RESP-ID")
def ids_reused_after_delete(mp: pytest.MonkeyPatch) -> Flask:
    """A deleted group's id is given to the next group."""
    freed: list[str] = []

    def delete(self: Store, workspace: str, group_id: str) -> Any:
        deleted = _original_delete(self, workspace, group_id)
        freed.append(group_id)
        return deleted

    def new_id(self: IdGenerator, *args: Any) -> str:
        return freed.pop() if freed and not args else _original_new_id(self, *args)

    mp.setattr(IdGenerator, "__call__", new_id)
    return store_method(mp, "delete_group", delete)


_original_new_id = IdGenerator.__call__


@broken(
    "RESP-ECHO",
    also={
        "SCHEMA-RESPONSE": FUZZ_RESPONSE,
    },
)
def echo_drops_empty_usage_limits(mp: pytest.MonkeyPatch) -> Flask:
    """`models` in the response leaves out the limit lists the request left out."""
    original = serialize.model_json

    def model_json(model: Any) -> dict[str, Any]:
        body = original(model)
        return {k: v for k, v in body.items() if v != []}

    mp.setattr(serialize, "model_json", model_json)
    return create_app()


@broken(
    "RESP-CREATED-AT",
    also={
        "DELETE-RESPONSE": "the store's clock stamps deleted_at too, in the same wrong form",
        "EP-RESPONSE": "the store's clock stamps endpoints too, in the same wrong form",
        "SCHEMA-RESPONSE": "openapi.yaml's date-time format, which "
        "the fuzzer's response check sees",
    },
)
def created_at_not_rfc3339(mp: pytest.MonkeyPatch) -> Flask:
    """`created_at` is a Unix timestamp in a string."""
    return create_app(store=Store(clock=lambda: "1763625600"))


def _effective(mp: pytest.MonkeyPatch, resolve: Callable[..., tuple[EffectiveLimit, ...]]) -> Flask:
    import simulator.core.limits as limits

    mp.setattr(limits, "independent_limits", resolve)
    return create_app()


@broken(
    "EFFECTIVE-INDEPENDENT",
    also={
        "PATCH-PROPAGATE": "descendants follow an ancestor through the same inheritance",
        "USAGE-RESPONSE": "usage lists the effective usage limits, inherited ones included",
    },
)
def no_inheritance_in_independent_trees(mp: pytest.MonkeyPatch) -> Flask:
    """An INDEPENDENT child's effective limits are only its own."""
    return _effective(
        mp,
        lambda chain, slug, kind: tuple(
            anchored(lim, g) for g, lim in declared_limits(chain[:1], slug, kind)
        ),
    )


@broken(
    "EFFECTIVE-INDEPENDENT",
    also={
        "PATCH-PROPAGATE": "descendants' effective limits, read after an "
        "update, carry the same wrong source_group",
    },
)
def inherited_limits_sourced_from_the_child(mp: pytest.MonkeyPatch) -> Flask:
    """Inherited limits name the child, not the declaring ancestor, as source_group."""

    def resolve(chain: list[Group], slug: str, kind: str) -> tuple[EffectiveLimit, ...]:
        resolved: dict[tuple[str, str], EffectiveLimit] = {}
        for _, limit in declared_limits(chain, slug, kind):
            resolved.setdefault(limit.key, anchored(limit, chain[0]))
        return tuple(resolved.values())

    return _effective(mp, resolve)


@broken(
    "EFFECTIVE-CASCADING",
    also={
        "PATCH-PROPAGATE": "descendants' effective limits, read after an "
        "update, leave out the same ceilings",
    },
)
def cascading_effective_lists_own_limits_only(mp: pytest.MonkeyPatch) -> Flask:
    """A CASCADING group's effective limits leave out its ancestors' ceilings."""
    import simulator.core.limits as limits

    mp.setattr(
        limits,
        "cascading_limits",
        lambda chain, slug, kind: tuple(
            anchored(lim, g) for g, lim in declared_limits(chain[:1], slug, kind)
        ),
    )
    return create_app()


@broken("EFFECTIVE-SLUGS")
def effective_models_include_ancestor_slugs(mp: pytest.MonkeyPatch) -> Flask:
    """`effective_models` also lists slugs only an ancestor declares."""
    import simulator.core.limits as limits

    original = limits.effective_models

    def effective_models(group: Group) -> list[Any]:
        own = {m.slug for m in group.models}
        extra = [m for a in group.lineage() for m in a.models if m.slug not in own]
        shadow = Group(
            group.id,
            group.workspace,
            "",
            None,
            group.models + tuple(extra),
            group.mode,
            group.parent,
            "",
        )
        return original(shadow)

    mp.setattr(serialize, "effective_models", effective_models)
    return create_app()


@broken(
    "EFFECTIVE-ROOT",
    also={
        "EFFECTIVE-SLUGS": "no effective_models, so no slugs either",
        "READ-BACK": "get answers the group without effective_models too",
        "SCHEMA-RESPONSE": FUZZ_RESPONSE,
    },
)
def effective_models_missing(mp: pytest.MonkeyPatch) -> Flask:
    """The response has no `effective_models`."""
    app = create_app()
    return rewrite_json(
        app, is_create, lambda body: {k: v for k, v in body.items() if k != "effective_models"}
    )


# Per-group routes.


def replace_view(mp: pytest.MonkeyPatch, name: str, view: Callable[..., Response]) -> Flask:
    """An app whose route table has `view` where the view called `name` was."""
    routes = [
        (rule, view if f.__name__ == name else f, methods) for rule, f, methods in app_module.ROUTES
    ]
    mp.setattr(app_module, "ROUTES", routes)
    return create_app()


@broken(
    "READ-BACK",
    also={
        "ACCESS-SCOPE": "its check reads a group back with get, which answers 404",
        "AUTH-SCHEME": "its check reads a group back with get, which answers 404",
        "EFFECTIVE-CASCADING": "its check reads a group back with get, which answers 404",
        "EFFECTIVE-INDEPENDENT": "its check reads a group back with get, which answers 404",
        "GROUP-OTHER-WORKSPACE": "its check reads a group back with get, which answers 404",
        "OK-200": "its check reads a group back with get, which answers 404",
        "PATCH-CASCADE": "its check reads a group back with get, which answers 404",
        "PATCH-IMMUTABLE": "its check reads a group back with get, which answers 404",
        "PATCH-NAME": "its check reads a group back with get, which answers 404",
        "PATCH-PROPAGATE": "its check reads a group back with get, which answers 404",
        "PATCH-REPLACE": "its check reads a group back with get, which answers 404",
        "PATCH-SOMETHING": "its check reads a group back with get, which answers 404",
        "RESP-CREATED-AT": "its check reads a group back with get, which answers 404",
    },
)
def created_group_not_readable(mp: pytest.MonkeyPatch) -> Flask:
    """GET of a group of one's own answers 404 (a lost write); other answers stay."""
    from simulator.core.errors import GroupNotFound

    def get_group(group_id: str) -> Response:
        key = app_module.authorized(Scope.MANAGEMENT)
        app_module.gateway().store.get_group(key.workspace.name, group_id)
        raise GroupNotFound()

    return replace_view(mp, "get_group", get_group)


@broken("GROUP-OTHER-WORKSPACE")
def foreign_group_is_not_found(mp: pytest.MonkeyPatch) -> Flask:
    """Another workspace's group gives 404 instead of 403."""
    from simulator.core.errors import GroupInOtherWorkspace

    mp.setitem(app_module.ERROR_STATUS, GroupInOtherWorkspace, 404)
    return create_app()


@broken(
    "GROUP-NOT-FOUND",
    also={
        "DELETE-RECURSIVE": "its check reads deleted descendants "
        "with get, which still answers them",
    },
)
def deleted_group_still_readable(mp: pytest.MonkeyPatch) -> Flask:
    """GET of a deleted group still answers 200 with the group."""
    graveyard: dict[str, Group] = {}

    def delete(self: Store, workspace: str, group_id: str) -> Any:
        deleted = _original_delete(self, workspace, group_id)
        graveyard.update({g.id: g for g in deleted.group.subtree()})
        return deleted

    def get_group(group_id: str) -> Response:
        app_module.authorized(Scope.MANAGEMENT)
        if group_id in graveyard:
            return app_module.json_response(serialize.group_json(graveyard[group_id]))
        return app_module.get_group(group_id)

    mp.setattr(Store, "delete_group", delete)
    return replace_view(mp, "get_group", get_group)


@broken(
    "DELETE-RECURSIVE",
    also={
        "EXTID-REUSE": "a descendant left alive keeps its external_entity_id",
        "KEY-NOT-FOUND": "a descendant left alive keeps its keys",
        "LIST-LIVE": "a descendant left alive stays listed",
    },
)
def delete_leaves_descendants(mp: pytest.MonkeyPatch) -> Flask:
    """Deleting a group leaves its descendants readable."""

    def delete(self: Store, workspace: str, group_id: str) -> Any:
        group = self.get_group(workspace, group_id)
        children, group.children = group.children, []
        deleted = _original_delete(self, workspace, group_id)
        for child in children:
            child.parent = None
        return deleted

    return store_method(mp, "delete_group", delete)


@broken(
    "DELETE-RESPONSE",
    also={
        "SCHEMA-RESPONSE": FUZZ_RESPONSE,
    },
)
def delete_answers_without_metadata(mp: pytest.MonkeyPatch) -> Flask:
    """Delete answers only `{id, deleted_at}`."""
    return rewrite_json(
        create_app(),
        lambda r: r.method == "DELETE" and r.path.startswith("/v1/gateway/groups/"),
        lambda body: {k: v for k, v in body.items() if k != "metadata"},
    )


def variants() -> Iterator[Variant]:
    yield from BROKEN


# List groups.

_original_list = Store.list_groups


@broken("LIST-FILTER")
def list_ignores_the_filter(mp: pytest.MonkeyPatch) -> Flask:
    """`external_entity_id` on list is ignored: every group is listed."""

    def list_groups(self: Store, workspace: str, after: int, limit: int, _: Any = None) -> Any:
        return _original_list(self, workspace, after, limit)

    return store_method(mp, "list_groups", list_groups)


@broken("LIST-FILTER")
def list_filter_leaks_other_workspaces(mp: pytest.MonkeyPatch) -> Flask:
    """`external_entity_id` on list also finds another workspace's group of that id."""
    from simulator.core.pagination import page

    def list_groups(
        self: Store, workspace: str, after: int, limit: int, external_entity_id: Any = None
    ) -> Any:
        if external_entity_id is None:
            return _original_list(self, workspace, after, limit)
        with self.lock:
            found = [g for g in self.all_groups() if g.external_entity_id == external_entity_id]
            return page(sorted(found, key=lambda g: g.seq), after, limit, lambda g: g.seq)

    return store_method(mp, "list_groups", list_groups)


@broken("LIST-SHAPE")
def full_last_page_says_more(mp: pytest.MonkeyPatch) -> Flask:
    """A last page holding exactly `limit` groups says has_more true, with a cursor to an
    empty page."""

    def list_groups(self: Store, workspace: str, after: int, limit: int, *filters: Any) -> Any:
        items, following = _original_list(self, workspace, after, limit, *filters)
        if following is None and items and len(items) == limit:
            following = items[-1].seq
        return items, following

    return store_method(mp, "list_groups", list_groups)


@broken("LIST-LIMIT")
def list_ignores_the_limit(mp: pytest.MonkeyPatch) -> Flask:
    """A valid `limit` on list is ignored: pages hold 100 groups."""
    original = app_module.page_request

    def page_request(kind: str, operation_id: str) -> tuple[int, int, dict[str, Any]]:
        after, limit, query = original(kind, operation_id)
        return after, 100 if kind == "groups" else limit, query

    mp.setattr(app_module, "page_request", page_request)
    return create_app()


@broken(
    "LIST-LIVE",
    also={"DELETE-RECURSIVE": "its wide-tree check reads the whole list after the delete"},
)
def deleted_groups_still_listed(mp: pytest.MonkeyPatch) -> Flask:
    """Deleted groups stay in the list (but nowhere else)."""
    from simulator.core.pagination import page

    graveyard: dict[str, list[Group]] = {}

    def delete(self: Store, workspace: str, group_id: str) -> Any:
        doomed = list(self.get_group(workspace, group_id).subtree())
        deleted = _original_delete(self, workspace, group_id)
        graveyard.setdefault(workspace, []).extend(doomed)
        return deleted

    def list_groups(
        self: Store, workspace: str, after: int, limit: int, external_entity_id: Any = None
    ) -> Any:
        if external_entity_id is not None:
            return _original_list(self, workspace, after, limit, external_entity_id)
        with self.lock:
            live = [g for g in self.all_groups() if g.workspace == workspace]
            listing = sorted(live + graveyard.get(workspace, []), key=lambda g: g.seq)
            return page(listing, after, limit, lambda g: g.seq)

    mp.setattr(Store, "list_groups", list_groups)
    return store_method(mp, "delete_group", delete)


@broken("ACCESS-VIEW")
def view_key_cannot_list(mp: pytest.MonkeyPatch) -> Flask:
    """Listing groups needs management scope."""
    original = app_module.list_groups

    def list_groups() -> Response:
        app_module.authorized(Scope.MANAGEMENT)
        return original()

    return replace_view(mp, "list_groups", list_groups)


# Update a group.

_original_update = Store.update_group


@broken("PATCH-IMMUTABLE")
def update_rekeys_the_group(mp: pytest.MonkeyPatch) -> Flask:
    """PATCH with a new external_entity_id re-keys the group instead of refusing or ignoring it."""
    import dataclasses

    from simulator.core.model import GroupUpdate

    def update(self: Store, workspace: str, group_id: str, change: GroupUpdate) -> Group:
        group = self.get_group(workspace, group_id)
        new_id = change.external_entity_id
        if new_id not in (None, group.external_entity_id) and not change.hierarchy:
            self.release_external_id(workspace, group.external_entity_id)
            group.external_entity_id = new_id
            self.claim_external_id(group)
            change = dataclasses.replace(change, external_entity_id=None)
        return _original_update(self, workspace, group_id, change)

    return store_method(mp, "update_group", update)


@broken("PATCH-REPLACE")
def update_merges_models(mp: pytest.MonkeyPatch) -> Flask:
    """PATCH `models` updates the slugs it names and keeps the others."""
    import dataclasses

    from simulator.core.model import GroupUpdate

    def update(self: Store, workspace: str, group_id: str, change: GroupUpdate) -> Group:
        if change.models is not None:
            sent = {m.slug for m in change.models}
            kept = tuple(
                m for m in self.get_group(workspace, group_id).models if m.slug not in sent
            )
            change = dataclasses.replace(change, models=kept + change.models)
        return _original_update(self, workspace, group_id, change)

    return store_method(mp, "update_group", update)


@broken("PATCH-CASCADE")
def update_ignores_descendants(mp: pytest.MonkeyPatch) -> Flask:
    """A cascading PATCH is checked against ancestors only, not descendants."""
    import simulator.core.store as store

    mp.setattr(store, "descendants", lambda group: iter(()))
    return create_app()


@broken("PATCH-PROPAGATE")
def effective_limits_frozen_at_creation(mp: pytest.MonkeyPatch) -> Flask:
    """A group's effective limits use its ancestors' models as they were when it was created."""
    import simulator.core.limits as limits

    frozen: dict[str, list[tuple[str, Any]]] = {}
    original = limits.effective_models

    def create(self: Store, workspace: str, new: NewGroup) -> Group:
        group = _original_create(self, workspace, new)
        frozen[group.id] = [(a.id, a.models) for a in group.lineage()][1:]
        return group

    def effective_models(group: Group) -> list[Any]:
        parent = None
        for ancestor_id, models in reversed(frozen.get(group.id, [])):
            parent = Group(ancestor_id, group.workspace, "", None, models, group.mode, parent, "")
        shadow = Group(group.id, group.workspace, "", None, group.models, group.mode, parent, "")
        return original(shadow)

    mp.setattr(serialize, "effective_models", effective_models)
    return store_method(mp, "create_group", create)


@broken("PATCH-SOMETHING")
def empty_update_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """PATCH `{}` answers 200 and changes nothing."""

    def fill(body: dict[str, Any]) -> None:
        if body.get("metadata") is None and body.get("models") is None:
            body["metadata"] = {}  # an empty change, which the simulator then accepts

    fill_in_bodies(mp, fill, "updateGroup")
    return create_app()


@broken("PATCH-NAME")
def update_ignores_the_name(mp: pytest.MonkeyPatch) -> Flask:
    """PATCH answers 200 to a new name but keeps the old one."""
    import dataclasses

    from simulator.core.model import GroupUpdate

    def update(self: Store, workspace: str, group_id: str, change: GroupUpdate) -> Group:
        return _original_update(
            self, workspace, group_id, dataclasses.replace(change, name_sent=False)
        )

    return store_method(mp, "update_group", update)


@broken("PATCH-NAME")
def name_ignored_when_models_sent(mp: pytest.MonkeyPatch) -> Flask:
    """PATCH with a new name and `models` replaces the models but keeps the old name."""
    import dataclasses

    from simulator.core.model import GroupUpdate

    def update(self: Store, workspace: str, group_id: str, change: GroupUpdate) -> Group:
        if change.models is not None:
            change = dataclasses.replace(change, name_sent=False)
        return _original_update(self, workspace, group_id, change)

    return store_method(mp, "update_group", update)


# Usage.


@broken("USAGE-RESPONSE")
def usage_customer_id_is_the_group_id(mp: pytest.MonkeyPatch) -> Flask:
    """Usage answers the group's id as customer_id instead of its external_entity_id."""

    def edit(body: dict[str, Any]) -> dict[str, Any]:
        from flask import request

        if "customer_id" in body:  # a usage answer, not a refusal
            body["customer_id"] = request.path.split("/")[4]  # /v1/gateway/groups/<id>/usage
        return body

    return rewrite_json(create_app(), lambda r: r.path.endswith("/usage"), edit)


@broken(
    "USAGE-RESPONSE",
    also={"SCHEMA-RESPONSE": "openapi.yaml's usage entry requires reset_at, so the fuzzer's "
          "response check sees the missing field too"},
)  # fmt: skip
def usage_without_reset_at(mp: pytest.MonkeyPatch) -> Flask:
    """Usage entries leave `reset_at` out instead of answering it as null."""

    def edit(body: dict[str, Any]) -> dict[str, Any]:
        for entries in (body.get("usage") or {}).values():
            for entry in entries:
                entry.pop("reset_at", None)
        return body

    return rewrite_json(create_app(), lambda r: r.path.endswith("/usage"), edit)


# API keys.


@broken(
    "KEY-MINT",
    maybe={
        "SCHEMA-RESPONSE": "openapi.yaml's pattern for a minted key, which the fuzzer's "
        "response check sees on the draws that mint one",
    },
)
def minted_prefix_is_key_underscore(mp: pytest.MonkeyPatch) -> Flask:
    """Minted keys are `key_` + 12 characters instead of `sky_` + 12."""
    import simulator.core.store as store

    mp.setattr(store, "MINT_PREFIX", "key_")
    return create_app()


@broken(
    "KEY-GET",
    also={"REGISTER-OK": "a registered key is read back by the same get, which drops its name"},
)
def key_get_forgets_the_name(mp: pytest.MonkeyPatch) -> Flask:
    """Get a key answers its name as null."""
    original = serialize.key_json

    def get_key(group_id: str, api_key_prefix: str) -> Response:
        key = app_module.authorized(Scope.MANAGEMENT)
        record = app_module.gateway().store.get_key(key.workspace.name, group_id, api_key_prefix)
        return app_module.json_response({**original(record), "name": None})

    return replace_view(mp, "get_key", get_key)


_original_revoke = Store.revoke_key
_original_get_key = Store.get_key


@broken("KEY-REVOKE")
def revoke_keeps_the_key(mp: pytest.MonkeyPatch) -> Flask:
    """Revoke answers 200 with the prefix, but the key stays."""

    def revoke(self: Store, workspace: str, group_id: str, prefix: str) -> Any:
        return self.get_key(workspace, group_id, prefix)

    return store_method(mp, "revoke_key", revoke)


@broken("KEY-LIST")
def key_list_shows_revoked_keys(mp: pytest.MonkeyPatch) -> Flask:
    """Revoked keys give 404 on get but stay in the group's key list."""
    from simulator.core.errors import KeyNotFound

    revoked: set[tuple[str, str]] = set()

    def revoke(self: Store, workspace: str, group_id: str, prefix: str) -> Any:
        record = self.get_key(workspace, group_id, prefix)
        revoked.add((group_id, prefix))
        return record

    def get_key(self: Store, workspace: str, group_id: str, prefix: str) -> Any:
        if (group_id, prefix) in revoked:
            raise KeyNotFound()
        return _original_get_key(self, workspace, group_id, prefix)

    mp.setattr(Store, "get_key", get_key)
    return store_method(mp, "revoke_key", revoke)


@broken("KEY-NOT-FOUND")
def keys_outlive_their_group(mp: pytest.MonkeyPatch) -> Flask:
    """A deleted group's keys still read back (the group itself gives 404)."""
    graveyard: dict[tuple[str, str], Any] = {}

    def delete(self: Store, workspace: str, group_id: str) -> Any:
        for group in self.get_group(workspace, group_id).subtree():
            graveyard.update({(group.id, p): r for p, r in group.keys.items()})
        return _original_delete(self, workspace, group_id)

    def get_key(self: Store, workspace: str, group_id: str, prefix: str) -> Any:
        if (group_id, prefix) in graveyard:
            return graveyard[(group_id, prefix)]
        return _original_get_key(self, workspace, group_id, prefix)

    mp.setattr(Store, "get_key", get_key)
    return store_method(mp, "delete_group", delete)


# Registering a key.


@broken("REGISTER-SIGNATURE")
def signature_not_verified(mp: pytest.MonkeyPatch) -> Flask:
    """Register checks that a public key is on file but never verifies the signature."""
    from simulator.core.errors import PublicKeyMissing
    from simulator.core.keys import check_registered_key

    def register_key(group_id: str) -> Response:
        key = app_module.authorized(Scope.MANAGEMENT)
        body = app_module.json_body("registerApiKey")
        store = app_module.gateway().store
        store.get_group(key.workspace.name, group_id)
        if key.workspace.public_key is None:
            raise PublicKeyMissing()
        check_registered_key(body["key"])
        store.register_key(key.workspace.name, group_id, body["key"], body.get("name"))
        return app_module.json_response({"ok": True})

    return replace_view(mp, "register_key", register_key)


@broken("REGISTER-ENTROPY")
def entropy_not_checked(mp: pytest.MonkeyPatch) -> Flask:
    """Register accepts keys of any entropy."""
    import simulator.core.keys as keys

    mp.setattr(keys, "MIN_ENTROPY_BITS", 0.0)
    return create_app()


@broken("REGISTER-LENGTH")
def registered_key_of_128_refused(mp: pytest.MonkeyPatch) -> Flask:
    """Registered keys stop at 127 characters."""
    import simulator.core.keys as keys

    mp.setattr(keys, "MAX_KEY_LENGTH", 127)
    return create_app()


@broken("REGISTER-PREFIX-UNIQUE")
def registered_prefix_not_checked(mp: pytest.MonkeyPatch) -> Flask:
    """Registering a key whose prefix is taken replaces the earlier key."""

    return store_method(mp, "key_prefix_taken", lambda self, workspace, prefix: False)


@broken("REGISTER-PUBLIC-KEY")
def missing_public_key_is_a_signature_failure(mp: pytest.MonkeyPatch) -> Flask:
    """A workspace without a public key gets `Signature verification failed` instead."""
    from simulator.core.errors import PublicKeyMissing, SignatureInvalid

    mp.setattr(PublicKeyMissing, "rule", SignatureInvalid.rule)
    mp.setattr(PublicKeyMissing, "default_message", SignatureInvalid.default_message)
    return create_app()


# Endpoints.


def _endpoint_book(mp: pytest.MonkeyPatch, name: str, method: Callable[..., Any]) -> Flask:
    from simulator.core.endpoints import EndpointBook

    mp.setattr(EndpointBook, name, method)
    return create_app()


@broken(
    "EP-SLUG-UNIQUE",
    also={
        "EP-RENAME": "a rename to a slug in use must be refused too",
    },
)
def duplicate_endpoint_slug_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """A second endpoint may take a slug in use; only the org prefix is checked."""
    from simulator.core.errors import EndpointSlugNotOwned

    def claim(self: Any, workspace: Workspace, slug: str) -> None:
        if slug.partition("/")[0] not in workspace.org_prefixes:
            raise EndpointSlugNotOwned("not an org prefix of this workspace")

    return _endpoint_book(mp, "claim_slug", claim)


@broken("EP-DELETE")
def endpoint_delete_keeps_the_slug(mp: pytest.MonkeyPatch) -> Flask:
    """A deleted endpoint's slug stays taken."""
    from simulator.core.endpoints import EndpointBook
    from simulator.core.errors import DuplicateEndpointSlug

    original_delete, original_claim = EndpointBook.delete, EndpointBook.claim_slug
    held: set[str] = set()

    def delete(self: Any, workspace: str, endpoint_id: str) -> Any:
        endpoint = original_delete(self, workspace, endpoint_id)
        held.add(endpoint.slug)
        return endpoint

    def claim(self: Any, workspace: Workspace, slug: str) -> None:
        original_claim(self, workspace, slug)
        if slug in held:
            raise DuplicateEndpointSlug(f"An endpoint with slug {slug!r} already exists.")

    mp.setattr(EndpointBook, "claim_slug", claim)
    return _endpoint_book(mp, "delete", delete)


@broken(
    "EP-ONE-TARGET",
    also={
        "SCHEMA-NEGATIVE": FUZZ_REFUSES,
        "SCHEMA-RESPONSE": "two targets come back, beyond the response schema's maxItems",
    },
)
def two_endpoint_targets_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """An endpoint may have two targets."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["Targets"]["maxItems"] = 2

    return with_spec(mp, edit)


@broken("EP-OTHER-WORKSPACE")
def foreign_endpoint_is_not_found(mp: pytest.MonkeyPatch) -> Flask:
    """Another workspace's endpoint gives 404 instead of 403."""
    from simulator.core.errors import EndpointInOtherWorkspace

    mp.setitem(app_module.ERROR_STATUS, EndpointInOtherWorkspace, 404)
    return create_app()


@broken("EP-SLUG-PREFIX")
def any_org_prefix_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """Any org prefix is accepted; slugs stay unique."""
    from simulator.core.errors import DuplicateEndpointSlug

    def claim(self: Any, workspace: Workspace, slug: str) -> None:
        if any(endpoint.slug == slug for endpoint in self.all()):
            raise DuplicateEndpointSlug("taken")

    return _endpoint_book(mp, "claim_slug", claim)


def _filled_targets(mp: pytest.MonkeyPatch, field: str, providers: tuple[str, ...]) -> Flask:
    """An app that fills `field` into the targets of `providers` before the checks see them."""
    import simulator.core.endpoints as endpoints

    original = endpoints.check_targets

    def check_targets(targets: list[Any]) -> Any:
        return original([{field: "x", **t} if t["provider"] in providers else t for t in targets])

    mp.setattr(endpoints, "check_targets", check_targets)
    return create_app()


def _unchecked_field(mp: pytest.MonkeyPatch, field: str) -> Flask:
    """An app that takes `field` on any provider's target (the check sees it as null)."""
    import simulator.core.endpoints as endpoints

    original, rules = endpoints.check_provider_fields, endpoints.target_rules()

    def check(target: dict[str, Any]) -> None:
        fields = rules.providers[target["provider"]]
        taken = field in fields.requires or field in fields.takes
        original(target if taken else {**target, field: None})

    mp.setattr(endpoints, "check_provider_fields", check)
    return create_app()


EXTERNAL = ("ANTHROPIC", "OPENAI", "VERTEX", "OPENAI_COMPATIBLE")


@broken("EP-SECRET-ID")
def external_target_without_secret_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """External providers' targets need no secret_id."""
    return _filled_targets(mp, "secret_id", EXTERNAL)


@broken("EP-TARGET-MODEL")
def external_target_without_target_model_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """External providers' targets need no target_model."""
    return _filled_targets(mp, "target_model", EXTERNAL)


@broken(
    "EP-PROVIDER",
    also={
        "EP-BASE-URL": "its checks use a provider beyond the three",
        "EP-SECRET-ID": "its checks use a provider beyond the three",
        "EP-TARGET-MODEL": "its checks use a provider beyond the three",
        "EP-VERTEX-CONFIG": "its checks use a provider beyond the three",
    },
)
def three_providers_only(mp: pytest.MonkeyPatch) -> Flask:
    """Only BASETEN, ANTHROPIC and OPENAI are taken, as the docs pages list them."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["Target"]["properties"]["provider"]["enum"] = ["BASETEN", "ANTHROPIC", "OPENAI"]

    return with_spec(mp, edit)


@broken("EP-MODEL-ID")
def model_id_taken_on_any_provider(mp: pytest.MonkeyPatch) -> Flask:
    """model_id is accepted on every provider's target, not only BASETEN's."""
    return _unchecked_field(mp, "model_id")


@broken("EP-ENVIRONMENT-BASETEN")
def environment_taken_on_any_provider(mp: pytest.MonkeyPatch) -> Flask:
    """environment_name is accepted on every provider's target."""
    return _unchecked_field(mp, "environment_name")


@broken("EP-VERTEX-CONFIG")
def vertex_config_taken_on_any_provider(mp: pytest.MonkeyPatch) -> Flask:
    """vertex_config is accepted on every provider's target."""
    return _unchecked_field(mp, "vertex_config")


@broken("EP-BASE-URL")
def base_url_with_a_port_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """A base_url's port is not looked at; only its scheme and host are."""
    import simulator.core.endpoints as endpoints

    original = endpoints.check_base_url
    mp.setattr(endpoints, "check_base_url", lambda url: original(url.replace(":8443", "")))
    return create_app()


@broken(
    "EP-REGION",
    also={
        "EP-PATCH": "an update must keep the region, which this variant never kept",
    },
)
def region_not_kept(mp: pytest.MonkeyPatch) -> Flask:
    """Every endpoint is UNRESTRICTED whatever region its create asked for."""
    import simulator.core.endpoints as endpoints

    original = endpoints.EndpointBook.create
    mp.setattr(
        endpoints.EndpointBook,
        "create",
        lambda self, workspace, slug, targets, region=None: original(
            self, workspace, slug, targets
        ),
    )
    return create_app()


@broken("EP-RENAME")
def rename_answers_but_is_not_kept(mp: pytest.MonkeyPatch) -> Flask:
    """A rename answers 200 with the new slug, but the endpoint keeps its old one."""
    import simulator.core.endpoints as endpoints

    original = endpoints.EndpointBook.update

    def update(self: Any, workspace: Any, endpoint_id: str, changes: Any, **kw: Any) -> Any:
        old = self.get(workspace.name, endpoint_id).slug
        endpoint = original(self, workspace, endpoint_id, changes, **kw)
        answer = replace(endpoint)
        original(self, workspace, endpoint_id, {"slug": old}, **kw)  # quietly renamed back
        return answer

    mp.setattr(endpoints.EndpointBook, "update", update)
    return create_app()


@broken(
    "EP-RESPONSE",
    also={
        "SCHEMA-RESPONSE": FUZZ_RESPONSE,
    },
)
def endpoint_without_timestamps(mp: pytest.MonkeyPatch) -> Flask:
    """Endpoints read without `created_at` and `updated_at`."""

    def untimed(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if not k.endswith("_at")}

    def edit(body: dict[str, Any]) -> dict[str, Any]:
        if "items" in body:  # a page of endpoints
            return {**body, "items": [untimed(e) for e in body["items"]]}
        return untimed(body)

    return rewrite_json(create_app(), lambda r: r.path.startswith("/v1/gateway/endpoints"), edit)


@broken(
    "LIST-SHAPE",
    also={
        "EP-LIST": "the variant drops has_more from every list, endpoints' too",
        "KEY-LIST": "the variant drops has_more from every list, keys' too",
        "SCHEMA-RESPONSE": FUZZ_RESPONSE,
    },
)
def list_without_has_more(mp: pytest.MonkeyPatch) -> Flask:
    """List pages leave `has_more` out of `pagination`."""

    def edit(body: dict[str, Any]) -> dict[str, Any]:
        if "pagination" in body:
            body["pagination"] = {"cursor": body["pagination"]["cursor"]}
        return body

    return rewrite_json(create_app(), lambda r: r.path.startswith("/v1/gateway/"), edit)


@broken("LIST-CURSOR")
def list_cursor_restarts(mp: pytest.MonkeyPatch) -> Flask:
    """A group list's cursor is ignored: every page is the first page again."""
    original = app_module.page_request

    def page_request(kind: str, operation_id: str) -> tuple[int, int, dict[str, Any]]:
        after, limit, query = original(kind, operation_id)
        return (0 if kind == "groups" else after), limit, query

    mp.setattr(app_module, "page_request", page_request)
    return create_app()


@broken(
    "REGISTER-OK",
    also={
        "REGISTER-PREFIX-UNIQUE": "a key not kept doesn't hold its prefix either",
    },
)
def registered_key_not_kept(mp: pytest.MonkeyPatch) -> Flask:
    """Register answers {"ok": true} but the key never reads back."""
    mp.setattr(Store, "register_key", lambda self, workspace, group_id, key, name: None)
    return create_app()


@broken(
    "EP-LIST",
    also={
        "EP-REGION": "its check reads the region on the list too",
    },
)
def endpoint_list_is_always_empty(mp: pytest.MonkeyPatch) -> Flask:
    """Listing endpoints shows none of the workspace's endpoints."""
    return _endpoint_book(mp, "list", lambda self, workspace, after, limit: ([], None))


@broken(
    "EP-NOT-FOUND",
    also={
        "EP-DELETE": "its check reads the deleted endpoint with get",
    },
)
def deleted_endpoint_still_readable(mp: pytest.MonkeyPatch) -> Flask:
    """A deleted endpoint still answers GET with 200."""
    from simulator.core.endpoints import EndpointBook

    original_delete, original_get = EndpointBook.delete, EndpointBook.get
    graveyard: dict[str, Any] = {}

    def delete(self: Any, workspace: str, endpoint_id: str) -> Any:
        graveyard[endpoint_id] = original_delete(self, workspace, endpoint_id)
        return graveyard[endpoint_id]

    def get_endpoint(endpoint_id: str) -> Response:
        key = app_module.authorized(Scope.MANAGEMENT)
        book = app_module.gateway().endpoints
        found = graveyard.get(endpoint_id) or original_get(book, key.workspace.name, endpoint_id)
        return app_module.json_response(serialize.endpoint_json(found))

    mp.setattr(EndpointBook, "delete", delete)
    return replace_view(mp, "get_endpoint", get_endpoint)
