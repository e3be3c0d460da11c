"""Deliberately broken simulators: each overrides one piece and so breaks exactly one rule.

A variant is built inside a `pytest.MonkeyPatch` context: it patches one function, method or
piece of the spec for the life of that context, then returns a fresh `create_app()`.
Nothing here is a flag in the simulator itself.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, Response

import simulator.app as app_module
import simulator.serialize as serialize
from simulator import create_app
from simulator.access import ApiKey, KeyRing, Scope, Workspace
from simulator.errors import ChildExceedsAncestorLimit, GatewayError, InvalidPayload
from simulator.limits import EffectiveLimit, _anchored, _declared, exceeds
from simulator.model import CASCADING, Group, NewGroup
from simulator.spec import load_spec
from simulator.store import IdGenerator, Store

Build = Callable[[pytest.MonkeyPatch], Flask]


@dataclass(frozen=True)
class Variant:
    name: str
    rules: frozenset[str]  # the rules a conforming suite must report as failed
    build: Build
    doc: str


BROKEN: list[Variant] = []


def broken(*rules: str) -> Callable[[Build], Build]:
    def register(build: Build) -> Build:
        BROKEN.append(Variant(build.__name__, frozenset(rules), build, build.__doc__ or ""))
        return build

    return register


# Helpers that change one thing.


def with_spec(mp: pytest.MonkeyPatch, edit: Callable[[dict[str, Any]], None]) -> Flask:
    """An app whose request validators come from an edited copy of openapi.yaml."""
    spec = copy.deepcopy(load_spec())
    edit(spec["components"]["schemas"])
    mp.setattr(app_module, "load_spec", lambda: spec)
    return create_app()


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
_original_misplaced = Store._refuse_misplaced_child
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


@broken("ACCESS-ONBOARDED")
def not_onboarded_allowed(mp: pytest.MonkeyPatch) -> Flask:
    """A workspace that isn't onboarded may call every route."""

    def authenticate(self: KeyRing, header: str | None) -> ApiKey:
        key = _original_authenticate(self, header)
        workspace = Workspace(key.workspace.name, True, key.workspace.public_key)
        return ApiKey(key.key, workspace, key.scope)

    return keyring(mp, authenticate)


@broken("ACCESS-SCOPE")
def view_key_may_write(mp: pytest.MonkeyPatch) -> Flask:
    """A view-only key has management scope."""

    def authenticate(self: KeyRing, header: str | None) -> ApiKey:
        key = _original_authenticate(self, header)
        return ApiKey(key.key, key.workspace, Scope.MANAGEMENT)

    return keyring(mp, authenticate)


@broken("OK-200")
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


@broken("PAYLOAD-JSON")
def invalid_json_is_a_server_error(mp: pytest.MonkeyPatch) -> Flask:
    """A body that isn't JSON crashes the view: 500."""
    original = app_module.json_body

    def json_body(operation_id: str) -> Any:
        import json

        from flask import request

        json.loads(request.get_data())  # raises, unhandled
        return original(operation_id)

    mp.setattr(app_module, "json_body", json_body)
    return create_app()


# Payload rules.


@broken("META-REQUIRED")
def metadata_optional(mp: pytest.MonkeyPatch) -> Flask:
    """A body without `metadata` is accepted, with a generated external id."""
    counter = iter(range(10**9))
    original = app_module.json_body

    def json_body(operation_id: str) -> Any:
        from flask import request

        body = request.get_json(silent=True)
        if operation_id == "createGroup" and isinstance(body, dict) and "metadata" not in body:
            body["metadata"] = {"external_entity_id": f"generated-{next(counter)}"}
            gateway = app_module.gateway()
            gateway.validators[operation_id].validate(body)
            return body
        return original(operation_id)

    mp.setattr(app_module, "json_body", json_body)
    return create_app()


@broken("EXTID-REQUIRED")
def external_id_optional(mp: pytest.MonkeyPatch) -> Flask:
    """`external_entity_id` may be left out; the group gets a generated one."""
    counter = iter(range(10**9))

    def edit(schemas: dict[str, Any]) -> None:
        schemas["CreateGroupMetadata"]["required"] = []

    original = app_module.new_group_from_json

    def parse(body: dict[str, Any]) -> NewGroup:
        body["metadata"].setdefault("external_entity_id", f"generated-{next(counter)}")
        return original(body)

    mp.setattr(app_module, "new_group_from_json", parse)
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


@broken("NAME-LENGTH")
def name_of_256_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """`metadata.name` may be 256 characters long."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["CreateGroupMetadata"]["properties"]["name"]["maxLength"] = 256

    return with_spec(mp, edit)


@broken("MODELS-NONEMPTY")
def empty_models_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """`models: []` is accepted on create."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["CreateGroupRequest"]["properties"]["models"]["minItems"] = 0

    return with_spec(mp, edit)


@broken("SLUG-REQUIRED")
def slug_optional(mp: pytest.MonkeyPatch) -> Flask:
    """A model entry without `slug` is accepted and named `default/model`."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["ModelConfig"]["required"] = []

    original = app_module.new_group_from_json

    def parse(body: dict[str, Any]) -> NewGroup:
        for model in body["models"]:
            model.setdefault("slug", "default/model")
        return original(body)

    mp.setattr(app_module, "new_group_from_json", parse)
    return with_spec(mp, edit)


@broken("SLUG-FORMAT")
def slug_without_org_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """A slug needs no `/`."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["ModelConfig"]["properties"]["slug"]["allOf"] = []

    return with_spec(mp, edit)


@broken("RATE-SHAPE")
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
    import simulator.model as model

    mp.setattr(model, "_refuse_duplicate_limits", _only_usage_duplicates_refused)
    return create_app()


def _only_usage_duplicates_refused(config: Any) -> None:
    keys = [limit.key for limit in config.usage_limits]
    if len(keys) != len(set(keys)):
        raise InvalidPayload("duplicate usage limit", rule="USAGE-ONE-PER-TYPE-UNIT")


@broken("USAGE-ONE-PER-TYPE-UNIT")
def two_usage_limits_of_one_type(mp: pytest.MonkeyPatch) -> Flask:
    """Two TOKEN/DAY usage limits may sit on one slug."""
    import simulator.model as model

    def rate_only(config: Any) -> None:
        types = [limit.type for limit in config.rate_limits]
        if len(types) != len(set(types)):
            raise InvalidPayload("duplicate rate limit", rule="RATE-ONE-PER-TYPE")

    mp.setattr(model, "_refuse_duplicate_limits", rate_only)
    return create_app()


@broken("HIER-REQUIRED")
def parent_group_id_optional(mp: pytest.MonkeyPatch) -> Flask:
    """`hierarchy.parent_group_id` may be left out (the machine spec's default)."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["CreateHierarchy"]["required"] = ["limit_enforcement"]

    original = app_module.new_group_from_json

    def parse(body: dict[str, Any]) -> NewGroup:
        body["hierarchy"].setdefault("parent_group_id", None)
        return original(body)

    mp.setattr(app_module, "new_group_from_json", parse)
    return with_spec(mp, edit)


# Hierarchy rules.


@broken("PARENT-EXISTS")
def unknown_parent_is_400(mp: pytest.MonkeyPatch) -> Flask:
    """An unknown parent gives 400 instead of 404."""
    from simulator.errors import ParentNotFound

    mp.setitem(app_module.ERROR_STATUS, ParentNotFound, 400)
    return create_app()


@broken("PARENT-EXISTS")
def foreign_parent_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """A parent in another workspace is accepted."""

    def parent_of(self: Store, workspace: str, new: NewGroup) -> Group | None:
        found = self._groups.get(new.parent_id or "")
        if new.parent_id is not None and found is None:
            from simulator.errors import ParentNotFound

            raise ParentNotFound()
        return found

    return store_method(mp, "_parent_of", parent_of)


@broken("MODE-MATCH")
def mixed_modes_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """A child may declare another mode than its parent; the parent's mode is used."""

    def misplaced(new: NewGroup, parent: Group | None) -> None:
        if parent is not None:
            new = NewGroup(new.external_entity_id, new.name, new.models, parent.mode, new.parent_id)
        _original_misplaced(new, parent)

    return store_method(mp, "_refuse_misplaced_child", staticmethod(misplaced))


def _depth_cap(mp: pytest.MonkeyPatch, cap: int) -> Flask:
    import simulator.store as store

    mp.setattr(store, "MAX_DEPTH", cap)
    return create_app()


@broken("DEPTH-MAX")
def six_levels_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """Hierarchies may be six levels deep."""
    return _depth_cap(mp, 6)


@broken("DEPTH-MAX")
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

    return store_method(mp, "_refuse_misplaced_child", staticmethod(misplaced))


@broken("CASCADE-CEILING")
def ceiling_checked_against_parent_only(mp: pytest.MonkeyPatch) -> Flask:
    """The cascading ceiling looks at the direct parent, not the grandparents."""
    return _ceiling(mp, lambda new, p: new.mode == CASCADING and exceeds(p.models, new.models))


