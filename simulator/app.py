"""The Flask shell: routes from openapi.yaml's operations, thin views, errors mapped once.

`create_app(config)` gives an app with its own fresh store; per-app state lives in
`app.extensions["frontier_gateway"]`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from simulator.access import ApiKey, KeyRing, Scope, authorize
from simulator.config import Config, default_config
from simulator.errors import (
    ChildExceedsAncestorLimit,
    DuplicateExternalEntityId,
    GatewayError,
    GroupInOtherWorkspace,
    GroupNotFound,
    HierarchyTooDeep,
    InvalidPayload,
    ManagementScopeRequired,
    ModeMismatch,
    ParentNotFound,
    Unauthenticated,
    WorkspaceNotOnboarded,
)
from simulator.model import new_group_from_json
from simulator.serialize import deleted_json, group_json
from simulator.spec import BodyValidator, load_spec, operations
from simulator.store import IdGenerator, Store

# The one mapping from domain error to HTTP status (checked against openapi.yaml by a test).
ERROR_STATUS: dict[type[GatewayError], int] = {
    Unauthenticated: 401,
    WorkspaceNotOnboarded: 403,
    ManagementScopeRequired: 403,
    GroupInOtherWorkspace: 403,
    InvalidPayload: 400,
    ModeMismatch: 400,
    HierarchyTooDeep: 400,
    ChildExceedsAncestorLimit: 400,
    DuplicateExternalEntityId: 400,
    ParentNotFound: 404,
    GroupNotFound: 404,
}
RULE_HEADER = "X-Frontier-Rule"  # names the contract rule behind every simulator error
EXTENSION = "frontier_gateway"
_JSON_TYPES = ("application/json",)


@dataclass
class Gateway:
    """The state one app owns."""

    config: Config
    store: Store
    keyring: KeyRing
    validators: dict[str, BodyValidator]


def create_app(config: Config | None = None, *, store: Store | None = None) -> Flask:
    config = config or default_config()
    spec = load_spec()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.extensions[EXTENSION] = Gateway(
        config=config,
        store=store or Store(new_id=IdGenerator(config.id_seed)),
        keyring=KeyRing(config.keys),
        validators={
            op.operation_id: BodyValidator(spec, op.body_schema, config.strict_fields)
            for op in operations(spec)
            if op.body_schema is not None
        },
    )
    app.register_error_handler(GatewayError, _gateway_error)
    app.register_error_handler(HTTPException, _http_error)
    for route, endpoint, methods in ROUTES:
        app.add_url_rule(route, view_func=endpoint, methods=methods)
    return app


def gateway() -> Gateway:
    state: Gateway = current_app.extensions[EXTENSION]
    return state


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def authorized(scope: Scope) -> ApiKey:
    key = gateway().keyring.authenticate(request.headers.get("Authorization"))
    authorize(key, scope)
    return key


def json_body(operation_id: str) -> Any:
    """The request body, parsed and validated against the operation's schema (PAYLOAD-JSON)."""
    if request.mimetype not in _JSON_TYPES and not request.mimetype.endswith("+json"):
        raise InvalidPayload("Content-Type must be application/json.")
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise InvalidPayload("The request body is empty; send a JSON object.")
    try:
        body = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise InvalidPayload(f"The request body isn't valid JSON: {_short(error)}") from None
    if not isinstance(body, dict):
        raise InvalidPayload(f"The request body must be a JSON object, not {_kind(body)}.")
    gateway().validators[operation_id].validate(body)
    return body


# Views: authorize, parse, one domain call, serialise. The store's lock also covers the
# serialisation, so a response never shows a hierarchy halfway through a change.


def create_group() -> Response:
    key = authorized(Scope.MANAGEMENT)
    new = new_group_from_json(json_body("createGroup"))
    store = gateway().store
    with store.lock:
        return json_response(group_json(store.create_group(key.workspace.name, new)))


def get_group(group_id: str) -> Response:
    key = authorized(Scope.MANAGEMENT)
    store = gateway().store
    with store.lock:
        return json_response(group_json(store.get_group(key.workspace.name, group_id)))


def delete_group(group_id: str) -> Response:
    key = authorized(Scope.MANAGEMENT)
    return json_response(deleted_json(gateway().store.delete_group(key.workspace.name, group_id)))


ROUTES: list[tuple[str, Callable[..., Response], list[str]]] = [
    ("/v1/gateway/groups", create_group, ["POST"]),
    ("/v1/gateway/groups/<group_id>", get_group, ["GET"]),
    ("/v1/gateway/groups/<group_id>", delete_group, ["DELETE"]),
]


def status_for(error: GatewayError) -> int:
    for cls in type(error).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    raise LookupError(f"{type(error).__name__} has no status")  # a completeness test prevents it


def _gateway_error(error: GatewayError) -> Response:
    response = json_response({"error": error.message}, status_for(error))
    response.headers[RULE_HEADER] = error.rule
    return response


def _http_error(error: HTTPException) -> Response:
    """Routing 404/405, 413 and the rest in the API's error shape (ERR-BODY)."""
    response = json_response({"error": error.description or error.name}, error.code or 500)
    if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _short(error: BaseException) -> str:
    return str(error).splitlines()[0][:120] if str(error) else type(error).__name__


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )
