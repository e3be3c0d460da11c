"""The Flask shell: routes from openapi.yaml's operations, thin views, errors mapped once.

`create_app(config)` gives an app with its own fresh store; per-app state lives in
`app.extensions["frontier_gateway"]`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Request

from simulator.core.access import ApiKey, KeyRing, Scope, authorize
from simulator.core.clock import Clock
from simulator.core.config import Config, default_config
from simulator.core.endpoints import EndpointBook
from simulator.core.errors import (
    ChildExceedsAncestorLimit,
    DuplicateExternalEntityId,
    EndpointInOtherWorkspace,
    EndpointNotFound,
    GatewayError,
    GroupInOtherWorkspace,
    GroupNotFound,
    HierarchyTooDeep,
    InferenceKeyRefused,
    InvalidPayload,
    KeyNotFound,
    LimitExceeded,
    ManagementRateLimited,
    ManagementScopeRequired,
    ModelNotInGroup,
    ModeMismatch,
    ParentNotFound,
    Unauthenticated,
    WorkspaceNotOnboarded,
)
from simulator.core.inference import Inference
from simulator.core.keys import check_registered_key, verify_signature
from simulator.core.model import Group, group_update_from_json, new_group_from_json
from simulator.core.pagination import decode_cursor, encode_cursor
from simulator.core.ratelimit import ManagementRateLimit
from simulator.core.serialize import (
    deleted_json,
    endpoint_json,
    from_json,
    group_json,
    key_json,
    page_json,
    to_json,
    usage_json,
)
from simulator.core.spec import BodyValidator, QueryValidator, load_spec, operations
from simulator.core.store import IdGenerator, Store
from simulator.harness.seed import Seed
from simulator.web.control import install as install_controls
from simulator.web.delivery import DeliveryEngine
from simulator.web.dispatch import GatewayDispatch, current, request
from simulator.web.guard import ControlGuard
from simulator.web.index import install as install_index
from simulator.web.inference import install as install_inference
from simulator.web.interceptor import AUTHENTICATED

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
    KeyNotFound: 404,
    EndpointNotFound: 404,
    EndpointInOtherWorkspace: 403,
    InferenceKeyRefused: 401,
    ModelNotInGroup: 404,
    LimitExceeded: 429,
    ManagementRateLimited: 429,
}
RULE_HEADER = "X-Frontier-Rule"  # names the contract rule behind every simulator error
SIGNATURE_HEADER = "X-Baseten-Signature"
EXTENSION = "frontier_gateway"
_JSON_TYPES = ("application/json",)


@dataclass
class Gateway:
    """The state one app owns."""

    config: Config
    store: Store
    endpoints: EndpointBook
    keyring: KeyRing
    validators: dict[str, BodyValidator]
    queries: dict[str, QueryValidator]
    clock: Clock
    inference: Inference
    webhooks: DeliveryEngine
    rate_limit: ManagementRateLimit | None = None


def create_app(
    config: Config | None = None,
    *,
    store: Store | None = None,
    seed: Seed | None = None,
    control_api: bool = True,
    spec: Mapping[str, Any] | None = None,
    control_token: str | None = None,
) -> Flask:
    """An app with its own state. `seed` is created first (SeedError if refused);
    `control_api=False` leaves out the test-only `/_sim/` routes and `X-Sim-Fault` header.
    `spec` is the OpenAPI document whose schemas validate request bodies and queries
    (openapi.yaml by default), so an edited contract can be served as it is.
    `control_token`: the control plane then needs `X-Sim-Control: <token>` (guard.py).
    """
    config = config or default_config()
    spec = spec or load_spec()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    clock = Clock()
    store = store or Store(clock=clock.timestamp, new_id=IdGenerator(config.id_seed))
    keyring = KeyRing(config.keys)
    webhooks = DeliveryEngine(clock, config.webhooks)
    app.extensions[EXTENSION] = state = Gateway(
        config=config,
        store=store,
        endpoints=EndpointBook(store.clock, store.new_id),
        keyring=keyring,
        validators={
            op.operation_id: BodyValidator(spec, op.body_schema, config.strict_fields)
            for op in operations(spec)
            if op.body_schema is not None
        },
        queries={op.operation_id: QueryValidator(op.query) for op in operations(spec) if op.query},
        clock=clock,
        inference=Inference(store, keyring, config.models, clock, billing=webhooks),
        webhooks=webhooks,
        rate_limit=(
            ManagementRateLimit(config.management_rate_limit)
            if config.management_rate_limit
            else None
        ),
    )
    if state.rate_limit is not None:
        app.before_request(_rate_limited)
    app.register_error_handler(GatewayError, gateway_error_response)
    app.register_error_handler(HTTPException, _http_error)
    for route, endpoint, methods in ROUTES:
        app.add_url_rule(route, view_func=endpoint, methods=methods)
    app.wsgi_app = GatewayDispatch(  # type: ignore[method-assign]  # Flask's documented hook
        app,
        app.wsgi_app,
        ROUTES,
        state,
        before=_rate_limited if state.rate_limit is not None else None,
        on_gateway_error=gateway_error_response,
        on_http_error=_http_error,
        gateway_error=GatewayError,
    )
    install_inference(app, state.inference, state.validators["createChatCompletion"])
    install_index(app)
    install_controls(
        app,
        state,
        seed=seed,
        control_api=control_api,
        webhooks=webhooks,
        guard=ControlGuard(control_token),
    )
    return app


def close(app: Flask) -> None:
    """Stops the app's background work (the webhook delivery threads)."""
    gateway_of(app).webhooks.close()


