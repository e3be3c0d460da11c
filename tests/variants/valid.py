"""Valid simulators that differ from ours only where the documentation is silent.

The conformance suite must pass every one of them in its default mode: a real deployment
will make other undocumented choices than the simulator does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask, Response, request

import simulator.web.app as app_module
from simulator import create_app
from simulator.core.config import Config, default_config
from simulator.core.errors import (
    ChildExceedsAncestorLimit,
    GatewayError,
    InvalidPayload,
    PublicKeyMissing,
    SignatureInvalid,
    Unauthenticated,
)
from simulator.core.store import IdGenerator, Store
from tests.variants.broken import Build, Variant

VALID: list[Variant] = []


def valid(build: Build) -> Build:
    VALID.append(Variant(build.__name__, frozenset(), build, build.__doc__ or ""))
    return build


def json_rewriter(
    app: Flask, edit: Callable[[Any], Any], when: Callable[[Any], bool] = lambda request: True
) -> Flask:
    """An app whose 200 JSON answers pass through `edit` when `when(request)` holds."""

    @app.after_request
    def _rewrite(response: Response) -> Response:
        if (
            response.mimetype == "application/json"
            and response.status_code == 200
            and when(request)
        ):
            response.set_data(json.dumps(edit(json.loads(response.get_data()))))
        return response

    return app


@valid
def uuid_ids(mp: pytest.MonkeyPatch) -> Flask:
    """Ids are UUIDs, not twelve lowercase characters."""

    def new_id(self: IdGenerator, *args: Any) -> str:
        return original(self, *args) if args else str(uuid.uuid4())

    original = IdGenerator.__call__
    mp.setattr(IdGenerator, "__call__", new_id)
    return create_app()


@valid
def forbidden_for_unknown_keys(mp: pytest.MonkeyPatch) -> Flask:
    """A missing or unknown key gets 403 instead of 401."""
    mp.setitem(app_module.ERROR_STATUS, Unauthenticated, 403)
    return create_app()


@valid
def other_error_messages(mp: pytest.MonkeyPatch) -> Flask:
    """Every error message is different, but the ones the documentation quotes."""

    def gateway_error(error: GatewayError) -> Response:
        if not isinstance(error, ChildExceedsAncestorLimit | SignatureInvalid | PublicKeyMissing):
            error.message = f"Refused ({type(error).__name__})."
        return app_module.gateway_error_response(error)

    app = create_app()
    app.register_error_handler(GatewayError, gateway_error)
    return app


@valid
def problem_json_errors(mp: pytest.MonkeyPatch) -> Flask:
    """Errors are `{"detail": …, "status": …}` objects, the documented message kept verbatim."""
    app = create_app()

    @app.after_request
    def _problem(response: Response) -> Response:
        if response.status_code >= 400 and response.mimetype == "application/json":
            message = json.loads(response.get_data()).get("error")
            response.set_data(json.dumps({"detail": message, "status": response.status_code}))
        return response

    return app


@valid
def extra_response_fields(mp: pytest.MonkeyPatch) -> Flask:
    """Responses carry fields the documentation doesn't list, at every level."""

    def enrich(body: Any, key: str = "") -> Any:
        if isinstance(body, dict) and key != "usage":  # usage's keys are slugs, not fields
            return {**{k: enrich(v, k) for k, v in body.items()}, "x_revision": 3}
        if isinstance(body, list):
            return [enrich(item) for item in body]
        return body

    return json_rewriter(create_app(), enrich)


@valid
def reversed_list_orders(mp: pytest.MonkeyPatch) -> Flask:
    """Models, limits and effective entries come back in reverse order."""

    def reverse_lists(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v[::-1] if isinstance(v, list) else v for k, v in body.items()}

    def reverse_group(body: dict[str, Any]) -> None:
        body["models"] = [reverse_lists(m) for m in body["models"]][::-1]
        body["effective_models"] = [reverse_lists(m) for m in body["effective_models"]][::-1]

    def edit(body: Any) -> Any:
        groups = body.get("items", []) if "pagination" in body else [body]
        for group in groups:
            if "effective_models" in group:  # a group object, not a deletion's answer
                reverse_group(group)
        return body

    return json_rewriter(create_app(), edit, lambda r: r.path.startswith("/v1/gateway/groups"))