@broken("CASCADE-CEILING")
def equal_cascading_threshold_refused(mp: pytest.MonkeyPatch) -> Flask:
    """A cascading child equal to its ancestor is refused."""

    def at_or_above(new: NewGroup, parent: Group) -> bool:
        bumped = tuple(_bump(m) for m in new.models)
        return new.mode == CASCADING and any(exceeds(a.models, bumped) for a in parent.lineage())

    return _ceiling(mp, at_or_above)


def _bump(model: Any) -> Any:
    from simulator.model import Limit, ModelConfig

    def up(limits: tuple[Limit, ...]) -> tuple[Limit, ...]:
        return tuple(Limit(x.type, x.unit, x.threshold + 1) for x in limits)

    return ModelConfig(model.slug, up(model.rate_limits), up(model.usage_limits))


@broken("INDEPENDENT-OVERRIDE")
def ceiling_enforced_in_independent_trees(mp: pytest.MonkeyPatch) -> Flask:
    """The cascading ceiling applies to INDEPENDENT trees too."""
    return _ceiling(mp, lambda new, p: any(exceeds(a.models, new.models) for a in p.lineage()))


@broken("CASCADE-CEILING")
def ceiling_ignores_usage_limits(mp: pytest.MonkeyPatch) -> Flask:
    """The cascading ceiling compares rate limits only."""
    from simulator.model import ModelConfig

    def rate_only(models: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(ModelConfig(m.slug, m.rate_limits, ()) for m in models)

    def check(new: NewGroup, parent: Group) -> bool:
        return new.mode == CASCADING and any(
            exceeds(rate_only(a.models), rate_only(new.models)) for a in parent.lineage()
        )

    return _ceiling(mp, check)


@broken("CASCADE-CEILING")
def wrong_cascade_message(mp: pytest.MonkeyPatch) -> Flask:
    """The cascading refusal says something else than the documented message."""
    mp.setattr(ChildExceedsAncestorLimit, "default_message", "Limit above the parent's limit.")
    return create_app()


@broken("CHILD-SLUGS")
def child_slugs_must_be_inherited(mp: pytest.MonkeyPatch) -> Flask:
    """A child may only list slugs its parent lists."""

    def misplaced(new: NewGroup, parent: Group | None) -> None:
        _original_misplaced(new, parent)
        if parent is not None and any(parent.model(m.slug) is None for m in new.models):
            raise InvalidPayload("slug not in the parent's model set", rule="CHILD-SLUGS")

    return store_method(mp, "_refuse_misplaced_child", staticmethod(misplaced))


# Uniqueness and atomicity.


@broken("EXTID-UNIQUE")
def duplicate_external_id_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """A second group with the same external_entity_id is created."""

    def create(self: Store, workspace: str, new: NewGroup) -> Group:
        self._by_external_id.pop((workspace, new.external_entity_id), None)
        return _original_create(self, workspace, new)

    return store_method(mp, "create_group", create)


@broken("EXTID-PER-WORKSPACE")
def external_id_unique_across_workspaces(mp: pytest.MonkeyPatch) -> Flask:
    """An external_entity_id taken in one workspace is refused in every other."""
    from simulator.errors import DuplicateExternalEntityId

    def create(self: Store, workspace: str, new: NewGroup) -> Group:
        if any(extid == new.external_entity_id for _, extid in self._by_external_id):
            raise DuplicateExternalEntityId()
        return _original_create(self, workspace, new)

    return store_method(mp, "create_group", create)


@broken("EXTID-REUSE")
def external_id_not_freed_by_delete(mp: pytest.MonkeyPatch) -> Flask:
    """A deleted group's external_entity_id stays taken."""

    def delete(self: Store, workspace: str, group_id: str) -> Any:
        group = self.get_group(workspace, group_id)
        held = {(workspace, g.external_entity_id): g for g in group.subtree()}
        deleted = _original_delete(self, workspace, group_id)
        self._by_external_id.update(held)
        return deleted

    return store_method(mp, "delete_group", delete)


@broken("CREATE-ATOMIC")
def refused_create_holds_its_external_id(mp: pytest.MonkeyPatch) -> Flask:
    """A create refused for its place in the hierarchy still takes the external_entity_id."""

    def create(self: Store, workspace: str, new: NewGroup) -> Group:
        try:
            return _original_create(self, workspace, new)
        except GatewayError as error:
            if error.rule in ("MODE-MATCH", "DEPTH-MAX", "CASCADE-CEILING", "PARENT-EXISTS"):
                ghost = Group(
                    "ghost", workspace, new.external_entity_id, None, (), new.mode, None, ""
                )
                self._by_external_id.setdefault((workspace, new.external_entity_id), ghost)
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


@broken("RESP-ECHO")
def echo_drops_empty_usage_limits(mp: pytest.MonkeyPatch) -> Flask:
    """`models` in the response leaves out the limit lists the request left out."""
    original = serialize.model_json

    def model_json(model: Any) -> dict[str, Any]:
        body = original(model)
        return {k: v for k, v in body.items() if v != []}

    mp.setattr(serialize, "model_json", model_json)
    return create_app()


@broken("RESP-CREATED-AT")
def created_at_not_rfc3339(mp: pytest.MonkeyPatch) -> Flask:
    """`created_at` is a Unix timestamp in a string."""
    return create_app(store=Store(clock=lambda: "1763625600"))


def _effective(mp: pytest.MonkeyPatch, resolve: Callable[..., tuple[EffectiveLimit, ...]]) -> Flask:
    import simulator.limits as limits

    mp.setattr(limits, "_independent", resolve)
    return create_app()


@broken("EFFECTIVE-INDEPENDENT")
def no_inheritance_in_independent_trees(mp: pytest.MonkeyPatch) -> Flask:
    """An INDEPENDENT child's effective limits are only its own."""
    return _effective(
        mp,
        lambda chain, slug, kind: tuple(
            _anchored(lim, g) for g, lim in _declared(chain[:1], slug, kind)
        ),
    )


@broken("EFFECTIVE-INDEPENDENT")
def inherited_limits_sourced_from_the_child(mp: pytest.MonkeyPatch) -> Flask:
    """Inherited limits name the child, not the declaring ancestor, as source_group."""

    def resolve(chain: list[Group], slug: str, kind: str) -> tuple[EffectiveLimit, ...]:
        resolved: dict[tuple[str, str], EffectiveLimit] = {}
        for _, limit in _declared(chain, slug, kind):
            resolved.setdefault(limit.key, _anchored(limit, chain[0]))
        return tuple(resolved.values())

    return _effective(mp, resolve)


@broken("EFFECTIVE-CASCADING")
def cascading_effective_lists_own_limits_only(mp: pytest.MonkeyPatch) -> Flask:
    """A CASCADING group's effective limits leave out its ancestors' ceilings."""
    import simulator.limits as limits

    mp.setattr(
        limits,
        "_cascading",
        lambda chain, slug, kind: tuple(
            _anchored(lim, g) for g, lim in _declared(chain[:1], slug, kind)
        ),
    )
    return create_app()


@broken("EFFECTIVE-SLUGS")
def effective_models_include_ancestor_slugs(mp: pytest.MonkeyPatch) -> Flask:
    """`effective_models` also lists slugs only an ancestor declares."""
    import simulator.limits as limits

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


@broken("EFFECTIVE-ROOT")
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


@broken("READ-BACK")
def created_group_not_readable(mp: pytest.MonkeyPatch) -> Flask:
    """GET of a group of one's own answers 404 (a lost write); other answers stay."""
    from simulator.errors import GroupNotFound

    def get_group(group_id: str) -> Response:
        key = app_module.authorized(Scope.MANAGEMENT)
        app_module.gateway().store.get_group(key.workspace.name, group_id)
        raise GroupNotFound()

    return replace_view(mp, "get_group", get_group)


@broken("GROUP-OTHER-WORKSPACE")
def foreign_group_is_not_found(mp: pytest.MonkeyPatch) -> Flask:
    """Another workspace's group gives 404 instead of 403."""
    from simulator.errors import GroupInOtherWorkspace

    mp.setitem(app_module.ERROR_STATUS, GroupInOtherWorkspace, 404)
    return create_app()


@broken("GROUP-NOT-FOUND")
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


@broken("DELETE-RECURSIVE")
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


@broken("DELETE-RESPONSE")
def delete_answers_without_metadata(mp: pytest.MonkeyPatch) -> Flask:
    """Delete answers only `{id, deleted_at}`."""
    original = serialize.deleted_json
    mp.setattr(
        serialize,
        "deleted_json",
        lambda d: {k: v for k, v in original(d).items() if k != "metadata"},
    )
    mp.setattr(app_module, "deleted_json", serialize.deleted_json)
    return create_app()


def variants() -> Iterator[Variant]:
    yield from BROKEN
