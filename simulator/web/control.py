"""The control API under `/_sim/` (control-openapi.yaml).

Test tooling's HTTP shell: the routes take no API key, but only the simulator's owner may
call them (guard.py: Host, Origin, `X-Sim-Control`, and a token beyond loopback).
`create_app(..., control_api=False)` and `frontier-sim --no-control-api` leave them out.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from simulator.core.errors import echo
from simulator.core.webhooks import STATES, Delivery, Receiver, check_url, sample_event
from simulator.harness.bench import Harness
from simulator.harness.control_schema import ControlInputError, check, load_control_spec
from simulator.harness.seed import Seed, seed_from_mapping
from simulator.harness.snapshot import Domain
from simulator.web.delivery import DeliveryEngine
from simulator.web.guard import SAFE_METHODS, ControlGuard
from simulator.web.index import control_index
from simulator.web.interceptor import Interceptor

HARNESS = "frontier_gateway_harness"
WEBHOOKS = "frontier_gateway_webhooks"
CONTROL_MAX_BODY_BYTES = 256 * 1024 * 1024  # larger bodies get 413
GUARD = "frontier_gateway_guard"


def install(
    app: Flask,
    domain: Domain,
    *,
    seed: Seed | None,
    control_api: bool,
    webhooks: DeliveryEngine | None = None,
    guard: ControlGuard | None = None,
) -> Harness:
    """Loads the seed (raising SeedError), then mounts `/_sim/` and the interceptor.

    control-openapi.yaml is read here, at start: a reset, an import or a fault rule later
    reads no file, so a package reinstalled under a running server can't break them.
    """
    load_control_spec()
    bench = Harness(domain)
    app.extensions[HARNESS] = bench
    if webhooks is not None:  # a reset returns receivers to the configuration, empties logs
        app.extensions[WEBHOOKS] = webhooks
        bench.on_reset.append(webhooks.reset)
    if seed is not None:
        bench.seeded_keys = bench.load_seed(seed)
        bench.mark_baseline()
    if control_api:
        guard = guard or ControlGuard()
        app.extensions[GUARD] = guard
        app.register_blueprint(blueprint)
        app.wsgi_app = Interceptor(  # type: ignore[method-assign]  # Flask's documented hook
            app.wsgi_app,
            bench.faults,
            bench.journal,
            domain.keyring,
            domain.config.max_body_bytes,
            domain.clock,
            guard,
        )
    return bench


def harness(app: Flask) -> Harness:
    found: Harness = app.extensions[HARNESS]
    return found


# Views: thin, as on the Gateway side; ControlInputError becomes 400 in one place.

blueprint = Blueprint("frontier_gateway_control", __name__, url_prefix="/_sim")


def _harness() -> Harness:
    return harness(current_app)


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def _body() -> Any:
    """The request's JSON document; anything else, however malformed, is a 400."""
    try:
        body = json.loads(request.get_data())
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        body = None
    if body is None:
        raise ControlInputError("the body must be a JSON document")
    return body


@blueprint.before_request
def _owner_only() -> Response | None:
    """guard.py's rules, before any control call runs; then the control API's body cap."""
    guard: ControlGuard = current_app.extensions[GUARD]
    refusal = guard.refusal(request.environ, changes_state=request.method not in SAFE_METHODS)
    if refusal is not None:
        return _json(refusal.json(), 403)
    # Its own cap, above the Gateway's: an export of any state the Gateway can build imports.
    request.max_content_length = max(CONTROL_MAX_BODY_BYTES, request.max_content_length or 0)
    return None


@blueprint.errorhandler(ControlInputError)
def _refused(error: ControlInputError) -> Response:
    return _json({"error": str(error)}, 400)


@blueprint.get("/")
def index() -> Response:
    return _json(control_index())


@blueprint.post("/reset")
def reset() -> Response:
    return _json(_harness().reset())


@blueprint.get("/state")
def get_state() -> Response:
    return _json(_harness().export_state())


@blueprint.put("/state")
def put_state() -> Response:
    return _json(_harness().import_state(_body()))


@blueprint.post("/load")
def load() -> Response:
    keys = _harness().load_seed(seed_from_mapping(_body(), "body"))
    return _json({"api_keys": [k.json() for k in keys]})


@blueprint.post("/seed")
def seed_ids() -> Response:
    body = _body()
    check("IdSeed", body)
    _harness().seed_ids(body["seed"])
    return _json({"seed": body["seed"]})


@blueprint.get("/clock")
def get_clock() -> Response:
    return _json(_harness().clock())


@blueprint.put("/clock")
def set_clock() -> Response:
    return _json(_harness().set_clock(_body()))


@blueprint.delete("/clock")
def real_time() -> Response:
    return _json(_harness().real_time())


@blueprint.post("/clock/advance")
def advance_clock() -> Response:
    return _json(_harness().advance_clock(_body()))


@blueprint.get("/journal")
def journal() -> Response:
    raw = request.args.get("limit")
    if raw is not None and not (raw.isdigit() and int(raw) >= 1):
        raise ControlInputError(f"limit must be a whole number of at least 1, not {echo(raw)}")
    entries = _harness().journal.entries(
        int(raw) if raw else None, request.args.get("method"), request.args.get("path")
    )
    return _json({"entries": entries})


@blueprint.delete("/journal")
def clear_journal() -> Response:
    return _json({"entries": _harness().journal.clear()})


@blueprint.post("/faults")
def add_fault() -> Response:
    body = _body()
    if not isinstance(body, dict):
        raise ControlInputError("(top level): a fault rule is a JSON object")
    return _json(_harness().faults.add(body).json(), 201)