def gateway_of(app: Flask) -> Gateway:
    state: Gateway = app.extensions[EXTENSION]
    return state


def gateway() -> Gateway:
    """The app's state, in a view served by GatewayDispatch or by Flask."""
    served = current.get()
    state: Gateway = served.state if served is not None else current_app.extensions[EXTENSION]
    return state


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(to_json(payload), status=status, mimetype="application/json")


def _rate_limited() -> None:
    """MGMT-RATE-LIMIT on the management routes, per key, after authentication (an unknown
    key gets its 401 from the view) and before anything else."""
    if not request.path.startswith(MANAGEMENT_PREFIX):
        return
    state = gateway()
    try:
        key = state.keyring.authenticate(request.headers.get("Authorization"))
    except Unauthenticated:
        return
    if state.rate_limit is not None:
        state.rate_limit.admit(key.key, time.monotonic())


def authorized(scope: Scope, state: Gateway | None = None) -> ApiKey:
    """The caller's key with `scope`, checked from the headers alone: no view reads a body
    before this, so a caller without a key can't hold a request thread with a slow upload."""
    environ = request.environ
    key = (state or gateway()).keyring.authenticate(environ.get("HTTP_AUTHORIZATION"))
    environ[AUTHENTICATED] = key  # the journal names the caller from it
    authorize(key, scope)
    return key


def json_body(operation_id: str) -> Any:
    """The request body, parsed and validated against the operation's schema (PAYLOAD-JSON).

    JSON text is UTF-8 (RFC 8259): other encodings, a byte order mark and strings holding
    a lone surrogate are refused like any other malformed body.
    """
    req: Request = request
    mimetype = req.environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
    if mimetype not in _JSON_TYPES and not mimetype.endswith("+json"):
        raise InvalidPayload("Content-Type must be application/json.")
    raw = req.get_data()  # cached: register-key verifies a signature over these bytes
    _refuse_cut_short(req, raw)
    if not raw.strip():
        raise InvalidPayload("The request body is empty; send a JSON object.")
    try:
        body = from_json(raw)
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise InvalidPayload(f"The request body isn't valid JSON: {_short(error)}") from None
    if not isinstance(body, dict):
        raise InvalidPayload(f"The request body must be a JSON object, not {_kind(body)}.")
    gateway().validators[operation_id].validate(body)
    return body