@valid
def fractional_second_timestamps(mp: pytest.MonkeyPatch) -> Flask:
    """Timestamps carry microseconds and a `+00:00` offset."""

    def clock() -> str:
        return datetime.now(UTC).isoformat(timespec="microseconds")

    return create_app(store=Store(clock=clock))


@valid
def duplicate_id_checked_first(mp: pytest.MonkeyPatch) -> Flask:
    """The duplicate external_entity_id check runs before every other rule of create."""
    from simulator.core.errors import DuplicateExternalEntityId

    original_json_body = app_module.json_body

    def json_body(operation_id: str) -> Any:
        store = app_module.gateway().store
        raw = app_module.request.get_json(silent=True)
        if operation_id == "createGroup" and isinstance(raw, dict):
            metadata = raw.get("metadata")
            extid = metadata.get("external_entity_id") if isinstance(metadata, dict) else None
            key = app_module.authorized(app_module.Scope.MANAGEMENT)
            if isinstance(extid, str) and store.find_by_external_id(key.workspace.name, extid):
                raise DuplicateExternalEntityId()
        return original_json_body(operation_id)

    mp.setattr(app_module, "json_body", json_body)
    return create_app()


@valid
def unknown_fields_refused(mp: pytest.MonkeyPatch) -> Flask:
    """Unknown request fields are refused with 400 (the simulator's --strict-fields)."""
    config = default_config()
    return create_app(Config(**{**config.__dict__, "strict_fields": True}))


@valid
def lenient_content_type(mp: pytest.MonkeyPatch) -> Flask:
    """A body is read as JSON whatever its Content-Type says."""
    app = create_app()
    inner = app.wsgi_app

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("CONTENT_LENGTH") not in (None, "", "0"):
            environ["CONTENT_TYPE"] = "application/json"
        return inner(environ, start_response)

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]
    return app


@valid
def name_null_refused(mp: pytest.MonkeyPatch) -> Flask:
    """`"name": null` is refused; a name is a string or left out."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["CreateGroupMetadata"]["properties"]["name"]["type"] = "string"

    return _with_spec(mp, edit)


@valid
def duplicate_slugs_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """One slug may appear twice in `models`."""
    import simulator.core.model as model

    mp.setattr(model, "refuse_duplicate_slugs", lambda configs: None)
    return create_app()


@valid
def external_ids_compared_without_case(mp: pytest.MonkeyPatch) -> Flask:
    """`external_entity_id`s that differ only in case are duplicates."""
    original = Store.create_group

    def create(self: Store, workspace: str, new: Any) -> Any:
        if any(
            g.workspace == workspace
            and g.external_entity_id.lower() == new.external_entity_id.lower()
            for g in self.all_groups()
        ):
            from simulator.core.errors import DuplicateExternalEntityId

            raise DuplicateExternalEntityId()
        return original(self, workspace, new)

    mp.setattr(Store, "create_group", create)
    return create_app()


@valid
def fractional_thresholds_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """A threshold may be any number of at least 1; it is stored rounded down."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["Threshold"]["type"] = "number"

    return _with_spec(mp, edit)


@valid
def three_environments_only(mp: pytest.MonkeyPatch) -> Flask:
    """A BASETEN target's environment is production, staging or development, nothing else."""
    import simulator.core.endpoints as endpoints

    original = endpoints.check_provider_fields

    def check(target: dict[str, Any]) -> None:
        if target.get("environment_name") not in (None, "production", "staging", "development"):
            raise InvalidPayload("Unknown environment.", rule="EP-ENVIRONMENT")
        original(target)

    mp.setattr(endpoints, "check_provider_fields", check)
    return create_app()


