"""The control API under `/_sim/` (control-openapi.yaml), and the simulator served in a thread.

Test tooling's HTTP shell: a local test tool, so the routes take no API key.
`create_app(..., control_api=False)` and `frontier-sim --no-control-api` leave them out.
"""

from __future__ import annotations

import json
import threading
from types import TracebackType
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from simulator.config import Config, default_config
from simulator.control_schema import ControlInputError, check
from simulator.harness import Harness
from simulator.interceptor import Interceptor
from simulator.seed import Seed, seed_from_mapping
from simulator.snapshot import Domain
from simulator.testing import Keys, SimulatorClient

HARNESS = "frontier_gateway_harness"


def install(app: Flask, domain: Domain, *, seed: Seed | None, control_api: bool) -> Harness:
    """Loads the seed (raising SeedError), then mounts `/_sim/` and the interceptor."""
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
        )
    return bench


def harness(app: Flask) -> Harness:
    found: Harness = app.extensions[HARNESS]
    return found


def serve_in_thread(app: Flask, host: str = "127.0.0.1", port: int = 0) -> BaseWSGIServer:
    """Serves `app` from a daemon thread on werkzeug's threaded server (tests only).

    In-process, so a test and the server share one interpreter; it starts in milliseconds;
    and werkzeug hands the app its socket, so a `drop` fault closes the connection cleanly.
    Stop it with `server.shutdown()`.
    """
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    # A short poll interval: shutdown() waits for the loop's next turn.
    loop = threading.Thread(target=server.serve_forever, args=(0.1,), name="frontier-sim")
    loop.daemon = True
    loop.start()
    return server


class _QuietHandler(WSGIRequestHandler):
    """No access log: test output stays clean (and the log never holds a request line)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class ThreadedSimulator:
    """A simulator app served from a thread of this process; a context manager."""

    def __init__(
        self,
        config: Config | None = None,
        *,
        seed: Seed | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        from simulator.app import create_app  # here: app.py imports this module

        self.config = config or default_config()
        self.app: Flask = create_app(self.config, seed=seed)
        self._host, self._port = host, port
        self._server: BaseWSGIServer | None = None
        self._clients: list[SimulatorClient] = []

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator isn't running; call start() first")
        return f"http://{self._host}:{self._server.server_port}"

    def start(self) -> ThreadedSimulator:
        self._server = serve_in_thread(self.app, self._host, self._port)
        return self

    def stop(self) -> None:
        while self._clients:
            self._clients.pop().close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def client(self) -> SimulatorClient:
        """A handle on this simulator, with the keys of its configuration by role."""
        client = SimulatorClient(self.url, Keys.from_config(self.config), app=self.app)
        self._clients.append(client)
        return client

    def __enter__(self) -> SimulatorClient:
        return self.start().client()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


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
