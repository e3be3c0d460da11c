"""Fault injection: rules and the X-Sim-Fault header force statuses, add latency and drop
connections; a forced status never changes state."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from simulator.harness.bench import Harness
from simulator.harness.control_schema import ControlInputError
from simulator.harness.faults import FaultBook, forced_response, parse_fault_header
from tests.builders import GROUPS, MANAGE, OTHER, create_group, group_body, group_count

RATE_LIMIT_BODY = {"error": "Rate limit exceeded. Please try again later.", "retry_after": 37}


# The header syntax.


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("status=503", {"status": 503}),
        ("status=429; retry_after=2", {"status": 429, "retry_after": 2}),
        ("Status=429, Retry-After=2", {"status": 429, "retry_after": 2}),
        ("latency_ms=250", {"latency_ms": 250}),
        ("latency=250ms", {"latency_ms": 250}),
        ("drop", {"drop": "before"}),
        ("drop=after", {"drop": "after"}),
        ("latency=10; status=500", {"latency_ms": 10, "status": 500}),
    ],
)
def test_fault_header_parses_each_directive(header: str, expected: dict[str, Any]) -> None:
    """Every documented directive of X-Sim-Fault becomes the matching effect."""
    fault = parse_fault_header(header)
    assert {k: v for k, v in fault.json().items() if k != "source"} == expected
    assert fault.source == "header"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("bogus=1", "unknown directive 'bogus'"),
        ("status=abc", "status needs a whole number"),
        ("status=200", "status: 200 is less than the minimum of 400"),
        ("status=503; drop", "can't be combined"),
        ("retry_after=3", "needs at least one of status, latency_ms, drop and cut"),
        ("drop=sideways", "drop: 'sideways' is not one of"),
        ("latency_ms=600000", "latency_ms: 600000 is greater than the maximum"),
        ("", "needs at least one of"),
    ],
)
def test_fault_header_refuses_a_bad_directive(header: str, message: str) -> None:
    """A malformed header is refused with a message naming the problem."""
    with pytest.raises(ControlInputError, match=message.replace("(", r"\(")) as caught:
        parse_fault_header(header)
    assert str(caught.value).startswith("X-Sim-Fault: ")


def test_forced_response_429_has_the_documented_shape() -> None:
    """A forced 429 is the management API's documented body plus a Retry-After header."""
    headers, body = forced_response(429, 37)
    assert body == RATE_LIMIT_BODY
    assert headers == {"Retry-After": "37"}


def test_forced_response_429_defaults_to_one_second() -> None:
    """Without retry_after a forced 429 tells the client to wait 1 second."""
    headers, body = forced_response(429, None)
    assert body["retry_after"] == 1
    assert headers["Retry-After"] == "1"


@pytest.mark.parametrize(
    ("status", "message"), [(500, "Internal Server Error"), (503, "Service Unavailable")]
)
def test_forced_response_5xx_is_an_error_body(status: int, message: str) -> None:
    """Other forced statuses answer the API's error shape with the reason phrase."""
    headers, body = forced_response(status, None)
    assert body == {"error": message}
    assert headers == {}


# Rule matching.


def test_fault_book_matches_method_path_glob_and_key() -> None:
    """A rule applies only to requests of its method, path glob and key."""
    book = FaultBook()
    book.add({"status": 503, "method": "post", "path": "/v1/gateway/groups*", "key": "k1"})
    assert book.match("POST", "/v1/gateway/groups", "k1") is not None
    assert book.match("POST", "/v1/gateway/groups/abc/api_keys", "k1") is not None
    assert book.match("GET", "/v1/gateway/groups", "k1") is None
    assert book.match("POST", "/v1/gateway/endpoints", "k1") is None
    assert book.match("POST", "/v1/gateway/groups", "k2") is None
    assert book.match("POST", "/v1/gateway/groups", None) is None


def test_fault_book_rule_with_times_expires() -> None:
    """A rule with `times: N` applies to the next N matching requests, then disappears."""
    book = FaultBook()
    rule = book.add({"status": 500, "times": 2})
    assert rule.remaining == 2
    assert [book.match("GET", "/x", None) is not None for _ in range(3)] == [True, True, False]
    assert book.rules() == []


def test_fault_book_first_added_rule_wins() -> None:
    """Rules are tried in the order they were added."""
    book = FaultBook()
    first = book.add({"status": 500, "path": "/a"})
    book.add({"status": 503})
    found = book.match("GET", "/a", None)
    assert found is not None
    assert (found.status, found.source) == (500, first.id)
    assert book.rules()[0].hits == 1


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({}, "needs at least one of"),
        ({"status": 500, "drop": "before"}, "can't be combined"),
        ({"status": 500, "colour": "red"}, "'colour' was unexpected"),
        ({"status": 500, "times": 0}, "times: 0 is less than the minimum of 1"),
        ({"status": 500, "method": "GET POST"}, "method: 'GET POST' does not match"),
    ],
)
def test_fault_book_refuses_a_bad_rule(rule: dict[str, Any], message: str) -> None:
    """A rule outside `FaultRule` of control-openapi.yaml is refused with the reason."""
    with pytest.raises(ControlInputError, match=message):
        FaultBook().add(rule)


# Over HTTP, through the Flask test client.


