"""Honest verdicts: keys tried before any check, partial runs named as such, Ctrl-C without a
verdict, failure cards showing the request, choice rules' expectations named as choices."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import conformance
import simulator.web.app as app_module
from conformance.cli import main
from conformance.runner import INTERRUPTED
from conformance.summary import summary
from simulator.core.errors import Unauthenticated
from simulator.web.app import create_app
from tests.builders import MANAGE_KEY, SUITE_KEYS, VIEW_KEY
from tests.variants.broken import create_answers_201

APP = ["--app", "simulator.web.app:create_app", "--select", "OK-200", "--max-examples", "1"]


@pytest.mark.parametrize(
    ("keys", "option", "says"),
    [
        (["--api-key", "not-a-key"], "--api-key", "doesn't authenticate (401"),
        (["--api-key", VIEW_KEY], "--api-key", "no management scope (403"),
        (["--api-key", "sim-manage-initech"], "--api-key", "may not list groups (403"),
        (["--api-key", MANAGE_KEY, "--view-key", "nope"], "--view-key", "doesn't authenticate"),
        ([], "--api-key", "is required"),
    ],
    ids=["wrong", "view-as-api", "not-onboarded-as-api", "wrong-view", "missing"],
)
def test_a_wrong_key_is_one_line_and_exit_2(
    keys: list[str],
    option: str,
    says: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before any check each key is tried once; a key that can't do its part stops the run
    with one line naming the option, never a run of failures blamed on the implementation."""
    for variable in ("FRONTIER_API_KEY", "FRONTIER_VIEW_KEY"):
        monkeypatch.delenv(variable, raising=False)
    assert main([*APP, *keys]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"frontier-conformance: {option}")
    assert says in lines[0]


def test_partial_run_says_so_in_every_output(tmp_path: Path) -> None:
    """Documented rules left out make the verdict partial: the terminal, JSON, JUnit and HTML
    say which options would run them."""
    result = conformance.run(
        app=create_app(), api_key=MANAGE_KEY, fuzz=False, report_dir=tmp_path,
        select=["OK-200", "REGISTER-OK"],
    )  # fmt: skip
    assert (result.exit_code, result.partial) == (0, True)
    last = summary(result).splitlines()[-1]
    assert " conforms on 1 of " in last
    assert "documented rules (partial)" in last
    assert "not run: pass --signing-key; not selected" in last
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["partial"] is True
    assert report["verdict"].startswith("conforms on 1 of ")
    assert "REGISTER-OK" in report["documented_rules"]["not_run"]
    junit = (tmp_path / "junit.xml").read_text()
    assert '<property name="partial" value="true" />' in junit
    assert 'name="documented rules not run"' in junit
    html = (tmp_path / "report.html").read_text()
    header = html.split("</header>")[0]
    assert "<h1>Conforms (partial)</h1>" in header
    assert "not run: pass --signing-key" in header


def test_require_all_fails_a_partial_run(tmp_path: Path) -> None:
    """--require-all: documented rules not run fail the run, and the JUnit case fails."""
    result = conformance.run(
        app=create_app(), api_key=MANAGE_KEY, fuzz=False, select=["OK-200"],
        require_all=True, report_dir=tmp_path,
    )  # fmt: skip
    assert result.exit_code == 1
    assert any(p.startswith("--require-all: ") for p in result.problems)
    assert summary(result).splitlines()[-1].split(" (default mode)")[0].endswith("not selected)")
    junit = (tmp_path / "junit.xml").read_text()
    case = junit.split('name="documented rules not run"')[1].split("</testcase>")[0]
    assert "<failure " in case


def _interrupting(app: Flask, at: int) -> Any:
    seen: list[int] = []

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(1)
        if len(seen) == at:
            raise KeyboardInterrupt
        return app(environ, start_response)

    return wsgi


def test_interrupted_run_gives_no_verdict(tmp_path: Path) -> None:
    """Ctrl-C ends with "interrupted" and exit code 130, never "conforms" or "does not"."""
    result = conformance.run(
        app=_interrupting(create_app(), 40), fuzz=False, report_dir=tmp_path, **SUITE_KEYS
    )
    assert (result.exit_code, result.interrupted) == (INTERRUPTED, True)
    last = summary(result).splitlines()[-1]
    assert "interrupted after " in last
    assert "no verdict" in last
    assert "conform" not in last
    assert json.loads((tmp_path / "conformance.json").read_text())["interrupted"] is True
    assert "<h1>Interrupted</h1>" in (tmp_path / "report.html").read_text()


def test_failure_card_shows_the_request_a_curl_line_and_the_answer(tmp_path: Path) -> None:
    """Every failure keeps the request behind it: method, path, headers with the key
    replaced by its variable, the JSON body, a curl line and the exact answer."""
    with pytest.MonkeyPatch.context() as mp:
        app = create_answers_201(mp)
        result = conformance.run(app=app, fuzz=False, select=["OK-200"], report_dir=tmp_path,
                                 **SUITE_KEYS)  # fmt: skip
    assert result.exit_code == 1
    exchange = result.failures[0].exchange
    assert exchange is not None
    assert (exchange.method, exchange.path, exchange.status) == ("POST", "/v1/gateway/groups", 201)
    assert exchange.headers["Authorization"] == "Api-Key $FRONTIER_API_KEY"
    assert json.loads(exchange.body or "")["metadata"]["external_entity_id"]
    assert exchange.curl().startswith('curl -X POST "$FRONTIER_BASE_URL"/v1/gateway/groups -H')
    html = (tmp_path / "report.html").read_text()
    card = html.split('class="failures"')[1]
    for part in ("<dt>Request</dt>", "<dt>Reproduce</dt>", "<dt>Response</dt>", "201\n"):
        assert part in card
    assert MANAGE_KEY not in html
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["failures"][0]["exchange"]["curl"] == exchange.curl()
    assert "reproduce: curl -X POST" in summary(result)


def test_choice_rule_failure_reads_simulators_choice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A choice rule's expectation is the simulator's, not the documentation's."""
    monkeypatch.setitem(app_module.ERROR_STATUS, Unauthenticated, 403)
    result = conformance.run(
        app=create_app(), strict=True, fuzz=False, select=["AUTH-MISSING"], report_dir=tmp_path,
        **SUITE_KEYS,
    )  # fmt: skip
    message = result.failures[0].message
    assert " / Simulator's choice: 401 " in message
    assert "Documented:" not in message
    card = (tmp_path / "report.html").read_text().split('class="failures"')[1]
    assert "<dt>Simulator&#x27;s choice</dt>" in card