def _refuse_cut_short(req: Request, raw: bytes) -> None:
    """413 for a body without Content-Length (chunked) that runs past the cap.

    Werkzeug stops reading such a body at max_body_bytes without a word, so a cut-short
    prefix would be parsed (and could even be valid JSON); a byte left on the wire means
    the body was too large.
    """
    environ = req.environ
    if (
        "CONTENT_LENGTH" in environ
        and "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    ):
        return  # the common case: a sized body, which werkzeug checked against the cap
    limit = req.max_content_length
    if limit is None or len(raw) < limit:
        return
    if environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()


# Views: authorize, parse, one domain call, serialise. A group answer is a detached copy
# taken under the store's lock (Group.detached), so it shows one moment of the hierarchy,
# and is serialised after the lock is released: a large answer never holds up other calls.


def create_group() -> Response:
    state = gateway()  # looked up once: the busiest route
    key = authorized(Scope.MANAGEMENT, state)
    new = new_group_from_json(json_body("createGroup"))
    store = state.store
    with store.lock:
        group = store.create_group(key.workspace.name, new).detached()
    return json_response(group_json(group))


def list_groups() -> Response:
    key = authorized(Scope.VIEW)  # ACCESS-VIEW: listing needs only view scope
    after, limit, query = page_request("groups", "listGroups")
    extid = query.get("external_entity_id")
    store = gateway().store
    copies: dict[str, Group] = {}
    with store.lock:
        groups, last = store.list_groups(key.workspace.name, after, limit, extid)
        groups = [g.detached(copies) for g in groups]
    return json_response(page_json([group_json(g) for g in groups], next_cursor("groups", last)))


def get_group(group_id: str) -> Response:
    key = authorized(Scope.MANAGEMENT)
    store = gateway().store
    with store.lock:
        group = store.get_group(key.workspace.name, group_id).detached()
    return json_response(group_json(group))


def update_group(group_id: str) -> Response:
    key = authorized(Scope.MANAGEMENT)
    update = group_update_from_json(json_body("updateGroup"))
    store = gateway().store
    with store.lock:
        group = store.update_group(key.workspace.name, group_id, update).detached()
    return json_response(group_json(group))


def delete_group(group_id: str) -> Response:
    key = authorized(Scope.MANAGEMENT)
    return json_response(deleted_json(gateway().store.delete_group(key.workspace.name, group_id)))


def group_usage(group_id: str) -> Response:
    key = authorized(Scope.MANAGEMENT)
    store = gateway().store
    with store.lock:
        group = store.get_group(key.workspace.name, group_id)
        return json_response(usage_json(group, gateway().clock.now()))


def mint_key(group_id: str) -> Response:
    key = authorized(Scope.MANAGEMENT)
    body = json_body("createApiKey") if request.content_length or request.data else {}
    minted = gateway().store.mint_key(key.workspace.name, group_id, body.get("name"))
    return json_response({"api_key": minted.plaintext, **key_json(minted.record)})


def register_key(group_id: str) -> Response:
    key = authorized(Scope.MANAGEMENT)
    body = json_body("registerApiKey")
    store = gateway().store
    store.get_group(key.workspace.name, group_id)  # 404/403 before the key's own rules
    verify_signature(
        key.workspace.public_key, request.headers.get(SIGNATURE_HEADER), request.get_data()
    )
    check_registered_key(body["key"])
    store.register_key(key.workspace.name, group_id, body["key"], body.get("name"))
    return json_response({"ok": True})


def list_keys(group_id: str) -> Response:
    key = authorized(Scope.MANAGEMENT)
    after, limit, _ = page_request("keys", "listApiKeys")
    records, last = gateway().store.list_keys(key.workspace.name, group_id, after, limit)
    return json_response(page_json([key_json(r) for r in records], next_cursor("keys", last)))


def get_key(group_id: str, api_key_prefix: str) -> Response:
    key = authorized(Scope.MANAGEMENT)
    return json_response(
        key_json(gateway().store.get_key(key.workspace.name, group_id, api_key_prefix))
    )


def revoke_key(group_id: str, api_key_prefix: str) -> Response:
    key = authorized(Scope.MANAGEMENT)
    record = gateway().store.revoke_key(key.workspace.name, group_id, api_key_prefix)
    return json_response({"prefix": record.prefix})


def create_endpoint() -> Response:
    key = authorized(Scope.MANAGEMENT)
    body = json_body("createEndpoint")
    book = gateway().endpoints
    with book.lock:
        endpoint = book.create(key.workspace, body["slug"], body["targets"], body.get("region"))
        return json_response(endpoint_json(endpoint))


def list_endpoints() -> Response:
    key = authorized(Scope.MANAGEMENT)
    after, limit, _ = page_request("endpoints", "listEndpoints")
    book = gateway().endpoints
    with book.lock:
        items, last = book.list(key.workspace.name, after, limit)
        return json_response(
            page_json([endpoint_json(e) for e in items], next_cursor("endpoints", last))
        )


def get_endpoint(endpoint_id: str) -> Response:
    key = authorized(Scope.MANAGEMENT)
    book = gateway().endpoints
    with book.lock:
        return json_response(endpoint_json(book.get(key.workspace.name, endpoint_id)))


def update_endpoint(endpoint_id: str) -> Response:
    key = authorized(Scope.MANAGEMENT)
    body = json_body("updateEndpoint")
    state = gateway()
    with state.endpoints.lock:
        endpoint = state.endpoints.update(
            key.workspace, endpoint_id, body, rename=state.config.endpoint_rename
        )
        return json_response(endpoint_json(endpoint))


def delete_endpoint(endpoint_id: str) -> Response:
    key = authorized(Scope.MANAGEMENT)
    endpoint = gateway().endpoints.delete(key.workspace.name, endpoint_id)
    return json_response({"id": endpoint.id, "slug": endpoint.slug})


def page_request(kind: str, operation_id: str) -> tuple[int, int, dict[str, Any]]:
    """The (after, limit, query) of a list call, checked against the spec (LIST-LIMIT,
    LIST-CURSOR, LIST-FILTER)."""
    query = gateway().queries[operation_id].parse(request.args)
    return decode_cursor(kind, query.get("cursor")), query["limit"], query


def next_cursor(kind: str, last: int | None) -> str | None:
    return None if last is None else encode_cursor(kind, last)


MANAGEMENT_PREFIX = "/v1/gateway/"
GROUP = "/v1/gateway/groups/<group_id>"
KEYS = GROUP + "/api_keys"
ENDPOINTS = "/v1/gateway/endpoints"
ROUTES: list[tuple[str, Callable[..., Response], list[str]]] = [
    ("/v1/gateway/groups", create_group, ["POST"]),
    ("/v1/gateway/groups", list_groups, ["GET"]),
    (GROUP, get_group, ["GET"]),
    (GROUP, update_group, ["PATCH"]),
    (GROUP, delete_group, ["DELETE"]),
    (GROUP + "/usage", group_usage, ["GET"]),
    (KEYS, mint_key, ["POST"]),
    (KEYS, list_keys, ["GET"]),
    (KEYS + "/register", register_key, ["POST"]),
    (KEYS + "/<api_key_prefix>", get_key, ["GET"]),
    (KEYS + "/<api_key_prefix>", revoke_key, ["DELETE"]),
    (ENDPOINTS, create_endpoint, ["POST"]),
    (ENDPOINTS, list_endpoints, ["GET"]),
    (ENDPOINTS + "/<endpoint_id>", get_endpoint, ["GET"]),
    (ENDPOINTS + "/<endpoint_id>", update_endpoint, ["PATCH"]),
    (ENDPOINTS + "/<endpoint_id>", delete_endpoint, ["DELETE"]),
]


def status_for(error: GatewayError) -> int:
    for cls in type(error).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    raise LookupError(f"{type(error).__name__} has no status")  # a completeness test prevents it


def gateway_error_response(error: GatewayError) -> Response:
    """A refusal in the API's error shape, with the rule behind it in X-Frontier-Rule."""
    response = json_response({"error": error.message, **error.fields()}, status_for(error))
    response.headers[RULE_HEADER] = error.rule
    response.headers.update(error.headers())
    return response


def _http_error(error: HTTPException) -> Response:
    """Routing 404/405, 413 and the rest in the API's error shape (ERR-BODY)."""
    response = json_response({"error": error.description or error.name}, error.code or 500)
    if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _short(error: BaseException) -> str:
    return str(error).splitlines()[0][:120] if str(error) else type(error).__name__


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )
