"""GatewayDispatch: the Gateway's routes served without Flask's request machinery answer
exactly as Flask serving the same views does, and Flask still serves everything else."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import flask
import pytest
from flask import Flask

from simulator.core.config import default_config
from simulator.web.app import create_app
from tests.builders import ENDPOINTS, GROUPS, MANAGE, VIEW, endpoint_body, group_body

JSON = "application/json"
BIG = 4096  # the body cap of these apps, so a 413 is cheap to provoke


def _app(*, through_flask: bool) -> Flask:
    app = create_app(replace(default_config(), id_seed=7, max_body_bytes=BIG))
    if through_flask:  # an app with a Flask hook of its own is served by Flask throughout
        app.after_request(lambda response: response)
    return app


def _without_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_times(v) for k, v in value.items() if not k.endswith("_at")}
    if isinstance(value, list):
        return [_without_times(v) for v in value]
    return value


def _script(group: str, prefix: str, endpoint: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, client.open keywords): the routes, their refusals, and routing edges."""
    body = group_body
    return [
        ("POST", GROUPS, {"json": body("d-1"), "headers": MANAGE}),
        ("POST", GROUPS, {"json": body("d-1"), "headers": MANAGE}),  # duplicate
        ("POST", GROUPS, {"json": body("d-2", parent=group), "headers": MANAGE}),
        ("POST", GROUPS, {"data": "{", "content_type": JSON, "headers": MANAGE}),
        ("POST", GROUPS, {"data": "{}", "content_type": "text/plain", "headers": MANAGE}),
        ("POST", GROUPS, {"data": "x" * (BIG + 1), "content_type": JSON, "headers": MANAGE}),
        ("POST", GROUPS, {"json": body("d-3")}),
        ("POST", GROUPS, {"json": body("d-3"), "headers": VIEW}),
        ("POST", GROUPS, {"json": {"metadata": {}}, "headers": MANAGE}),
        ("GET", GROUPS, {"headers": VIEW, "query_string": {"limit": 1}}),
        ("GET", GROUPS, {"headers": VIEW, "query_string": {"limit": 0}}),
        ("GET", GROUPS, {"headers": VIEW, "query_string": {"cursor": "nonsense"}}),
        ("GET", GROUPS, {"headers": VIEW, "query_string": {"external_entity_id": "d-1"}}),
        ("GET", f"{GROUPS}/{group}", {"headers": MANAGE}),
        ("GET", f"{GROUPS}/nope", {"headers": MANAGE}),
        ("GET", f"{GROUPS}/{group}", {"headers": VIEW}),
        ("PATCH", f"{GROUPS}/{group}", {"json": {"metadata": {"name": "n"}}, "headers": MANAGE}),
        ("PATCH", f"{GROUPS}/{group}", {"json": {}, "headers": MANAGE}),
        ("GET", f"{GROUPS}/{group}/usage", {"headers": MANAGE}),
        ("POST", f"{GROUPS}/{group}/api_keys", {"json": {"name": "k"}, "headers": MANAGE}),
        ("POST", f"{GROUPS}/{group}/api_keys", {"headers": MANAGE}),
        ("GET", f"{GROUPS}/{group}/api_keys", {"headers": MANAGE}),
        ("GET", f"{GROUPS}/{group}/api_keys/{prefix}", {"headers": MANAGE}),
        ("POST", f"{GROUPS}/{group}/api_keys/register", {"json": {"k": 1}, "headers": MANAGE}),
        ("DELETE", f"{GROUPS}/{group}/api_keys/{prefix}", {"headers": MANAGE}),
        ("POST", ENDPOINTS, {"json": endpoint_body(), "headers": MANAGE}),
        ("GET", ENDPOINTS, {"headers": MANAGE}),
        ("GET", f"{ENDPOINTS}/{endpoint}", {"headers": MANAGE}),
        ("PATCH", f"{ENDPOINTS}/{endpoint}", {"json": {"region": "us"}, "headers": MANAGE}),
        ("DELETE", f"{ENDPOINTS}/{endpoint}", {"headers": MANAGE}),
        # Routing: none of these is exactly a Gateway route, so Flask answers them.
        ("GET", GROUPS + "/", {"headers": VIEW}),
        ("HEAD", GROUPS, {"headers": VIEW}),
        ("OPTIONS", GROUPS, {"headers": VIEW}),
        ("PUT", GROUPS, {"headers": MANAGE}),
        ("GET", f"{GROUPS}/{group}/nothing", {"headers": MANAGE}),
        ("GET", f"{GROUPS}/é", {"headers": MANAGE}),
        ("GET", f"{GROUPS}/a%2Fb", {"headers": MANAGE}),
        ("DELETE", f"{GROUPS}/{group}", {"headers": MANAGE}),
        ("DELETE", f"{GROUPS}/{group}", {"headers": MANAGE}),
    ]


