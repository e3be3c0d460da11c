"""Units of the suite: the import boundary, the catalogue, the oracle, backoff, safety."""

from __future__ import annotations

import ast
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import Headers

import conformance
from conformance import oracle
from conformance.bodies import DOC_CHILD_MODELS, DOC_ROOT_MODELS, group_body
from conformance.catalogue import load_spec, rules
from conformance.checks import registered
from conformance.compare import is_rfc3339_utc
from conformance.target import Reply, TargetUnreachable, preflight, retry_delay, send_with_backoff
from simulator.web.app import create_app
from tests.builders import SUITE_KEYS
from tests.conformance.conftest import app_groups
from tests.servers import free_port

PACKAGE = Path(conformance.__file__).parent
IN_SCOPE = ("createGroup", "getGroup", "deleteGroup")


def test_import_boundary_conformance_never_imports_the_simulator() -> None:
    """No module of the conformance package imports `simulator`."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "simulator"]
    assert offenders == []


def test_catalogue_every_create_get_delete_rule_has_a_check() -> None:
    """Every rule of create, get and delete in openapi.yaml has at least one check."""
    operations = [
        op for item in load_spec()["paths"].values() for op in item.values() if isinstance(op, dict)
    ]
    in_scope = {r for op in operations if op.get("operationId") in IN_SCOPE for r in op["x-rules"]}
    checked = {check.rule for check in registered()}
    assert in_scope - checked == set()


def test_catalogue_check_docstrings_cite_rule_and_source() -> None:
    """Each check's docstring starts with its rule ID and gives the rule's source URL."""
    for check in registered():
        assert check.doc.startswith(check.rule), check.name
        assert rules()[check.rule].source_url in check.doc, check.name


def test_oracle_documented_child_inherits_what_it_omits() -> None:
    """The documented child: its own TOKEN/MINUTE, the parent's REQUEST/MINUTE and TOKEN/DAY."""
    tree = oracle.Tree()
    tree.add("abc123hash", group_body("cust_42", models=DOC_ROOT_MODELS))
    tree.add(
        "def456hash",
        group_body("cust_42_engineering", models=DOC_CHILD_MODELS, parent="abc123hash"),
    )
    slug = "your-org/your-model"
    assert tree.expected("def456hash") == Counter(
        {
            (slug, "rate_limits", "TOKEN", "MINUTE", 700000, "def456hash"): 1,
            (slug, "rate_limits", "REQUEST", "MINUTE", 100, "abc123hash"): 1,
            (slug, "usage_limits", "TOKEN", "DAY", 10000000, "abc123hash"): 1,
        }
    )


def test_oracle_cascading_lists_every_ancestor() -> None:
    """CASCADING: one (type, unit) appears once per declaring group, and only own slugs count."""
    tree = oracle.Tree()
    limit = {"type": "TOKEN", "unit": "MINUTE", "threshold": 100}
    root_models = [{"slug": "o/a", "rate_limits": [limit]}, {"slug": "o/b", "rate_limits": [limit]}]
    tree.add("r", group_body("r", mode="CASCADING", models=root_models))
    tree.add(
        "c",
        group_body(
            "c", mode="CASCADING", parent="r", models=[{"slug": "o/a", "rate_limits": [limit]}]
        ),
    )
    assert sorted(e[-1] for e in tree.expected("c").elements()) == ["c", "r"]
    assert tree.expected_slugs("c") == Counter({"o/a": 1})


class FlakyTransport:
    """Answers 429 a given number of times, then 200."""

    def __init__(self, throttled: int, headers: dict[str, str], body: str = "{}") -> None:
        self.left = throttled
        self.headers = headers
        self.body = body
        self.calls = 0

    def send(self, method: str, path: str, headers: Any, body: bytes | None) -> Reply:
        self.calls += 1
        if self.left:
            self.left -= 1
            return Reply(429, Headers(self.headers), self.body)
        return Reply(200, Headers(), "{}")


