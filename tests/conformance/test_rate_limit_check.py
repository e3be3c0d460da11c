"""The suite's check of the management rate limit (MGMT-RATE-LIMIT), proved on the simulator
with the limit on, off, and broken."""

from __future__ import annotations

from dataclasses import replace

import pytest

import conformance
from simulator.core.config import default_config
from simulator.core.errors import ManagementRateLimited
from simulator.web.app import create_app
from tests.builders import SUITE_KEYS

RULE = "MGMT-RATE-LIMIT"


def outcome(limit: int | None) -> tuple[str, str]:
    app = create_app(replace(default_config(), management_rate_limit=limit))
    result = conformance.run(app=app, select=[RULE], fuzz=False, **SUITE_KEYS)
    found = result.rules[RULE]
    return found.outcome, found.reason or " ".join(r.message for r in found.records)


def test_check_passes_the_documented_limit() -> None:
    """100 a second, the documented 429, through after retry_after: pass."""
    assert outcome(100)[0] == "pass"


def test_check_is_not_run_without_a_limit() -> None:
    """No 429 in the burst is never a failure: the limit may be out of reach."""
    found, reason = outcome(None)
    assert found == "not run"
    assert "got no 429" in reason


def test_check_fails_a_limit_below_100() -> None:
    """A key refused before its 100th request of a second breaks the rule."""
    found, reason = outcome(20)
    assert found == "fail"
    assert "429 after 20 requests" in reason


def test_check_fails_an_undocumented_body(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 429 without `retry_after` breaks the rule."""
    monkeypatch.setattr(ManagementRateLimited, "fields", lambda self: {})
    found, reason = outcome(100)
    assert found == "fail"
    assert "retry_after" in reason