def _answers(app: Flask) -> list[tuple[int, dict[str, str], Any]]:
    client = app.test_client()
    root = client.post(GROUPS, json=group_body("root"), headers=MANAGE).get_json()["id"]
    minted = client.post(f"{GROUPS}/{root}/api_keys", json={}, headers=MANAGE).get_json()
    made = client.post(ENDPOINTS, json=endpoint_body("acme/first"), headers=MANAGE).get_json()
    answers = []
    for method, path, options in _script(root, minted["prefix"], made["id"]):
        reply = client.open(path, method=method, **options)
        text = reply.get_data(as_text=True)
        try:
            body = _without_times(json.loads(text))
        except ValueError:
            body = text
        if isinstance(body, dict) and "api_key" in body:
            body.pop("api_key")  # a fresh secret each time
            body.pop("prefix")
        headers = {k: v for k, v in reply.headers.items() if k.lower() not in ("date",)}
        answers.append((reply.status_code, headers, body))
    return answers


def test_the_gateway_routes_answer_as_flask_serving_them_does() -> None:
    direct, through_flask = _answers(_app(through_flask=False)), _answers(_app(through_flask=True))
    assert len(direct) == len(through_flask)
    for i, (mine, flasks) in enumerate(zip(direct, through_flask, strict=True)):
        assert mine == flasks, f"request {i}: {_script('G', 'P', 'E')[i][:2]}"


def _recording_view(app: Flask, seen: list[bool]) -> None:
    original = app.view_functions["list_groups"]

    def view(**args: str) -> Any:
        seen.append(flask.has_request_context())
        return original(**args)

    app.view_functions["list_groups"] = view


def test_a_gateway_route_is_served_without_a_flask_request_context() -> None:
    app, seen = _app(through_flask=False), []
    _recording_view(app, seen)  # a replaced view function is the one served
    assert app.test_client().get(GROUPS, headers=VIEW).status_code == 200
    assert seen == [False]


def test_an_app_with_a_hook_of_its_own_is_served_by_flask() -> None:
    app, seen = _app(through_flask=True), []
    _recording_view(app, seen)
    assert app.test_client().get(GROUPS, headers=VIEW).status_code == 200
    assert seen == [True]


@pytest.mark.parametrize("through_flask", [False, True], ids=["direct", "flask"])
def test_an_unexpected_error_is_a_500_in_the_error_shape(through_flask: bool) -> None:
    app = _app(through_flask=through_flask)

    def broken(**args: str) -> Any:
        raise RuntimeError("boom")

    app.view_functions["list_groups"] = broken
    reply = app.test_client().get(GROUPS, headers=VIEW)
    assert reply.status_code == 500
    assert set(reply.get_json()) == {"error"}
    app.testing = True  # as Flask does, a testing app lets the exception through
    with pytest.raises(RuntimeError, match="boom"):
        app.test_client().get(GROUPS, headers=VIEW)