@valid
def endpoint_slugs_immutable(mp: pytest.MonkeyPatch) -> Flask:
    """A new slug on endpoint PATCH is refused: the machine spec's reading (EP-RENAME)."""
    config = default_config()
    return create_app(Config(**{**config.__dict__, "endpoint_rename": False}))


@valid
def unset_target_fields_left_out(mp: pytest.MonkeyPatch) -> Flask:
    """Endpoint answers leave out the target fields that are null, as the docs' example does."""

    def edit(body: Any) -> Any:
        for endpoint in body["items"] if "pagination" in body else [body]:
            if "targets" in endpoint:  # not a deletion's {id, slug}
                endpoint["targets"] = [
                    {k: v for k, v in t.items() if v is not None} for t in endpoint["targets"]
                ]
        return body

    return json_rewriter(create_app(), edit, lambda r: r.path.startswith("/v1/gateway/endpoints"))


@valid
def nulls_refused(mp: pytest.MonkeyPatch) -> Flask:
    """An explicit null for an optional endpoint or key field is refused with 400."""

    def edit(schemas: dict[str, Any]) -> None:
        for name in ("model_id", "secret_id", "target_model", "base_url"):
            schemas["Target"]["properties"][name]["type"] = "string"
        schemas["Target"]["properties"]["environment_name"]["type"] = "string"
        schemas["Target"]["properties"]["vertex_config"]["type"] = "object"
        region = schemas["CreateEndpointRequest"]["properties"]["region"]
        region.update(type="string", enum=["UNRESTRICTED", "EU"])
        schemas["UpdateEndpointRequest"]["properties"]["targets"]["type"] = "array"
        schemas["CreateApiKeyRequest"]["properties"]["name"]["type"] = "string"

    return _with_spec(mp, edit)


@valid
def key_names_unlimited(mp: pytest.MonkeyPatch) -> Flask:
    """A key's name may be longer than 255 characters, as the machine spec allows."""

    def edit(schemas: dict[str, Any]) -> None:
        del schemas["CreateApiKeyRequest"]["properties"]["name"]["maxLength"]

    return _with_spec(mp, edit)


@valid
def empty_target_strings_accepted(mp: pytest.MonkeyPatch) -> Flask:
    """Empty model_id, secret_id, target_model and environment_name are taken as given."""

    def edit(schemas: dict[str, Any]) -> None:
        for name in ("model_id", "secret_id", "target_model"):
            del schemas["Target"]["properties"][name]["allOf"]
        del schemas["Target"]["properties"]["environment_name"]["minLength"]

    return _with_spec(mp, edit)


@valid
def model_api_target_model_optional(mp: pytest.MonkeyPatch) -> Flask:
    """A BASETEN_MODEL_API target may leave target_model out."""
    import simulator.core.endpoints as endpoints

    original = endpoints.check_provider_fields

    def check(target: dict[str, Any]) -> None:
        if target["provider"] == "BASETEN_MODEL_API" and target.get("target_model") is None:
            target = {**target, "target_model": "x"}
        original(target)

    mp.setattr(endpoints, "check_provider_fields", check)
    return create_app()


@valid
def offset_cursors(mp: pytest.MonkeyPatch) -> Flask:
    """The group list's cursor counts the items shown, so a delete between pages skips one."""
    original = Store.list_groups

    def list_groups(
        self: Store, workspace: str, after: int, limit: int, external_entity_id: Any = None
    ) -> Any:
        if external_entity_id is not None:
            return original(self, workspace, after, limit, external_entity_id)
        listing = [g for g in self.all_groups() if g.workspace == workspace]
        more = after + limit < len(listing)
        return listing[after : after + limit], after + limit if more else None

    mp.setattr(Store, "list_groups", list_groups)
    return create_app()


@valid
def empty_endpoint_update_refused(mp: pytest.MonkeyPatch) -> Flask:
    """PATCH of an endpoint with `{}` gives 400 and changes nothing, as for groups."""

    def edit(schemas: dict[str, Any]) -> None:
        schemas["UpdateEndpointRequest"]["minProperties"] = 1

    return _with_spec(mp, edit)