@pytest.mark.parametrize(
    ("headers", "body", "wait"),
    [
        ({"Retry-After": "2"}, "{}", 2.0),
        ({}, json.dumps({"error": "Rate limit exceeded.", "retry_after": 3}), 3.0),
        ({"Retry-After": "3600"}, "{}", 60.0),
        ({}, "{}", 1.0),
    ],
)
def test_backoff_waits_as_the_429_says(headers: dict[str, str], body: str, wait: float) -> None:
    """A 429 is retried after Retry-After, else the body's retry_after, capped at 60 s."""
    transport = FlakyTransport(2, headers, body)
    waits: list[float] = []
    reply = send_with_backoff(transport, "GET", "/x", {}, sleep=waits.append)
    assert reply.status == 200
    assert waits == [wait, wait]


def test_backoff_gives_up_after_bounded_retries() -> None:
    """Retries are bounded: a server that always throttles gets its 429 back."""
    transport = FlakyTransport(100, {"Retry-After": "0"})
    reply = send_with_backoff(transport, "GET", "/x", {}, sleep=lambda _: None)
    assert (reply.status, transport.calls) == (429, 6)


def test_retry_delay_reads_an_http_date() -> None:
    """Retry-After as an HTTP date in the past means no wait."""
    assert (
        retry_delay(Reply(429, Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), ""))
        == 0.0
    )


def test_preflight_refuses_a_closed_port_and_a_bad_url() -> None:
    """The TCP preflight names the URL and the reason."""
    with pytest.raises(TargetUnreachable, match="cannot connect"):
        preflight(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(TargetUnreachable, match="not an http"):
        preflight("ftp://example")


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2026-05-13T12:00:00Z", True),
        ("2026-05-13T12:00:00.123456+00:00", True),
        ("2026-05-13t12:00:00.5z", True),
        ("2026-05-13T12:00:00+02:00", False),
        ("2026-05-13 12:00:00Z", False),
        ("2026-13-13T12:00:00Z", False),
        (1715601600, False),
    ],
)
def test_compare_rfc3339_utc(value: object, valid: bool) -> None:
    """Any RFC 3339 UTC timestamp is accepted, fractional seconds too; other offsets are not."""
    assert is_rfc3339_utc(value) is valid


@pytest.mark.slow  # a whole fuzzing run
def test_fuzzing_only_touches_what_the_run_created() -> None:
    """Fuzzed creates carry the run prefix; every id in a path is one the run created."""
    app = create_app()
    seen: list[tuple[str, str, Any, int, Any]] = []

    def recording(environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = __import__("io").BytesIO(raw)
        status: list[int] = []

        def capture(code: str, headers: Any, *args: Any) -> Any:
            status.append(int(code.split()[0]))
            return start_response(code, headers, *args)

        body = b"".join(app(environ, capture))
        seen.append(
            (environ["REQUEST_METHOD"], environ["PATH_INFO"], _json(raw), status[0], _json(body))
        )
        return [body]

    result = conformance.run(app=recording, select=["SCHEMA-STATUS"], max_examples=5, **SUITE_KEYS)
    created = {answer.get("id") or answer.get("prefix") for method, _, _, code, answer in seen
               if method == "POST" and code == 200 and isinstance(answer, dict)}  # fmt: skip
    for method, path, sent, code, _ in seen:
        if (method, path, code) == ("POST", "/v1/gateway/groups", 200):
            assert sent["metadata"]["external_entity_id"].startswith(result.prefix)
        for name, value in zip(path.split("/"), path.split("/")[1:], strict=False):
            if name in ("groups", "api_keys", "endpoints") and value not in (
                "",
                "usage",
                "register",
                "api_keys",
            ):
                # The key check's made-up group, which the run's prefix keeps from existing.
                assert value in created or value == f"{result.prefix}preflight", (method, path)
    assert app_groups(app) == []


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None
