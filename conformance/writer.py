"""The report directory of a run: report.html, conformance.json, scorecard.md and junit.xml."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.html_report import page
from conformance.outcomes import FAIL, NOT_RUN, CheckResult
from conformance.report import RunResult, as_json, headline, partial_note, scorecard

SUITE = "frontier-conformance"
# Characters XML 1.0 can't carry; fuzzed requests and answers hold any of them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def write_reports(result: RunResult, directory: Path) -> dict[str, Path]:
    """Writes every report into `directory` (made if missing); kind → path."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "html": directory / "report.html",
        "json": directory / "conformance.json",
        "markdown": directory / "scorecard.md",
        "junit": directory / "junit.xml",
    }
    paths["json"].write_text(json.dumps(as_json(result), indent=2) + "\n", encoding="utf-8")
    paths["markdown"].write_text(scorecard(result), encoding="utf-8")
    paths["html"].write_text(page(result), encoding="utf-8")
    paths["junit"].write_text(junit(result.checks, result), encoding="utf-8")
    return paths


def junit(checks: list[CheckResult], result: RunResult | None = None) -> str:
    """JUnit XML for CI test views: one test case per check, named as the progress lines name
    it (`OK-200 success_is_200`, `POST /v1/gateway/groups`), its family as the class. With the
    run's result: the verdict as properties, and a partial run as one more test case,
    `documented rules not run` (skipped, or failed under --require-all)."""
    if result is not None and result.partial and not result.interrupted:
        checks = [*checks, _partial_case(result)]
    failures = sum(1 for c in checks if c.outcome == FAIL)
    skipped = sum(1 for c in checks if c.outcome == NOT_RUN)
    counts = {
        "tests": str(len(checks)),
        "failures": str(failures),
        "errors": "0",
        "skipped": str(skipped),
        "time": f"{sum(c.seconds for c in checks):.3f}",
    }
    root = ET.Element("testsuites", {"name": SUITE, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": SUITE, **counts})
    if result is not None:
        properties = ET.SubElement(suite, "properties")
        for name, value in (
            ("verdict", headline(result)),
            ("partial", str(result.partial).lower()),
            ("interrupted", str(result.interrupted).lower()),
            ("exit_code", str(result.exit_code)),
        ):
            ET.SubElement(properties, "property", {"name": name, "value": _xml(value)})
    for check in checks:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": check.family, "name": _xml(check.label), "time": f"{check.seconds:.3f}"},
        )
        if check.outcome == FAIL:
            first = check.message.splitlines()[0] if check.message else ""
            ET.SubElement(case, "failure", {"message": _xml(first)}).text = _xml(check.message)
        elif check.outcome == NOT_RUN:
            ET.SubElement(case, "skipped", {"message": _xml(check.message)})
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _partial_case(result: RunResult) -> CheckResult:
    note = f"partial run: {partial_note(result)}"
    required = any(p.startswith("--require-all") for p in result.problems)
    return CheckResult("documented rules not run", "verdict", FAIL if required else NOT_RUN, note)


def _xml(text: str) -> str:
    return _NOT_XML.sub(lambda found: f"\\x{ord(found.group()):02x}", text)