@valid
def new_immutable_values_ignored_on_update(mp: pytest.MonkeyPatch) -> Flask:
    """PATCH ignores a new external_entity_id, mode or parent (as a client generated from the
    machine spec, which declares neither, would see it) and changes the rest."""
    import simulator.core.store as store
    from simulator.core.model import Group, GroupUpdate

    def refuse(group: Group, update: GroupUpdate) -> None:
        return None

    mp.setattr(store, "refuse_immutable_changes", refuse)
    return create_app()


def _query_spec(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """A copy of openapi.yaml whose shared query parameters `edit` changed."""
    import copy

    from simulator.core.spec import load_spec

    spec = copy.deepcopy(load_spec())
    edit(spec["components"]["parameters"])
    return spec


@valid
def empty_cursor_is_the_first_page(mp: pytest.MonkeyPatch) -> Flask:
    """`cursor=` (empty) reads as no cursor: the first page."""
    original = app_module.decode_cursor
    mp.setattr(app_module, "decode_cursor", lambda kind, cursor: original(kind, cursor or None))
    spec = _query_spec(lambda params: params["Cursor"]["schema"].pop("minLength"))
    return create_app(spec=spec)


@valid
def out_of_range_limits_clamped(mp: pytest.MonkeyPatch) -> Flask:
    """A `limit` below 1 reads as 1, above 1000 as 1000, instead of a 400."""
    original = app_module.page_request

    def page_request(kind: str, operation_id: str) -> tuple[int, int, dict[str, Any]]:
        after, limit, query = original(kind, operation_id)
        return after, min(max(limit, 1), 1000), query

    def edit(params: dict[str, Any]) -> None:
        for bound in ("minimum", "maximum"):
            params["Limit"]["schema"].pop(bound)

    mp.setattr(app_module, "page_request", page_request)
    return create_app(spec=_query_spec(edit))


def _with_spec(mp: pytest.MonkeyPatch, edit: Callable[[dict[str, Any]], None]) -> Flask:
    from tests.variants.broken import with_spec

    return with_spec(mp, edit)


# What each valid variant breaks among the choice rules, which only --strict checks: a
# strict run must fail it and name these rules.
STRICT_BREAKS: dict[str, frozenset[str]] = {
    "forbidden_for_unknown_keys": frozenset({"AUTH-MISSING"}),
    "problem_json_errors": frozenset({"ERR-BODY"}),
    "duplicate_id_checked_first": frozenset({"ERR-ONE-RULE"}),
    "unknown_fields_refused": frozenset({"EXTRA-FIELDS"}),
    "reversed_list_orders": frozenset({"RESP-ORDER"}),
    "name_null_refused": frozenset({"NAME-NULL"}),
    "duplicate_slugs_accepted": frozenset({"SLUG-UNIQUE"}),
    "external_ids_compared_without_case": frozenset({"EXTID-EXACT"}),
    "three_environments_only": frozenset({"EP-ENVIRONMENT"}),
    "nulls_refused": frozenset({"NULL-AS-OMITTED"}),
    "key_names_unlimited": frozenset({"KEY-NAME-LENGTH"}),
    "empty_target_strings_accepted": frozenset({"EP-TARGET-NONEMPTY", "EP-ENVIRONMENT"}),
    "model_api_target_model_optional": frozenset({"EP-MODEL-API"}),
    "fractional_thresholds_accepted": frozenset({"THRESHOLD-INT"}),
    "offset_cursors": frozenset({"LIST-STABLE"}),
    "empty_endpoint_update_refused": frozenset({"EP-PATCH-EMPTY"}),
    "new_immutable_values_ignored_on_update": frozenset({"PATCH-IMMUTABLE-REFUSED"}),
    "empty_cursor_is_the_first_page": frozenset({"LIST-CURSOR-UNKNOWN"}),
    "out_of_range_limits_clamped": frozenset({"LIST-LIMIT-RANGE"}),
}
