"""The Gateway's own routes served without Flask's request machinery.

Flask spends as much on a request as the simulator's own work does: an app and a request
context pushed and popped, a URL adapter bound, signals sent, hooks looked up, the response
finalised. The management routes need none of it: a view takes the request, calls the
domain once and returns a finished response. `GatewayDispatch` sits where Flask's
`wsgi_app` was and serves a request whose method and path are exactly one of the Gateway's
routes (app.ROUTES) with the same view functions, error handlers and rate limit, around a
plain werkzeug request. Anything else, and every request of an app that was given Flask
hooks of its own, goes to Flask unchanged: routing refusals (404, 405, a trailing slash),
HEAD and OPTIONS, the inference route, `/_sim/`, the index.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, cast

import flask
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.local import LocalProxy
from werkzeug.wrappers import Request

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from flask import Flask, Response

_SEGMENT = "[^/]+"  # werkzeug's default converter: one non-empty path segment


class GatewayRequest(Request):
    """A werkzeug request with the app's body cap (Flask's reads it from the app's config)
    and the app's state (Flask's views find it through current_app)."""

    max_content_length: int | None = None
    state: Any = None


# The request GatewayDispatch is serving; None while Flask serves one.
current: ContextVar[GatewayRequest | None] = ContextVar("frontier_gateway_request", default=None)


def _current_request() -> Request:
    served = current.get()
    if served is not None:
        return served
    found: Request = cast(Any, flask.request)._get_current_object()
    return found


# What the views read as `request`: the request being served, whoever serves it.
request: Request = LocalProxy(_current_request)  # type: ignore[assignment]


class GatewayDispatch:
    """Serves the Gateway's routes itself and hands every other request to `flask_app`."""

    def __init__(
        self,
        app: Flask,
        flask_app: WSGIApplication,
        routes: Iterable[tuple[str, Callable[..., Response], list[str]]],
        state: Any,
        *,
        before: Callable[[], None] | None,
        on_gateway_error: Callable[[Any], Response],
        on_http_error: Callable[[HTTPException], Response],
        gateway_error: type[Exception],
    ) -> None:
        self.app = app
        self.flask_app = flask_app
        self.state = state
        self.before = before
        self.on_gateway_error = on_gateway_error
        self.on_http_error = on_http_error
        self.gateway_error = gateway_error
        self.max_body_bytes = app.config["MAX_CONTENT_LENGTH"]
        self.static: dict[tuple[str, str], str] = {}
        self.patterns: list[tuple[str, re.Pattern[str], str]] = []
        for rule, view, methods in routes:
            for method in methods:
                if "<" not in rule:
                    self.static[(method, rule)] = view.__name__
                else:
                    regex = re.sub(r"<(\w+)>", rf"(?P<\1>{_SEGMENT})", rule)
                    self.patterns.append((method, re.compile(regex + r"\Z"), view.__name__))
        self.hooks = 1 if before is not None else 0  # Flask hooks this app has of its own

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        found = self._route(environ) if self._plain() else None
        if found is None:
            return self.flask_app(environ, start_response)
        endpoint, args = found
        request = GatewayRequest(environ)
        request.max_content_length = self.max_body_bytes
        request.state = self.state
        token = current.set(request)
        try:
            response = self._respond(endpoint, args)
            return response(environ, start_response)
        finally:
            current.reset(token)

    def _plain(self) -> bool:
        """True while the app has no Flask hooks beyond the simulator's own: another one (a
        variant's, a user's after_request) needs Flask's request context, so Flask serves."""
        app = self.app
        before = app.before_request_funcs.get(None, ())
        return (
            len(before) == self.hooks
            and not app.after_request_funcs
            and not app.teardown_request_funcs
            and not app.url_value_preprocessors
            and not app.url_default_functions
        )

    def _route(self, environ: WSGIEnvironment) -> tuple[str, dict[str, str]] | None:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if not path.isascii():  # werkzeug's own decoding applies: Flask routes it
            return None
        endpoint = self.static.get((method, path))
        if endpoint is not None:
            return endpoint, {}
        for verb, pattern, name in self.patterns:
            if verb == method and (match := pattern.match(path)):
                return name, match.groupdict()
        return None

    def _respond(self, endpoint: str, args: dict[str, str]) -> Response:
        try:
            if self.before is not None:
                self.before()
            # Looked up per request, as Flask does: a replaced view function is served.
            return cast("Response", self.app.view_functions[endpoint](**args))
        except HTTPException as error:
            return self.on_http_error(error)
        except Exception as error:
            if isinstance(error, self.gateway_error):
                return self.on_gateway_error(error)
            if self.app.testing or self.app.config.get("PROPAGATE_EXCEPTIONS"):
                raise
            self.app.logger.exception("Exception on %s", endpoint)
            return self.on_http_error(InternalServerError(original_exception=error))
