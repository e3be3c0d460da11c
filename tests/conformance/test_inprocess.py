"""The suite against the in-process simulator: full runs, missing keys, budget, interruption."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import conformance
from conformance.catalogue import rules
from conformance.report import RunResult
from simulator.web.app import EXTENSION, create_app
from tests.builders import SUITE_KEYS, deliver_webhooks_to
from tests.conformance.conftest import app_endpoints, app_groups
from tests.servers import free_port

UNCOVERED = "no check in this suite covers it yet"
# create_app() has no management rate limit: its check is not run (tests/conformance/
# test_rate_limit_check.py runs it against an app with the limit on).
RATE_LIMIT, NO_429 = "MGMT-RATE-LIMIT", "got no 429"


def full_run(tmp: Path, strict: bool) -> tuple[RunResult, Flask]:
    """Every option: the inference route in-process, and billing webhooks delivered by the
    simulator to the run's receiver."""
    app, port = create_app(), free_port()
    secret = deliver_webhooks_to(app, f"http://127.0.0.1:{port}/billing")
    try:
        result = conformance.run(
            app=app, strict=strict, inference=True, report_dir=tmp,
            webhook_listen=f"127.0.0.1:{port}", webhook_secret=secret, **SUITE_KEYS,
        )  # fmt: skip
    finally:
        app.extensions[EXTENSION].webhooks.close()
    return result, app


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Flask]:
    return full_run(tmp_path_factory.mktemp("default"), strict=False)


@pytest.fixture(scope="module")
def strict_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Flask]:
    return full_run(tmp_path_factory.mktemp("strict"), strict=True)


def assert_conforms(result: RunResult, strict: bool) -> None:
    assert result.exit_code == 0, [f"{f.rule} {f.check}: {f.message}" for f in result.failures]
    for rule_id, outcome in result.rules.items():
        if outcome.reason == UNCOVERED:
            continue
        if rule_id == RATE_LIMIT and outcome.outcome == "not run":
            assert NO_429 in outcome.reason
            continue
        if outcome.outcome == "not run":  # only choice rules, and only by default
            assert not strict, rule_id
            assert rules()[rule_id].strict_only, rule_id
            assert outcome.reason == "choice rule: checked only with --strict"
        else:
            assert outcome.outcome == "pass", (rule_id, outcome.reason)


def test_run_default_mode_passes_the_simulator(default_run: tuple[RunResult, Flask]) -> None:
    """Every rule the default run checks passes against create_app()."""
    assert_conforms(default_run[0], strict=False)


def test_run_strict_mode_passes_the_simulator(strict_run: tuple[RunResult, Flask]) -> None:
    """Every rule, choice rules included, passes against create_app() with strict."""
    assert_conforms(strict_run[0], strict=True)


def test_run_leaves_no_group_behind(
    default_run: tuple[RunResult, Flask], strict_run: tuple[RunResult, Flask]
) -> None:
    """After a run the simulator holds no group and no endpoint in any workspace."""
    for result, app in (default_run, strict_run):
        assert app_groups(app) == []
        assert app_endpoints(app) == []
        assert not result.warnings


def test_run_every_rule_has_a_check(
    default_run: tuple[RunResult, Flask], strict_run: tuple[RunResult, Flask]
) -> None:
    """With every option given, no rule is left without a check; strict runs them all."""
    for result, _ in (default_run, strict_run):
        assert [r for r, o in result.rules.items() if o.reason == UNCOVERED] == []
    assert {o.outcome for r, o in strict_run[0].rules.items() if r != RATE_LIMIT} == {"pass"}


def test_run_observes_every_documented_refusal(default_run: tuple[RunResult, Flask]) -> None:
    """A default run provokes each documented 400/403/404 reason at least once."""
    assert set(conformance.outcomes.REFUSALS) <= default_run[0].observed


def test_run_without_role_keys_reports_checks_not_run() -> None:
    """Checks needing a key that wasn't given are not run, and the reason names the option."""
    result = conformance.run(app=create_app(), api_key=SUITE_KEYS["api_key"], fuzz=False)
    assert result.exit_code == 0
    expected = {
        "ACCESS-SCOPE": "--view-key",
        "ACCESS-ONBOARDED": "--not-onboarded-key",
        "GROUP-OTHER-WORKSPACE": "--other-workspace-key",
        "EXTID-PER-WORKSPACE": "--other-workspace-key",
    }
    for rule_id, option in expected.items():
        outcome = result.rules[rule_id]
        assert outcome.outcome == "not run"
        assert outcome.reason == f"needs {option}"
    assert result.rules["PARENT-EXISTS"].outcome == "pass"  # its other check needs no key


def counting(app: Flask, counter: list[int], interrupt_at: int | None = None) -> Callable[..., Any]:
    """A WSGI wrapper that counts creates and can raise Ctrl-C on one request."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        counter.append(environ["REQUEST_METHOD"] == "POST")
        if interrupt_at is not None and len(counter) == interrupt_at:
            raise KeyboardInterrupt
        return app(environ, start_response)

    return wsgi


def test_run_never_creates_beyond_max_writes(app: Flask) -> None:
    """--max-writes caps the creates; checks that find no budget are not run, with the reason."""
    requests_seen: list[int] = []
    result = conformance.run(
        app=counting(app, requests_seen), max_writes=6, fuzz=False, **SUITE_KEYS
    )
    assert sum(requests_seen) <= 6
    reasons = {o.reason for o in result.rules.values() if o.outcome == "not run"}
    assert any("write budget of 6 creates is spent" in r for r in reasons)
    assert app_groups(app) == []


def test_run_interrupted_cleans_up(app: Flask) -> None:
    """Ctrl-C in the middle of a run still deletes everything the run created."""
    requests_seen: list[int] = []
    result = conformance.run(
        app=counting(app, requests_seen, interrupt_at=60), fuzz=False, **SUITE_KEYS
    )
    assert result.exit_code == conformance.runner.INTERRUPTED
    assert len(requests_seen) > 60  # the clean-up went on after the interruption
    assert app_groups(app) == []


def test_run_twice_in_one_process() -> None:
    """Two runs in a row in one process both work: no state leaks from the first."""
    for _ in range(2):
        result = conformance.run(app=create_app(), select=["EXTID-UNIQUE", "OK-200"], **SUITE_KEYS)
        assert result.exit_code == 0
        assert result.outcome("EXTID-UNIQUE") == result.outcome("OK-200") == "pass"
        assert result.outcome("AUTH-SCHEME") == "not run"
        assert result.rules["AUTH-SCHEME"].reason == "not selected"


def test_run_refuses_unknown_rule_ids() -> None:
    """Selecting a rule ID the catalogue doesn't know is a usage error."""
    with pytest.raises(conformance.UsageError, match="NO-SUCH-RULE"):
        conformance.run(app=create_app(), select=["NO-SUCH-RULE"], **SUITE_KEYS)
