"""The schemathesis negative phase (SCHEMA-NEGATIVE) takes a 413 as a refusal: a target
with a smaller body cap than the simulator's refuses large invalid bodies that way."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import conformance
from simulator.web.app import create_app
from tests.builders import SUITE_KEYS

CAP = 300  # bytes: smaller than most generated invalid group bodies


class SmallBodyCap:
    """A WSGI shell answering 413, in the API's error shape, to any body past CAP bytes."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.refused = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if int(environ.get("CONTENT_LENGTH") or 0) > CAP:
            self.refused += 1
            body = json.dumps({"error": f"The body is larger than {CAP} bytes."}).encode()
            start_response(
                "413 Request Entity Too Large",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return self.app(environ, start_response)


def test_a_413_for_a_large_invalid_body_is_a_refusal() -> None:
    shell = SmallBodyCap(create_app())
    result = conformance.run(app=shell, select=["SCHEMA-NEGATIVE"], max_examples=10, **SUITE_KEYS)
    assert shell.refused > 0  # the cap was met, so the 413s were judged
    outcome = result.rules["SCHEMA-NEGATIVE"]
    assert outcome.outcome == "pass", [r.message[:300] for r in outcome.records]