@blueprint.get("/faults")
def list_faults() -> Response:
    return _json({"rules": [rule.json() for rule in _harness().faults.rules()]})


@blueprint.delete("/faults")
def clear_faults() -> Response:
    return _json({"rules": _harness().faults.clear()})


@blueprint.delete("/faults/<rule_id>")
def delete_fault(rule_id: str) -> Response:
    rule = _harness().faults.remove(rule_id)
    if rule is None:
        return _json({"error": f"No fault rule {echo(rule_id)}."}, 404)
    return _json(rule.json())


# Billing webhooks: receivers, the delivery log, the dead-letter queue, faults, test events.


def _webhooks() -> DeliveryEngine:
    engine: DeliveryEngine = current_app.extensions[WEBHOOKS]
    return engine


def _workspace(name: str) -> str:
    """A workspace of the configuration, else 404 (raised as ControlNotFound)."""
    if not any(w.name == name for w in _harness().domain.config.workspaces):
        raise ControlNotFound(f"No workspace {name!r} in the configuration.")
    return name


def _receiver_json(workspace: str, receiver: Receiver | None) -> dict[str, Any]:
    now = _harness().domain.clock.now()
    return {"workspace": workspace, **(receiver.json(now) if receiver else {"url": None})}


def _deliveries(found: list[Delivery]) -> Response:
    return _json({"deliveries": [d.json() for d in found]})


class ControlNotFound(LookupError):
    """A control route naming something that isn't there: 404."""


@blueprint.errorhandler(ControlNotFound)
def _not_found(error: ControlNotFound) -> Response:
    return _json({"error": str(error)}, 404)


@blueprint.get("/webhooks/receivers")
def list_receivers() -> Response:
    receivers = _webhooks().receivers()
    return _json({"receivers": [_receiver_json(ws, r) for ws, r in sorted(receivers.items())]})


@blueprint.put("/webhooks/receivers/<workspace>")
def set_receiver(workspace: str) -> Response:
    body = _body()
    check("WebhookReceiver", body)
    try:
        check_url(body["url"])
    except ValueError as error:
        raise ControlInputError(f"url: {error}") from None
    receiver = Receiver(body["url"], body["secret"])
    _webhooks().configure(_workspace(workspace), receiver)
    return _json(_receiver_json(workspace, receiver))


@blueprint.delete("/webhooks/receivers/<workspace>")
def remove_receiver(workspace: str) -> Response:
    engine = _webhooks()
    receiver = engine.receiver(_workspace(workspace))
    if receiver is None:
        raise ControlNotFound(f"Workspace {workspace!r} has no webhook receiver.")
    engine.configure(workspace, None)
    return _json(_receiver_json(workspace, receiver))


@blueprint.post("/webhooks/receivers/<workspace>/rotate")
def rotate_secret(workspace: str) -> Response:
    body = _body()
    check("WebhookRotation", body)
    try:
        receiver = _webhooks().rotate(_workspace(workspace), body["secret"])
    except LookupError:
        raise ControlNotFound(f"Workspace {workspace!r} has no webhook receiver.") from None
    except ValueError as error:
        raise ControlInputError(f"secret: {error}") from None
    return _json(_receiver_json(workspace, receiver))


@blueprint.post("/webhooks/receivers/<workspace>/events")
def send_test_events(workspace: str) -> Response:
    body = _body()
    check("WebhookTestEvents", body)
    now = _harness().domain.clock.now()
    events = [sample_event(now, **fields) for fields in body.get("events", [{}])]
    try:
        made = _webhooks().send(_workspace(workspace), events, origin="test")
    except LookupError:
        raise ControlNotFound(f"Workspace {workspace!r} has no webhook receiver.") from None
    return _deliveries(made)


@blueprint.get("/webhooks/deliveries")
def list_deliveries() -> Response:
    state = request.args.get("state")
    if state is not None and state not in STATES:
        raise ControlInputError(f"state must be one of {', '.join(STATES)}, not {state!r}")
    raw = request.args.get("limit")
    if raw is not None and not (raw.isdigit() and int(raw) >= 1):
        raise ControlInputError(f"limit must be a whole number of at least 1, not {raw!r}")
    return _deliveries(_webhooks().deliveries(state, int(raw) if raw else None))


@blueprint.get("/webhooks/dead-letters")
def list_dead_letters() -> Response:
    return _deliveries(_webhooks().dead_letters())


@blueprint.post("/webhooks/dead-letters/redrive")
def redrive() -> Response:
    body = _body()
    check("Redrive", body)
    try:
        return _deliveries(_webhooks().redrive(body.get("request_ids")))
    except KeyError as error:
        raise ControlNotFound(f"No dead letter {error.args[0]!r}.") from None


@blueprint.post("/webhooks/faults")
def add_webhook_fault() -> Response:
    return _json(_webhooks().faults.add(_body()).json(), 201)


@blueprint.get("/webhooks/faults")
def list_webhook_faults() -> Response:
    return _json({"rules": [rule.json() for rule in _webhooks().faults.rules()]})


@blueprint.delete("/webhooks/faults")
def clear_webhook_faults() -> Response:
    return _json({"rules": _webhooks().faults.clear()})


@blueprint.delete("/webhooks/faults/<rule_id>")
def delete_webhook_fault(rule_id: str) -> Response:
    rule = _webhooks().faults.remove(rule_id)
    if rule is None:
        raise ControlNotFound(f"No webhook fault rule {rule_id!r}.")
    return _json(rule.json())