def test_fault_rule_429_answers_the_documented_shape(client: FlaskClient) -> None:
    """POST /_sim/faults with 429 gives the documented body, Retry-After and the rule's id."""
    added = client.post("/_sim/faults", json={"status": 429, "retry_after": 37})
    assert added.status_code == 201
    response = client.get(GROUPS, headers=MANAGE)
    assert response.status_code == 429
    assert response.get_json() == RATE_LIMIT_BODY
    assert response.headers["Retry-After"] == "37"
    assert response.headers["X-Sim-Fault-Injected"] == added.get_json()["id"]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_forced_status_changes_no_state(client: FlaskClient, status: int) -> None:
    """A create answered with a forced status is not carried out (nothing to read back)."""
    client.post("/_sim/faults", json={"status": status, "times": 1})
    assert client.post(GROUPS, json=group_body(), headers=MANAGE).status_code == status
    assert group_count(client) == 0
    create_group(client)  # the same external_entity_id is still free


def test_forced_status_on_delete_keeps_the_group(client: FlaskClient) -> None:
    """A delete answered 503 by a fault leaves the group in place."""
    group_id = create_group(client)["id"]
    response = client.delete(
        f"{GROUPS}/{group_id}", headers={**MANAGE, "X-Sim-Fault": "status=503"}
    )
    assert response.status_code == 503
    assert client.get(f"{GROUPS}/{group_id}", headers=MANAGE).status_code == 200


def test_fault_rule_for_one_key_spares_the_others(client: FlaskClient) -> None:
    """A rule with `key` applies only to requests made with that key."""
    client.post("/_sim/faults", json={"status": 503, "key": "sim-manage-globex"})
    assert client.get(GROUPS, headers=MANAGE).status_code == 200
    assert client.get(GROUPS, headers=OTHER).status_code == 503
    assert (
        client.get(GROUPS, headers={"Authorization": "Bearer sim-manage-globex"}).status_code == 503
    )


def test_fault_rules_list_and_delete(client: FlaskClient) -> None:
    """GET lists rules in order with defaults filled in; DELETE removes one or all."""
    first = client.post("/_sim/faults", json={"status": 500, "times": 3}).get_json()
    client.post("/_sim/faults", json={"latency_ms": 5, "method": "get", "path": "/v1/*"})
    rules = client.get("/_sim/faults").get_json()["rules"]
    assert [(r["method"], r["path"], r["remaining"]) for r in rules] == [
        ("*", "*", 3),
        ("GET", "/v1/*", None),
    ]
    assert client.delete(f"/_sim/faults/{first['id']}").get_json()["id"] == first["id"]
    assert client.delete(f"/_sim/faults/{first['id']}").status_code == 404
    assert client.delete("/_sim/faults").get_json() == {"rules": 1}
    assert client.get("/_sim/faults").get_json() == {"rules": []}


def test_fault_rule_refused_with_400(client: FlaskClient) -> None:
    """A bad rule gets 400 in the error shape and isn't added."""
    response = client.post("/_sim/faults", json={"status": 200})
    assert response.status_code == 400
    assert "status" in response.get_json()["error"]
    assert client.post("/_sim/faults", data="not json").status_code == 400
    assert client.get("/_sim/faults").get_json() == {"rules": []}


def test_fault_header_wins_over_rules(client: FlaskClient) -> None:
    """A request's X-Sim-Fault applies instead of any rule, and uses none of its `times`."""
    client.post("/_sim/faults", json={"status": 500, "times": 1})
    response = client.get(GROUPS, headers={**MANAGE, "X-Sim-Fault": "status=503"})
    assert response.status_code == 503
    assert response.headers["X-Sim-Fault-Injected"] == "header"
    assert client.get(GROUPS, headers=MANAGE).status_code == 500


def test_bad_fault_header_is_refused_and_not_carried_out(client: FlaskClient) -> None:
    """A malformed X-Sim-Fault gets 400 naming the header, and the request isn't carried out."""
    response = client.post(
        GROUPS, json=group_body(), headers={**MANAGE, "X-Sim-Fault": "status=teapot"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("X-Sim-Fault: ")
    assert group_count(client) == 0


def test_fault_header_never_reaches_the_gateway(app: Flask, client: FlaskClient) -> None:
    """The interceptor removes X-Sim-Fault before the request reaches any view."""
    app.add_url_rule("/probe", "probe", lambda: request.headers.get("X-Sim-Fault", "absent"))
    response = client.get("/probe", headers={"X-Sim-Fault": "latency_ms=1"})
    assert response.get_data(as_text=True) == "absent"


def test_latency_fault_delays_then_carries_out(client: FlaskClient) -> None:
    """A latency-only fault waits at least the given time, then the request is carried out."""
    started = time.monotonic()
    response = client.post(
        GROUPS, json=group_body(), headers={**MANAGE, "X-Sim-Fault": "latency_ms=200"}
    )
    assert time.monotonic() - started >= 0.2  # a lower bound only
    assert response.status_code == 200
    assert group_count(client) == 1


def test_control_routes_are_never_faulted(client: FlaskClient) -> None:
    """A catch-all rule leaves /_sim/ alone, so a test can always remove it."""
    client.post("/_sim/faults", json={"status": 503})
    assert client.get("/_sim/faults").status_code == 200
    assert client.delete("/_sim/faults").status_code == 200
    assert client.get(GROUPS, headers=MANAGE).status_code == 200


def test_harness_reset_clears_fault_rules(client: FlaskClient, bench: Harness) -> None:
    """Reset removes every fault rule."""
    client.post("/_sim/faults", json={"status": 503})
    bench.reset()
    assert bench.faults.rules() == []
    assert client.get(GROUPS, headers=MANAGE).status_code == 200
