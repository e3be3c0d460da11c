"""The control API under `/_sim/` (control-openapi.yaml).

Test tooling's HTTP shell: a local test tool, so the routes take no API key.
`create_app(..., control_api=False)` and `frontier-sim --no-control-api` leave them out.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from simulator.harness.bench import Harness
from simulator.harness.control_schema import ControlInputError, check, load_control_spec
from simulator.harness.seed import Seed, seed_from_mapping
from simulator.harness.snapshot import Domain
from simulator.web.index import control_index
from simulator.web.interceptor import Interceptor

HARNESS = "frontier_gateway_harness"


def install(app: Flask, domain: Domain, *, seed: Seed | None, control_api: bool) -> Harness:
    """Loads the seed (raising SeedError), then mounts `/_sim/` and the interceptor.

    control-openapi.yaml is read here, at start: a reset, an import or a fault rule later
    reads no file, so a package reinstalled under a running server can't break them.
    """
    load_control_spec()
    bench = Harness(domain)
    app.extensions[HARNESS] = bench
    if seed is not None:
        bench.seeded_keys = bench.load_seed(seed)
        bench.mark_baseline()
    if control_api:
        app.register_blueprint(blueprint)
        app.wsgi_app = Interceptor(  # type: ignore[method-assign]  # Flask's documented hook
            app.wsgi_app,
            bench.faults,
            bench.journal,
            domain.keyring,
            domain.config.max_body_bytes,
            domain.clock,
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
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise ControlInputError("the body must be a JSON document")
    return body


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
        raise ControlInputError(f"limit must be a whole number of at least 1, not {raw!r}")
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
        return _json({"error": f"No fault rule {rule_id!r}."}, 404)
    return _json(rule.json())
