"""Reports and the known-deviations file."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask, Response

import conformance
from conformance.catalogue import rules
from conformance.deviations import Deviation, DeviationsError, parse_deviations
from simulator.web.app import create_app
from tests.builders import SUITE_KEYS

SELECTED = ["OK-200", "EXTID-UNIQUE", "DEPTH-MAX"]


def answers_201() -> Flask:
    """Broken: a successful create answers 201 (rule OK-200)."""
    app = create_app()

    @app.after_request
    def created(response: Response) -> Response:
        if response.status_code == 200:
            response.status_code = 201
        return response

    return app


def deviation(rule: str = "OK-200", expires: date | None = None) -> Deviation:
    expires = expires or date.today() + timedelta(days=30)
    return Deviation(rule, "answers 201 on create", "https://example.invalid/issue/1", expires)


def test_reports_are_written_and_parse(tmp_path: Path) -> None:
    """--report-dir gets JUnit XML, JSON and a Markdown scorecard with a row per rule."""
    result = conformance.run(app=create_app(), select=SELECTED, report_dir=tmp_path, **SUITE_KEYS)
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert {r["id"] for r in report["rules"]} == set(rules())
    assert {r["id"]: r["outcome"] for r in report["rules"]}["OK-200"] == "pass"
    assert report["run_prefix"] == result.prefix
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    names = [case.get("name") for case in junit.iter("testcase")]
    assert "OK-200 success_is_200" in names
    markdown = (tmp_path / "scorecard.md").read_text()
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and "---" not in line]
    assert [row.split("|")[1].strip() for row in rows[1:]] == list(rules())
    assert "Documented refusals observed: 400 invalid payload" in markdown


def test_deviation_accepts_a_listed_failure() -> None:
    """A failure of a rule the deviations file lists is an accepted deviation; the run exits 0."""
    result = conformance.run(
        app=answers_201(), select=SELECTED, deviations=(deviation(),), **SUITE_KEYS
    )
    assert result.exit_code == 0
    assert result.outcome("OK-200") == "accepted deviation"
    assert result.rules["OK-200"].reason == "answers 201 on create"
    assert [f.rule for f in result.accepted] == ["OK-200"]
    assert not result.failures


def test_deviation_expired_fails_the_run() -> None:
    """An entry past its date fails the run, with a message naming the rule and the date."""
    expired = deviation(expires=date.today() - timedelta(days=1))
    result = conformance.run(
        app=answers_201(), select=SELECTED, deviations=(expired,), **SUITE_KEYS
    )
    assert result.exit_code == 1
    assert result.outcome("OK-200") == "fail"
    assert any("OK-200 expired on" in problem for problem in result.problems)


def test_deviation_expired_fails_even_when_the_rule_passes() -> None:
    """An expired entry fails the run although the implementation now conforms."""
    expired = deviation(expires=date.today() - timedelta(days=1))
    result = conformance.run(app=create_app(), select=SELECTED, deviations=(expired,), **SUITE_KEYS)
    assert result.outcome("OK-200") == "pass"
    assert result.exit_code == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rule": "OK-200"}, "must be a YAML list"),
        (["OK-200"], "must be a mapping"),
        ([{"rule": "OK-200", "reason": "r", "link": "l"}], "missing expires"),
        ([{"rule": "NOPE", "reason": "r", "link": "l", "expires": "2030-01-01"}], "unknown rule"),
        (
            [{"rule": "OK-200", "reason": "r", "link": "l", "expires": "soon"}],
            "expires must be a date",
        ),
        (
            [{"rule": "OK-200", "reason": "", "link": "l", "expires": "2030-01-01"}],
            "reason must be",
        ),
        (
            [{"rule": "OK-200", "reason": "r", "link": "l", "expires": "2030-01-01", "x": 1}],
            "unknown x",
        ),
        (
            [{"rule": "OK-200", "reason": "r", "link": "l", "expires": "2030-01-01"}] * 2,
            "listed twice",
        ),
    ],
)
def test_deviations_malformed_entries_are_refused(data: object, message: str) -> None:
    """A malformed deviations file is refused with a message naming the problem."""
    with pytest.raises(DeviationsError, match=message):
        parse_deviations(data)


def test_deviations_file_loads(tmp_path: Path) -> None:
    """A well-formed YAML file loads into entries with real dates."""
    path = tmp_path / "deviations.yaml"
    entry_lines = ["- rule: HIER-REQUIRED", "  reason: defaults apply", "  link: https://x"]
    path.write_text("\n".join([*entry_lines, "  expires: 2030-01-31", ""]))
    (entry,) = conformance.load_deviations(path)
    assert entry == Deviation("HIER-REQUIRED", "defaults apply", "https://x", date(2030, 1, 31))
