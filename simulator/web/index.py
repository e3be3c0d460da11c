"""`GET /` and `GET /_sim/`: small JSON indexes of what a running simulator serves.

For a person or a script finding their way: the version, the Gateway's routes (with the
operation ids of openapi.yaml) and the control API's operations (control-openapi.yaml).
Neither needs a key: they list routes, never state.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from flask import Flask, Response, current_app

from simulator.core.spec import load_spec, operations
from simulator.harness.control_schema import load_control_spec

DISTRIBUTION = "frontier-gateway-sim"
NAME = "Frontier Gateway simulator"
CONTROL_PREFIX = "/_sim/"
HTTP_METHODS = ("get", "put", "post", "patch", "delete")
_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")  # Flask's <name> or <type:name>


@cache
def installed_version() -> str:
    """The installed distribution's version (`0+unknown` in a checkout never installed)."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"


def install(app: Flask) -> None:
    """Mounts `GET /`; control.py mounts `GET /_sim/` with the rest of the control API."""
    app.add_url_rule("/", "index", gateway_index, methods=["GET"])


def gateway_index() -> Response:
    """The Gateway's routes as this app serves them, and where the control API is (or null)."""
    has_control = any(rule.rule == CONTROL_PREFIX for rule in current_app.url_map.iter_rules())
    index = {
        "name": NAME,
        "version": installed_version(),
        "routes": gateway_routes(current_app),
        "control_api": CONTROL_PREFIX if has_control else None,
    }
    return Response(json.dumps(index), mimetype="application/json")


def control_index() -> dict[str, Any]:
    """The control API's operations, from control-openapi.yaml."""
    return {"name": NAME, "version": installed_version(), "operations": control_operations()}


def gateway_routes(app: Flask) -> list[dict[str, str]]:
    """(method, path) of every route but the indexes and the control API, in the spec's
    path syntax, with openapi.yaml's operation id and summary where it documents the route."""
    documented = {(op.method, op.path): op.operation_id for op in operations()}
    summaries = {
        (method.upper(), path): str(item[method].get("summary", ""))
        for path, item in load_spec()["paths"].items()
        for method in HTTP_METHODS
        if method in item
    }
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule == "/" or rule.rule.startswith(CONTROL_PREFIX) or rule.endpoint == "static":
            continue
        path = _PARAMETER.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            route = {"method": method, "path": path}
            if (method, path) in documented:
                route["operation"] = documented[(method, path)]
                route["summary"] = summaries[(method, path)]
            found.append(route)
    return found


def control_operations() -> list[dict[str, str]]:
    return [
        {
            "method": method.upper(),
            "path": path,
            "operation": str(item[method]["operationId"]),
            "summary": str(item[method].get("summary", "")),
        }
        for path, item in load_control_spec()["paths"].items()
        for method in HTTP_METHODS
        if method in item
    ]
