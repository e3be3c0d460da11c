"""The HTML report: one self-contained, valid page per run, showing what failed and why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import html5lib
import pytest

import conformance
from conformance.catalogue import load_spec, rule, rules
from conformance.html_report import CLASSES, page
from conformance.outcomes import FAIL, NOT_RUN, PASS, Record, RuleOutcome
from conformance.report import RunResult
from simulator.web.app import create_app
from tests.builders import SUITE_KEYS
from tests.variants.broken import create_answers_201

DOCS = set(load_spec()["x-sources"].values())
HOSTILE = 'Received: 201 <script>alert("x")</script> & more / Documented: 200 for a <create>'


def parse(text: str) -> Element:
    """html5lib in strict mode: any parse error (stray or unclosed tag, bad nesting) raises."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    tree: Element = parser.parse(text)
    return tree


def by_id(tree: Element, element_id: str) -> Element:
    found = [e for e in tree.iter() if e.get("id") == element_id]
    assert len(found) == 1, element_id
    return found[0]


def text_of(element: Element) -> str:
    return "".join(element.itertext())


def assert_self_contained(tree: Element) -> None:
    """Nothing is fetched: no scripts, stylesheets or images; links go to docs or in-page."""
    tags = {e.tag for e in tree.iter()}
    assert not tags & {"script", "link", "img", "iframe", "object", "embed"}
    assert all(e.get("src") is None for e in tree.iter())
    for element in tree.iter():
        href = element.get("href")
        if href is not None:
            assert element.tag == "a"
            assert href.startswith("#") or href in DOCS, href
    style = "".join(text_of(e) for e in tree.iter("style"))
    assert "@import" not in style
    assert "url(" not in style


@pytest.fixture(scope="module")
def passing(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    directory = tmp_path_factory.mktemp("passing")
    result = conformance.run(app=create_app(), report_dir=directory, max_examples=3, **SUITE_KEYS)
    return result, directory / "report.html"


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunResult, Path]]:
    directory = tmp_path_factory.mktemp("failing")
    with pytest.MonkeyPatch.context() as mp:
        app = create_answers_201(mp)
        result = conformance.run(app=app, report_dir=directory, max_examples=3, **SUITE_KEYS)
        yield result, directory / "report.html"


def test_html_report_of_a_passing_run_is_valid_and_self_contained(
    passing: tuple[RunResult, Path],
) -> None:
    """A conforming run's page parses strictly, fetches nothing and lists every rule."""
    result, path = passing
    assert result.exit_code == 0
    assert result.reports["html"] == path
    tree = parse(path.read_text(encoding="utf-8"))
    assert_self_contained(tree)
    assert "Conforms" in text_of(next(tree.iter("h1")))
    for rule_id, outcome in result.rules.items():
        assert by_id(tree, f"rule-{rule_id}").get("class") == CLASSES[outcome.outcome]


def test_html_report_of_a_passing_run_shows_the_run(passing: tuple[RunResult, Path]) -> None:
    """Target, mode, run prefix, date, counts and the refusals observed are on the page."""
    result, path = passing
    text = text_of(parse(path.read_text(encoding="utf-8")))
    assert result.target in text
    assert "default" in text
    assert result.prefix in text
    assert result.finished_at.strftime("%Y-%m-%d") in text
    assert f"{result.counts()[PASS]}✓ pass" in text.replace("\n", "")
    assert "Documented refusals observed" in text
    assert "✓ 404 unknown parent" in text


def test_html_report_of_a_failing_run_shows_the_failing_rule(
    failing: tuple[RunResult, Path],
) -> None:
    """A broken implementation's page is valid, says it doesn't conform and details OK-200."""
    result, path = failing
    assert result.outcome("OK-200") == FAIL
    tree = parse(path.read_text(encoding="utf-8"))
    assert_self_contained(tree)
    assert "Does not conform" in text_of(next(tree.iter("h1")))
    assert by_id(tree, "rule-OK-200").get("class") == "fail"
    card = text_of(by_id(tree, "card-OK-200"))
    assert "success_is_200" in card
    assert "Received" in card
    assert "200 for a successful create (not 201)" in card
    assert "Received: 201" not in card.split("Documented", 1)[0]  # split into its parts


def test_html_report_links_each_rule_to_its_documentation(
    failing: tuple[RunResult, Path],
) -> None:
    """Every rule with a documentation page links to it from its row."""
    tree = parse(failing[1].read_text(encoding="utf-8"))
    for rule_id, entry in rules().items():
        if entry.source_url.startswith("https://"):
            links = [a.get("href") for a in by_id(tree, f"rule-{rule_id}").iter("a")]
            assert entry.source_url in links, rule_id


def synthetic(message: str, **extra: Any) -> RunResult:
    """A run result built by hand: OK-200 failed with `message`, DEPTH-MAX passed."""
    outcomes = {
        rule_id: RuleOutcome(entry, NOT_RUN, "not selected") for rule_id, entry in rules().items()
    }
    outcomes["OK-200"] = RuleOutcome(
        rule("OK-200"), FAIL, "", [Record("OK-200", "success_is_200", FAIL, message)]
    )
    outcomes["DEPTH-MAX"] = RuleOutcome(
        rule("DEPTH-MAX"), PASS, "", [Record("DEPTH-MAX", "six_levels_are_refused", PASS)]
    )
    fields: dict[str, Any] = {
        "exit_code": 1, "rules": outcomes, "failures": [], "accepted": [], "observed": set(),
        "problems": [], "warnings": [], "prefix": "fgc-test1234-", "target": "http://x.invalid",
        "strict": True,
    }  # fmt: skip
    return RunResult(**{**fields, **extra})


def test_html_report_escapes_messages() -> None:
    """Markup in a failure message is shown as text, never run or parsed as tags."""
    html = page(synthetic(HOSTILE, warnings=["<b>clean-up</b> failed"]))
    tree = parse(html)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert not list(tree.iter("script"))
    assert 'alert("x")' in text_of(by_id(tree, "card-OK-200"))
    assert "<b>clean-up</b> failed" in text_of(tree)


def test_html_report_folds_a_long_received_answer() -> None:
    """A long received answer sits in <details>; a curl reproduction is shown apart."""
    received = (
        '201 {"id": "' + "x" * 400 + '"} for `curl -X POST http://x.invalid/v1/gateway/groups`'
    )
    tree = parse(page(synthetic(f"Received: {received} / Documented: 200")))
    card = by_id(tree, "card-OK-200")
    assert list(card.iter("details"))
    assert "Reproduce" in text_of(card)
    assert "curl -X POST http://x.invalid/v1/gateway/groups" in text_of(card)


def test_html_report_shows_other_messages_as_they_are() -> None:
    """A message not in Received/Documented form (a crash, say) is shown whole, escaped."""
    crash = "Received: the check crashed with KeyError: 'id'\n  (at x.py:3)"
    tree = parse(page(synthetic(crash.replace("Received: ", ""))))
    pre = [text_of(e) for e in by_id(tree, "card-OK-200").iter("pre")]
    assert pre == ["the check crashed with KeyError: 'id'\n  (at x.py:3)"]
